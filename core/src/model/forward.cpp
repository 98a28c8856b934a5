// The hooked GPT-2 forward pass, written like TransformerLens's: each hook point sits inline
// where its activation is produced, with the activation's shape beside it, and every later
// step reads the (possibly hooked) activation back from the same buffer.
//
// Buffers: a hook point that is cached writes straight into the cache arena; otherwise it
// writes into a per-run workspace buffer of its own kind. No activation is copied to be cached.
//
// One deliberate difference: TransformerLens runs ln1 three times per block (for q, k and v
// inputs), firing ln1.hook_scale/hook_normalized three times with identical values; here
// they fire once, and a hook on them acts on q, k and v alike, as it does in TL.
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/backward.h"
#include "model/hook_dispatch.h"

namespace hooklab {
namespace {

// Per-run scratch, one buffer per activation kind, sized for P positions.
struct Workspace {
  FloatBuffer storage;
  float *embed, *pos_embed, *resid_pre, *ln1_scale, *ln1_normalized, *qkv, *q, *k, *v, *attn_scores, *pattern, *z,
      *result, *attn_out, *resid_mid, *ln2_scale, *ln2_normalized, *mlp_pre, *mlp_post, *mlp_out, *resid_post,
      *ln_final_scale, *ln_final_normalized;

  // p new positions attending over `keys` positions (p without a KV cache).
  static Result<Workspace> allocate(const ModelConfig& cfg, int64_t p, int64_t keys, bool use_attn_result) {
    const int64_t d = cfg.d_model, m = cfg.d_mlp, h = cfg.n_heads;
    Workspace ws{};
    HOOKLAB_ASSIGN_OR_RETURN(ws.storage, carve_buffer({
                                             {&ws.embed, p * d},
                                             {&ws.pos_embed, p * d},
                                             {&ws.resid_pre, p * d},
                                             {&ws.ln1_scale, p},
                                             {&ws.ln1_normalized, p * d},
                                             {&ws.qkv, p * 3 * d},
                                             {&ws.q, p * d},
                                             {&ws.k, p * d},
                                             {&ws.v, p * d},
                                             {&ws.attn_scores, h * p * keys},
                                             {&ws.pattern, h * p * keys},
                                             {&ws.z, p * d},
                                             {&ws.result, use_attn_result ? p * h * d : 0},
                                             {&ws.attn_out, p * d},
                                             {&ws.resid_mid, p * d},
                                             {&ws.ln2_scale, p},
                                             {&ws.ln2_normalized, p * d},
                                             {&ws.mlp_pre, p * m},
                                             {&ws.mlp_post, p * m},
                                             {&ws.mlp_out, p * d},
                                             {&ws.resid_post, p * d},
                                             {&ws.ln_final_scale, p},
                                             {&ws.ln_final_normalized, p * d},
                                         }));
    return ws;
  }
};

void add(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

// A hook edited hook_scale: recompute the normalised output from the edited scale, as
// TransformerLens does (x / scale happens after the hook).
void renormalize_with_scale(float* y, const float* x, const float* scale, const float* w, const float* b, int64_t rows,
                            int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float mean = 0.0f;
    for (int64_t i = 0; i < dim; ++i) mean += xr[i];
    mean /= static_cast<float>(dim);
    for (int64_t i = 0; i < dim; ++i) {
      float v = (xr[i] - mean) / scale[r];
      if (w != nullptr) v = v * w[i] + b[i];
      y[r * dim + i] = v;
    }
  }
}

class Forward {
 public:
  // Runs `positions` new positions after the kv cache's rows (none without a cache).
  // `streamed`: the indexed plan of a cache handed to options.cache_sink (nullptr when none).
  Forward(const ModelConfig& cfg, const ModelWeights& w, const Backend& be, const HookDispatch& hooks,
          ActivationCache* cache, const ActivationCache* streamed, Workspace& ws, const RunOptions& options,
          int64_t positions, KvCache* kv)
      : cfg_(cfg),
        w_(w),
        be_(be),
        hooks_(hooks),
        cache_(cache),
        streamed_(streamed),
        ws_(ws),
        options_(options),
        p_(positions),
        kv_(kv),
        past_(kv != nullptr ? kv->length() : 0) {}

  Status run(std::span<const int32_t> tokens, Tensor* logits) {
    const int64_t P = p_, D = cfg_.d_model;

    float* embed = slot({HookPoint::kEmbed, -1}, ws_.embed);  // [1, P, D]
    for (int64_t i = 0; i < P; ++i) w_.w_e.read_rows(tokens[i], 1, embed + i * D);
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kEmbed, -1}, embed));

    float* pos_embed = slot({HookPoint::kPosEmbed, -1}, ws_.pos_embed);   // [1, P, D]
    std::memcpy(pos_embed, w_.w_pos + past_ * D, sizeof(float) * P * D);  // positions continue after the cache
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kPosEmbed, -1}, pos_embed));

    float* resid = slot({HookPoint::kResidPre, 0}, ws_.resid_pre);
    add(resid, embed, pos_embed, P * D);
    for (int l = 0; l < cfg_.n_layers; ++l) {
      if (options_.cancel != nullptr && options_.cancel->load()) {
        return make_error(ErrorCode::kCancelled, "the run was cancelled");
      }
      HOOKLAB_ASSIGN_OR_RETURN(resid, block(l, resid));
    }
    return unembed(resid, logits);
  }

 private:
  float* slot(HookRef ref, float* scratch) {
    float* cached = cache_ != nullptr ? cache_->mutable_slot(ref) : nullptr;
    return cached != nullptr ? cached : scratch;
  }
  bool wanted(HookRef ref) const {
    return hooks_.active(ref) || (cache_ != nullptr && cache_->find(ref) != nullptr) ||
           (streamed_ != nullptr && streamed_->planned_entry(ref) != nullptr);
  }
  // The hooks on `ref`, then, for a streamed cache, the sink gets the final value. The sink is
  // not a hook: it must not count as one where a hook changes the computation (hook_scale).
  Status fire(HookRef ref, float* data) {
    HOOKLAB_RETURN_IF_ERROR(
        hooks_.fire(ref, data, hook_shape(cfg_, ref.point, static_cast<int>(p_), static_cast<int>(past_ + p_))));
    const ActivationCache::Entry* entry = streamed_ != nullptr ? streamed_->planned_entry(ref) : nullptr;
    return entry != nullptr ? options_.cache_sink->write(*entry, data) : Status{};
  }

  // LayerNorm (or LayerNormPre after fold_ln) with its two hook points; returns normalized.
  Result<float*> layer_norm(HookRef scale_ref, HookRef normalized_ref, float* scale_scratch, float* normalized_scratch,
                            const float* x, const float* w, const float* b) {
    const int64_t P = p_, D = cfg_.d_model;
    float* scale = slot(scale_ref, scale_scratch);                 // [1, P, 1]
    float* normalized = slot(normalized_ref, normalized_scratch);  // [1, P, D]
    be_.layer_norm({normalized, D, scale, x, D, w, b, P, D, cfg_.eps});
    HOOKLAB_RETURN_IF_ERROR(fire(scale_ref, scale));
    if (hooks_.active(scale_ref)) renormalize_with_scale(normalized, x, scale, w, b, P, D);
    HOOKLAB_RETURN_IF_ERROR(fire(normalized_ref, normalized));
    return normalized;
  }

  Result<float*> block(int l, float* resid_pre) {
    const int64_t P = p_, D = cfg_.d_model, H = cfg_.n_heads, Dh = cfg_.d_head;
    const LayerWeights& lw = w_.layers[static_cast<size_t>(l)];
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kResidPre, l}, resid_pre));  // [1, P, D]

    HOOKLAB_ASSIGN_OR_RETURN(float* ln1, layer_norm({HookPoint::kLn1Scale, l}, {HookPoint::kLn1Normalized, l},
                                                    ws_.ln1_scale, ws_.ln1_normalized, resid_pre, lw.ln1_w, lw.ln1_b));

    // q, k, v: one fused product [P, 3*H*Dh], then split only if someone looks at them.
    be_.matmul({ws_.qkv, 3 * D, ln1, D, P, &lw.w_qkv, 0, D, lw.b_qkv});
    const float* q = ws_.qkv;
    const float* k = ws_.qkv + D;
    const float* v = ws_.qkv + 2 * D;
    int64_t ld_q = 3 * D, ld_k = 3 * D, ld_v = 3 * D;
    const HookRef q_ref{HookPoint::kQ, l}, k_ref{HookPoint::kK, l}, v_ref{HookPoint::kV, l};
    if (wanted(q_ref) || wanted(k_ref) || wanted(v_ref)) {
      float* qs = slot(q_ref, ws_.q);  // [1, P, H, Dh]
      float* ks = slot(k_ref, ws_.k);  // [1, P, H, Dh]
      float* vs = slot(v_ref, ws_.v);  // [1, P, H, Dh]
      for (int64_t i = 0; i < P; ++i) {
        std::memcpy(qs + i * D, ws_.qkv + i * 3 * D, sizeof(float) * D);
        std::memcpy(ks + i * D, ws_.qkv + i * 3 * D + D, sizeof(float) * D);
        std::memcpy(vs + i * D, ws_.qkv + i * 3 * D + 2 * D, sizeof(float) * D);
      }
      HOOKLAB_RETURN_IF_ERROR(fire(q_ref, qs));
      HOOKLAB_RETURN_IF_ERROR(fire(k_ref, ks));
      HOOKLAB_RETURN_IF_ERROR(fire(v_ref, vs));
      q = qs, k = ks, v = vs;
      ld_q = ld_k = ld_v = D;
    }

    // Keys and values: this run's rows, or, with a KV cache, every cached row plus these (the
    // hooked k and v are what later steps attend to, as in TransformerLens's past_kv_cache).
    const int64_t K = past_ + P;
    SequenceRows keys{k, ld_k, k, ld_k, P}, values{v, ld_v, v, ld_v, P};
    if (kv_ != nullptr) {
      kv_->store(l, past_, k, ld_k, v, ld_v, P);
      keys = kv_->keys(l, K);
      values = kv_->values(l, K);
    }

    float* scores = slot({HookPoint::kAttnScores, l}, ws_.attn_scores);  // [1, H, P, K], -inf above the diagonal
    be_.attention_scores({scores, q, ld_q, keys, H, Dh, P, K, past_, cfg_.attn_scale_for_layer(l)});
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kAttnScores, l}, scores));

    float* pattern = slot({HookPoint::kPattern, l}, ws_.pattern);  // [1, H, P, K]
    be_.softmax_rows(pattern, scores, H * P, K);
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kPattern, l}, pattern));

    float* z = slot({HookPoint::kZ, l}, ws_.z);  // [1, P, H, Dh]
    be_.attention_mix({z, D, pattern, values, H, Dh, P, K});
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kZ, l}, z));

    HOOKLAB_ASSIGN_OR_RETURN(const float* attn_out, attention_out(l, z));

    float* resid_post = slot({HookPoint::kResidPost, l}, ws_.resid_post);  // [1, P, D]
    if (cfg_.attn_only) {
      add(resid_post, resid_pre, attn_out, P * D);  // TL's attn_only block: no resid_mid, no MLP
    } else {
      HOOKLAB_RETURN_IF_ERROR(resid_mid_and_mlp(l, resid_pre, attn_out, resid_post));
    }
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kResidPost, l}, resid_post));

    if (l + 1 == cfg_.n_layers) return resid_post;
    // The next block's resid_pre is this block's (possibly hooked) resid_post.
    float* next = slot({HookPoint::kResidPre, l + 1}, ws_.resid_pre);
    std::memcpy(next, resid_post, sizeof(float) * P * D);
    return next;
  }

  // attn_out = z @ W_O + b_O: one product, or with use_attn_result one per head (hook_result)
  // summed in head order.
  Result<const float*> attention_out(int l, const float* z) {
    const int64_t P = p_, D = cfg_.d_model, H = cfg_.n_heads, Dh = cfg_.d_head;
    const LayerWeights& lw = w_.layers[static_cast<size_t>(l)];
    float* attn_out = slot({HookPoint::kAttnOut, l}, ws_.attn_out);  // [1, P, D]
    if (options_.use_attn_result) {
      float* result = slot({HookPoint::kResult, l}, ws_.result);  // [1, P, H, D]: z[:, :, h] @ W_O[h]
      for (int64_t h = 0; h < H; ++h) {
        be_.matmul({result + h * D, H * D, z + h * Dh, D, P, &lw.w_o, h * Dh, (h + 1) * Dh, nullptr});
      }
      HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kResult, l}, result));
      for (int64_t i = 0; i < P; ++i) {
        float* out = attn_out + i * D;
        std::memcpy(out, lw.b_o, sizeof(float) * D);
        for (int64_t h = 0; h < H; ++h) {
          const float* r = result + (i * H + h) * D;
          for (int64_t j = 0; j < D; ++j) out[j] += r[j];
        }
      }
    } else {
      be_.matmul({attn_out, D, z, D, P, &lw.w_o, 0, H * Dh, lw.b_o});
    }
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kAttnOut, l}, attn_out));
    return attn_out;
  }

  // resid_mid = resid_pre + attn_out, the MLP, and resid_post = resid_mid + mlp_out (unhooked).
  Status resid_mid_and_mlp(int l, const float* resid_pre, const float* attn_out, float* resid_post) {
    const int64_t P = p_, D = cfg_.d_model, M = cfg_.d_mlp;
    const LayerWeights& lw = w_.layers[static_cast<size_t>(l)];
    float* resid_mid = slot({HookPoint::kResidMid, l}, ws_.resid_mid);  // [1, P, D]
    add(resid_mid, resid_pre, attn_out, P * D);
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kResidMid, l}, resid_mid));

    HOOKLAB_ASSIGN_OR_RETURN(float* ln2, layer_norm({HookPoint::kLn2Scale, l}, {HookPoint::kLn2Normalized, l},
                                                    ws_.ln2_scale, ws_.ln2_normalized, resid_mid, lw.ln2_w, lw.ln2_b));

    float* pre = slot({HookPoint::kMlpPre, l}, ws_.mlp_pre);  // [1, P, M]
    be_.matmul({pre, M, ln2, D, P, &lw.w_in, 0, D, lw.b_in});
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kMlpPre, l}, pre));

    float* post = slot({HookPoint::kMlpPost, l}, ws_.mlp_post);  // [1, P, M]
    be_.gelu_new(post, pre, P * M);
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kMlpPost, l}, post));

    float* mlp_out = slot({HookPoint::kMlpOut, l}, ws_.mlp_out);  // [1, P, D]
    be_.matmul({mlp_out, D, post, M, P, &lw.w_out, 0, M, lw.b_out});
    HOOKLAB_RETURN_IF_ERROR(fire({HookPoint::kMlpOut, l}, mlp_out));

    add(resid_post, resid_mid, mlp_out, P * D);
    return {};
  }

  Status unembed(const float* resid, Tensor* logits) {
    const int64_t P = p_, D = cfg_.d_model, V = cfg_.d_vocab;
    HOOKLAB_ASSIGN_OR_RETURN(
        float* normalized,
        layer_norm({HookPoint::kLnFinalScale, -1}, {HookPoint::kLnFinalNormalized, -1}, ws_.ln_final_scale,
                   ws_.ln_final_normalized, resid, w_.ln_final_w, w_.ln_final_b));
    if (logits == nullptr) return {};
    HOOKLAB_ASSIGN_OR_RETURN(*logits, Tensor::zeros({1, P, V}));  // [1, P, V]
    be_.matmul({logits->data(), V, normalized, D, P, &w_.w_u, 0, D, w_.b_u});
    return {};
  }

  const ModelConfig& cfg_;
  const ModelWeights& w_;
  const Backend& be_;
  const HookDispatch& hooks_;
  ActivationCache* cache_;
  const ActivationCache* streamed_;
  Workspace& ws_;
  const RunOptions& options_;
  int64_t p_;
  KvCache* kv_;
  int64_t past_;
};

// Plans `cache`: the entries cache_filter asks for and, with `tape_hooks` (a gradient run's
// forward hooks), those the backward pass reads. True when some are only for the backward.
bool plan_cache(const ModelConfig& cfg, const RunOptions& options, int64_t positions, int64_t keys,
                const HookDispatch* tape_hooks, ActivationCache& cache) {
  bool tape_only_entries = false;
  for (const HookRef& ref : firing_order(cfg, options.use_attn_result)) {
    const bool asked = options.cache_filter && options.cache_filter(hook_name(ref));
    const bool tape = tape_hooks != nullptr && backward_tape_needs(ref, cfg.n_layers, *tape_hooks);
    if (asked || tape) cache.plan(ref, hook_shape(cfg, ref.point, static_cast<int>(positions), static_cast<int>(keys)));
    tape_only_entries |= tape && !asked;
  }
  return tape_only_entries;
}

}  // namespace

Result<RunOutput> hooked_forward(const ModelConfig& cfg, const ModelWeights& weights, const Backend& backend,
                                 std::span<const int32_t> tokens, const RunOptions& options, KvCache* kv) {
  const int64_t positions = static_cast<int64_t>(tokens.size());
  const int64_t keys = positions + (kv != nullptr ? kv->length() : 0);
  const bool grads = options.grad_metric.has_value();
  if (grads && kv != nullptr) {
    return make_error(ErrorCode::kUnsupported, "gradients need a full forward: run without a KV cache");
  }
  const bool streaming = options.cache_sink && options.cache_filter && !grads;
  HOOKLAB_ASSIGN_OR_RETURN(HookDispatch hooks, HookDispatch::build(options.hooks, cfg, options.use_attn_result));
  RunOutput out;
  ActivationCache streamed;  // the plan of the cache handed to options.cache_sink
  ActivationCache* cache = nullptr;
  bool tape_only_entries = false;  // cached for the backward pass, not for the caller
  if (streaming) {
    plan_cache(cfg, options, positions, keys, nullptr, streamed);
    streamed.index_plan(cfg.n_layers);
    HOOKLAB_RETURN_IF_ERROR(options.cache_sink->begin(streamed));
  } else if (options.cache_filter || grads) {
    tape_only_entries = plan_cache(cfg, options, positions, keys, grads ? &hooks : nullptr, out.cache);
    HOOKLAB_RETURN_IF_ERROR(out.cache.allocate(cfg.n_layers));
    cache = &out.cache;
  }
  HOOKLAB_ASSIGN_OR_RETURN(Workspace ws, Workspace::allocate(cfg, positions, keys, options.use_attn_result));
  Forward forward(cfg, weights, backend, hooks, cache, streaming ? &streamed : nullptr, ws, options, positions, kv);
  HOOKLAB_RETURN_IF_ERROR(forward.run(tokens, options.return_logits || grads ? &out.logits : nullptr));
  if (kv != nullptr) kv->advance(positions);
  if (grads) {
    HOOKLAB_RETURN_IF_ERROR(
        hooked_backward({cfg, weights, backend, tokens, options, hooks, out.cache, out.logits}, out));
    if (tape_only_entries) out.cache.retain(options.cache_filter);
    if (!options.return_logits) out.logits = Tensor();
  }
  return out;
}

}  // namespace hooklab
