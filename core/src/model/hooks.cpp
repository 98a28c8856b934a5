#include "hooklab/hooks.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace hooklab {
namespace {

Error selector_error(const HookContext& ctx, const std::string& what) {
  return make_error(ErrorCode::kInvalidInput, "hook on " + ctx.name + ": " + what);
}

// Resolves a selector against an axis of length n: negative indices count from the end.
Result<std::vector<char>> axis_mask(const std::vector<int>& selected, int64_t n, const char* axis,
                                    const HookContext& ctx) {
  std::vector<char> mask(static_cast<size_t>(n), selected.empty() ? 1 : 0);
  for (int i : selected) {
    const int64_t j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) {
      return selector_error(
          ctx, std::string(axis) + " " + std::to_string(i) + " is out of range (size " + std::to_string(n) + ")");
    }
    mask[static_cast<size_t>(j)] = 1;
  }
  return mask;
}

// Visits every element of a rank <= 4 activation with its position/head membership.
template <class Fn>
void for_each_selected(const TensorView& a, const std::vector<char>& pos_mask, const std::vector<char>& head_mask,
                       HookAxes axes, Fn&& fn) {
  Shape shape = a.shape;
  while (shape.size() < 4) shape.push_back(1);
  const int64_t n0 = shape[0], n1 = shape[1], n2 = shape[2], n3 = shape[3];
  int64_t flat = 0;
  for (int64_t i0 = 0; i0 < n0; ++i0) {
    for (int64_t i1 = 0; i1 < n1; ++i1) {
      for (int64_t i2 = 0; i2 < n2; ++i2) {
        const int64_t idx[3] = {i0, i1, i2};
        const bool pos_ok = axes.position < 0 || pos_mask[static_cast<size_t>(idx[axes.position])];
        const bool head_ok = axes.head < 0 || head_mask[static_cast<size_t>(idx[axes.head])];
        for (int64_t i3 = 0; i3 < n3; ++i3, ++flat) {
          if (pos_ok && head_ok) fn(flat);
        }
      }
    }
  }
}

}  // namespace

Status apply_hook_action(const HookAction& action, TensorView& a, const HookContext& ctx) {
  const HookAxes axes = hook_axes(ctx.ref.point);
  if (action.kind == HookActionKind::kCallback || action.kind == HookActionKind::kRead) {
    if (!action.callback) return selector_error(ctx, "callback hook without a function");
    if (action.kind == HookActionKind::kCallback) return action.callback(a, ctx);
    std::vector<float> copy(a.data, a.data + a.numel());
    TensorView view{copy.data(), a.shape};
    return action.callback(view, ctx);
  }

  const int64_t n_pos = axes.position >= 0 ? a.shape[static_cast<size_t>(axes.position)] : 1;
  const int64_t n_heads = axes.head >= 0 ? a.shape[static_cast<size_t>(axes.head)] : 1;
  if (axes.head < 0 && !action.heads.empty()) return selector_error(ctx, "this hook has no head axis");
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<char> pos_mask, axis_mask(action.positions, n_pos, "position", ctx));
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<char> head_mask, axis_mask(action.heads, n_heads, "head", ctx));
  float* x = a.data;
  const int64_t numel = a.numel();

  switch (action.kind) {
    case HookActionKind::kZero:
      for_each_selected(a, pos_mask, head_mask, axes, [&](int64_t i) { x[i] = 0.0f; });
      return {};
    case HookActionKind::kReplace: {
      if (action.source.data == nullptr || action.source.numel() != numel) {
        return selector_error(ctx, "replacement tensor has shape " + shape_to_string(action.source.shape) +
                                       ", expected " + shape_to_string(a.shape));
      }
      const float* s = action.source.data;
      for_each_selected(a, pos_mask, head_mask, axes, [&](int64_t i) { x[i] = s[i]; });
      return {};
    }
    case HookActionKind::kAdd: {
      const int64_t m = action.source.numel();
      if (action.source.data == nullptr || m == 0 || numel % m != 0) {
        return selector_error(ctx, "added tensor of shape " + shape_to_string(action.source.shape) +
                                       " does not broadcast to " + shape_to_string(a.shape));
      }
      const float* s = action.source.data;
      for_each_selected(a, pos_mask, head_mask, axes, [&](int64_t i) { x[i] += s[i % m]; });
      return {};
    }
    case HookActionKind::kMeanAblate: {
      const TensorView& from = action.source.data != nullptr ? action.source : a;
      if (from.numel() != numel || axes.position < 0) {
        return selector_error(ctx, "mean-ablation source must have the activation's shape " + shape_to_string(a.shape));
      }
      // Mean over the position axis: element i's mean is over all elements sharing its
      // other coordinates. Strides of the (padded) position axis give that grouping.
      Shape shape = a.shape;
      while (shape.size() < 4) shape.push_back(1);
      int64_t stride = 1;
      for (int d = 3; d > axes.position; --d) stride *= shape[static_cast<size_t>(d)];
      const int64_t span = stride * n_pos;
      std::vector<float> mean(static_cast<size_t>(numel));
      for (int64_t base = 0; base < numel; base += span) {
        for (int64_t inner = 0; inner < stride; ++inner) {
          double sum = 0.0;
          for (int64_t p = 0; p < n_pos; ++p) sum += from.data[base + p * stride + inner];
          for (int64_t p = 0; p < n_pos; ++p)
            mean[static_cast<size_t>(base + p * stride + inner)] = static_cast<float>(sum / n_pos);
        }
      }
      for_each_selected(a, pos_mask, head_mask, axes, [&](int64_t i) { x[i] = mean[static_cast<size_t>(i)]; });
      return {};
    }
    default: return selector_error(ctx, "unknown hook action");
  }
}

}  // namespace hooklab
