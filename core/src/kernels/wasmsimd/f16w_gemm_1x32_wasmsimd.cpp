// The single-row product over f16 weights, read straight from the panels: a generation step
// streams every weight once, so widening them into a buffer first (as the M > 1 path does)
// would write and re-read each one. The A row comes multiplied by 2^112 (see f16_simd.h), so
// each product (h * 2^-112) * (a * 2^112) is exactly h * a: every output equals, bit for bit,
// the f32 one-row kernel over the widened weights (the same loop, gemm_1row.h, whose sums do not
// depend on how many panels one call takes).
#include "kernels/wasmsimd/f16_simd.h"
#include "kernels/wasmsimd/gemm_1row.h"
#include "kernels/wasmsimd/gemm_microkernels.h"

namespace hooklab::wasmsimd {

void f16w_gemm_1x32__wasmsimd_loadsplat(size_t kc, const float* a_rebiased, const uint16_t* w, size_t panel_stride,
                                        const float* bias, float* c) {
  gemm_1row_loadsplat<kF16RowPanels>(
      kc, a_rebiased, w, panel_stride, bias, c,
      [](const uint16_t* row, v128_t& lo, v128_t& hi) { widen_f16x8_scaled(wasm_v128_load(row), lo, hi); });
}

}  // namespace hooklab::wasmsimd
