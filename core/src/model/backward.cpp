// The backward pass, written like the forward in reverse: each hook point's gradient is
// complete (every reader of the activation has contributed) when it is "settled" — backward
// hooks fire on it, it is kept if asked for, and forward hooks that overwrote part of the
// activation cut those entries — and only then flows further back. No weight gradients are
// formed: every matrix product is one matmul_transposed (d input = d output . W^T).
//
// Semantics (TransformerLens's run_with_cache(incl_bwd=True)): the gradient at a hook point is
// d metric / d (the activation the hook returned, i.e. what later steps read). Differences:
// ln1.hook_scale/hook_normalized fire once per block here (three times in TransformerLens), so
// their gradient is the sum over the q, k and v paths; TransformerLens keeps whichever of its
// three backward hooks ran last.
//
// LayerNorm is differentiated as two paths so that hook_scale's gradient is its own:
//   normalized = xc / scale [* w + b], xc = x - mean(x), scale = sqrt(mean(xc^2) + eps)
//   d scale  = -sum(g * xc) / scale^2                    (g = d normalized [* w])
//   d x      = (g - mean(g)) / scale + d scale * xc / (D * scale0)
// where scale is the (possibly hooked) value the forward divided by and scale0 the unhooked one.
#include "model/backward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace hooklab {
namespace {

// Per-run gradient scratch: one buffer per activation kind (used for the kinds the caller does
// not keep), and a second set for gradients masked by forward hooks (only when hooks exist).
struct GradWorkspace {
  FloatBuffer storage;
  float *resid, *resid_mid, *ln_x, *ln_scale, *ln_normalized, *qkv, *q, *k, *v, *scores, *pattern, *pattern0, *z,
      *result, *attn_out, *mlp_pre, *mlp_post, *mlp_out, *final_rows;
  // Masked copies, one per gradient that is still needed while another is being settled.
  float *m_big, *m_tmp, *m_scale, *m_post, *m_mid, *m_pre, *m_q, *m_k, *m_v;

  static Result<GradWorkspace> allocate(const ModelConfig& cfg, int64_t p, int64_t seed_rows, bool use_attn_result,
                                        bool masks) {
    const int64_t d = cfg.d_model, m = cfg.d_mlp, h = cfg.n_heads;
    const int64_t big = std::max({h * p * p, p * m, use_attn_result ? p * h * d : 0, p * 3 * d});
    GradWorkspace ws{};
    const int64_t small = masks ? p * d : 0;
    HOOKLAB_ASSIGN_OR_RETURN(ws.storage, carve_buffer({
                                             {&ws.resid, p * d},
                                             {&ws.resid_mid, p * d},
                                             {&ws.ln_x, p * d},
                                             {&ws.ln_scale, p},
                                             {&ws.ln_normalized, p * d},
                                             {&ws.qkv, p * 3 * d},
                                             {&ws.q, p * d},
                                             {&ws.k, p * d},
                                             {&ws.v, p * d},
                                             {&ws.scores, h * p * p},
                                             {&ws.pattern, h * p * p},
                                             {&ws.pattern0, h * p * p},
                                             {&ws.z, p * d},
                                             {&ws.result, use_attn_result ? p * h * d : 0},
                                             {&ws.attn_out, p * d},
                                             {&ws.mlp_pre, p * m},
                                             {&ws.mlp_post, p * m},
                                             {&ws.mlp_out, p * d},
                                             {&ws.final_rows, seed_rows * d},
                                             {&ws.m_big, masks ? big : 0},
                                             {&ws.m_tmp, small},
                                             {&ws.m_scale, masks ? p : 0},
                                             {&ws.m_post, small},
                                             {&ws.m_mid, small},
                                             {&ws.m_pre, small},
                                             {&ws.m_q, small},
                                             {&ws.m_k, small},
                                             {&ws.m_v, small},
                                         }));
    return ws;
  }
};

class Backward {
 public:
  Backward(const BackwardInputs& in, const HookDispatch& backward_hooks, ActivationCache* grads, GradWorkspace& ws)
      : in_(in),
        cfg_(in.cfg),
        w_(in.weights),
        be_(in.backend),
        bwd_hooks_(backward_hooks),
        grads_(grads),
        ws_(ws),
        p_(static_cast<int64_t>(in.tokens.size())) {}

  Status run(const MetricGradient& seed) {
    const int64_t P = p_, D = cfg_.d_model;
    const int L = cfg_.n_layers;
    HOOKLAB_ASSIGN_OR_RETURN(const float* g_resid, final_layer_norm(seed));
    for (int l = L - 1; l >= 0; --l) {
      if (in_.options.cancel != nullptr && in_.options.cancel->load()) {
        return make_error(ErrorCode::kCancelled, "the run was cancelled");
      }
      HOOKLAB_ASSIGN_OR_RETURN(g_resid, block(l, g_resid));  // g_resid: d resid_pre[l], before its hooks
    }
    // resid_pre[0] = embed + pos_embed: both receive its gradient.
    for (HookPoint point : {HookPoint::kEmbed, HookPoint::kPosEmbed}) {
      float* g = gslot({point, -1}, point == HookPoint::kEmbed ? ws_.ln_x : ws_.ln_normalized);
      std::memcpy(g, g_resid, sizeof(float) * P * D);
      HOOKLAB_RETURN_IF_ERROR(settle({point, -1}, g, ws_.m_pre).status());
    }
    return {};
  }

 private:
  Shape shape(HookPoint point) const { return hook_shape(cfg_, point, static_cast<int>(p_)); }
  const float* act(HookRef ref) const { return in_.tape.find(ref); }
  float* gslot(HookRef ref, float* scratch) {
    float* kept = grads_ != nullptr ? grads_->mutable_slot(ref) : nullptr;
    return kept != nullptr ? kept : scratch;
  }

  // The gradient at ref is complete: backward hooks edit it (and the kept copy is the edited
  // one); returns d metric / d (activation before the forward hooks) for the steps before.
  Result<const float*> settle(HookRef ref, float* g, float* masked) {
    const Shape s = shape(ref.point);
    HOOKLAB_RETURN_IF_ERROR(bwd_hooks_.fire(ref, g, s));
    if (!in_.forward_hooks.active(ref)) return static_cast<const float*>(g);
    float* out = g;
    if (in_.forward_hooks.blocks_gradient(ref)) {
      std::memcpy(masked, g, sizeof(float) * static_cast<size_t>(shape_numel(s)));
      out = masked;
    }
    HOOKLAB_RETURN_IF_ERROR(in_.forward_hooks.pass_gradient(ref, out, s));
    return static_cast<const float*>(out);
  }

  // From the settled gradient at hook_normalized to d x (written to ws_.ln_x).
  Result<const float*> layer_norm(HookRef scale_ref, const float* x, const float* w, const float* g_norm) {
    const int64_t P = p_, D = cfg_.d_model;
    const float* scale = act(scale_ref);
    float* g_scale = gslot(scale_ref, ws_.ln_scale);  // [1, P, 1]
    float* dx = ws_.ln_x;
    for (int64_t r = 0; r < P; ++r) {
      const float* xr = x + r * D;
      const float* gr = g_norm + r * D;
      float* dxr = dx + r * D;
      double mean = 0.0;
      for (int64_t i = 0; i < D; ++i) mean += xr[i];
      mean /= static_cast<double>(D);
      double g_mean = 0.0, g_dot_xc = 0.0;
      for (int64_t i = 0; i < D; ++i) {
        const double g = w != nullptr ? static_cast<double>(gr[i]) * w[i] : gr[i];
        g_mean += g;
        g_dot_xc += g * (xr[i] - mean);
      }
      g_mean /= static_cast<double>(D);
      const double s = scale[r];
      g_scale[r] = static_cast<float>(-g_dot_xc / (s * s));
      for (int64_t i = 0; i < D; ++i) {
        const double g = w != nullptr ? static_cast<double>(gr[i]) * w[i] : gr[i];
        dxr[i] = static_cast<float>((g - g_mean) / s);
      }
    }
    HOOKLAB_ASSIGN_OR_RETURN(const float* gs, settle(scale_ref, g_scale, ws_.m_scale));
    for (int64_t r = 0; r < P; ++r) {
      const float* xr = x + r * D;
      double mean = 0.0, var = 0.0;
      for (int64_t i = 0; i < D; ++i) mean += xr[i];
      mean /= static_cast<double>(D);
      for (int64_t i = 0; i < D; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      const double scale0 = std::sqrt(var / static_cast<double>(D) + cfg_.eps);
      const double coefficient = gs[r] / (static_cast<double>(D) * scale0);
      for (int64_t i = 0; i < D; ++i) dx[r * D + i] += static_cast<float>(coefficient * (xr[i] - mean));
    }
    return static_cast<const float*>(dx);
  }

  // Logits -> ln_final: returns d resid_post[L-1] (settled).
  Result<const float*> final_layer_norm(const MetricGradient& seed) {
    const int64_t P = p_, D = cfg_.d_model, V = cfg_.d_vocab;
    const int64_t n = static_cast<int64_t>(seed.positions.size());
    // d normalized = d logits . W_U^T sums over the whole vocabulary: one float sum of 50257
    // terms loses about sqrt(V) ulps, more than every later step together. Blocks of whole
    // panels (each a PackedMatrix itself) go through the fast kernel; their partial sums add up
    // in double.
    std::vector<double> total(static_cast<size_t>(n * D), 0.0);
    constexpr int64_t kBlockColumns = 1024;  // a multiple of the panel width
    for (int64_t n0 = 0; n0 < V; n0 += kBlockColumns) {
      const PackedMatrix block = w_.w_u.column_panels(n0 / kPanelWidth, std::min(kBlockColumns, V - n0));
      be_.matmul_transposed({ws_.final_rows, D, seed.rows.data() + n0, V, n, &block, 0, D});
      for (int64_t i = 0; i < n * D; ++i) total[static_cast<size_t>(i)] += ws_.final_rows[i];
    }
    const HookRef norm_ref{HookPoint::kLnFinalNormalized, -1};
    float* g_norm = gslot(norm_ref, ws_.ln_normalized);  // [1, P, D]
    std::memset(g_norm, 0, sizeof(float) * P * D);
    for (int64_t i = 0; i < n; ++i) {
      float* row = g_norm + seed.positions[static_cast<size_t>(i)] * D;
      for (int64_t j = 0; j < D; ++j) row[j] += static_cast<float>(total[static_cast<size_t>(i * D + j)]);
    }
    HOOKLAB_ASSIGN_OR_RETURN(const float* mg, settle(norm_ref, g_norm, ws_.m_tmp));
    const HookRef last{HookPoint::kResidPost, cfg_.n_layers - 1};
    HOOKLAB_ASSIGN_OR_RETURN(const float* dx, layer_norm({HookPoint::kLnFinalScale, -1}, act(last), w_.ln_final_w, mg));
    float* g_post = gslot(last, ws_.resid);
    if (g_post != dx) std::memcpy(g_post, dx, sizeof(float) * P * D);
    return static_cast<const float*>(g_post);
  }

  Result<const float*> block(int l, const float* g_post_in);
  Result<const float*> mlp(int l, const float* g_mlp_out);
  Result<const float*> attention(int l, const float* g_attn_out);
  Result<const float*> attention_core(int l, const float* g_z);

  const BackwardInputs& in_;
  const ModelConfig& cfg_;
  const ModelWeights& w_;
  const Backend& be_;
  const HookDispatch& bwd_hooks_;
  ActivationCache* grads_;
  GradWorkspace& ws_;
  int64_t p_;
};

// One block backwards. g_post_in: the unsettled gradient at resid_post[l] (already in its slot
// for the last layer). Returns d resid_pre[l] before its hooks, i.e. d resid_post[l - 1].
Result<const float*> Backward::block(int l, const float* g_post_in) {
  const int64_t P = p_, D = cfg_.d_model;
  const HookRef post_ref{HookPoint::kResidPost, l}, mid_ref{HookPoint::kResidMid, l}, pre_ref{HookPoint::kResidPre, l};
  float* g_post = gslot(post_ref, ws_.resid);
  if (g_post != g_post_in) std::memcpy(g_post, g_post_in, sizeof(float) * P * D);
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_post, settle(post_ref, g_post, ws_.m_post));

  // resid_post = resid_mid + mlp_out; an attention-only block has resid_post = resid_pre + attn_out.
  const float* mg_mid = mg_post;
  if (!cfg_.attn_only) {
    float* g_mlp_out = gslot({HookPoint::kMlpOut, l}, ws_.mlp_out);
    std::memcpy(g_mlp_out, mg_post, sizeof(float) * P * D);
    HOOKLAB_ASSIGN_OR_RETURN(const float* dx_ln2, mlp(l, g_mlp_out));
    float* g_mid = gslot(mid_ref, ws_.resid_mid);
    for (int64_t i = 0; i < P * D; ++i) g_mid[i] = mg_post[i] + dx_ln2[i];
    HOOKLAB_ASSIGN_OR_RETURN(mg_mid, settle(mid_ref, g_mid, ws_.m_mid));
  }

  // resid_mid = resid_pre + attn_out
  float* g_attn_out = gslot({HookPoint::kAttnOut, l}, ws_.attn_out);
  std::memcpy(g_attn_out, mg_mid, sizeof(float) * P * D);
  HOOKLAB_ASSIGN_OR_RETURN(const float* dx_ln1, attention(l, g_attn_out));
  float* g_pre = gslot(pre_ref, ws_.resid);
  for (int64_t i = 0; i < P * D; ++i) g_pre[i] = mg_mid[i] + dx_ln1[i];
  return settle(pre_ref, g_pre, ws_.m_pre);
}

// From the unsettled gradient at mlp_out to d resid_mid through ln2 (in ws_.ln_x).
Result<const float*> Backward::mlp(int l, const float* g_mlp_out_in) {
  const int64_t P = p_, D = cfg_.d_model, M = cfg_.d_mlp;
  const LayerWeights& lw = w_.layers[static_cast<size_t>(l)];
  float* g_mlp_out = const_cast<float*>(g_mlp_out_in);
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_out, settle({HookPoint::kMlpOut, l}, g_mlp_out, ws_.m_tmp));

  float* g_post = gslot({HookPoint::kMlpPost, l}, ws_.mlp_post);  // [1, P, M]
  be_.matmul_transposed({g_post, M, mg_out, D, P, &lw.w_out, 0, M});
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_post, settle({HookPoint::kMlpPost, l}, g_post, ws_.m_big));

  float* g_pre = gslot({HookPoint::kMlpPre, l}, ws_.mlp_pre);  // [1, P, M]
  be_.gelu_new_backward(g_pre, mg_post, act({HookPoint::kMlpPre, l}), P * M);
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_pre, settle({HookPoint::kMlpPre, l}, g_pre, ws_.m_big));

  const HookRef norm_ref{HookPoint::kLn2Normalized, l};
  float* g_norm = gslot(norm_ref, ws_.ln_normalized);  // [1, P, D]
  be_.matmul_transposed({g_norm, D, mg_pre, M, P, &lw.w_in, 0, D});
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_norm, settle(norm_ref, g_norm, ws_.m_tmp));
  return layer_norm({HookPoint::kLn2Scale, l}, act({HookPoint::kResidMid, l}), lw.ln2_w, mg_norm);
}

// From the unsettled gradient at attn_out to d resid_pre through ln1 (in ws_.ln_x).
Result<const float*> Backward::attention(int l, const float* g_attn_out_in) {
  const int64_t P = p_, D = cfg_.d_model, H = cfg_.n_heads, Dh = cfg_.d_head;
  const LayerWeights& lw = w_.layers[static_cast<size_t>(l)];
  float* g_attn_out = const_cast<float*>(g_attn_out_in);
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_out, settle({HookPoint::kAttnOut, l}, g_attn_out, ws_.m_tmp));

  float* g_z = gslot({HookPoint::kZ, l}, ws_.z);  // [1, P, H, Dh]
  if (in_.options.use_attn_result) {
    // attn_out = sum_h result[:, :, h] + b_O: every head's result gets attn_out's gradient.
    const HookRef result_ref{HookPoint::kResult, l};
    float* g_result = gslot(result_ref, ws_.result);  // [1, P, H, D]
    for (int64_t i = 0; i < P; ++i) {
      for (int64_t h = 0; h < H; ++h) std::memcpy(g_result + (i * H + h) * D, mg_out + i * D, sizeof(float) * D);
    }
    HOOKLAB_ASSIGN_OR_RETURN(const float* mg_result, settle(result_ref, g_result, ws_.m_big));
    for (int64_t h = 0; h < H; ++h) {
      be_.matmul_transposed({g_z + h * Dh, D, mg_result + h * D, H * D, P, &lw.w_o, h * Dh, (h + 1) * Dh});
    }
  } else {
    be_.matmul_transposed({g_z, D, mg_out, D, P, &lw.w_o, 0, H * Dh});
  }
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_qkv, attention_core(l, g_z));

  const HookRef norm_ref{HookPoint::kLn1Normalized, l};
  float* g_norm = gslot(norm_ref, ws_.ln_normalized);  // [1, P, D]
  be_.matmul_transposed({g_norm, D, mg_qkv, 3 * D, P, &lw.w_qkv, 0, D});
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_norm, settle(norm_ref, g_norm, ws_.m_tmp));
  return layer_norm({HookPoint::kLn1Scale, l}, act({HookPoint::kResidPre, l}), lw.ln1_w, mg_norm);
}

// z -> pattern, v -> scores -> q, k. Returns the settled [q | k | v] gradient, [P, 3D].
Result<const float*> Backward::attention_core(int l, const float* g_z_in) {
  const int64_t P = p_, D = cfg_.d_model, H = cfg_.n_heads, Dh = cfg_.d_head;
  const HookRef z_ref{HookPoint::kZ, l}, pattern_ref{HookPoint::kPattern, l}, scores_ref{HookPoint::kAttnScores, l};
  const HookRef q_ref{HookPoint::kQ, l}, k_ref{HookPoint::kK, l}, v_ref{HookPoint::kV, l};
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_z, settle(z_ref, const_cast<float*>(g_z_in), ws_.m_tmp));

  float* g_pattern = gslot(pattern_ref, ws_.pattern);  // [1, H, P, P]
  float* g_v = gslot(v_ref, ws_.v);                    // [1, P, H, Dh]
  const float* pattern = act(pattern_ref);
  be_.attention_mix_backward({g_pattern, g_v, D, mg_z, D, pattern, act(v_ref), D, H, Dh, P, P});
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_pattern, settle(pattern_ref, g_pattern, ws_.m_big));
  if (in_.forward_hooks.active(pattern_ref)) {
    // The softmax's own output, not the hooked pattern, is what its derivative needs.
    be_.softmax_rows(ws_.pattern0, act(scores_ref), H * P, P);
    pattern = ws_.pattern0;
  }
  float* g_scores = gslot(scores_ref, ws_.scores);  // [1, H, P, P]
  be_.softmax_rows_backward(g_scores, mg_pattern, pattern, H * P, P);
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_scores, settle(scores_ref, g_scores, ws_.m_big));
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_v, settle(v_ref, g_v, ws_.m_v));

  float* g_q = gslot(q_ref, ws_.q);
  float* g_k = gslot(k_ref, ws_.k);
  be_.attention_scores_backward(
      {g_q, D, g_k, D, mg_scores, act(q_ref), D, act(k_ref), D, H, Dh, P, P, 0, cfg_.attn_scale_for_layer(l)});
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_k, settle(k_ref, g_k, ws_.m_k));
  HOOKLAB_ASSIGN_OR_RETURN(const float* mg_q, settle(q_ref, g_q, ws_.m_q));

  float* g_qkv = ws_.qkv;  // [P, 3D]
  for (int64_t i = 0; i < P; ++i) {
    std::memcpy(g_qkv + i * 3 * D, mg_q + i * D, sizeof(float) * D);
    std::memcpy(g_qkv + i * 3 * D + D, mg_k + i * D, sizeof(float) * D);
    std::memcpy(g_qkv + i * 3 * D + 2 * D, mg_v + i * D, sizeof(float) * D);
  }
  return static_cast<const float*>(g_qkv);
}

}  // namespace

bool backward_tape_needs(HookRef ref, int n_layers, const HookDispatch& forward_hooks) {
  switch (ref.point) {
    case HookPoint::kResidPre:
    case HookPoint::kLn1Scale:
    case HookPoint::kQ:
    case HookPoint::kK:
    case HookPoint::kV:
    case HookPoint::kPattern:
    case HookPoint::kResidMid:  // (not in an attention-only model's firing order)
    case HookPoint::kLn2Scale:
    case HookPoint::kMlpPre:
    case HookPoint::kLnFinalScale: return true;
    case HookPoint::kResidPost: return ref.layer == n_layers - 1;
    case HookPoint::kAttnScores: return forward_hooks.active({HookPoint::kPattern, ref.layer});
    default: return false;
  }
}

Status hooked_backward(const BackwardInputs& in, RunOutput& out) {
  const Metric& metric = *in.options.grad_metric;
  const int positions = static_cast<int>(in.tokens.size());
  HOOKLAB_RETURN_IF_ERROR(validate_metric(metric, in.cfg, positions));
  HOOKLAB_ASSIGN_OR_RETURN(MetricGradient seed, metric_gradient(metric, in.logits, in.tokens));
  out.metric = seed.value;
  HOOKLAB_ASSIGN_OR_RETURN(HookDispatch backward_hooks,
                           HookDispatch::build(in.options.backward_hooks, in.cfg, in.options.use_attn_result));
  ActivationCache* grads = nullptr;
  if (in.options.grad_filter) {
    for (const HookRef& ref : firing_order(in.cfg, in.options.use_attn_result)) {
      if (in.options.grad_filter(hook_name(ref))) out.grads.plan(ref, hook_shape(in.cfg, ref.point, positions));
    }
    HOOKLAB_RETURN_IF_ERROR(out.grads.allocate(in.cfg.n_layers));
    grads = &out.grads;
  }
  const bool masks = !in.options.hooks.empty();
  HOOKLAB_ASSIGN_OR_RETURN(GradWorkspace ws,
                           GradWorkspace::allocate(in.cfg, positions, static_cast<int64_t>(seed.positions.size()),
                                                   in.options.use_attn_result, masks));
  Backward backward(in, backward_hooks, grads, ws);
  return backward.run(seed);
}

}  // namespace hooklab
