// forward.cpp's run() on the device: embedding, blocks (device_block.cpp), final LayerNorm
// and unembedding, with the same hook points. A cached hook gets a device slot of its own
// (never overwritten), so every cached activation is read back from its slot in the one
// batched readback of the flush, straight into the host cache's arena.
#include "device/device_forward.h"

#include <algorithm>
#include <string>

#include "device/device_block.h"
#include "model/hook_dispatch.h"

namespace hooklab {
namespace {

size_t slot_index(HookRef ref, int n_layers) {
  return static_cast<size_t>(ref.point) * static_cast<size_t>(n_layers + 1) + static_cast<size_t>(ref.layer + 1);
}

// Floats per row of a hook's activation (attention scores and patterns: rows of P keys).
int64_t row_floats(const ModelConfig& cfg, HookPoint point, int64_t positions) {
  if (point == HookPoint::kAttnScores || point == HookPoint::kPattern) return positions;
  return shape_numel(hook_shape(cfg, point, static_cast<int>(positions))) / positions;
}

// The forward's hooks: cached activations are written to (or, for the q/k/v views of the
// fused product, copied into) their slots.
class CachingHooks final : public DeviceBlockHooks {
 public:
  CachingHooks(DeviceBackend& device, const std::vector<DeviceRows>& slots, int n_layers, int64_t positions)
      : device_(device), slots_(slots), n_layers_(n_layers), positions_(positions) {}

  DeviceRows place(HookRef ref, DeviceRows scratch) override {
    const DeviceRows& slot = slots_[slot_index(ref, n_layers_)];
    return slot.buffer != kNoDeviceBuffer ? slot : scratch;
  }
  void after(HookRef ref, DeviceRows where) override {
    const DeviceRows& slot = slots_[slot_index(ref, n_layers_)];
    if (slot.buffer == kNoDeviceBuffer || slot.buffer == where.buffer) return;
    device_.copy_rows(slot, where, 1, positions_, slot.ld);
  }

 private:
  DeviceBackend& device_;
  const std::vector<DeviceRows>& slots_;
  int n_layers_;
  int64_t positions_;
};

// logits = normalized @ W_U + b_U, in row blocks that each fit one storage binding.
Status encode_logits(DeviceBackend& device, const ModelConfig& cfg, const DeviceWeights& weights, DeviceRows normalized,
                     int64_t positions, int logits_row, Tensor& logits, std::vector<DeviceBufferId>& owned) {
  const int64_t V = cfg.d_vocab;
  const int64_t first = logits_row >= 0 ? logits_row : 0;
  const int64_t count = logits_row >= 0 ? 1 : positions;
  HOOKLAB_ASSIGN_OR_RETURN(logits, Tensor::zeros({1, count, V}));
  const int64_t per_block = std::max<int64_t>(1, device.limits().max_binding_bytes / (V * 4));
  for (int64_t r = 0; r < count; r += per_block) {
    const int64_t n = std::min(per_block, count - r);
    HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId block, device.allocate(n * V));
    owned.push_back(block);
    device.matmul(
        {{block, 0, V, 0}, normalized.shifted((first + r) * normalized.ld), n, &weights.w_u, 0, cfg.d_model, true});
    device.request_readback({block, 0}, logits.data() + r * V, n * V);
  }
  return {};
}

Status check_kv_step(const DeviceRunOptions& options, int64_t positions) {
  if (options.kv == nullptr) return {};
  if (options.cache_filter) return make_error(ErrorCode::kInvalidArgument, "a KV-cached device step caches nothing");
  const int64_t past = options.kv->length();
  if (past + positions > options.kv->capacity()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the KV cache holds " + std::to_string(past) + " positions and " + std::to_string(positions) +
                          " more exceed n_ctx = " + std::to_string(options.kv->capacity()));
  }
  return {};
}

}  // namespace

DeviceRun::~DeviceRun() {
  if (device_ == nullptr) return;
  for (DeviceBufferId id : owned_) device_->release(id);
}

const DeviceRows* DeviceRun::slot(HookRef ref) const {
  const DeviceRows& s = slots_[slot_index(ref, n_layers_)];
  return s.buffer != kNoDeviceBuffer ? &s : nullptr;
}

Result<std::unique_ptr<DeviceRun>> encode_device_forward(DeviceBackend& device, const ModelConfig& cfg,
                                                         const DeviceWeights& weights, std::span<const int32_t> tokens,
                                                         const DeviceRunOptions& options) {
  HOOKLAB_RETURN_IF_ERROR(device.status());
  const int64_t P = static_cast<int64_t>(tokens.size()), D = cfg.d_model;
  HOOKLAB_RETURN_IF_ERROR(check_kv_step(options, P));
  const int64_t past = options.kv != nullptr ? options.kv->length() : 0;
  std::unique_ptr<DeviceRun> run(new DeviceRun());
  run->device_ = &device;
  run->n_layers_ = cfg.n_layers;
  run->slots_.assign(static_cast<size_t>(kHookPointCount) * static_cast<size_t>(cfg.n_layers + 1), DeviceRows{});

  // The host cache is planned exactly as hooked_forward plans it; each entry gets a slot.
  ActivationCache& cache = run->output.cache;
  if (options.cache_filter) {
    for (const HookRef& ref : firing_order(cfg, options.use_attn_result)) {
      if (options.cache_filter(hook_name(ref))) cache.plan(ref, hook_shape(cfg, ref.point, static_cast<int>(P)));
    }
    HOOKLAB_RETURN_IF_ERROR(cache.allocate(cfg.n_layers));
    for (const ActivationCache::Entry& e : cache.entries()) {
      const int64_t n = shape_numel(e.shape);
      HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId id, device.allocate(n));
      run->owned_.push_back(id);
      run->slots_[slot_index(e.ref, cfg.n_layers)] = DeviceRows{id, 0, row_floats(cfg, e.ref.point, P), n};
    }
  }

  DeviceWorkspace own;
  if (options.workspace == nullptr) {
    HOOKLAB_ASSIGN_OR_RETURN(own, DeviceWorkspace::allocate(device, cfg, 1, P, options.use_attn_result, past + P));
  }
  DeviceWorkspace& ws = options.workspace != nullptr ? *options.workspace : own;
  CachingHooks hooks(device, run->slots_, cfg.n_layers, P);
  const DeviceBlockContext ctx{device, cfg, weights, ws, 1, P, options.use_attn_result, options.kv};

  std::vector<uint32_t> token_ids(tokens.begin(), tokens.end());
  HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId token_buffer, device.allocate(P));
  run->owned_.push_back(token_buffer);
  device.upload({token_buffer, 0}, token_ids.data(), P);

  const HookRef embed_ref{HookPoint::kEmbed, -1}, pos_ref{HookPoint::kPosEmbed, -1};
  const DeviceRows embed = hooks.place(embed_ref, ws.embed);  // [1, P, D]
  device.embed(embed, {token_buffer, 0}, P, weights.w_e);
  hooks.after(embed_ref, embed);
  const DeviceRows pos_embed = hooks.place(pos_ref, ws.pos_embed);        // [1, P, D]
  device.copy_rows(pos_embed, {weights.w_pos, past * D, D, 0}, 1, P, D);  // positions past..past + P
  hooks.after(pos_ref, pos_embed);

  DeviceRows resid = hooks.place({HookPoint::kResidPre, 0}, ws.resid_pre);
  device.add(resid.span(), embed.span(), pos_embed.span(), P * D);
  for (int l = 0; l < cfg.n_layers; ++l) {
    const DeviceRows resid_post = run_device_block(ctx, hooks, l, resid);
    if (l + 1 == cfg.n_layers) {
      resid = resid_post;
      break;
    }
    // The next block's resid_pre is this block's resid_post.
    resid = hooks.place({HookPoint::kResidPre, l + 1}, ws.resid_pre);
    device.copy_rows(resid, resid_post, 1, P, D);
  }
  const DeviceRows normalized =
      device_layer_norm(ctx, hooks, {HookPoint::kLnFinalScale, -1}, {HookPoint::kLnFinalNormalized, -1},
                        ws.ln_final_scale, ws.ln_final_normalized, resid, weights.ln_final_w, weights.ln_final_b);
  if (options.return_logits) {
    HOOKLAB_RETURN_IF_ERROR(
        encode_logits(device, cfg, weights, normalized, P, options.logits_row, run->output.logits, run->owned_));
  }
  for (const ActivationCache::Entry& e : cache.entries()) {
    if (options.read_back && !options.read_back(e.ref)) continue;
    device.request_readback(run->slot(e.ref)->span(), cache.mutable_slot(e.ref), shape_numel(e.shape));
  }
  HOOKLAB_RETURN_IF_ERROR(device.status());
  return run;
}

}  // namespace hooklab
