#include "device/device_kv_cache.h"

namespace hooklab {

Result<DeviceKvCache> DeviceKvCache::allocate(DeviceBackend& device, const ModelConfig& cfg) {
  DeviceKvCache kv;
  kv.buffers_ = OwnedDeviceBuffers(device);
  kv.d_model_ = cfg.d_model;
  kv.n_ctx_ = cfg.n_ctx;
  for (int l = 0; l < 2 * cfg.n_layers; ++l)
    HOOKLAB_RETURN_IF_ERROR(kv.buffers_.allocate(cfg.n_ctx * cfg.d_model).status());
  return kv;
}

}  // namespace hooklab
