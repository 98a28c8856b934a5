// Chooses a compute backend by kind and thread count.
#include "kernels/backends.h"

namespace hooklab {

Result<std::unique_ptr<Backend>> make_backend(BackendKind kind, int threads) {
  if (threads < 1) return make_error(ErrorCode::kInvalidArgument, "threads must be at least 1");
  switch (kind) {
    case BackendKind::kReference: return make_reference_backend();
    case BackendKind::kXnnpack:
#if HOOKLAB_WITH_XNNPACK
      return make_xnnpack_backend(threads);
#else
      return make_error(ErrorCode::kUnsupported, "this build has no XNNPACK backend");
#endif
    case BackendKind::kWasmSimd:
#if HOOKLAB_WASM_SIMD
      return make_wasmsimd_backend(threads);
#else
      return make_error(ErrorCode::kUnsupported, "the wasm SIMD backend exists only in WebAssembly builds");
#endif
    case BackendKind::kAuto:
#if HOOKLAB_WITH_XNNPACK
      return make_xnnpack_backend(threads);
#elif HOOKLAB_WASM_SIMD
      return make_wasmsimd_backend(threads);
#else
      return make_reference_backend();
#endif
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown backend kind");
}

}  // namespace hooklab
