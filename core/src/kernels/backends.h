// Factories of the optimised backends compiled into this build (see backend.h).
#pragma once

#include <memory>

#include "hooklab/backend.h"

namespace hooklab {

#if HOOKLAB_WITH_XNNPACK
Result<std::unique_ptr<Backend>> make_xnnpack_backend(int threads);
#endif
#if HOOKLAB_WASM_SIMD
std::unique_ptr<Backend> make_wasmsimd_backend(int threads);
#endif

}  // namespace hooklab
