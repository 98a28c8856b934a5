// Direct logit attribution: how much each component writing to the residual stream (embed,
// positions, each attention layer, each MLP — or each head) moves the logit difference,
// with the final LayerNorm frozen at its cached scale (TransformerLens's apply_ln_to_stack).
#include <numeric>

#include "analysis/logit_direction.h"

namespace hooklab {
namespace {

// (centre(x) / scale) . dir
double attributed(const float* x, int64_t d_model, float scale, const std::vector<double>& dir) {
  double mean = 0.0;
  for (int64_t d = 0; d < d_model; ++d) mean += x[d];
  mean /= static_cast<double>(d_model);
  double s = 0.0;
  for (int64_t d = 0; d < d_model; ++d) s += (x[d] - mean) * dir[static_cast<size_t>(d)];
  return s / scale;
}

}  // namespace

Result<ComponentAttribution> component_attribution(const HookedTransformer& model, const ActivationCache& cache,
                                                   int position, const AnswerPairs& pairs) {
  const ModelConfig& cfg = model.cfg();
  const int64_t D = cfg.d_model;
  if (pairs.empty()) return make_error(ErrorCode::kInvalidArgument, "attribution needs an answer and a wrong token");
  HOOKLAB_RETURN_IF_ERROR(check_pairs(model, pairs));
  HOOKLAB_ASSIGN_OR_RETURN(TensorView scale, cached(cache, {HookPoint::kLnFinalScale, -1}));
  HOOKLAB_ASSIGN_OR_RETURN(TensorView normalized, cached(cache, {HookPoint::kLnFinalNormalized, -1}));
  HOOKLAB_RETURN_IF_ERROR(check_position(model, position, static_cast<int>(scale.shape[1])));
  const std::vector<double> dir = logit_diff_direction(model, pairs);
  const float s = scale.data[position];

  ComponentAttribution out;
  auto add = [&](const std::string& label, HookRef ref) -> Status {
    HOOKLAB_ASSIGN_OR_RETURN(TensorView t, cached(cache, ref));
    out.labels.push_back(label);
    out.logit_diff.push_back(attributed(t.data + position * D, D, s, dir));
    return {};
  };
  HOOKLAB_RETURN_IF_ERROR(add("embed", {HookPoint::kEmbed, -1}));
  HOOKLAB_RETURN_IF_ERROR(add("pos_embed", {HookPoint::kPosEmbed, -1}));
  for (int l = 0; l < cfg.n_layers; ++l) {
    HOOKLAB_RETURN_IF_ERROR(add(std::to_string(l) + "_attn_out", {HookPoint::kAttnOut, l}));
    if (cfg.attn_only) continue;  // TL's decompose_resid has no mlp_out terms for attn_only
    HOOKLAB_RETURN_IF_ERROR(add(std::to_string(l) + "_mlp_out", {HookPoint::kMlpOut, l}));
  }
  out.bias_term = logit_diff_bias(model, pairs);
  out.total_logit_diff = dot(normalized.data + position * D, dir) + out.bias_term;
  return out;
}

Result<HeadAttribution> head_attribution(const HookedTransformer& model, const ActivationCache& cache, int position,
                                         const AnswerPairs& pairs) {
  const ModelConfig& cfg = model.cfg();
  const int64_t D = cfg.d_model, H = cfg.n_heads, Dh = cfg.d_head;
  if (pairs.empty()) return make_error(ErrorCode::kInvalidArgument, "attribution needs an answer and a wrong token");
  HOOKLAB_RETURN_IF_ERROR(check_pairs(model, pairs));
  HOOKLAB_ASSIGN_OR_RETURN(TensorView scale, cached(cache, {HookPoint::kLnFinalScale, -1}));
  HOOKLAB_RETURN_IF_ERROR(check_position(model, position, static_cast<int>(scale.shape[1])));
  const std::vector<double> dir = logit_diff_direction(model, pairs);
  HeadAttribution out;
  out.n_layers = cfg.n_layers;
  out.n_heads = cfg.n_heads;
  std::vector<float> result(static_cast<size_t>(D));
  for (int l = 0; l < cfg.n_layers; ++l) {
    HOOKLAB_ASSIGN_OR_RETURN(TensorView z, cached(cache, {HookPoint::kZ, l}));
    const PackedMatrix& w_o = model.weights().layers[static_cast<size_t>(l)].w_o;
    for (int64_t h = 0; h < H; ++h) {
      // hook_result[pos, h] = z[pos, h] @ W_O[h]  (no b_O)
      const float* zh = z.data + (position * H + h) * Dh;
      for (int64_t d = 0; d < D; ++d) {
        float acc = 0.0f;
        for (int64_t k = 0; k < Dh; ++k) acc += zh[k] * w_o.at(h * Dh + k, d);
        result[static_cast<size_t>(d)] = acc;
      }
      out.logit_diff.push_back(attributed(result.data(), D, scale.data[position], dir));
    }
  }
  return out;
}

}  // namespace hooklab
