// Row softmax, three passes like the reference: max, exp(x - max) with the running sum, then
// division by the sum. exp is the vectorised Cephes exp (simd_math.h), which returns exactly 0
// for -inf, so masked scores give exact zeros. Rows whose max is not finite (all -inf, or a
// +inf) become zeros, as in the reference.
//
// Backward, row by row: dx = y * (dy - dot(y, dy)), the dot product in two 4-lane accumulators.
#include <wasm_simd128.h>

#include <cmath>
#include <limits>

#include "kernels/wasmsimd/simd_math.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab::wasmsimd {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float row_max(const float* x, int64_t n) {
  // pmax(running, x) = running < x ? x : running skips NaN inputs, like the reference.
  v128_t acc0 = wasm_f32x4_splat(kNegInf);
  v128_t acc1 = acc0;
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    acc0 = wasm_f32x4_pmax(acc0, wasm_v128_load(x + j));
    acc1 = wasm_f32x4_pmax(acc1, wasm_v128_load(x + j + 4));
  }
  if (j + 4 <= n) {
    acc0 = wasm_f32x4_pmax(acc0, wasm_v128_load(x + j));
    j += 4;
  }
  if (j < n) acc1 = wasm_f32x4_pmax(acc1, load_partial(x + j, static_cast<size_t>(n - j), kNegInf));
  return horizontal_max(wasm_f32x4_pmax(acc0, acc1));
}

// y = exp(x - max); returns the sum of y.
float exp_minus_max_and_sum(float* y, const float* x, int64_t n, float max) {
  const v128_t vmax = wasm_f32x4_splat(max);
  v128_t sum0 = wasm_f32x4_const_splat(0.0f);
  v128_t sum1 = sum0;
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const v128_t e0 = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + j), vmax));
    const v128_t e1 = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + j + 4), vmax));
    wasm_v128_store(y + j, e0);
    wasm_v128_store(y + j + 4, e1);
    sum0 = wasm_f32x4_add(sum0, e0);
    sum1 = wasm_f32x4_add(sum1, e1);
  }
  if (j + 4 <= n) {
    const v128_t e = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + j), vmax));
    wasm_v128_store(y + j, e);
    sum0 = wasm_f32x4_add(sum0, e);
    j += 4;
  }
  if (j < n) {
    // Padding lanes are -inf, whose exp is exactly 0 and adds nothing to the sum.
    const size_t rest = static_cast<size_t>(n - j);
    const v128_t e = exp_f32x4(wasm_f32x4_sub(load_partial(x + j, rest, kNegInf), vmax));
    store_partial(y + j, e, rest);
    sum1 = wasm_f32x4_add(sum1, e);
  }
  return horizontal_sum(wasm_f32x4_add(sum0, sum1));
}

void divide_row(float* y, int64_t n, float divisor) {
  const v128_t vdiv = wasm_f32x4_splat(divisor);
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_div(wasm_v128_load(y + j), vdiv));
  for (; j < n; ++j) y[j] /= divisor;  // scalar division rounds exactly like the lane division
}

void zero_row(float* y, int64_t n) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(y + j, wasm_f32x4_const_splat(0.0f));
  for (; j < n; ++j) y[j] = 0.0f;
}

float dot_row(const float* x, const float* y, int64_t n) {
  v128_t acc0 = wasm_f32x4_const_splat(0.0f);
  v128_t acc1 = acc0;
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(x + j), wasm_v128_load(y + j)));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(x + j + 4), wasm_v128_load(y + j + 4)));
  }
  if (j + 4 <= n) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(x + j), wasm_v128_load(y + j)));
    j += 4;
  }
  float dot = horizontal_sum(wasm_f32x4_add(acc0, acc1));
  for (; j < n; ++j) dot += x[j] * y[j];
  return dot;
}

}  // namespace

void softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* yr = y + r * n;
    const float* dyr = dy + r * n;
    float* dxr = dx + r * n;
    const float dot = dot_row(yr, dyr, n);
    const v128_t vdot = wasm_f32x4_splat(dot);
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      wasm_v128_store(dxr + j, wasm_f32x4_mul(wasm_v128_load(yr + j), wasm_f32x4_sub(wasm_v128_load(dyr + j), vdot)));
    }
    for (; j < n; ++j) dxr[j] = yr[j] * (dyr[j] - dot);  // rounds like the lanes
  }
}

void softmax_rows(float* y, const float* x, int64_t n, int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* in = x + r * n;
    float* out = y + r * n;
    const float max = row_max(in, n);
    if (!std::isfinite(max)) {
      zero_row(out, n);
      continue;
    }
    divide_row(out, n, exp_minus_max_and_sum(out, in, n, max));
  }
}

}  // namespace hooklab::wasmsimd
