// The plain patching engine: one full hooked forward per cell, exactly as
// transformer_lens.patching.generic_activation_patch does. Slow by design; it is the oracle
// the fast engine is tested against.
#include "hooklab/patching.h"
#include "patching/patch_plan.h"

namespace hooklab {
namespace {

HookPoint hook_of(PatchSweep sweep) {
  switch (sweep) {
    case PatchSweep::kResidPre: return HookPoint::kResidPre;
    case PatchSweep::kResidMid: return HookPoint::kResidMid;
    case PatchSweep::kAttnOut: return HookPoint::kAttnOut;
    case PatchSweep::kMlpOut: return HookPoint::kMlpOut;
    case PatchSweep::kHeadOutByPos:
    case PatchSweep::kHeadOutAllPos: return HookPoint::kZ;
    case PatchSweep::kHeadQByPos:
    case PatchSweep::kHeadQAllPos: return HookPoint::kQ;
    case PatchSweep::kHeadKByPos:
    case PatchSweep::kHeadKAllPos: return HookPoint::kK;
    case PatchSweep::kHeadVByPos:
    case PatchSweep::kHeadVAllPos: return HookPoint::kV;
    default: return HookPoint::kPattern;
  }
}

// One patched forward: the receiving tokens with `action` on hook (point, layer).
Result<double> run_cell(const HookedTransformer& model, const std::vector<int32_t>& receiving, HookRef ref,
                        HookAction action, const PatchMetric& metric) {
  RunOptions options;
  ForwardHook hook;
  hook.name = hook_name(ref);
  hook.action = std::move(action);
  options.hooks.push_back(std::move(hook));
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput out, model.run(receiving, options));
  return evaluate_metric(metric, out.logits);
}

// Runs one single (non-combined) sweep; values are written in the sweep's own layout.
Status run_sweep(const HookedTransformer& model, PatchSweep sweep, const std::vector<int32_t>& receiving,
                 const ActivationCache& source, const PatchMetric& metric, std::vector<double>& values,
                 const std::function<bool()>& tick) {
  const int L = model.cfg().n_layers, H = model.cfg().n_heads, P = static_cast<int>(receiving.size());
  const HookPoint point = hook_of(sweep);
  auto cell = [&](int layer, std::vector<int> positions, std::vector<int> heads) -> Result<double> {
    if (!tick()) return make_error(ErrorCode::kCancelled, "the patching sweep was cancelled");
    const HookRef ref{point, layer};
    HookAction action;
    action.kind = HookActionKind::kReplace;
    action.source = *source.view(ref);
    action.positions = std::move(positions);
    action.heads = std::move(heads);
    return run_cell(model, receiving, ref, std::move(action), metric);
  };
  switch (sweep) {
    case PatchSweep::kResidPre:
    case PatchSweep::kResidMid:
    case PatchSweep::kAttnOut:
    case PatchSweep::kMlpOut:
      for (int l = 0; l < L; ++l) {
        for (int p = 0; p < P; ++p) {
          HOOKLAB_ASSIGN_OR_RETURN(values[static_cast<size_t>(l * P + p)], cell(l, {p}, {}));
        }
      }
      return {};
    case PatchSweep::kHeadOutByPos:
    case PatchSweep::kHeadQByPos:
    case PatchSweep::kHeadKByPos:
    case PatchSweep::kHeadVByPos:
      for (int l = 0; l < L; ++l) {
        for (int p = 0; p < P; ++p) {
          for (int h = 0; h < H; ++h) {
            HOOKLAB_ASSIGN_OR_RETURN(values[static_cast<size_t>((l * P + p) * H + h)], cell(l, {p}, {h}));
          }
        }
      }
      return {};
    case PatchSweep::kHeadOutAllPos:
    case PatchSweep::kHeadQAllPos:
    case PatchSweep::kHeadKAllPos:
    case PatchSweep::kHeadVAllPos:
    case PatchSweep::kHeadPatternAllPos:
      for (int l = 0; l < L; ++l) {
        for (int h = 0; h < H; ++h) {
          HOOKLAB_ASSIGN_OR_RETURN(values[static_cast<size_t>(l * H + h)], cell(l, {}, {h}));
        }
      }
      return {};
    case PatchSweep::kHeadPatternByPos:
      for (int l = 0; l < L; ++l) {
        for (int h = 0; h < H; ++h) {
          for (int d = 0; d < P; ++d) {
            HOOKLAB_ASSIGN_OR_RETURN(values[static_cast<size_t>((l * H + h) * P + d)], cell(l, {d}, {h}));
          }
        }
      }
      return {};
    case PatchSweep::kHeadPatternDestSrc:
      for (int l = 0; l < L; ++l) {
        const TensorView src = *source.view({HookPoint::kPattern, l});
        for (int h = 0; h < H; ++h) {
          for (int d = 0; d < P; ++d) {
            for (int s = 0; s < P; ++s) {
              if (!tick()) return make_error(ErrorCode::kCancelled, "the patching sweep was cancelled");
              const int64_t at = (static_cast<int64_t>(h) * P + d) * P + s;
              HookAction action;
              action.kind = HookActionKind::kCallback;
              action.callback = [src, at](TensorView& a, const HookContext&) -> Status {
                a.data[at] = src.data[at];
                return {};
              };
              HOOKLAB_ASSIGN_OR_RETURN(values[static_cast<size_t>(((l * H + h) * P + d) * P + s)],
                                       run_cell(model, receiving, {HookPoint::kPattern, l}, std::move(action), metric));
            }
          }
        }
      }
      return {};
    default: return make_error(ErrorCode::kInvalidArgument, "not a single sweep");
  }
}

}  // namespace

Result<PatchResult> patch_plain(const HookedTransformer& model, const PatchRequest& request) {
  HOOKLAB_RETURN_IF_ERROR(validate_patch_request(model, request));
  if (!request.items.empty() || request.method != PatchMethod::kExact) {
    return make_error(ErrorCode::kInvalidArgument, "the plain engine runs one exact sweep per request");
  }
  const PatchRuns runs = patch_runs(request);
  const std::vector<int32_t>& source_tokens = runs.source_tokens;
  const std::vector<int32_t>& receiving = runs.receiving_tokens;
  const int64_t P = static_cast<int64_t>(receiving.size());

  HOOKLAB_ASSIGN_OR_RETURN(RunOutput clean, model.run(request.clean_tokens, {}));
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput corrupted, model.run(request.corrupted_tokens, {}));
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput source, model.run_with_cache(source_tokens));

  const double clean_metric = evaluate_metric(request.metric, clean.logits);
  PatchResult result = result_skeleton({request.sweep, PatchMethod::kExact}, model.cfg(), static_cast<int>(P),
                                       clean_metric, clean_metric, evaluate_metric(request.metric, corrupted.logits));

  const std::vector<PatchSweep> parts = component_sweeps(request.sweep);
  int64_t total = 0;
  for (PatchSweep part : parts) total += shape_numel(sweep_layout(part, model.cfg(), P).shape);
  int64_t done = 0;
  auto tick = [&]() {
    ++done;
    return !request.progress || request.progress(static_cast<double>(done - 1) / static_cast<double>(total));
  };
  size_t offset = 0;
  for (PatchSweep part : parts) {
    const SweepLayout part_layout = sweep_layout(part, model.cfg(), P);
    std::vector<double> values(static_cast<size_t>(shape_numel(part_layout.shape)));
    HOOKLAB_RETURN_IF_ERROR(run_sweep(model, part, receiving, source.cache, request.metric, values, tick));
    if (request.sweep == PatchSweep::kHeadByPosEvery && part == PatchSweep::kHeadPatternByPos) {
      // TransformerLens rearranges the pattern result [L, H, P] to [L, P, H] to stack it.
      const int64_t L = model.cfg().n_layers, H = model.cfg().n_heads;
      std::vector<double> rearranged(values.size());
      for (int64_t l = 0; l < L; ++l)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t p = 0; p < P; ++p)
            rearranged[static_cast<size_t>((l * P + p) * H + h)] = values[static_cast<size_t>((l * H + h) * P + p)];
      values = std::move(rearranged);
    }
    std::copy(values.begin(), values.end(), result.values.begin() + static_cast<std::ptrdiff_t>(offset));
    offset += values.size();
  }
  result.cells_computed = total;
  if (request.normalize) normalize_result(result);
  if (request.progress) request.progress(1.0);
  return result;
}

}  // namespace hooklab
