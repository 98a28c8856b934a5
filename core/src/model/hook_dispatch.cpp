#include "model/hook_dispatch.h"

namespace hooklab {

std::vector<HookRef> firing_order(const ModelConfig& cfg, bool use_attn_result) {
  std::vector<HookRef> order;
  for (const auto& info : hook_point_table()) {
    if (!info.per_block() && info.point != HookPoint::kLnFinalScale && info.point != HookPoint::kLnFinalNormalized) {
      order.push_back({info.point, -1});
    }
  }
  for (int l = 0; l < cfg.n_layers; ++l) {
    for (const auto& info : hook_point_table()) {
      if (!info.per_block() || (info.optional && !use_attn_result) || !hook_point_exists(cfg, info.point)) continue;
      order.push_back({info.point, l});
    }
  }
  order.push_back({HookPoint::kLnFinalScale, -1});
  order.push_back({HookPoint::kLnFinalNormalized, -1});
  return order;
}

Result<HookDispatch> HookDispatch::build(const std::vector<ForwardHook>& hooks, const ModelConfig& cfg,
                                         bool use_attn_result) {
  HookDispatch d;
  d.n_layers_ = cfg.n_layers;
  d.slots_.resize(static_cast<size_t>(kHookPointCount) * static_cast<size_t>(cfg.n_layers + 1));
  const std::vector<HookRef> order = firing_order(cfg, use_attn_result);
  for (const ForwardHook& hook : hooks) {
    if (hook.predicate) {
      for (const HookRef& ref : order) {
        if (hook.predicate(hook_name(ref))) d.slots_[d.index(ref)].push_back(&hook.action);
      }
      continue;
    }
    HOOKLAB_ASSIGN_OR_RETURN(HookRef ref, resolve_hook_name(hook.name, hook.layer, hook.layer_type, cfg.n_layers));
    HOOKLAB_RETURN_IF_ERROR(require_hook_point(cfg, ref));
    if (ref.point == HookPoint::kResult && !use_attn_result) {
      return make_error(ErrorCode::kInvalidArgument,
                        "cannot hook " + hook_name(ref) + ": it only fires with use_attn_result enabled");
    }
    d.slots_[d.index(ref)].push_back(&hook.action);
  }
  return d;
}

Status HookDispatch::fire(HookRef ref, float* data, const Shape& shape) const {
  const auto& actions = slots_[index(ref)];
  if (actions.empty()) return {};
  const std::string name = hook_name(ref);
  const HookContext ctx{ref, name};
  TensorView view{data, shape};
  for (const HookAction* action : actions) {
    HOOKLAB_RETURN_IF_ERROR(apply_hook_action(*action, view, ctx));
    if (view.data != data || view.shape != shape) {
      return make_error(ErrorCode::kInvalidArgument, "hook on " + name + " must edit the activation in place (shape " +
                                                         shape_to_string(shape) + ")");
    }
  }
  return {};
}

bool HookDispatch::blocks_gradient(HookRef ref) const {
  for (const HookAction* action : slots_[index(ref)]) {
    if (action->kind != HookActionKind::kRead && action->kind != HookActionKind::kAdd) return true;
  }
  return false;
}

Status HookDispatch::pass_gradient(HookRef ref, float* grad, const Shape& shape) const {
  const auto& actions = slots_[index(ref)];
  if (actions.empty()) return {};
  const std::string name = hook_name(ref);
  const HookContext ctx{ref, name};
  TensorView view{grad, shape};
  for (const HookAction* action : actions) {
    switch (action->kind) {
      case HookActionKind::kRead:
      case HookActionKind::kAdd: break;  // identity Jacobian
      case HookActionKind::kZero:
      case HookActionKind::kReplace: {
        // The overwritten entries no longer depend on what came before them.
        HookAction cut;
        cut.kind = HookActionKind::kZero;
        cut.positions = action->positions;
        cut.heads = action->heads;
        HOOKLAB_RETURN_IF_ERROR(apply_hook_action(cut, view, ctx));
        break;
      }
      case HookActionKind::kMeanAblate:
      case HookActionKind::kCallback:
        return make_error(ErrorCode::kUnsupported,
                          "cannot compute gradients through the forward hook on " + name +
                              ": only read, zero, replace and add hooks have a known gradient");
    }
  }
  return {};
}

}  // namespace hooklab
