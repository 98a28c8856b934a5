#include "patching/patch_plan.h"

#include <algorithm>

namespace hooklab {
namespace {

// What the fast engine reads of the receiving run: every residual stream and every patchable
// activation (cells restart from them). The estimates read a subset of these, and their
// gradients.
bool receiving_needs(const std::string& name) {
  for (const char* suffix : {"hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out",
                             "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z", "attn.hook_pattern"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

}  // namespace

bool has_method(const std::vector<PatchItem>& items, PatchMethod method) {
  return std::any_of(items.begin(), items.end(), [&](const PatchItem& item) { return item.method == method; });
}

bool has_estimate(const std::vector<PatchItem>& items) {
  return std::any_of(items.begin(), items.end(),
                     [](const PatchItem& item) { return item.method != PatchMethod::kExact; });
}

std::set<HookPoint> patched_hooks(const std::vector<PatchItem>& items) {
  std::set<HookPoint> hooks;
  for (const PatchItem& item : items) {
    for (PatchSweep part : component_sweeps(item.sweep)) hooks.insert(patched_hook(cell_kind(part)));
  }
  return hooks;
}

Result<std::shared_ptr<const BaselineRuns>> run_baselines(const HookedTransformer& model, const PatchRequest& request,
                                                          const std::vector<PatchItem>& items) {
  auto runs = std::make_shared<BaselineRuns>();
  const PatchRuns pair = patch_runs(request);
  runs->denoising = pair.denoising;
  runs->positions = static_cast<int>(pair.receiving_tokens.size());
  runs->metric_pos = pair.metric_position;
  const std::set<HookPoint> patched = patched_hooks(items);
  const int n_layers = model.cfg().n_layers;
  auto patched_by_an_item = [&](const std::string& name) {
    const auto ref = parse_hook_name(name, n_layers);
    return ref.has_value() && patched.count(ref->point) != 0;
  };
  HOOKLAB_ASSIGN_OR_RETURN(runs->source, model.run_with_cache(pair.source_tokens, patched_by_an_item));
  if (has_estimate(items)) {
    HOOKLAB_ASSIGN_OR_RETURN(runs->receiving,
                             model.run_with_cache_and_grads(pair.receiving_tokens, request.metric, receiving_needs));
  } else {
    HOOKLAB_ASSIGN_OR_RETURN(runs->receiving, model.run_with_cache(pair.receiving_tokens, receiving_needs));
  }
  runs->source_metric = evaluate_metric(request.metric, runs->source.logits, pair.source_tokens);
  runs->receiving_metric = evaluate_metric(request.metric, runs->receiving.logits, pair.receiving_tokens);
  return std::shared_ptr<const BaselineRuns>(std::move(runs));
}

PatchResult result_skeleton(const PatchItem& item, const ModelConfig& cfg, int positions, double receiving_metric,
                            double clean_metric, double corrupted_metric) {
  PatchResult result;
  result.sweep = item.sweep;
  result.method = item.method;
  const SweepLayout layout = sweep_layout(item.sweep, cfg, positions);
  result.shape = layout.shape;
  result.axes = layout.axes;
  result.clean_metric = clean_metric;
  result.corrupted_metric = corrupted_metric;
  result.values.assign(static_cast<size_t>(shape_numel(layout.shape)), receiving_metric);
  return result;
}

void normalize_values(std::vector<double>& values, double clean_metric, double corrupted_metric) {
  const double denom = clean_metric - corrupted_metric;
  for (double& v : values) v = (v - corrupted_metric) / denom;
}

void normalize_result(PatchResult& result) {
  normalize_values(result.values, result.clean_metric, result.corrupted_metric);
}

CellPlan plan_exact_cells(const std::vector<PatchItem>& items, const ActivationCache& receiving,
                          const ActivationCache& source, const ModelConfig& cfg, int positions, int metric_pos) {
  CellPlan plan;
  plan.work_per_item.assign(items.size(), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].method != PatchMethod::kExact) continue;
    visit_sweep_cells(items[i].sweep, cfg.n_layers, cfg.n_heads, positions, [&](const PatchCell& c) {
      plan.cells.push_back(c);
      plan.cells.back().item = i;
    });
  }
  for (PatchCell& c : plan.cells) {
    plan_cell(c, receiving, source, cfg.n_layers, cfg.n_heads, cfg.d_head, positions, metric_pos);
    if (!c.affects_metric) continue;
    plan.work.push_back(&c);
    ++plan.work_per_item[c.item];
  }
  return plan;
}

}  // namespace hooklab
