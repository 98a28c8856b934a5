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

}  // namespace hooklab::reference
