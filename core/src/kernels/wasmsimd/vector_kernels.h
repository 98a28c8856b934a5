// The non-GEMM wasm SIMD kernels, each over a range of independent rows so the backend can
// split them across threads. Semantics are those of backend.h / reference_kernels.cpp.
#pragma once

#include <cstdint>

#include "hooklab/backend.h"

namespace hooklab::wasmsimd {

// dst[i] = the f16 value src[i] as f32 (exact), i in [0, n).
void widen_f16(float* dst, const uint16_t* src, int64_t n);

// Rows [row_begin, row_end) of args.
void layer_norm_rows(const LayerNormArgs& args, int64_t row_begin, int64_t row_end);

// y[i] = gelu_new(x[i]) for i in [0, n).
void gelu_new(float* y, const float* x, int64_t n);

// Rows [row_begin, row_end) of a row-major [rows, n] softmax.
void softmax_rows(float* y, const float* x, int64_t n, int64_t row_begin, int64_t row_end);

// --- backward (semantics of Backend's backward kernels) ---
// dx[i] = dy[i] * gelu_new'(x[i]) for i in [0, n).
void gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n);

// Rows [row_begin, row_end) of the row-major [rows, n] softmax backward.
void softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t row_begin, int64_t row_end);

// Heads [head_begin, head_end) of attention_mix_backward / attention_scores_backward (each
// head's outputs are disjoint; dk sums over the query rows of its head, so heads, not rows, are
// the unit of work).
void attention_mix_backward_heads(const AttentionMixBackwardArgs& args, int64_t head_begin, int64_t head_end);
void attention_scores_backward_heads(const AttentionScoresBackwardArgs& args, int64_t head_begin, int64_t head_end);

// Score rows r in [row_begin, row_end) of [n_heads * nq], r = h * nq + i.
void attention_scores_rows(const AttentionScoresArgs& args, int64_t row_begin, int64_t row_end);

// Output rows r in [row_begin, row_end) of [nq * n_heads], r = i * n_heads + h.
void attention_mix_rows(const AttentionMixArgs& args, int64_t row_begin, int64_t row_end);

}  // namespace hooklab::wasmsimd
