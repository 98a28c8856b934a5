// The planner every patching executor shares: a request's two baseline runs (done once per
// request, whatever number of sweeps and methods it asks for), each item's result skeleton in
// its TransformerLens layout, the cells of every exact item planned together, and
// normalisation. Executors: the fast engine on the host (patching_engine.cpp), the device
// engine (device_patching.cpp) and the attribution estimator (patch_estimator.h); the plain
// engine (plain_patching.cpp) is the oracle and shares only the skeleton.
#pragma once

#include <memory>
#include <set>
#include <vector>

#include "hooklab/patching.h"
#include "patching/patch_cells.h"
#include "patching/sweep_layout.h"

namespace hooklab {

// The two unpatched runs of a prompt pair, cached with what the request's items read.
struct BaselineRuns {
  bool denoising = true;
  int positions = 0;
  int metric_pos = 0;
  RunOutput source, receiving;  // receiving.grads holds d metric / d activation when estimated
  double source_metric = 0.0, receiving_metric = 0.0;

  double clean_metric() const { return denoising ? source_metric : receiving_metric; }
  double corrupted_metric() const { return denoising ? receiving_metric : source_metric; }
};

// Runs the request's prompts once: the receiving run caches what the fast engine and the
// estimates read (with the metric's gradients when an item is estimated), the source run
// what any item patches. The request must have been validated.
Result<std::shared_ptr<const BaselineRuns>> run_baselines(const HookedTransformer& model, const PatchRequest& request,
                                                          const std::vector<PatchItem>& items);

bool has_method(const std::vector<PatchItem>& items, PatchMethod method);
bool has_estimate(const std::vector<PatchItem>& items);

// The hook points the items' cells patch.
std::set<HookPoint> patched_hooks(const std::vector<PatchItem>& items);

// An item's result before any cell is computed: layout, baseline metrics, and every value
// equal to the receiving run's metric (what a cell that cannot change the metric reads).
PatchResult result_skeleton(const PatchItem& item, const ModelConfig& cfg, int positions, double receiving_metric,
                            double clean_metric, double corrupted_metric);

// (values - corrupted) / (clean - corrupted), TransformerLens's normalised patching metric.
void normalize_values(std::vector<double>& values, double clean_metric, double corrupted_metric);
void normalize_result(PatchResult& result);

// The cells of every exact item against the baselines (cell.item names the result it fills);
// `work` holds the cells that can change the metric, and per item how many there are.
struct CellPlan {
  std::vector<PatchCell> cells;
  std::vector<PatchCell*> work;
  std::vector<int64_t> work_per_item;
};
CellPlan plan_exact_cells(const std::vector<PatchItem>& items, const ActivationCache& receiving,
                          const ActivationCache& source, const ModelConfig& cfg, int positions, int metric_pos);

}  // namespace hooklab
