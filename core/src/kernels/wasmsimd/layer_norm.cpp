// LayerNorm, two passes over the row like the reference (mean, then mean squared deviation),
// 4 lanes x 2 accumulators per pass. The per-element step divides by the scale, as the
// reference does, so the output differs only by the summation order of mean and variance.
#include <wasm_simd128.h>

#include <cmath>

#include "kernels/wasmsimd/simd_math.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab::wasmsimd {
namespace {

float row_sum(const float* x, int64_t dim) {
  v128_t acc0 = wasm_f32x4_const_splat(0.0f);
  v128_t acc1 = wasm_f32x4_const_splat(0.0f);
  int64_t d = 0;
  for (; d + 8 <= dim; d += 8) {
    acc0 = wasm_f32x4_add(acc0, wasm_v128_load(x + d));
    acc1 = wasm_f32x4_add(acc1, wasm_v128_load(x + d + 4));
  }
  if (d + 4 <= dim) {
    acc0 = wasm_f32x4_add(acc0, wasm_v128_load(x + d));
    d += 4;
  }
  if (d < dim) acc1 = wasm_f32x4_add(acc1, load_partial(x + d, static_cast<size_t>(dim - d), 0.0f));
  return horizontal_sum(wasm_f32x4_add(acc0, acc1));
}

float row_sum_squared_deviation(const float* x, int64_t dim, float mean) {
  const v128_t vmean = wasm_f32x4_splat(mean);
  v128_t acc0 = wasm_f32x4_const_splat(0.0f);
  v128_t acc1 = wasm_f32x4_const_splat(0.0f);
  int64_t d = 0;
  for (; d + 8 <= dim; d += 8) {
    const v128_t dev0 = wasm_f32x4_sub(wasm_v128_load(x + d), vmean);
    const v128_t dev1 = wasm_f32x4_sub(wasm_v128_load(x + d + 4), vmean);
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(dev0, dev0));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(dev1, dev1));
  }
  if (d + 4 <= dim) {
    const v128_t dev = wasm_f32x4_sub(wasm_v128_load(x + d), vmean);
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(dev, dev));
    d += 4;
  }
  if (d < dim) {
    // Padding lanes hold the mean, so their deviation is exactly 0.
    const v128_t dev = wasm_f32x4_sub(load_partial(x + d, static_cast<size_t>(dim - d), mean), vmean);
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(dev, dev));
  }
  return horizontal_sum(wasm_f32x4_add(acc0, acc1));
}

// y = (x - mean) / scale [* w + b] on 4 lanes.
inline v128_t normalize(v128_t x, v128_t mean, v128_t scale, const float* w, const float* b, int64_t d) {
  v128_t v = wasm_f32x4_div(wasm_f32x4_sub(x, mean), scale);
  if (w != nullptr) v = wasm_f32x4_add(wasm_f32x4_mul(v, wasm_v128_load(w + d)), wasm_v128_load(b + d));
  return v;
}

}  // namespace

void layer_norm_rows(const LayerNormArgs& args, int64_t row_begin, int64_t row_end) {
  const int64_t dim = args.dim;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* x = args.x + r * args.ldx;
    float* y = args.y + r * args.ldy;
    const float mean = row_sum(x, dim) / static_cast<float>(dim);
    const float var = row_sum_squared_deviation(x, dim, mean) / static_cast<float>(dim);
    const float scale = std::sqrt(var + args.eps);
    if (args.scale_out != nullptr) args.scale_out[r] = scale;
    const v128_t vmean = wasm_f32x4_splat(mean);
    const v128_t vscale = wasm_f32x4_splat(scale);
    int64_t d = 0;
    for (; d + 4 <= dim; d += 4)
      wasm_v128_store(y + d, normalize(wasm_v128_load(x + d), vmean, vscale, args.w, args.b, d));
    if (d < dim) {
      // Same arithmetic on a zero-padded copy of the last partial vector.
      const size_t rest = static_cast<size_t>(dim - d);
      v128_t v = wasm_f32x4_div(wasm_f32x4_sub(load_partial(x + d, rest, 0.0f), vmean), vscale);
      if (args.w != nullptr) {
        v = wasm_f32x4_add(wasm_f32x4_mul(v, load_partial(args.w + d, rest, 0.0f)),
                           load_partial(args.b + d, rest, 0.0f));
      }
      store_partial(y + d, v, rest);
    }
  }
}

}  // namespace hooklab::wasmsimd
