// The WebGPU DeviceBackend: every method calls into wasm/webgpu/hooklab_webgpu.js (linked with
// --js-library), which owns the GPUDevice, the buffers (by id) and the compute pipelines built
// from wasm/webgpu/kernels/*.wgsl. Emscripten builds only. JavaScript opens the device (an
// async step C++ cannot wait for) before a backend is created, and awaits its flushes.
#pragma once

#include <memory>
#include <string>

#include "hooklab/device_backend.h"

namespace hooklab {

// The device JavaScript attached, or kUnsupported when none is attached (or it was lost).
// `name` is shown to users: "webgpu (<adapter description>)".
Result<std::unique_ptr<DeviceBackend>> make_webgpu_backend(std::string name);

}  // namespace hooklab
