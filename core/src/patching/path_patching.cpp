// Path patching as TransformerLens users know it from the IOI paper and ARENA: full hooked
// forwards (run A freezes every head but the sender; run B patches only the receivers' inputs).
// Each sender costs one forward to the final residual stream, two to receiver heads; senders
// that cannot reach a receiver are not run.
#include "hooklab/path_patching.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "patching/patch_plan.h"

namespace hooklab {
namespace {

constexpr struct {
  PathReceiverInput input;
  const char* hook;
} kReceiverHooks[] = {
#define HOOKLAB_PATH_RECEIVER_INPUT(id, name, hook, description) {PathReceiverInput::id, hook},
#include "hooklab/patching.def"
#undef HOOKLAB_PATH_RECEIVER_INPUT
};

HookRef receiver_hook(const PathReceiver& r, int n_layers) {
  for (const auto& entry : kReceiverHooks) {
    if (entry.input == r.input) return *resolve_hook_name(entry.hook, r.layer, "attn", n_layers);
  }
  return {HookPoint::kQ, r.layer};
}

Status validate_receivers(const ModelConfig& cfg, const std::vector<PathReceiver>& receivers) {
  for (const PathReceiver& r : receivers) {
    if (r.layer < 0 || r.layer >= cfg.n_layers || r.head < 0 || r.head >= cfg.n_heads) {
      return make_error(ErrorCode::kInvalidArgument,
                        "receiver " + path_receiver_label(r) + " is not a head of this model (" +
                            std::to_string(cfg.n_layers) + " layers x " + std::to_string(cfg.n_heads) + " heads)");
    }
  }
  return {};
}

ForwardHook replace_hook(HookRef ref, TensorView source, std::vector<int> heads) {
  ForwardHook hook;
  hook.name = hook_name(ref);
  hook.action.kind = HookActionKind::kReplace;
  hook.action.source = std::move(source);
  hook.action.heads = std::move(heads);
  return hook;
}

// Run A's hooks: every head's z from the receiving run, the sender's from the source run. Up to
// and including the sender's layer nothing has changed yet, so the other heads there already
// hold their receiving-run values: only the sender and the heads after it need a hook.
std::vector<ForwardHook> freeze_all_but_sender(const ActivationCache& receiving, const ActivationCache& source,
                                               int n_layers, int sender_layer, int sender_head) {
  const HookRef sender_z{HookPoint::kZ, sender_layer};
  std::vector<ForwardHook> hooks{replace_hook(sender_z, *source.view(sender_z), {sender_head})};
  for (int l = sender_layer + 1; l < n_layers; ++l) {
    const HookRef z{HookPoint::kZ, l};
    hooks.push_back(replace_hook(z, *receiving.view(z), {}));  // no heads listed: every head
  }
  return hooks;
}

}  // namespace

Result<PathReceiver> parse_path_receiver(std::string_view text) {
  auto fail = [&]() -> Error {
    return make_error(ErrorCode::kInvalidArgument,
                      "receiver " + quote_excerpt(text) + " is not layer.head:input (e.g. 9.9:q; input q, k or v)");
  };
  const size_t dot = text.find('.'), colon = text.find(':');
  if (dot == std::string_view::npos || colon == std::string_view::npos || colon < dot) return fail();
  PathReceiver r;
  auto number = [](std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && s[0] >= '0' && s[0] <= '9' && ec == std::errc() && end == s.data() + s.size();
  };
  if (!number(text.substr(0, dot), r.layer) || !number(text.substr(dot + 1, colon - dot - 1), r.head)) return fail();
  auto input = parse_path_receiver_input(text.substr(colon + 1));
  if (!input.ok())
    return make_error(input.error().code, "receiver " + quote_excerpt(text) + ": " + input.error().message);
  r.input = *input;
  return r;
}

std::string path_receiver_label(const PathReceiver& r) {
  return std::to_string(r.layer) + "." + std::to_string(r.head) + ":" + path_receiver_input_name(r.input);
}

struct PathPatchJob::State {
  const HookedTransformer* model = nullptr;
  PathPatchRequest request;
  std::vector<int32_t> receiving_tokens;
  RunOutput receiving, source;
  PathPatchResult result;
  int reach_layers = 0;  // senders in layers [0, reach_layers) can reach a receiver
  int next_sender = 0;

  int senders() const { return reach_layers * model->cfg().n_heads; }
  Result<double> sender_cell(int layer, int head) const;
};

Result<double> PathPatchJob::State::sender_cell(int layer, int head) const {
  const ModelConfig& cfg = model->cfg();
  RunOptions run_a;
  run_a.hooks = freeze_all_but_sender(receiving.cache, source.cache, cfg.n_layers, layer, head);
  if (request.receivers.empty()) {
    HOOKLAB_ASSIGN_OR_RETURN(RunOutput out, model->run(receiving_tokens, run_a));
    return evaluate_metric(request.metric, out.logits);
  }
  std::vector<std::string> inputs;
  for (const PathReceiver& r : request.receivers) inputs.push_back(hook_name(receiver_hook(r, cfg.n_layers)));
  run_a.cache_filter = [&inputs](const std::string& name) {
    return std::find(inputs.begin(), inputs.end(), name) != inputs.end();
  };
  run_a.return_logits = false;
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput a, model->run(receiving_tokens, run_a));
  RunOptions run_b;
  for (const PathReceiver& r : request.receivers) {
    const HookRef ref = receiver_hook(r, cfg.n_layers);
    run_b.hooks.push_back(replace_hook(ref, *a.cache.view(ref), {r.head}));
  }
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput b, model->run(receiving_tokens, run_b));
  return evaluate_metric(request.metric, b.logits);
}

PathPatchJob::PathPatchJob() : state_(std::make_unique<State>()) {}
PathPatchJob::~PathPatchJob() = default;

Result<std::unique_ptr<PathPatchJob>> PathPatchJob::start(const HookedTransformer& model, PathPatchRequest request) {
  HOOKLAB_RETURN_IF_ERROR(validate_prompt_pair(model, request.clean_tokens, request.corrupted_tokens, request.metric));
  HOOKLAB_RETURN_IF_ERROR(validate_receivers(model.cfg(), request.receivers));
  std::unique_ptr<PathPatchJob> job(new PathPatchJob());
  State& s = *job->state_;
  s.model = &model;
  s.request = std::move(request);
  const bool denoising = s.request.direction == PatchDirection::kDenoising;
  s.receiving_tokens = denoising ? s.request.corrupted_tokens : s.request.clean_tokens;
  const std::vector<int32_t>& source_tokens = denoising ? s.request.clean_tokens : s.request.corrupted_tokens;
  auto only_z = [](const std::string& name) { return name.ends_with("attn.hook_z"); };
  HOOKLAB_ASSIGN_OR_RETURN(s.receiving, model.run_with_cache(s.receiving_tokens, only_z));
  HOOKLAB_ASSIGN_OR_RETURN(s.source, model.run_with_cache(source_tokens, only_z));

  const ModelConfig& cfg = model.cfg();
  PathPatchResult& r = s.result;
  r.shape = {cfg.n_layers, cfg.n_heads};
  r.axes = {"layer", "head"};
  r.receivers = s.request.receivers;
  r.receiving_metric = evaluate_metric(s.request.metric, s.receiving.logits);
  const double source_metric = evaluate_metric(s.request.metric, s.source.logits);
  r.clean_metric = denoising ? source_metric : r.receiving_metric;
  r.corrupted_metric = denoising ? r.receiving_metric : source_metric;
  r.values.assign(static_cast<size_t>(cfg.n_layers) * static_cast<size_t>(cfg.n_heads), r.receiving_metric);
  s.reach_layers = cfg.n_layers;
  if (!s.request.receivers.empty()) {
    s.reach_layers = 0;
    for (const PathReceiver& rec : s.request.receivers) s.reach_layers = std::max(s.reach_layers, rec.layer);
  }
  return job;
}

Result<bool> PathPatchJob::step() {
  State& s = *state_;
  if (s.next_sender < s.senders()) {
    if (s.request.progress && !s.request.progress(progress())) {
      return make_error(ErrorCode::kCancelled, "path patching was cancelled");
    }
    const int heads = s.model->cfg().n_heads;
    const int layer = s.next_sender / heads, head = s.next_sender % heads;
    HOOKLAB_ASSIGN_OR_RETURN(s.result.values[static_cast<size_t>(s.next_sender)], s.sender_cell(layer, head));
    ++s.next_sender;
    ++s.result.cells_computed;
  }
  return s.next_sender >= s.senders();
}

double PathPatchJob::progress() const {
  const int total = state_->senders();
  return total == 0 ? 1.0 : static_cast<double>(state_->next_sender) / total;
}

PathPatchResult PathPatchJob::take_result() {
  PathPatchResult out = std::move(state_->result);
  if (state_->request.normalize) {
    out.values.push_back(out.receiving_metric);  // in the values' units, as the header says
    normalize_values(out.values, out.clean_metric, out.corrupted_metric);
    out.receiving_metric = out.values.back();
    out.values.pop_back();
  }
  return out;
}

Result<PathPatchResult> path_patch(const HookedTransformer& model, const PathPatchRequest& request) {
  HOOKLAB_ASSIGN_OR_RETURN(std::unique_ptr<PathPatchJob> job, PathPatchJob::start(model, request));
  for (;;) {
    HOOKLAB_ASSIGN_OR_RETURN(bool done, job->step());
    if (done) break;
  }
  if (request.progress) request.progress(1.0);
  return job->take_result();
}

}  // namespace hooklab
