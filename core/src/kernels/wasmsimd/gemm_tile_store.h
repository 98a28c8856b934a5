// The store shared by the f32_gemm_*x8__wasmsimd micro-kernels: one row of an MR x 8 tile,
// of which only the first nc <= 8 columns exist in C (the last panel of a matrix whose width
// is not a multiple of 8).
#pragma once

#include <cstddef>

#include <wasm_simd128.h>

#include "kernels/wasmsimd/simd_math.h"

namespace hooklab::wasmsimd {

inline void store_row_8(float* c, v128_t lo, v128_t hi, size_t nc) {
  if (nc == 8) {
    wasm_v128_store(c, lo);
    wasm_v128_store(c + 4, hi);
    return;
  }
  if (nc & 4) {
    wasm_v128_store(c, lo);
    lo = hi;
    c += 4;
  }
  store_partial(c, lo, nc & 3);
}

}  // namespace hooklab::wasmsimd
