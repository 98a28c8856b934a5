// Device scratch for `batch` sequences of `positions` rows: one buffer per activation kind
// (as forward.cpp's Workspace), so no op ever reads and writes the same buffer. Activations
// that are cached live in slots of their own instead (device_forward.cpp).
#pragma once

#include "device/device_buffers.h"
#include "hooklab/config.h"

namespace hooklab {

class DeviceWorkspace {
 public:
  // `keys`: keys each query row attends over (0: `positions`); a KV-cached step attends over
  // the cached rows as well, so its scores and pattern rows are that long.
  static Result<DeviceWorkspace> allocate(DeviceBackend& device, const ModelConfig& cfg, int64_t batch,
                                          int64_t positions, bool use_attn_result, int64_t keys = 0);
  DeviceWorkspace() = default;

  // Floats of the largest buffer one sequence needs (sizes the batch to the binding limit).
  static int64_t largest_per_sequence(const ModelConfig& cfg, int64_t positions);
  // Floats of every buffer for one sequence.
  static int64_t total_per_sequence(const ModelConfig& cfg, int64_t positions);

  DeviceRows embed, pos_embed, resid_pre, ln1_scale, ln1_normalized, qkv, attn_scores, pattern, z, result, attn_out,
      resid_mid, ln2_scale, ln2_normalized, mlp_pre, mlp_post, mlp_out, resid_post, ln_final_scale, ln_final_normalized;

 private:
  OwnedDeviceBuffers buffers_;
};

}  // namespace hooklab
