// The single-row product over f16 weights, read straight from the panels: a generation step
// streams every weight once, so widening them into a buffer first (as the M > 1 path does)
// would write and re-read each one. The A row comes multiplied by 2^112 (see f16_simd.h), so
// each product (h * 2^-112) * (a * 2^112) is exactly h * a: every output equals, bit for bit,
// f32_gemm_1x32__wasmsimd_loadsplat over the widened weights (same order: k ascending, mul then
// add, bias last).
#include "kernels/wasmsimd/f16_simd.h"
#include "kernels/wasmsimd/gemm_microkernels.h"

namespace hooklab::wasmsimd {

void f16w_gemm_1x32__wasmsimd_loadsplat(size_t kc, const float* a_rebiased, const uint16_t* w, size_t panel_stride,
                                        const float* bias, float* c) {
  constexpr size_t kPanels = kGemmRowPanels;
  const uint16_t* w_panel[kPanels];
  v128_t acc_lo[kPanels];
  v128_t acc_hi[kPanels];
#pragma clang loop unroll(full)
  for (size_t p = 0; p < kPanels; ++p) {
    w_panel[p] = w + p * panel_stride;
    acc_lo[p] = wasm_f32x4_const_splat(0.0f);
    acc_hi[p] = wasm_f32x4_const_splat(0.0f);
  }
  for (size_t k = 0; k < kc; ++k) {
    const v128_t a_splat = wasm_v128_load32_splat(a_rebiased + k);
#pragma clang loop unroll(full)
    for (size_t p = 0; p < kPanels; ++p) {
      v128_t lo, hi;
      widen_f16x8_scaled(wasm_v128_load(w_panel[p]), lo, hi);
      acc_lo[p] = wasm_f32x4_add(acc_lo[p], wasm_f32x4_mul(a_splat, lo));
      acc_hi[p] = wasm_f32x4_add(acc_hi[p], wasm_f32x4_mul(a_splat, hi));
      w_panel[p] += 8;
    }
  }
#pragma clang loop unroll(full)
  for (size_t p = 0; p < kPanels; ++p) {
    if (bias != nullptr) {
      acc_lo[p] = wasm_f32x4_add(acc_lo[p], wasm_v128_load(bias + 8 * p));
      acc_hi[p] = wasm_f32x4_add(acc_hi[p], wasm_v128_load(bias + 8 * p + 4));
    }
    wasm_v128_store(c + 8 * p, acc_lo[p]);
    wasm_v128_store(c + 8 * p + 4, acc_hi[p]);
  }
}

}  // namespace hooklab::wasmsimd
