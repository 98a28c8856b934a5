// forward.cpp's block on device buffers. Differences from the CPU block, each deliberate:
//   - q, k and v stay views into the fused qkv product: attention reads them in place, and
//     a cached (or patched) q/k/v is copied out of (or injected into) that product.
//   - hooks cannot edit hook_scale here (runs with user hooks stay on wasm), so the
//     normalised output is never recomputed from an edited scale.
#include "device/device_block.h"

namespace hooklab {

DeviceRows device_layer_norm(const DeviceBlockContext& ctx, DeviceBlockHooks& hooks, HookRef scale_ref,
                             HookRef normalized_ref, DeviceRows scale_scratch, DeviceRows normalized_scratch,
                             DeviceRows x, DeviceBufferId w, DeviceBufferId b) {
  const int64_t rows = ctx.batch * ctx.positions, D = ctx.cfg.d_model;
  const DeviceRows scale = hooks.place(scale_ref, scale_scratch);                 // [B, P, 1]
  const DeviceRows normalized = hooks.place(normalized_ref, normalized_scratch);  // [B, P, D]
  ctx.device.layer_norm({normalized, scale.span(), x, w, b, rows, D, ctx.cfg.eps});
  hooks.after(scale_ref, scale);
  hooks.after(normalized_ref, normalized);
  return normalized;
}

namespace {

// resid_mid = resid_pre + attn_out, LayerNorm 2 and the MLP: writes resid_post = resid_mid + mlp_out.
void run_device_mlp(const DeviceBlockContext& ctx, DeviceBlockHooks& hooks, int l, DeviceRows resid_pre,
                    DeviceRows attn_out, DeviceRows resid_post) {
  DeviceBackend& dev = ctx.device;
  DeviceWorkspace& ws = ctx.ws;
  const int64_t rows = ctx.batch * ctx.positions, D = ctx.cfg.d_model, M = ctx.cfg.d_mlp;
  const DeviceLayerWeights& lw = ctx.weights.layers[static_cast<size_t>(l)];
  auto ref = [l](HookPoint point) { return HookRef{point, l}; };

  const DeviceRows resid_mid = hooks.place(ref(HookPoint::kResidMid), ws.resid_mid);  // [B, P, D]
  dev.add(resid_mid.span(), resid_pre.span(), attn_out.span(), rows * D);
  hooks.after(ref(HookPoint::kResidMid), resid_mid);

  const DeviceRows ln2 = device_layer_norm(ctx, hooks, ref(HookPoint::kLn2Scale), ref(HookPoint::kLn2Normalized),
                                           ws.ln2_scale, ws.ln2_normalized, resid_mid, lw.ln2_w, lw.ln2_b);

  const DeviceRows pre = hooks.place(ref(HookPoint::kMlpPre), ws.mlp_pre);  // [B, P, M]
  dev.matmul({pre, ln2, rows, &lw.w_in, 0, D, true});
  hooks.after(ref(HookPoint::kMlpPre), pre);

  const DeviceRows post = hooks.place(ref(HookPoint::kMlpPost), ws.mlp_post);  // [B, P, M]
  dev.gelu_new(post.span(), pre.span(), rows * M);
  hooks.after(ref(HookPoint::kMlpPost), post);

  const DeviceRows mlp_out = hooks.place(ref(HookPoint::kMlpOut), ws.mlp_out);  // [B, P, D]
  dev.matmul({mlp_out, post, rows, &lw.w_out, 0, M, true});
  hooks.after(ref(HookPoint::kMlpOut), mlp_out);
  dev.add(resid_post.span(), resid_mid.span(), mlp_out.span(), rows * D);
}

}  // namespace

DeviceRows run_device_block(const DeviceBlockContext& ctx, DeviceBlockHooks& hooks, int l, DeviceRows resid_pre) {
  DeviceBackend& dev = ctx.device;
  DeviceWorkspace& ws = ctx.ws;
  const int64_t B = ctx.batch, P = ctx.positions, rows = B * P;
  const int64_t D = ctx.cfg.d_model, H = ctx.cfg.n_heads, Dh = ctx.cfg.d_head;
  const DeviceLayerWeights& lw = ctx.weights.layers[static_cast<size_t>(l)];
  auto ref = [l](HookPoint point) { return HookRef{point, l}; };
  hooks.after(ref(HookPoint::kResidPre), resid_pre);  // [B, P, D]

  const DeviceRows ln1 = device_layer_norm(ctx, hooks, ref(HookPoint::kLn1Scale), ref(HookPoint::kLn1Normalized),
                                           ws.ln1_scale, ws.ln1_normalized, resid_pre, lw.ln1_w, lw.ln1_b);

  // q, k, v: one fused product [B * P, 3 * H * Dh]; each hook is a view of its third.
  dev.matmul({ws.qkv, ln1, rows, &lw.w_qkv, 0, D, true});
  const DeviceRows q = ws.qkv, k = ws.qkv.shifted(D), v = ws.qkv.shifted(2 * D);  // [B, P, H, Dh]
  hooks.after(ref(HookPoint::kQ), q);
  hooks.after(ref(HookPoint::kK), k);
  hooks.after(ref(HookPoint::kV), v);

  // Keys and values attended over: this run's, or (KV-cached step) the cache's rows with
  // this step's appended, the queries then being rows past..past + P of the sequence.
  DeviceRows keys = k, values = v;
  int64_t past = 0;
  if (ctx.kv != nullptr) {
    past = ctx.kv->length();
    keys = ctx.kv->keys(l), values = ctx.kv->values(l);
    dev.copy_rows(keys.shifted(past * D), k, 1, P, D);
    dev.copy_rows(values.shifted(past * D), v, 1, P, D);
  }
  const int64_t nk = past + P;

  const DeviceRows scores = hooks.place(ref(HookPoint::kAttnScores), ws.attn_scores);  // [B, H, P, nk]
  dev.attention_scores({scores, q, keys, B, H, Dh, P, nk, past, ctx.cfg.attn_scale_for_layer(l)});
  hooks.after(ref(HookPoint::kAttnScores), scores);

  const DeviceRows pattern = hooks.place(ref(HookPoint::kPattern), ws.pattern);  // [B, H, P, nk]
  dev.softmax_rows(pattern.span(), scores.span(), B * H * P, nk);
  hooks.after(ref(HookPoint::kPattern), pattern);

  const DeviceRows z = hooks.place(ref(HookPoint::kZ), ws.z);  // [B, P, H, Dh]
  dev.attention_mix({z, pattern, values, B, H, Dh, P, nk});
  hooks.after(ref(HookPoint::kZ), z);

  const DeviceRows attn_out = hooks.place(ref(HookPoint::kAttnOut), ws.attn_out);  // [B, P, D]
  if (ctx.use_attn_result) {
    const DeviceRows result = hooks.place(ref(HookPoint::kResult), ws.result);  // [B, P, H, D]: z[:, :, h] @ W_O[h]
    for (int64_t h = 0; h < H; ++h) {
      dev.matmul({result.shifted(h * D), z.shifted(h * Dh), rows, &lw.w_o, h * Dh, (h + 1) * Dh, false});
    }
    hooks.after(ref(HookPoint::kResult), result);
    dev.sum_heads(attn_out, result.span(), lw.b_o, rows, H, D);
  } else {
    dev.matmul({attn_out, z, rows, &lw.w_o, 0, H * Dh, true});
  }
  hooks.after(ref(HookPoint::kAttnOut), attn_out);

  const DeviceRows resid_post = hooks.place(ref(HookPoint::kResidPost), ws.resid_post);  // [B, P, D]
  if (ctx.cfg.attn_only) {
    dev.add(resid_post.span(), resid_pre.span(), attn_out.span(), rows * D);  // TL's attn_only block: no MLP
  } else {
    run_device_mlp(ctx, hooks, l, resid_pre, attn_out, resid_post);
  }
  hooks.after(ref(HookPoint::kResidPost), resid_post);
  return resid_post;
}

}  // namespace hooklab
