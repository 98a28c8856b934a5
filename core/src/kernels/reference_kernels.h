// Scalar reference kernels as free functions, so optimised backends can reuse the ops they
// do not accelerate and tests can call the oracle directly.
#pragma once

#include "hooklab/backend.h"

namespace hooklab::reference {

void matmul(const MatmulArgs& args);
void layer_norm(const LayerNormArgs& args);
void gelu_new(float* y, const float* x, int64_t n);
void attention_scores(const AttentionScoresArgs& args);
void softmax_rows(float* y, const float* x, int64_t rows, int64_t n);
void attention_mix(const AttentionMixArgs& args);

// Backward pass.
void matmul_transposed(const MatmulTransposedArgs& args);
void gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n);
void softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n);
void attention_mix_backward(const AttentionMixBackwardArgs& args);
void attention_scores_backward(const AttentionScoresBackwardArgs& args);

}  // namespace hooklab::reference
