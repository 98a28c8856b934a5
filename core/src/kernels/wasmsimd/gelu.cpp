// gelu_new(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), vectorised.
//
// 1 + tanh(u) = 2 / (1 + exp(-2u)), so gelu_new(x) = x / (1 + exp(-2u)): one accurate exp and
// one division per element, no cancellation in 1 + tanh(u) for negative u (the reference
// loses relative accuracy there; the two agree to well under 1e-6 of max(1, |y|)). The limits
// come out exactly: u -> +inf gives exp = 0 and y = x; u -> -inf gives exp = +inf and y = -0,
// as the reference's 0.5 x (1 + -1) does.
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

}  // namespace

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
