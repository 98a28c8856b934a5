// Text generation with hooks: TransformerLens's HookedTransformer.generate on the KV-cached
// incremental forward (kv_cache.h), sampling in one documented order (sampling.h), with
// forward hooks, steering vectors and head ablations active during every step.
//
//   GenerateOptions options;
//   options.max_new_tokens = 20;
//   options.sampling.temperature = 0.7;
//   options.seed = 1;
//   auto gen = Generator::start(*model, model->to_tokens("Once upon a time"), options).value();
//   while (!gen.done()) {                        // a worker can stream and stop between steps
//     auto step = gen.step().value();            // step.chosen.token, .prob, .sample_prob, step.top
//   }
//   std::string text = model->to_string(gen.tokens());
//
// Hooks see the new positions of each step only, as TransformerLens's hooks do with
// past_kv_cache: the prompt's positions in the first step, one generated position after.
// The Generator keeps a pointer to the model, which must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "hooklab/hooked_transformer.h"
#include "hooklab/kv_cache.h"
#include "hooklab/random.h"
#include "hooklab/sampling.h"

namespace hooklab {

// Which positions a steering vector is added at.
enum class SteeringPositions { kAll, kPrompt, kNew };

// A vector added (times coefficient) at one hook point during generation.
struct Steering {
  // A hook whose position axis is 1 ([1, P, ...]): resid_pre/mid/post, attn_out, mlp_out, q, k,
  // v, z, ... (not attn_scores or pattern).
  HookRef hook{HookPoint::kResidPre, 0};
  // rows x width floats, row-major, width the hook's size per position (d_model for
  // resid_pre). One row is added at every position in scope; more rows are front-aligned as
  // in activation addition: row i at absolute position i (BOS = 0), and positions past the
  // last row get nothing.
  std::vector<float> vector;
  double coefficient = 1.0;
  SteeringPositions positions = SteeringPositions::kAll;
};

// Activation addition's steering vector (Turner et al. 2023): the activations at `hook` of the
// prompt `to` minus those of `from`, position by position, S rows of width floats. Both are tokenized with
// BOS, and the shorter is right-padded with " " tokens to the longer's length, as the
// paper's code does (so row 0, BOS, is zero). Steer with positions = kPrompt to match the
// paper, which adds it to the front of the user's prompt once.
Result<std::vector<float>> activation_difference(const HookedTransformer& model, HookRef hook, std::string_view to,
                                                 std::string_view from);

// A direction from the analysis views as a one-row steering vector for a d_model-wide hook
// (resid_pre/mid/post, attn_out, mlp_out): the unembedding direction W_U[:, to] of a token, or,
// with `from`, the direct-logit-attribution direction W_U[:, to] - W_U[:, from] of the DLA view.
// `to` and `from` must each be one token ("" = no `from`). Scaled to unit length, so the
// coefficient is the length added to the residual stream; steer with positions = kAll to push
// every position, the generated ones included.
Result<std::vector<float>> unembedding_direction(const HookedTransformer& model, HookRef hook, std::string_view to,
                                                 std::string_view from);

enum class AblationKind {
  kZero,  // the head's hook_z := 0
  kMean,  // the head's hook_z := its mean over the prompt's positions (an unhooked run of the prompt)
};
struct HeadAblation {
  int layer = 0;
  int head = 0;
  AblationKind kind = AblationKind::kZero;
};

struct GenerateOptions {
  int max_new_tokens = 10;
  SamplingOptions sampling;
  bool stop_at_eos = false;
  int32_t eos_token = Tokenizer::kEndOfText;  // 50256, GPT-2's <|endoftext|>
  uint64_t seed = 0;
  std::vector<ForwardHook> hooks;  // TransformerLens's fwd_hooks, active in every step
  std::vector<Steering> steering;
  std::vector<HeadAblation> ablations;
  int top_n = 5;  // how many of the most likely tokens each step records
  const std::atomic<bool>* cancel = nullptr;
};

class Generator {
 public:
  // Checks every option, the prompt (prompt + max_new_tokens must fit in n_ctx) and the hooks;
  // runs nothing yet (mean ablations run the prompt once). step() allocates the KV cache.
  static Result<Generator> start(const HookedTransformer& model, std::vector<int32_t> prompt, GenerateOptions options);

  // True after max_new_tokens steps, or after the end-of-text token with stop_at_eos.
  bool done() const;
  // Runs the new position(s) through the model and chooses the next token. A failed step
  // (cancelled, a hook's error) changes nothing, so step() may be called again.
  Result<SampledToken> step();

  // For a backend that runs the forward itself (the WebGPU path, device_generation.h, which
  // takes plain sampling only): the tokens the next step runs, at absolute positions
  // pending_first().., and the choice of the next token from the logits of the last of them
  // (d_vocab floats). accept() is step() without the forward; a failure changes nothing. One
  // generation uses one or the other: step() after accept() is an error.
  int64_t pending_first() const { return cached_; }
  std::span<const int32_t> pending() const;
  Result<SampledToken> accept(std::span<const float> last_logits);

  std::span<const int32_t> tokens() const { return tokens_; }  // prompt, then the generated tokens
  int64_t prompt_length() const { return prompt_length_; }
  const std::vector<SampledToken>& steps() const { return steps_; }
  bool stopped_at_eos() const { return stopped_at_eos_; }

 private:
  Generator(const HookedTransformer& model, GenerateOptions options, std::vector<int32_t> prompt);
  // The hooks of a step that runs `count` positions from absolute position `first`.
  Result<std::vector<ForwardHook>> step_hooks(int64_t first, int64_t count) const;
  Result<std::optional<ForwardHook>> steering_hook(const Steering& steering, int64_t first, int64_t count) const;
  Result<ForwardHook> ablation_hook(size_t index, int64_t count) const;

  const HookedTransformer* model_;
  GenerateOptions options_;
  KvCache kv_;          // the host's; allocated by the first step()
  int64_t cached_ = 0;  // positions already run (the tokens before pending())
  SplitMix64 rng_;
  std::vector<int32_t> tokens_;
  int64_t prompt_length_;
  std::vector<SampledToken> steps_;
  bool stopped_at_eos_ = false;
  std::vector<std::shared_ptr<const Tensor>> head_means_;  // per ablation: [H * Dh] means (kMean)
};

// Runs a Generator to the end.
Result<Generator> generate(const HookedTransformer& model, std::vector<int32_t> prompt, GenerateOptions options);

}  // namespace hooklab
