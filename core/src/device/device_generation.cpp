#include "device/device_generation.h"

namespace hooklab {

Result<std::unique_ptr<DeviceGeneration>> DeviceGeneration::start(const HookedTransformer& model, DeviceBackend& device,
                                                                  const DeviceWeights& weights,
                                                                  std::vector<int32_t> prompt,
                                                                  GenerateOptions options) {
  if (!options.hooks.empty() || !options.steering.empty() || !options.ablations.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "generation with hooks, steering or ablations runs on the host (wasm), not the device");
  }
  HOOKLAB_ASSIGN_OR_RETURN(Generator generator, Generator::start(model, std::move(prompt), std::move(options)));
  HOOKLAB_ASSIGN_OR_RETURN(DeviceKvCache kv, DeviceKvCache::allocate(device, model.cfg()));
  return std::unique_ptr<DeviceGeneration>(
      new DeviceGeneration(model, device, weights, std::move(generator), std::move(kv)));
}

Status DeviceGeneration::begin_step() {
  if (done()) return make_error(ErrorCode::kInvalidArgument, "the generation is finished");
  if (run_) return make_error(ErrorCode::kInvalidArgument, "a generation step is already in flight");
  const std::span<const int32_t> fresh = generator_.pending();  // kv_ holds the positions before them
  DeviceRunOptions options;
  options.kv = &kv_;
  if (fresh.size() == 1) {  // every step after the prompt: one scratch for all, keys up to n_ctx
    if (!step_workspace_) {
      HOOKLAB_ASSIGN_OR_RETURN(DeviceWorkspace ws,
                               DeviceWorkspace::allocate(*device_, model_->cfg(), 1, 1, false, kv_.capacity()));
      step_workspace_ = std::make_unique<DeviceWorkspace>(std::move(ws));
    }
    options.workspace = step_workspace_.get();
  }
  options.logits_row = static_cast<int>(fresh.size()) - 1;  // only the last position chooses
  HOOKLAB_ASSIGN_OR_RETURN(run_, encode_device_forward(*device_, model_->cfg(), *weights_, fresh, options));
  run_positions_ = static_cast<int64_t>(fresh.size());
  return {};
}

Result<SampledToken> DeviceGeneration::finish_step() {
  if (!run_) return make_error(ErrorCode::kInvalidArgument, "no generation step is in flight");
  std::unique_ptr<DeviceRun> run = std::move(run_);
  HOOKLAB_RETURN_IF_ERROR(device_->status());
  const Tensor& logits = run->output.logits;  // [1, 1, V]
  HOOKLAB_ASSIGN_OR_RETURN(SampledToken sampled, generator_.accept(std::span<const float>(
                                                     logits.data(), static_cast<size_t>(logits.numel()))));
  kv_.advance(run_positions_);  // the step's keys and values now count
  return sampled;
}

}  // namespace hooklab
