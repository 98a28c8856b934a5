// Attention scores (q . k / attn_scale under the causal mask) and the pattern-weighted mix of
// values, vectorised over d_head.
//
// Scores: each query row takes its visible keys four at a time; the four dot products run in
// four 4-lane accumulators that share each q load, and one transpose-sum turns them into the
// four scores (a d_head that is not a multiple of 4 adds its last 1-3 terms per key in scalar).
// Keys past the query's position get -inf, as the reference does.
//
// Mix: z[i, h, :] accumulates pattern[h, i, j] * v[j, h, :] in registers, up to 32 floats of
// d_head per pass over j; zero weights are skipped like the reference (the causal part of
// every row), so each output is the same sequence of roundings and matches bit for bit.
#include <wasm_simd128.h>

#include <algorithm>
#include <limits>

#include "kernels/wasmsimd/simd_math.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab::wasmsimd {
namespace {

void fill(float* y, int64_t n, float value) {
  const v128_t v = wasm_f32x4_splat(value);
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(y + j, v);
  for (; j < n; ++j) y[j] = value;
}

// z[0, V*4) = sum_j p[j] * v_j[offset, offset + V*4), over the nonzero p[j].
template <int V>
void mix_vectors(float* z, const float* p, const SequenceRows& v, int64_t nk, int64_t offset) {
  v128_t acc[V];
#pragma clang loop unroll(full)
  for (int u = 0; u < V; ++u) acc[u] = wasm_f32x4_const_splat(0.0f);
  for (int64_t j = 0; j < nk; ++j) {
    if (p[j] == 0.0f) continue;
    const v128_t weight = wasm_v128_load32_splat(p + j);
    const float* row = v.row(j) + offset;
#pragma clang loop unroll(full)
    for (int u = 0; u < V; ++u) acc[u] = wasm_f32x4_add(acc[u], wasm_f32x4_mul(weight, wasm_v128_load(row + 4 * u)));
  }
#pragma clang loop unroll(full)
  for (int u = 0; u < V; ++u) wasm_v128_store(z + 4 * u, acc[u]);
}

using MixFn = void (*)(float*, const float*, const SequenceRows&, int64_t, int64_t);
constexpr int kMixMaxVectors = 8;  // 8 accumulators + weight + load fit x86's 16 registers
constexpr MixFn kMixByVectors[kMixMaxVectors + 1] = {nullptr,        mix_vectors<1>, mix_vectors<2>,
                                                     mix_vectors<3>, mix_vectors<4>, mix_vectors<5>,
                                                     mix_vectors<6>, mix_vectors<7>, mix_vectors<8>};

}  // namespace

void attention_scores_rows(const AttentionScoresArgs& args, int64_t row_begin, int64_t row_end) {
  const int64_t d = args.d_head;
  const v128_t scale = wasm_f32x4_splat(args.attn_scale);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t h = r / args.nq;
    const int64_t i = r % args.nq;
    const float* q = args.q + i * args.ldq + h * d;
    float* scores = args.scores + r * args.nk;
    const int64_t visible = std::clamp<int64_t>(args.q_begin + i + 1, 0, args.nk);
    for (int64_t j = 0; j < visible; j += 4) {
      const int64_t count = std::min<int64_t>(visible - j, 4);
      // A partial group repeats its first key in the unused lanes; those lanes are not stored.
      const float* keys[4];
      for (int64_t lane = 0; lane < 4; ++lane) keys[lane] = args.k.row(j + (lane < count ? lane : 0)) + h * d;
      const v128_t out = wasm_f32x4_div(dot4(q, keys, d), scale);
      if (count == 4) {
        wasm_v128_store(scores + j, out);
      } else {
        store_partial(scores + j, out, static_cast<size_t>(count));
      }
    }
    fill(scores + visible, args.nk - visible, -std::numeric_limits<float>::infinity());
  }
}

void attention_mix_rows(const AttentionMixArgs& args, int64_t row_begin, int64_t row_end) {
  const int64_t d = args.d_head;
  const int64_t vectors = d / 4;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t i = r / args.n_heads;
    const int64_t h = r % args.n_heads;
    float* z = args.z + i * args.ldz + h * d;
    const float* p = args.pattern + (h * args.nq + i) * args.nk;
    for (int64_t u = 0; u < vectors; u += kMixMaxVectors) {
      const int64_t count = std::min<int64_t>(vectors - u, kMixMaxVectors);
      kMixByVectors[count](z + 4 * u, p, args.v, args.nk, h * d + 4 * u);
    }
    // The last d_head % 4 floats, in the reference's order.
    for (int64_t t = vectors * 4; t < d; ++t) {
      float acc = 0.0f;
      for (int64_t j = 0; j < args.nk; ++j) {
        if (p[j] != 0.0f) acc += p[j] * args.v.row(j)[h * d + t];
      }
      z[t] = acc;
    }
  }
}

}  // namespace hooklab::wasmsimd
