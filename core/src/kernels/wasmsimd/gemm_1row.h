// The one-row GEMM loop shared by f32 and f16 weights (f32_gemm_1x48__wasmsimd_loadsplat,
// f16w_gemm_1x32__wasmsimd_loadsplat): one A row times NP whole panels (columns 8 * NP).
//
// The 1x8 tile has only two accumulator chains, so each k step waits for the previous add: with
// one row (a generation step) that latency, not memory, bounded the product. NP panels give 2 * NP
// independent chains; each output still sums k ascending, mul then add, bias last, exactly as the
// 1x8 tile does. load_row(panel row, lo, hi) gives a panel row's 8 weights as f32 (times any power
// of two the caller folds into a, as the f16 kernel does).
#pragma once

#include <wasm_simd128.h>

#include <cstddef>

namespace hooklab::wasmsimd {

template <size_t NP, typename Weight, typename LoadRow>
inline void gemm_1row_loadsplat(size_t kc, const float* a, const Weight* w, size_t panel_stride, const float* bias,
                                float* c, LoadRow load_row) {
  const Weight* w_panel[NP];
  v128_t acc_lo[NP];
  v128_t acc_hi[NP];
#pragma clang loop unroll(full)
  for (size_t p = 0; p < NP; ++p) {
    w_panel[p] = w + p * panel_stride;
    acc_lo[p] = wasm_f32x4_const_splat(0.0f);
    acc_hi[p] = wasm_f32x4_const_splat(0.0f);
  }
  for (size_t k = 0; k < kc; ++k) {
    const v128_t a_splat = wasm_v128_load32_splat(a + k);
#pragma clang loop unroll(full)
    for (size_t p = 0; p < NP; ++p) {
      v128_t lo, hi;
      load_row(w_panel[p], lo, hi);
      acc_lo[p] = wasm_f32x4_add(acc_lo[p], wasm_f32x4_mul(a_splat, lo));
      acc_hi[p] = wasm_f32x4_add(acc_hi[p], wasm_f32x4_mul(a_splat, hi));
      w_panel[p] += 8;
    }
  }
#pragma clang loop unroll(full)
  for (size_t p = 0; p < NP; ++p) {
    if (bias != nullptr) {
      acc_lo[p] = wasm_f32x4_add(acc_lo[p], wasm_v128_load(bias + 8 * p));
      acc_hi[p] = wasm_f32x4_add(acc_hi[p], wasm_v128_load(bias + 8 * p + 4));
    }
    wasm_v128_store(c + 8 * p, acc_lo[p]);
    wasm_v128_store(c + 8 * p + 4, acc_hi[p]);
  }
}

}  // namespace hooklab::wasmsimd
