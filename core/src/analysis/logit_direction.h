// The shared pieces of the attribution tools: the logit-difference direction and LayerNorm
// applied the way TransformerLens's apply_ln_to_stack applies it.
#pragma once

#include <vector>

#include "hooklab/analysis.h"

namespace hooklab {

// mean over pairs of W_U[:, answer] - W_U[:, wrong]  ([d_model]); empty pairs give zeros.
std::vector<double> logit_diff_direction(const HookedTransformer& model, const AnswerPairs& pairs);
// mean over pairs of b_U[answer] - b_U[wrong]
double logit_diff_bias(const HookedTransformer& model, const AnswerPairs& pairs);
Status check_pairs(const HookedTransformer& model, const AnswerPairs& pairs);
Status check_position(const HookedTransformer& model, int position, int positions);
// View of a cached activation, or a clear error naming the hook that is missing.
Result<TensorView> cached(const ActivationCache& cache, HookRef ref);
double dot(const float* a, const std::vector<double>& b);

}  // namespace hooklab
