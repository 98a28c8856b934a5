// f16 -> f32 widening of PackedMatrix storage, 8 values per step (see f16_simd.h); exact for
// every finite f16.
#include "kernels/wasmsimd/f16_simd.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab::wasmsimd {

void widen_f16(float* dst, const uint16_t* src, int64_t n) {
  const v128_t rebias = wasm_f32x4_splat(kF16Rebias);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t lo, hi;
    widen_f16x8_scaled(wasm_v128_load(src + i), lo, hi);
    wasm_v128_store(dst + i, wasm_f32x4_mul(lo, rebias));
    wasm_v128_store(dst + i + 4, wasm_f32x4_mul(hi, rebias));
  }
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

}  // namespace hooklab::wasmsimd
