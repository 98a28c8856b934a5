// The hooked forward pass on the device (B = 1), caching only: a run with hooks that edit
// activations stays on the CPU path (forward.cpp). Encoding returns at once; the cached
// activations and the logits arrive in the host RunOutput when the caller's flush completes.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "device/device_kv_cache.h"
#include "device/device_weights.h"
#include "device/device_workspace.h"
#include "hooklab/hooked_transformer.h"

namespace hooklab {

struct DeviceRunOptions {
  // Hooks kept in device slots of their own, each with an entry in the host cache.
  std::function<bool(const std::string&)> cache_filter;
  // Which kept hooks are copied to the host cache (nullptr: all). Patching keeps some
  // activations on the device only, to inject them into later runs.
  std::function<bool(HookRef)> read_back;
  bool use_attn_result = false;
  bool return_logits = true;
  // >= 0: compute and read back only this row of the logits (output.logits is [1, 1, V]).
  int logits_row = -1;
  // A KV-cached step: the tokens sit at positions kv->length().. and attend over the cache
  // too; their keys and values are written into it (the caller advances it after the flush).
  // Caches nothing (no cache_filter).
  const DeviceKvCache* kv = nullptr;
  // Scratch kept by the caller across runs (a generation's one-token steps), sized for at least
  // these positions and keys; nullptr: the run allocates its own.
  DeviceWorkspace* workspace = nullptr;
};

class DeviceRun {
 public:
  ~DeviceRun();
  // Valid once the flush completed: logits [1, P, V] and the cache, as hooked_forward's.
  RunOutput output;
  // The device slot of a kept hook, or nullptr.
  const DeviceRows* slot(HookRef ref) const;

 private:
  friend Result<std::unique_ptr<DeviceRun>> encode_device_forward(DeviceBackend&, const ModelConfig&,
                                                                  const DeviceWeights&, std::span<const int32_t>,
                                                                  const DeviceRunOptions&);
  DeviceBackend* device_ = nullptr;
  int n_layers_ = 0;
  std::vector<DeviceRows> slots_;  // by (point, layer + 1); buffer none when not kept
  std::vector<DeviceBufferId> owned_;
};

// Callers validate the tokens first (HookedTransformer::validate_tokens).
Result<std::unique_ptr<DeviceRun>> encode_device_forward(DeviceBackend& device, const ModelConfig& cfg,
                                                         const DeviceWeights& weights, std::span<const int32_t> tokens,
                                                         const DeviceRunOptions& options);

}  // namespace hooklab
