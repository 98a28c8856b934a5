// One transformer block on the device for `batch` independent sequences of `positions` rows,
// with forward.cpp's structure and hook points. The device forward (B = 1) and device
// patching (B patched cells) both run this one implementation; they differ only in their
// DeviceBlockHooks.
#pragma once

#include "device/device_kv_cache.h"
#include "device/device_weights.h"
#include "device/device_workspace.h"
#include "hooklab/hook_points.h"

namespace hooklab {

// Where activations live and what happens once each is produced. The forward places cached
// hooks in slots of their own; patching injects the source's values right after the hook.
class DeviceBlockHooks {
 public:
  virtual ~DeviceBlockHooks() = default;
  // Rows the activation of `ref` is written to: `scratch`, or a slot of the caller's.
  virtual DeviceRows place(HookRef ref, DeviceRows scratch) { return scratch; }
  // The activation of `ref` is now in `where`, which every later op reads. q, k and v are
  // views into the fused qkv product (ld 3 * d_model) and are not placed.
  virtual void after(HookRef ref, DeviceRows where) {}
};

struct DeviceBlockContext {
  DeviceBackend& device;
  const ModelConfig& cfg;
  const DeviceWeights& weights;
  DeviceWorkspace& ws;
  int64_t batch = 1;
  int64_t positions = 0;
  bool use_attn_result = false;
  // A KV-cached step (batch 1): the block stores its keys and values at kv->length() and
  // attends over the cached rows too. The workspace's scores hold kv->length() + positions keys.
  const DeviceKvCache* kv = nullptr;
};

// LayerNorm (or LayerNormPre) of batch * positions rows with its scale/normalized hooks.
DeviceRows device_layer_norm(const DeviceBlockContext& ctx, DeviceBlockHooks& hooks, HookRef scale_ref,
                             HookRef normalized_ref, DeviceRows scale_scratch, DeviceRows normalized_scratch,
                             DeviceRows x, DeviceBufferId w, DeviceBufferId b);

// Block `layer` from resid_pre (already placed; its hook fires here). Returns resid_post.
DeviceRows run_device_block(const DeviceBlockContext& ctx, DeviceBlockHooks& hooks, int layer, DeviceRows resid_pre);

}  // namespace hooklab
