// Vectorised float helpers shared by the wasm SIMD kernels: exp, horizontal reductions and
// partial (tail) loads/stores.
//
// Only plain SIMD128 is used (no relaxed SIMD, no FMA: clang 14 / V8 cannot use them), so every product
// and sum rounds exactly like the scalar reference's `a * b + c`.
#pragma once

#include <wasm_simd128.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace hooklab::wasmsimd {

// exp(x) on 4 lanes, Cephes expf: x = n*ln2 + r with |r| <= ln2/2, ln2 split in a short high
// part (n*C1 is exact for |n| < 2^15) and a correction, then a degree-6 polynomial,
// exp(r) = 1 + r + r^2 * P(r) (relative error about 1 ulp over the normal range).
//   x > ln(FLT_MAX)          -> +inf
//   x < ln(FLT_MIN) (-inf too) -> exactly 0 (std::exp would give a denormal below 1.2e-38)
//   NaN                       -> NaN
// 2^n is applied as two factors 2^(n>>1) * 2^(n - (n>>1)): n runs over [-126, 128] and a
// single biased-exponent factor cannot represent both ends.
inline v128_t exp_f32x4(v128_t x) {
  const v128_t max_input = wasm_f32x4_splat(88.72283935546875f);
  const v128_t min_input = wasm_f32x4_splat(-87.33654475055310898657f);
  const v128_t log2e = wasm_f32x4_splat(1.44269504088896341f);
  const v128_t c1 = wasm_f32x4_splat(0.693359375f);
  const v128_t c2 = wasm_f32x4_splat(-2.12194440e-4f);
  // pmin/pmax keep a NaN in their first operand, so NaN flows through to the result.
  const v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, min_input), max_input);
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(xc, log2e));
  v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(n, c1));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, c2));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), wasm_f32x4_add(r, wasm_f32x4_splat(1.0f)));
  const v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  const v128_t n_half = wasm_i32x4_shr(ni, 1);
  const v128_t n_rest = wasm_i32x4_sub(ni, n_half);
  const v128_t bias = wasm_i32x4_splat(127);
  const v128_t scale_a = wasm_i32x4_shl(wasm_i32x4_add(n_half, bias), 23);
  const v128_t scale_b = wasm_i32x4_shl(wasm_i32x4_add(n_rest, bias), 23);
  v128_t y = wasm_f32x4_mul(wasm_f32x4_mul(p, scale_a), scale_b);
  y = wasm_v128_bitselect(wasm_f32x4_splat(__builtin_inff()), y, wasm_f32x4_gt(x, max_input));
  y = wasm_v128_andnot(y, wasm_f32x4_lt(x, min_input));
  return y;
}

inline float horizontal_sum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

// Largest lane. pmax(a, b) = a < b ? b : a keeps `a` when `b` is NaN; the kernels accumulate
// with pmax(running_max, x), which skips NaN inputs like the reference's `x > max ? x : max`.
inline float horizontal_max(v128_t v) {
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

// Sums each of four vectors across its lanes: result lane i = sum of lanes of vi.
inline v128_t transpose_sum4(v128_t v0, v128_t v1, v128_t v2, v128_t v3) {
  const v128_t s01 = wasm_f32x4_add(wasm_i32x4_shuffle(v0, v1, 0, 4, 2, 6), wasm_i32x4_shuffle(v0, v1, 1, 5, 3, 7));
  const v128_t s23 = wasm_f32x4_add(wasm_i32x4_shuffle(v2, v3, 0, 4, 2, 6), wasm_i32x4_shuffle(v2, v3, 1, 5, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}

// Lane t = dot(q, k[t]) over d floats (attention scores and their backward): four 4-lane
// accumulators share each q load; d % 4 trailing terms are added in scalar.
inline v128_t dot4(const float* q, const float* const k[4], int64_t d) {
  v128_t acc[4] = {wasm_f32x4_const_splat(0.0f), wasm_f32x4_const_splat(0.0f), wasm_f32x4_const_splat(0.0f),
                   wasm_f32x4_const_splat(0.0f)};
  int64_t t = 0;
  for (; t + 4 <= d; t += 4) {
    const v128_t qv = wasm_v128_load(q + t);
#pragma clang loop unroll(full)
    for (int lane = 0; lane < 4; ++lane)
      acc[lane] = wasm_f32x4_add(acc[lane], wasm_f32x4_mul(qv, wasm_v128_load(k[lane] + t)));
  }
  v128_t dots = transpose_sum4(acc[0], acc[1], acc[2], acc[3]);
  if (t < d) {
    alignas(16) float rest[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int lane = 0; lane < 4; ++lane) {
      for (int64_t u = t; u < d; ++u) rest[lane] += q[u] * k[lane][u];
    }
    dots = wasm_f32x4_add(dots, wasm_v128_load(rest));
  }
  return dots;
}

// Loads count < 4 floats, filling the other lanes with `fill`, without reading past the end
// (the end of the wasm heap may be the end of the array).
inline v128_t load_partial(const float* p, size_t count, float fill) {
  float lanes[4] = {fill, fill, fill, fill};
  std::memcpy(lanes, p, count * sizeof(float));
  return wasm_v128_load(lanes);
}

// Stores the first count < 4 lanes.
inline void store_partial(float* p, v128_t v, size_t count) {
  if (count & 2) {
    wasm_v128_store64_lane(p, v, 0);
    v = wasm_i64x2_shuffle(v, v, 1, 1);
    p += 2;
  }
  if (count & 1) wasm_v128_store32_lane(p, v, 0);
}

}  // namespace hooklab::wasmsimd
