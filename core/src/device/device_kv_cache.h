// kv_cache.h's KvCache on the device: each layer's keys and values (hook_k and hook_v of
// every position already run), n_ctx rows of d_model floats each, allocated once. A
// KV-cached device step (DeviceRunOptions::kv) copies its new rows in at length() and
// attends over rows [0, length() + new); advance() makes them part of the cache once the
// step's flush has succeeded, so a failed step leaves the cache as it was.
#pragma once

#include "device/device_buffers.h"
#include "hooklab/config.h"

namespace hooklab {

class DeviceKvCache {
 public:
  static Result<DeviceKvCache> allocate(DeviceBackend& device, const ModelConfig& cfg);
  DeviceKvCache() = default;

  int64_t length() const { return length_; }
  int64_t capacity() const { return n_ctx_; }
  DeviceRows keys(int layer) const { return {buffers_[2 * static_cast<size_t>(layer)], 0, d_model_, 0}; }
  DeviceRows values(int layer) const { return {buffers_[2 * static_cast<size_t>(layer) + 1], 0, d_model_, 0}; }
  void advance(int64_t rows) { length_ += rows; }

 private:
  OwnedDeviceBuffers buffers_;  // layer l: keys at 2l, values at 2l + 1
  int64_t d_model_ = 0;
  int64_t n_ctx_ = 0;
  int64_t length_ = 0;
};

}  // namespace hooklab
