// The WebGPU path as JavaScript holds it (Embind class "WebgpuSession", whose sweeps are the
// same "PatchJob" class as the host's): a model's weights on the GPU plus the runs and sweeps
// encoded on it.
// Every method returns at once; between a begin and its finish the worker awaits
// Module.hooklabWebgpu.flush(), the one asynchronous step (docs/webgpu.md).
#pragma once

#include <emscripten/val.h>

#include <memory>

#include "device/device_forward.h"
#include "device/device_patching.h"
#include "device/device_weights.h"
#include "wasm_generator.h"
#include "wasm_model.h"
#include "wasm_patch_job.h"

namespace hooklab::wasm {

class WebgpuSession {
 public:
  // Uploads the model's weights to the device JavaScript opened; null with lastError() set.
  // options = {name: "webgpu (<adapter>)"}. The model must outlive the session.
  static WebgpuSession* create(WasmModel* model, const val& options);

  std::string name() const { return device_->name(); }
  // options as Model.run's, without hooks: {cacheNames?, useAttnResult?, returnLogits?}.
  val begin_run(const val& tokens, const val& options);
  // After the flush: {logits, logitsShape, cache} as Model.run returns them.
  val finish_run();
  void abandon_run() { run_.reset(); }
  // Encodes the sweep's two baseline runs; null with lastError() set.
  WasmPatchJob* start_patch(const val& request);  // exact items only
  // A generation whose steps run on the device against its KV cache (Model.startGenerate's
  // options without hooks, steering or ablations); null with lastError() set.
  WasmGenerator* start_generate(const val& tokens, const val& options);

 private:
  WebgpuSession() = default;
  const HookedTransformer* model_ = nullptr;
  std::unique_ptr<DeviceBackend> device_;  // declared first: destroyed last
  DeviceWeights weights_;
  std::unique_ptr<DeviceRun> run_;
  bool return_logits_ = true;
  bool cached_ = false;
};

}  // namespace hooklab::wasm
