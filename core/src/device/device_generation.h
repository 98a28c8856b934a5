// Generation on the device: the core's Generator (options, sampling, the one RNG) with each
// step's forward run on the GPU against a DeviceKvCache, so a step encodes only the new
// position(s) and reads back one row of logits. Like the device forward it takes no hooks:
// steering, ablations and fwd_hooks edit activations, and those generations run on the host.
//
//   auto gen = DeviceGeneration::start(model, device, weights, prompt, options).value();
//   while (!gen->done()) {
//     gen->begin_step();          // encodes; the worker then awaits the flush
//     auto step = gen->finish_step().value();
//   }
#pragma once

#include <memory>
#include <vector>

#include "device/device_forward.h"
#include "device/device_kv_cache.h"
#include "hooklab/generation.h"

namespace hooklab {

class DeviceGeneration {
 public:
  // Checks the options as Generator::start does, refuses hooks, steering and ablations, and
  // allocates the device KV cache. The model, device and weights must outlive it.
  static Result<std::unique_ptr<DeviceGeneration>> start(const HookedTransformer& model, DeviceBackend& device,
                                                         const DeviceWeights& weights, std::vector<int32_t> prompt,
                                                         GenerateOptions options);

  bool done() const { return generator_.done(); }
  // Encodes the forward of the pending positions (the prompt first, then the last token).
  Status begin_step();
  // After the flush: the next token from the last position's logits. A failed step (device
  // error, a non-finite logit) leaves the cache and the tokens as they were.
  Result<SampledToken> finish_step();

  const Generator& generator() const { return generator_; }

 private:
  DeviceGeneration(const HookedTransformer& model, DeviceBackend& device, const DeviceWeights& weights,
                   Generator generator, DeviceKvCache kv)
      : model_(&model), device_(&device), weights_(&weights), generator_(std::move(generator)), kv_(std::move(kv)) {}
  const HookedTransformer* model_;
  DeviceBackend* device_;
  const DeviceWeights* weights_;
  Generator generator_;
  DeviceKvCache kv_;
  std::unique_ptr<DeviceWorkspace> step_workspace_;  // the one-token steps' scratch, made once
  std::unique_ptr<DeviceRun> run_;                   // the step between begin_step and finish_step
  int64_t run_positions_ = 0;
};

}  // namespace hooklab
