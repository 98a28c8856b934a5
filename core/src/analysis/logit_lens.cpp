// Logit lens: what the model would predict if the residual stream stopped after each
// (half-)layer — TransformerLens's accumulated_resid(incl_mid=True, apply_ln=True).
#include <algorithm>
#include <cmath>

#include "analysis/logit_direction.h"
#include "hooklab/logits.h"

namespace hooklab {

Result<LogitLens> logit_lens(const HookedTransformer& model, const ActivationCache& cache,
                             std::span<const int> positions, const AnswerPairs& pairs, int k) {
  const ModelConfig& cfg = model.cfg();
  const ModelWeights& w = model.weights();
  const int64_t D = cfg.d_model, V = cfg.d_vocab, L = cfg.n_layers;
  HOOKLAB_RETURN_IF_ERROR(check_pairs(model, pairs));
  HOOKLAB_ASSIGN_OR_RETURN(TensorView final_post, cached(cache, {HookPoint::kResidPost, static_cast<int>(L) - 1}));
  const int P = static_cast<int>(final_post.shape[1]);
  for (int p : positions) HOOKLAB_RETURN_IF_ERROR(check_position(model, p, P));

  LogitLens lens;
  lens.positions.assign(positions.begin(), positions.end());
  lens.top_k = std::clamp<int>(k, 0, static_cast<int>(V));
  std::vector<const float*> components;  // [P, D] tensors in label order
  for (int l = 0; l < L; ++l) {
    HOOKLAB_ASSIGN_OR_RETURN(TensorView pre, cached(cache, {HookPoint::kResidPre, l}));
    components.push_back(pre.data);
    lens.labels.push_back(std::to_string(l) + "_pre");
    if (cfg.attn_only) continue;  // no resid_mid: TL's accumulated_resid skips it likewise
    HOOKLAB_ASSIGN_OR_RETURN(TensorView mid, cached(cache, {HookPoint::kResidMid, l}));
    components.push_back(mid.data);
    lens.labels.push_back(std::to_string(l) + "_mid");
  }
  components.push_back(final_post.data);
  lens.labels.push_back("final_post");

  // ln_final applied to every (component, position) row with that row's own statistics.
  const int64_t rows = static_cast<int64_t>(components.size() * positions.size());
  HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer stacked, FloatBuffer::allocate(static_cast<size_t>(rows * D)));
  for (size_t c = 0; c < components.size(); ++c) {
    for (size_t i = 0; i < positions.size(); ++i) {
      std::copy_n(components[c] + positions[i] * D, D, stacked.data() + (c * positions.size() + i) * D);
    }
  }
  model.backend().layer_norm(
      {stacked.data(), D, nullptr, stacked.data(), D, w.ln_final_w, w.ln_final_b, rows, D, cfg.eps});

  if (!pairs.empty()) {
    const std::vector<double> dir = logit_diff_direction(model, pairs);
    const double bias = logit_diff_bias(model, pairs);
    for (int64_t r = 0; r < rows; ++r) {
      const double v = dot(stacked.data() + r * D, dir);
      lens.logit_diff.push_back(v);
      lens.logit_diff_with_bias.push_back(v + bias);
    }
  }
  if (lens.top_k > 0) {
    constexpr int64_t kBatch = 32;
    HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer logits,
                             FloatBuffer::allocate(static_cast<size_t>(std::min(rows, kBatch) * V)));
    for (int64_t first = 0; first < rows; first += kBatch) {
      const int64_t m = std::min(kBatch, rows - first);
      model.backend().matmul({logits.data(), V, stacked.data() + first * D, D, m, &w.w_u, 0, D, w.b_u});
      for (int64_t i = 0; i < m; ++i) {
        for (const TopKEntry& e : top_k(logits.data() + i * V, V, lens.top_k)) {
          lens.top_tokens.push_back(e.token);
          lens.top_logits.push_back(e.logit);
          lens.top_probs.push_back(e.prob);
        }
      }
    }
  }
  return lens;
}

}  // namespace hooklab
