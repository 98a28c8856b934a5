#include "hooklab/generation.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "hooklab/packed_matrix.h"
#include "model/hook_dispatch.h"

namespace hooklab {
namespace {

Error bad(const std::string& message) { return make_error(ErrorCode::kInvalidArgument, message); }

// Floats of one position of a hook's activation (d_model for resid_pre, H * Dh for z).
int64_t width_per_position(const ModelConfig& cfg, HookPoint point) { return shape_numel(hook_shape(cfg, point, 1)); }

Status check_steering(const ModelConfig& cfg, const Steering& s) {
  const std::string name = hook_name(s.hook);
  if (hook_axes(s.hook.point).position != 1) {
    return bad("cannot steer " + name +
               ": steering needs a hook whose positions are axis 1 (resid_pre, attn_out, z, ...)");
  }
  if (s.hook.point == HookPoint::kResult) return bad("cannot steer " + name + ": it only fires with use_attn_result");
  const int64_t width = width_per_position(cfg, s.hook.point), size = static_cast<int64_t>(s.vector.size());
  if (size == 0 || size % width != 0) {
    return bad("the steering vector for " + name + " has " + std::to_string(size) + " values, expected rows of " +
               std::to_string(width));
  }
  if (!std::isfinite(s.coefficient)) return bad("the steering coefficient must be finite");
  return {};
}

Status check_options(const HookedTransformer& model, const std::vector<int32_t>& prompt, const GenerateOptions& o) {
  const ModelConfig& cfg = model.cfg();
  HOOKLAB_RETURN_IF_ERROR(validate_sampling(o.sampling));
  HOOKLAB_RETURN_IF_ERROR(model.validate_tokens(prompt));
  if (o.max_new_tokens < 0) return bad("max_new_tokens must be >= 0");
  if (static_cast<int64_t>(prompt.size()) + o.max_new_tokens > cfg.n_ctx) {
    return make_error(ErrorCode::kInvalidInput,
                      "the prompt (" + std::to_string(prompt.size()) + " tokens) and max_new_tokens (" +
                          std::to_string(o.max_new_tokens) +
                          ") exceed the model's context (n_ctx = " + std::to_string(cfg.n_ctx) + ")");
  }
  if (o.eos_token < 0 || o.eos_token >= cfg.d_vocab) return bad("the end-of-text token is outside the vocabulary");
  if (o.top_n < 0) return bad("top_n must be >= 0");
  for (const Steering& s : o.steering) HOOKLAB_RETURN_IF_ERROR(check_steering(cfg, s));
  for (const HeadAblation& a : o.ablations) {
    if (a.layer < 0 || a.layer >= cfg.n_layers || a.head < 0 || a.head >= cfg.n_heads) {
      return bad("cannot ablate head " + std::to_string(a.layer) + "." + std::to_string(a.head) + ": the model has " +
                 std::to_string(cfg.n_layers) + " layers of " + std::to_string(cfg.n_heads) + " heads");
    }
  }
  // Unknown hook names fail here, before any step runs.
  return HookDispatch::build(o.hooks, cfg, false).status();
}

// Per head: the mean of hook_z over the prompt's positions in an unhooked run, [H * Dh].
Result<std::shared_ptr<const Tensor>> prompt_mean_z(const HookedTransformer& model, std::span<const int32_t> prompt,
                                                    int layer) {
  const std::string name = hook_name({HookPoint::kZ, layer});
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput out,
                           model.run_with_cache(prompt, [&](const std::string& n) { return n == name; }));
  HOOKLAB_ASSIGN_OR_RETURN(TensorView z, out.cache.get(name));
  const int64_t positions = z.shape[1], width = z.numel() / positions;
  HOOKLAB_ASSIGN_OR_RETURN(Tensor mean, Tensor::zeros({width}));
  for (int64_t i = 0; i < width; ++i) {
    double sum = 0.0;
    for (int64_t p = 0; p < positions; ++p) sum += z.data[p * width + i];
    mean.data()[i] = static_cast<float>(sum / static_cast<double>(positions));
  }
  return std::make_shared<const Tensor>(std::move(mean));
}

ForwardHook hook_at(HookRef ref, HookAction action) {
  ForwardHook hook;
  hook.name = hook_name(ref);
  hook.action = std::move(action);
  return hook;
}

// A kAdd / kReplace action whose source is `tensor`, kept alive by the action.
HookAction with_source(HookActionKind kind, Tensor tensor) {
  auto owned = std::make_shared<Tensor>(std::move(tensor));
  HookAction action;
  action.kind = kind;
  action.source = owned->view();
  action.source_owner = owned;
  return action;
}

// The activations at `hook` of `tokens`, P rows.
Result<std::vector<float>> activations_at(const HookedTransformer& model, HookRef hook,
                                          std::span<const int32_t> tokens) {
  const std::string name = hook_name(hook);
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput out,
                           model.run_with_cache(tokens, [&](const std::string& n) { return n == name; }));
  HOOKLAB_ASSIGN_OR_RETURN(TensorView a, out.cache.get(name));
  return std::vector<float>(a.data, a.data + a.numel());
}

}  // namespace

Result<std::vector<float>> activation_difference(const HookedTransformer& model, HookRef hook, std::string_view to,
                                                 std::string_view from) {
  if (hook_axes(hook.point).position != 1 || hook.point == HookPoint::kResult) {
    return bad("cannot steer " + hook_name(hook) + ": steering needs a hook whose positions are axis 1");
  }
  std::vector<int32_t> a = model.to_tokens(to), b = model.to_tokens(from);
  HOOKLAB_ASSIGN_OR_RETURN(int32_t space, model.to_single_token(" "));
  const size_t length = std::max(a.size(), b.size());
  a.resize(length, space);
  b.resize(length, space);
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<float> difference, activations_at(model, hook, a));
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<float> subtrahend, activations_at(model, hook, b));
  for (size_t i = 0; i < difference.size(); ++i) difference[i] -= subtrahend[i];
  return difference;
}

Result<std::vector<float>> unembedding_direction(const HookedTransformer& model, HookRef hook, std::string_view to,
                                                 std::string_view from) {
  const int64_t D = model.cfg().d_model;
  constexpr HookPoint kResidualWriters[] = {HookPoint::kResidPre, HookPoint::kResidMid, HookPoint::kResidPost,
                                            HookPoint::kAttnOut, HookPoint::kMlpOut};
  if (std::find(std::begin(kResidualWriters), std::end(kResidualWriters), hook.point) == std::end(kResidualWriters)) {
    return bad("cannot steer " + hook_name(hook) +
               " along an unembedding direction: it needs a d_model-wide hook "
               "(resid_pre, resid_mid, resid_post, attn_out, mlp_out)");
  }
  HOOKLAB_RETURN_IF_ERROR(require_hook_point(model.cfg(), hook));
  HOOKLAB_ASSIGN_OR_RETURN(int32_t to_token, model.to_single_token(to));
  std::vector<float> direction(static_cast<size_t>(D)), subtrahend(static_cast<size_t>(D), 0.0f);
  read_column(direction.data(), model.weights().w_u, to_token);
  if (!from.empty()) {
    HOOKLAB_ASSIGN_OR_RETURN(int32_t from_token, model.to_single_token(from));
    read_column(subtrahend.data(), model.weights().w_u, from_token);
  }
  double norm = 0.0;  // in double: the difference of two close columns is small
  for (int64_t d = 0; d < D; ++d) norm += std::pow(static_cast<double>(direction[d]) - subtrahend[d], 2);
  norm = std::sqrt(norm);
  if (!(norm > 0.0)) return bad("the unembedding direction is zero (the two tokens' columns of W_U are equal)");
  for (int64_t d = 0; d < D; ++d)
    direction[d] = static_cast<float>((static_cast<double>(direction[d]) - subtrahend[d]) / norm);
  return direction;
}

Generator::Generator(const HookedTransformer& model, GenerateOptions options, std::vector<int32_t> prompt)
    : model_(&model),
      options_(std::move(options)),
      rng_(options_.seed),
      tokens_(std::move(prompt)),
      prompt_length_(static_cast<int64_t>(tokens_.size())) {}

Result<Generator> Generator::start(const HookedTransformer& model, std::vector<int32_t> prompt,
                                   GenerateOptions options) {
  HOOKLAB_RETURN_IF_ERROR(check_options(model, prompt, options));
  std::vector<std::shared_ptr<const Tensor>> means;
  for (const HeadAblation& a : options.ablations) {
    std::shared_ptr<const Tensor> mean;
    if (a.kind == AblationKind::kMean) { HOOKLAB_ASSIGN_OR_RETURN(mean, prompt_mean_z(model, prompt, a.layer)); }
    means.push_back(std::move(mean));
  }
  Generator generator(model, std::move(options), std::move(prompt));
  generator.head_means_ = std::move(means);
  return generator;
}

bool Generator::done() const {
  return stopped_at_eos_ || static_cast<int64_t>(steps_.size()) >= options_.max_new_tokens;
}

Result<std::optional<ForwardHook>> Generator::steering_hook(const Steering& s, int64_t first, int64_t count) const {
  const int64_t width = width_per_position(model_->cfg(), s.hook.point);
  const int64_t rows = static_cast<int64_t>(s.vector.size()) / width;
  HOOKLAB_ASSIGN_OR_RETURN(Tensor added,
                           Tensor::zeros(hook_shape(model_->cfg(), s.hook.point, static_cast<int>(count))));
  bool any = false;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t position = first + i;
    const bool in_prompt = position < prompt_length_;
    if ((s.positions == SteeringPositions::kPrompt && !in_prompt) ||
        (s.positions == SteeringPositions::kNew && in_prompt)) {
      continue;
    }
    const int64_t row = rows == 1 ? 0 : position;
    if (row >= rows) continue;
    const float* from = s.vector.data() + row * width;
    float* to = added.data() + i * width;
    for (int64_t j = 0; j < width; ++j) to[j] = static_cast<float>(s.coefficient * from[j]);
    any = true;
  }
  if (!any) return std::optional<ForwardHook>();
  return std::optional<ForwardHook>(hook_at(s.hook, with_source(HookActionKind::kAdd, std::move(added))));
}

Result<ForwardHook> Generator::ablation_hook(size_t index, int64_t count) const {
  const HeadAblation& a = options_.ablations[index];
  const HookRef z{HookPoint::kZ, a.layer};
  HookAction action;
  if (a.kind == AblationKind::kZero) {
    action.kind = HookActionKind::kZero;
  } else {
    // Every new position gets the prompt's mean (a step's own mean would be of one position).
    const Tensor& mean = *head_means_[index];
    HOOKLAB_ASSIGN_OR_RETURN(Tensor source,
                             Tensor::zeros(hook_shape(model_->cfg(), HookPoint::kZ, static_cast<int>(count))));
    for (int64_t i = 0; i < count; ++i) {
      std::copy(mean.data(), mean.data() + mean.numel(), source.data() + i * mean.numel());
    }
    action = with_source(HookActionKind::kReplace, std::move(source));
  }
  action.heads = {a.head};
  return hook_at(z, std::move(action));
}

Result<std::vector<ForwardHook>> Generator::step_hooks(int64_t first, int64_t count) const {
  std::vector<ForwardHook> hooks = options_.hooks;
  for (const Steering& s : options_.steering) {
    HOOKLAB_ASSIGN_OR_RETURN(std::optional<ForwardHook> hook, steering_hook(s, first, count));
    if (hook) hooks.push_back(std::move(*hook));
  }
  for (size_t i = 0; i < options_.ablations.size(); ++i) {
    HOOKLAB_ASSIGN_OR_RETURN(ForwardHook hook, ablation_hook(i, count));
    hooks.push_back(std::move(hook));
  }
  return hooks;
}

std::span<const int32_t> Generator::pending() const {
  return std::span<const int32_t>(tokens_).subspan(static_cast<size_t>(cached_));
}

Result<SampledToken> Generator::step() {
  if (done()) return bad("the generation is finished");
  // The host's KV cache is allocated at the first step: a device-driven generation has its own.
  if (kv_.capacity() == 0) { HOOKLAB_ASSIGN_OR_RETURN(kv_, KvCache::allocate(model_->cfg())); }
  if (kv_.length() != cached_) return bad("step() cannot follow accept(): the host's KV cache lacks those positions");
  // The first step runs the prompt; later ones the token chosen last (the cache holds the rest).
  const std::span<const int32_t> fresh = pending();
  RunOptions run;
  HOOKLAB_ASSIGN_OR_RETURN(run.hooks, step_hooks(cached_, static_cast<int64_t>(fresh.size())));
  run.cancel = options_.cancel;
  Result<RunOutput> out = model_->run_with_kv_cache(fresh, kv_, run);
  if (!out.ok()) return out.error();
  const int64_t vocab = model_->cfg().d_vocab;
  Result<SampledToken> sampled =
      accept(std::span<const float>(out->logits.data(), static_cast<size_t>(out->logits.numel()))
                 .subspan(static_cast<size_t>((static_cast<int64_t>(fresh.size()) - 1) * vocab)));
  if (!sampled.ok()) kv_.truncate(cached_);  // nothing of a failed step stays
  return sampled;
}

Result<SampledToken> Generator::accept(std::span<const float> last_logits) {
  if (done()) return bad("the generation is finished");
  if (static_cast<int64_t>(last_logits.size()) != model_->cfg().d_vocab) {
    return bad("a step's logits have " + std::to_string(last_logits.size()) +
               " values, expected d_vocab = " + std::to_string(model_->cfg().d_vocab));
  }
  SplitMix64 rng = rng_;
  Result<SampledToken> sampled = sample_next_token(last_logits, options_.sampling, tokens_, rng, options_.top_n);
  if (!sampled.ok()) return sampled.error();
  rng_ = rng;
  cached_ = static_cast<int64_t>(tokens_.size());
  tokens_.push_back(sampled->chosen.token);
  steps_.push_back(*sampled);
  stopped_at_eos_ = options_.stop_at_eos && sampled->chosen.token == options_.eos_token;
  return sampled;
}

Result<Generator> generate(const HookedTransformer& model, std::vector<int32_t> prompt, GenerateOptions options) {
  HOOKLAB_ASSIGN_OR_RETURN(Generator generator, Generator::start(model, std::move(prompt), std::move(options)));
  while (!generator.done()) HOOKLAB_RETURN_IF_ERROR(generator.step().status());
  return generator;
}

}  // namespace hooklab
