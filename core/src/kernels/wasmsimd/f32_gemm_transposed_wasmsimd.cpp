// f32 transposed-GEMM micro-kernels over PackedMatrix panels, MR x KR dot-product tiles.
//
// c[i, k] = sum_n a[i, n] * W(k, n) reads W along its rows, which the panel layout stores as
// one contiguous 8-float group per (panel, row): for a fixed panel, rows k..k+KR are KR
// consecutive groups. So each output is a dot product: per panel, the 8 floats of an A row
// (two v128 loads) multiply the 8 floats of a W row, accumulating 4 lanes per (row, k) pair,
// and the lanes are reduced once at the end (one 4x4 transpose-sum for the whole 2x2 tile).
//
// Why 2x2: V8 (TurboFan) places a loop body's loads ahead of its arithmetic, so every value
// loaded in one panel step is live at once. 2x2 loads 4 A + 4 W vectors per panel next to 4
// accumulators (12 of the 15 vector registers V8 allocates on x86) for 8 mul+add pairs, the
// load ratio of the forward's 4x8 tile; measured in Node, it runs at the forward's speed.
// 2x4 (8 loads of W + 8 accumulators) spills and runs at ~0.7x, 2x3 at ~0.55x, 1x4 at ~0.9x.
#include <wasm_simd128.h>

#include "kernels/wasmsimd/gemm_microkernels.h"

namespace hooklab::wasmsimd {
namespace {

// Row sums of the accumulators, MR * KR <= 4: lane r * KR + kk = output (r, kk).
inline v128_t reduce_tile(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  const v128_t s01 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 2, 6), wasm_i32x4_shuffle(a0, a1, 1, 5, 3, 7));
  const v128_t s23 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 2, 6), wasm_i32x4_shuffle(a2, a3, 1, 5, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}

template <size_t MR, size_t KR>
void gemm_transposed(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride, float* c,
                     size_t ldc, bool accumulate) {
  static_assert(MR * KR <= 4, "one transpose-sum per tile");
  v128_t acc[4] = {wasm_f32x4_const_splat(0.0f), wasm_f32x4_const_splat(0.0f), wasm_f32x4_const_splat(0.0f),
                   wasm_f32x4_const_splat(0.0f)};
  for (size_t p = 0; p < panels; ++p) {
    v128_t a_lo[MR], a_hi[MR];
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      a_lo[r] = wasm_v128_load(a + r * lda);
      a_hi[r] = wasm_v128_load(a + r * lda + 4);
    }
#pragma clang loop unroll(full)
    for (size_t kk = 0; kk < KR; ++kk) {
      const v128_t w_lo = wasm_v128_load(w + kk * 8);
      const v128_t w_hi = wasm_v128_load(w + kk * 8 + 4);
#pragma clang loop unroll(full)
      for (size_t r = 0; r < MR; ++r) {
        acc[r * KR + kk] = wasm_f32x4_add(acc[r * KR + kk], wasm_f32x4_mul(a_lo[r], w_lo));
        acc[r * KR + kk] = wasm_f32x4_add(acc[r * KR + kk], wasm_f32x4_mul(a_hi[r], w_hi));
      }
    }
    a += 8;
    w += panel_stride;
  }
  // Once per call (a block of up to ~128 panels): scalar stores cost nothing here.
  alignas(16) float sums[4];
  wasm_v128_store(sums, reduce_tile(acc[0], acc[1], acc[2], acc[3]));
#pragma clang loop unroll(full)
  for (size_t r = 0; r < MR; ++r) {
#pragma clang loop unroll(full)
    for (size_t kk = 0; kk < KR; ++kk) {
      float* out = c + r * ldc + kk;
      *out = accumulate ? *out + sums[r * KR + kk] : sums[r * KR + kk];
    }
  }
}

}  // namespace

void f32_gemm_transposed_2x2__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate) {
  gemm_transposed<2, 2>(panels, a, lda, w, panel_stride, c, ldc, accumulate);
}
void f32_gemm_transposed_2x1__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate) {
  gemm_transposed<2, 1>(panels, a, lda, w, panel_stride, c, ldc, accumulate);
}
void f32_gemm_transposed_1x2__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate) {
  gemm_transposed<1, 2>(panels, a, lda, w, panel_stride, c, ldc, accumulate);
}
void f32_gemm_transposed_1x1__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate) {
  gemm_transposed<1, 1>(panels, a, lda, w, panel_stride, c, ldc, accumulate);
}

}  // namespace hooklab::wasmsimd
