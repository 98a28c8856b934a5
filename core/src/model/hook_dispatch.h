// Resolves a run's ForwardHooks to hook-point instances once, so the forward pass pays one
// table lookup per hook point when nothing is attached.
#pragma once

#include <vector>

#include "hooklab/config.h"
#include "hooklab/hooks.h"

namespace hooklab {

class HookDispatch {
 public:
  static Result<HookDispatch> build(const std::vector<ForwardHook>& hooks, const ModelConfig& cfg,
                                    bool use_attn_result);

  bool active(HookRef ref) const { return !slots_[index(ref)].empty(); }
  // Runs the actions attached to ref, in registration order, on data (shape `shape`).
  Status fire(HookRef ref, float* data, const Shape& shape) const;

  // The backward pass through the actions at ref: turns d metric / d (hooked activation) into
  // d metric / d (activation before the hooks), in place. Entries a zero or replace action
  // overwrote get no gradient; read and add pass it unchanged. Mean-ablation and callbacks
  // have no known Jacobian: an error names them.
  Status pass_gradient(HookRef ref, float* grad, const Shape& shape) const;
  // True when the actions at ref change the gradient that passes through (zero or replace).
  bool blocks_gradient(HookRef ref) const;

 private:
  size_t index(HookRef ref) const {
    return static_cast<size_t>(ref.point) * static_cast<size_t>(n_layers_ + 1) + static_cast<size_t>(ref.layer + 1);
  }
  int n_layers_ = 0;
  std::vector<std::vector<const HookAction*>> slots_;
};

// Every hook-point instance that fires in a run, in firing order.
std::vector<HookRef> firing_order(const ModelConfig& cfg, bool use_attn_result);

}  // namespace hooklab
