// Factories of the optimised backends compiled into this build (see backend.h).
#pragma once

#include <cstdint>
#include <memory>

#include "hooklab/backend.h"

namespace hooklab {

// Backend::zero_fill's share of work per chunk: 1 MB, 256 pages, so a chunk's faults outweigh
// claiming it, and a 650 MB model still splits into every chunk the pool allows.
constexpr int64_t kZeroFillGrainFloats = 256 * 1024;

#if HOOKLAB_WITH_XNNPACK
Result<std::unique_ptr<Backend>> make_xnnpack_backend(int threads);
#endif
#if HOOKLAB_WASM_SIMD
std::unique_ptr<Backend> make_wasmsimd_backend(int threads);
#endif

}  // namespace hooklab
