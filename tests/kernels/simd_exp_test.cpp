// Accuracy of the wasm SIMD exp (kernels/wasmsimd/simd_math.h) that softmax and GELU build on,
// against double-precision exp: at most 2 ulp over a sweep of every 997th float in the normal
// result range, and the exact edge values the kernels rely on (exp(-inf) = 0 for masked
// scores, overflow to +inf, NaN kept). Emscripten only.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "kernels/wasmsimd/simd_math.h"

namespace {

float simd_exp(float x) {
  float lanes[4];
  wasm_v128_store(lanes, hooklab::wasmsimd::exp_f32x4(wasm_f32x4_splat(x)));
  return lanes[0];
}

// |got - want| in units of the float ulp at want.
double ulp_error(float got, double want) {
  int exponent = 0;
  std::frexp(want, &exponent);
  return std::fabs(static_cast<double>(got) - want) / std::ldexp(1.0, std::max(exponent - 24, -149));
}

}  // namespace

int main() {
  int failures = 0;
  const float lo = -87.33654f;  // ln(FLT_MIN): below it the kernel flushes to 0
  const float hi = 88.72283f;   // ln(FLT_MAX)
  double worst = 0.0;
  float worst_x = 0.0f;
  uint64_t checked = 0;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 997) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float x;
    std::memcpy(&x, &b, sizeof(x));
    if (!(x >= lo && x <= hi)) continue;
    const double err = ulp_error(simd_exp(x), std::exp(static_cast<double>(x)));
    if (err > worst) {
      worst = err;
      worst_x = x;
    }
    ++checked;
  }
  const bool sweep_ok = worst <= 2.0;
  std::printf("exp sweep: %llu values in [%g, %g], worst %.3f ulp at x = %.9g (limit 2) %s\n",
              static_cast<unsigned long long>(checked), lo, hi, worst, worst_x, sweep_ok ? "OK" : "FAIL");
  failures += sweep_ok ? 0 : 1;

  const float inf = std::numeric_limits<float>::infinity();
  struct Edge {
    float x;
    float want;  // NaN means "must be NaN"
  };
  const Edge edges[] = {
      {-inf, 0.0f},    {-1e30f, 0.0f},
      {-104.0f, 0.0f}, {-87.5f, 0.0f},
      {0.0f, 1.0f},    {-0.0f, 1.0f},
      {88.8f, inf},    {1e30f, inf},
      {inf, inf},      {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::quiet_NaN()}};
  for (const Edge& e : edges) {
    const float got = simd_exp(e.x);
    const bool ok = std::isnan(e.want) ? std::isnan(got) : got == e.want;
    std::printf("exp(%g) = %g (want %g) %s\n", e.x, got, e.want, ok ? "OK" : "FAIL");
    failures += ok ? 0 : 1;
  }
  std::printf("\nsummary: %d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
