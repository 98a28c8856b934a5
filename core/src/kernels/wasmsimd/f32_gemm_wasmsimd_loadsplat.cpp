// f32 GEMM micro-kernels, MR x 8 "loadsplat" tiles (MR = 4, 5, 6 full, smaller for the M tail).
//
// XNNPACK's f32_gemm_4x8__wasmsimd_loadsplat scheme: per k step the 8 panel values are two
// v128 loads, each A element is broadcast straight from memory with v128.load32_splat (a
// single vbroadcastss on x86, no shuffle), and 2*MR accumulators of 4 lanes take one mul and
// one add each (no FMA in plain SIMD128). 4x8 needs 8 accumulators + 2 B + 1 A = 11 of the
// 16 x86 vector registers, which V8 allocates without spills; 5x8 (13) and 6x8 (15) leave
// little or nothing for the register allocator on x86 but suit ARM64's 32 registers.
//
// The bias is added after the k loop, not used as the initial accumulator, so each output
// rounds in the same order as the reference (sum, then + bias).
#include "kernels/wasmsimd/gemm_1row.h"
#include "kernels/wasmsimd/gemm_microkernels.h"
#include "kernels/wasmsimd/gemm_tile_store.h"

#include <wasm_simd128.h>

namespace hooklab::wasmsimd {
namespace {

template <size_t MR>
inline void gemm_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                           size_t ldc, size_t nc) {
  const float* a_row[MR];
  v128_t acc_lo[MR];
  v128_t acc_hi[MR];
#pragma clang loop unroll(full)
  for (size_t r = 0; r < MR; ++r) {
    a_row[r] = a + r * lda;
    acc_lo[r] = wasm_f32x4_const_splat(0.0f);
    acc_hi[r] = wasm_f32x4_const_splat(0.0f);
  }
  for (size_t k = 0; k < kc; ++k) {
    const v128_t b_lo = wasm_v128_load(w);
    const v128_t b_hi = wasm_v128_load(w + 4);
    w += 8;
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      const v128_t a_splat = wasm_v128_load32_splat(a_row[r]);
      a_row[r] += 1;
      acc_lo[r] = wasm_f32x4_add(acc_lo[r], wasm_f32x4_mul(a_splat, b_lo));
      acc_hi[r] = wasm_f32x4_add(acc_hi[r], wasm_f32x4_mul(a_splat, b_hi));
    }
  }
  if (bias != nullptr) {
    const v128_t bias_lo = wasm_v128_load(bias);
    const v128_t bias_hi = wasm_v128_load(bias + 4);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      acc_lo[r] = wasm_f32x4_add(acc_lo[r], bias_lo);
      acc_hi[r] = wasm_f32x4_add(acc_hi[r], bias_hi);
    }
  }
#pragma clang loop unroll(full)
  for (size_t r = 0; r < MR; ++r) store_row_8(c + r * ldc, acc_lo[r], acc_hi[r], nc);
}

}  // namespace

void f32_gemm_1x48__wasmsimd_loadsplat(size_t kc, const float* a, const float* w, size_t panel_stride,
                                       const float* bias, float* c) {
  gemm_1row_loadsplat<kF32RowPanels>(kc, a, w, panel_stride, bias, c, [](const float* row, v128_t& lo, v128_t& hi) {
    lo = wasm_v128_load(row);
    hi = wasm_v128_load(row + 4);
  });
}

void f32_gemm_6x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc) {
  gemm_loadsplat<6>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_5x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc) {
  gemm_loadsplat<5>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_4x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc) {
  gemm_loadsplat<4>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_3x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc) {
  gemm_loadsplat<3>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_2x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc) {
  gemm_loadsplat<2>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_1x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc) {
  gemm_loadsplat<1>(kc, a, lda, w, bias, c, ldc, nc);
}

}  // namespace hooklab::wasmsimd
