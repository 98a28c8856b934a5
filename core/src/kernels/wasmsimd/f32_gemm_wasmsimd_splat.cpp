// f32 GEMM micro-kernels, MR x 8 "splat" tiles (MR = 4 full, 3/2/1 for the M tail).
//
// The scheme of XNNPACK's f32_gemm_4x8__wasmsimd_splat: per 4 k steps each A row is one v128
// load, and its lanes are broadcast with i32x4 shuffles instead of one load32_splat per
// element. It trades MR loads per k step for shuffles, which is faster where loads are the
// bottleneck (some ARM cores) and slower where a splat-load is a single instruction (x86 with
// AVX2's vbroadcastss): hence a variant chosen at run time, not a replacement.
//
// Each output sums in the same order as the loadsplat kernels and the reference (k ascending,
// one mul and one add per step, bias last), so switching kernels never changes a value.
#include "kernels/wasmsimd/gemm_microkernels.h"
#include "kernels/wasmsimd/gemm_tile_store.h"

#include <wasm_simd128.h>

namespace hooklab::wasmsimd {
namespace {

template <size_t MR>
struct SplatAccumulators {
  v128_t lo[MR];
  v128_t hi[MR];

  // acc[r] += broadcast(a[r]) * (b_lo, b_hi) for every row r.
  inline void step(const v128_t (&a)[MR], const float* w) {
    const v128_t b_lo = wasm_v128_load(w);
    const v128_t b_hi = wasm_v128_load(w + 4);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      lo[r] = wasm_f32x4_add(lo[r], wasm_f32x4_mul(a[r], b_lo));
      hi[r] = wasm_f32x4_add(hi[r], wasm_f32x4_mul(a[r], b_hi));
    }
  }
};

// Lane L of v in all four lanes.
template <int L>
inline v128_t splat_lane(v128_t v) {
  return wasm_i32x4_shuffle(v, v, L, L, L, L);
}

template <size_t MR>
inline void gemm_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c, size_t ldc,
                       size_t nc) {
  const float* a_row[MR];
  SplatAccumulators<MR> acc;
#pragma clang loop unroll(full)
  for (size_t r = 0; r < MR; ++r) {
    a_row[r] = a + r * lda;
    acc.lo[r] = wasm_f32x4_const_splat(0.0f);
    acc.hi[r] = wasm_f32x4_const_splat(0.0f);
  }
  size_t k = 0;
  for (; k + 4 <= kc; k += 4, w += 32) {
    v128_t a4[MR];
    v128_t a_k[MR];
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) a4[r] = wasm_v128_load(a_row[r] + k);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) a_k[r] = splat_lane<0>(a4[r]);
    acc.step(a_k, w);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) a_k[r] = splat_lane<1>(a4[r]);
    acc.step(a_k, w + 8);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) a_k[r] = splat_lane<2>(a4[r]);
    acc.step(a_k, w + 16);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) a_k[r] = splat_lane<3>(a4[r]);
    acc.step(a_k, w + 24);
  }
  for (; k < kc; ++k, w += 8) {  // the last kc % 4 steps: one element per row
    v128_t a_k[MR];
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) a_k[r] = wasm_v128_load32_splat(a_row[r] + k);
    acc.step(a_k, w);
  }
  if (bias != nullptr) {
    const v128_t bias_lo = wasm_v128_load(bias);
    const v128_t bias_hi = wasm_v128_load(bias + 4);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      acc.lo[r] = wasm_f32x4_add(acc.lo[r], bias_lo);
      acc.hi[r] = wasm_f32x4_add(acc.hi[r], bias_hi);
    }
  }
#pragma clang loop unroll(full)
  for (size_t r = 0; r < MR; ++r) store_row_8(c + r * ldc, acc.lo[r], acc.hi[r], nc);
}

}  // namespace

void f32_gemm_4x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc) {
  gemm_splat<4>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_3x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc) {
  gemm_splat<3>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_2x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc) {
  gemm_splat<2>(kc, a, lda, w, bias, c, ldc, nc);
}
void f32_gemm_1x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc) {
  gemm_splat<1>(kc, a, lda, w, bias, c, ldc, nc);
}

}  // namespace hooklab::wasmsimd
