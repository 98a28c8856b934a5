// Backward of attention_mix and attention_scores, one head at a time (see backend.h).
//
// Every output row is either a dot product against a run of rows (d_pattern) or a weighted sum
// of rows (d_v, dq, dk). Weighted sums keep up to 8 vectors (32 floats of d_head) of the output
// in registers for a whole pass over the weights and skip zero weights, in the reference's
// order, so they match the reference bit for bit; dot products use the scores kernel's dot4.
// dk and d_v sum over the query rows of their head, so the work unit is a head: threads never
// share an output.
#include <wasm_simd128.h>

#include <algorithm>

#include "kernels/wasmsimd/simd_math.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab::wasmsimd {
namespace {

// out[0, 4V) = sum_{t in [t_begin, t_end), weight(t) != 0} weight(t) * row(t)[offset, offset + 4V).
template <int V, class Weight, class Row>
void weighted_sum_vectors(float* out, int64_t t_begin, int64_t t_end, const Weight& weight, const Row& row,
                          int64_t offset) {
  v128_t acc[V];
#pragma clang loop unroll(full)
  for (int u = 0; u < V; ++u) acc[u] = wasm_f32x4_const_splat(0.0f);
  for (int64_t t = t_begin; t < t_end; ++t) {
    const float g = weight(t);
    if (g == 0.0f) continue;
    const v128_t gv = wasm_f32x4_splat(g);
    const float* x = row(t) + offset;
#pragma clang loop unroll(full)
    for (int u = 0; u < V; ++u) acc[u] = wasm_f32x4_add(acc[u], wasm_f32x4_mul(gv, wasm_v128_load(x + 4 * u)));
  }
#pragma clang loop unroll(full)
  for (int u = 0; u < V; ++u) wasm_v128_store(out + 4 * u, acc[u]);
}

// out[0, d) = sum_t weight(t) * row(t)[0, d) over the nonzero weights, t ascending.
template <class Weight, class Row>
void weighted_sum(float* out, int64_t d, int64_t t_begin, int64_t t_end, const Weight& weight, const Row& row) {
  const int64_t vectors = d / 4;
  for (int64_t u = 0; u < vectors; u += 8) {
    const int64_t offset = 4 * u;
    switch (std::min<int64_t>(vectors - u, 8)) {
      case 1: weighted_sum_vectors<1>(out + offset, t_begin, t_end, weight, row, offset); break;
      case 2: weighted_sum_vectors<2>(out + offset, t_begin, t_end, weight, row, offset); break;
      case 3: weighted_sum_vectors<3>(out + offset, t_begin, t_end, weight, row, offset); break;
      case 4: weighted_sum_vectors<4>(out + offset, t_begin, t_end, weight, row, offset); break;
      case 5: weighted_sum_vectors<5>(out + offset, t_begin, t_end, weight, row, offset); break;
      case 6: weighted_sum_vectors<6>(out + offset, t_begin, t_end, weight, row, offset); break;
      case 7: weighted_sum_vectors<7>(out + offset, t_begin, t_end, weight, row, offset); break;
      default: weighted_sum_vectors<8>(out + offset, t_begin, t_end, weight, row, offset); break;
    }
  }
  for (int64_t e = vectors * 4; e < d; ++e) {  // the last d % 4 floats
    float acc = 0.0f;
    for (int64_t t = t_begin; t < t_end; ++t) {
      const float g = weight(t);
      if (g != 0.0f) acc += g * row(t)[e];
    }
    out[e] = acc;
  }
}

// out[j] = dot(x, row(j)[0, d)) for j in [0, count), four rows per dot4.
template <class Row>
void dot_rows(float* out, const float* x, int64_t count, int64_t d, const Row& row) {
  for (int64_t j = 0; j < count; j += 4) {
    const int64_t n = std::min<int64_t>(count - j, 4);
    // A partial group repeats its first row in the unused lanes; those lanes are not stored.
    const float* rows[4];
    for (int64_t lane = 0; lane < 4; ++lane) rows[lane] = row(j + (lane < n ? lane : 0));
    const v128_t dots = dot4(x, rows, d);
    if (n == 4) {
      wasm_v128_store(out + j, dots);
    } else {
      store_partial(out + j, dots, static_cast<size_t>(n));
    }
  }
}

}  // namespace

void attention_mix_backward_heads(const AttentionMixBackwardArgs& args, int64_t head_begin, int64_t head_end) {
  const int64_t dh = args.d_head;
  for (int64_t h = head_begin; h < head_end; ++h) {
    const float* pattern = args.pattern + h * args.nq * args.nk;
    const float* v = args.v + h * dh;
    const float* dz = args.dz + h * dh;
    auto v_row = [&](int64_t j) { return v + j * args.ldv; };
    for (int64_t i = 0; i < args.nq; ++i) {
      dot_rows(args.d_pattern + (h * args.nq + i) * args.nk, dz + i * args.ld_dz, args.nk, dh, v_row);
    }
    auto dz_row = [&](int64_t i) { return dz + i * args.ld_dz; };
    for (int64_t j = 0; j < args.nk; ++j) {
      auto weight = [&](int64_t i) { return pattern[i * args.nk + j]; };
      weighted_sum(args.d_v + j * args.ld_dv + h * dh, dh, 0, args.nq, weight, dz_row);
    }
  }
}

void attention_scores_backward_heads(const AttentionScoresBackwardArgs& args, int64_t head_begin, int64_t head_end) {
  const int64_t dh = args.d_head;
  const float inv_scale = 1.0f / args.attn_scale;  // the reference's g = d_score * (1 / scale)
  for (int64_t h = head_begin; h < head_end; ++h) {
    const float* d_scores = args.d_scores + h * args.nq * args.nk;
    const float* q = args.q + h * dh;
    const float* k = args.k + h * dh;
    auto k_row = [&](int64_t j) { return k + j * args.ldk; };
    for (int64_t i = 0; i < args.nq; ++i) {
      // Keys past the query's position are masked: their gradient is cut.
      const int64_t visible = std::clamp<int64_t>(args.q_begin + i + 1, 0, args.nk);
      auto weight = [&](int64_t j) { return d_scores[i * args.nk + j] * inv_scale; };
      weighted_sum(args.dq + i * args.ld_dq + h * dh, dh, 0, visible, weight, k_row);
    }
    auto q_row = [&](int64_t i) { return q + i * args.ldq; };
    for (int64_t j = 0; j < args.nk; ++j) {
      // Queries that see key j: q_begin + i >= j.
      const int64_t first = std::clamp<int64_t>(j - args.q_begin, 0, args.nq);
      auto weight = [&](int64_t i) { return d_scores[i * args.nk + j] * inv_scale; };
      weighted_sum(args.dk + j * args.ld_dk + h * dh, dh, first, args.nq, weight, q_row);
    }
  }
}

}  // namespace hooklab::wasmsimd
