// Forward hooks scoped to one run (TransformerLens's run_with_hooks), never global state.
//
// A hook targets hook points by name (any form resolve_hook_name accepts) or by a predicate
// over full names, and acts on the activation in place, in registration order, before the
// next part of the forward pass reads it — so a replaced hook_q changes the scores, a zeroed
// hook_z changes attn_out, and so on. Built-in actions cover what interpretability users do
// most (read, replace with a cached activation, zero, mean-ablate, add a vector); any other
// edit is a callback. Position and head selectors restrict an action to part of the tensor.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hooklab/hook_points.h"
#include "hooklab/tensor.h"

namespace hooklab {

struct HookContext {
  HookRef ref;
  const std::string& name;
};

// May edit `activation` in place; return an error to abort the run.
using HookCallback = std::function<Status(TensorView& activation, const HookContext& context)>;

enum class HookActionKind {
  kRead,        // callback sees the value; edits are ignored (a copy is passed)
  kReplace,     // selected entries := source's entries (source has the activation's shape)
  kZero,        // selected entries := 0
  kMeanAblate,  // selected entries := mean over positions (of source if given, else of this run)
  kAdd,         // selected entries += source (same shape, or broadcast over the leading axes)
  kCallback,    // callback edits in place
};

struct HookAction {
  HookActionKind kind = HookActionKind::kCallback;
  TensorView source;                         // for kReplace, kAdd, optionally kMeanAblate
  std::shared_ptr<const void> source_owner;  // keeps `source` alive (e.g. a clean cache's arena)
  std::vector<int> positions;                // empty: all positions (negative counts from the end)
  std::vector<int> heads;                    // empty: all heads
  HookCallback callback;                     // for kRead and kCallback
};

struct ForwardHook {
  // Either a name ("blocks.3.attn.hook_z", or a short name with `layer`, e.g. "z" + 3 / -1)...
  std::string name;
  std::optional<int> layer;
  std::string layer_type;
  // ...or a predicate over full hook names (TransformerLens's filter functions).
  std::function<bool(const std::string&)> predicate;
  HookAction action;
};

// Applies one action to an activation. Exposed for the patching engine and tests.
Status apply_hook_action(const HookAction& action, TensorView& activation, const HookContext& context);

}  // namespace hooklab
