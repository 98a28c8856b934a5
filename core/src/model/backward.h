// The backward pass (backward.cpp): reverse mode through the hooked forward, from a scalar
// metric of the logits to the gradient at every hook point. Called by hooked_forward when
// RunOptions::grad_metric is set; the forward's activation cache is its tape.
#pragma once

#include <span>

#include "hooklab/hooked_transformer.h"
#include "model/hook_dispatch.h"

namespace hooklab {

// True when the backward pass reads the forward's activation at ref (the tape it asks the
// forward to cache): LayerNorm inputs and scales, q, k, v, patterns, MLP pre-activations,
// and the scores of a hooked pattern (the softmax backward needs the unhooked pattern).
bool backward_tape_needs(HookRef ref, int n_layers, const HookDispatch& forward_hooks);

struct BackwardInputs {
  const ModelConfig& cfg;
  const ModelWeights& weights;
  const Backend& backend;
  std::span<const int32_t> tokens;
  const RunOptions& options;
  const HookDispatch& forward_hooks;
  const ActivationCache& tape;
  const Tensor& logits;
};

// Fills out.metric and out.grads (the gradients grad_filter keeps).
Status hooked_backward(const BackwardInputs& in, RunOutput& out);

}  // namespace hooklab
