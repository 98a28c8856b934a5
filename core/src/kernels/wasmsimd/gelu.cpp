// gelu_new(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), vectorised.
//
// 1 + tanh(u) = 2 / (1 + exp(-2u)), so gelu_new(x) = x / (1 + exp(-2u)): one accurate exp and
// one division per element, no cancellation in 1 + tanh(u) for negative u (the reference
// loses relative accuracy there; the two agree to well under 1e-6 of max(1, |y|)). The limits
// come out exactly: u -> +inf gives exp = 0 and y = x; u -> -inf gives exp = +inf and y = -0,
// as the reference's 0.5 x (1 + -1) does.
//
// Backward: with e = exp(-2|u|) in (0, 1] and r = 1 / (1 + e), the sigmoid s = (1 + tanh(u)) / 2
// is r for u >= 0 and e * r for u < 0, and (1 - tanh(u)^2) / 4 = s (1 - s) = e * r^2. So
//   gelu_new'(x) = s + 2 x (e r^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
// with one exp and one division, no overflow for any |u| and no cancellation in 1 - tanh^2
// (the reference's own 1 - t*t cancels; they agree to a few ulp of max(1, |dx|)). Infinite x
// gives x * 0 = NaN in the second term, as the reference's 0.5 x (1 - t^2) does.
#include <wasm_simd128.h>

#include "kernels/wasmsimd/simd_math.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab::wasmsimd {
namespace {

inline v128_t gelu_new_f32x4(v128_t x) {
  const v128_t cubic = wasm_f32x4_splat(0.044715f);
  const v128_t minus_two_sqrt_2_over_pi = wasm_f32x4_splat(-2.0f * 0.7978845608028654f);
  // Same rounding order as the reference: x + ((0.044715 * x) * x) * x.
  const v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(cubic, x), x), x);
  // -2u; multiplying by 2 is exact, so this is -2 * (sqrt(2/pi) * inner) bit for bit.
  const v128_t minus_2u = wasm_f32x4_mul(minus_two_sqrt_2_over_pi, wasm_f32x4_add(x, x3));
  const v128_t e = exp_f32x4(minus_2u);
  return wasm_f32x4_div(x, wasm_f32x4_add(wasm_f32x4_const_splat(1.0f), e));
}

inline v128_t gelu_new_derivative_f32x4(v128_t x) {
  const v128_t cubic = wasm_f32x4_splat(0.044715f);
  const v128_t sqrt_2_over_pi = wasm_f32x4_splat(0.7978845608028654f);
  const v128_t one = wasm_f32x4_const_splat(1.0f);
  const v128_t u =
      wasm_f32x4_mul(sqrt_2_over_pi, wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(cubic, x), x), x)));
  const v128_t two_abs_u = wasm_f32x4_abs(wasm_f32x4_add(u, u));
  const v128_t e = exp_f32x4(wasm_f32x4_neg(two_abs_u));
  const v128_t r = wasm_f32x4_div(one, wasm_f32x4_add(one, e));
  const v128_t er = wasm_f32x4_mul(e, r);
  // u >= 0 (or NaN, which flows through r) takes r.
  const v128_t s = wasm_v128_bitselect(er, r, wasm_f32x4_lt(u, wasm_f32x4_const_splat(0.0f)));
  const v128_t slope = wasm_f32x4_mul(wasm_f32x4_mul(er, r), wasm_f32x4_const_splat(2.0f));
  const v128_t poly = wasm_f32x4_add(one, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(3.0f * 0.044715f), x), x));
  return wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(x, slope), sqrt_2_over_pi), poly));
}

}  // namespace

void gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), gelu_new_derivative_f32x4(wasm_v128_load(x + i))));
  }
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i);
    const v128_t derivative = gelu_new_derivative_f32x4(load_partial(x + i, rest, 0.0f));
    store_partial(dx + i, wasm_f32x4_mul(load_partial(dy + i, rest, 0.0f), derivative), rest);
  }
}

void gelu_new(float* y, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t y0 = gelu_new_f32x4(wasm_v128_load(x + i));
    const v128_t y1 = gelu_new_f32x4(wasm_v128_load(x + i + 4));
    wasm_v128_store(y + i, y0);
    wasm_v128_store(y + i + 4, y1);
  }
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, gelu_new_f32x4(wasm_v128_load(x + i)));
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i);
    store_partial(y + i, gelu_new_f32x4(load_partial(x + i, rest, 0.0f)), rest);
  }
}

}  // namespace hooklab::wasmsimd
