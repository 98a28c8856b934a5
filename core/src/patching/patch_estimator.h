// The attribution executor (attribution.h explains the method): every cell of an item
// estimated from one pair of baseline runs and the receiving run's gradients. Shared by
// AttributionSession and PatchJob, so an estimate and an exact sweep of one request read the
// same runs.
#pragma once

#include <memory>
#include <vector>

#include "patching/patch_plan.h"

namespace hooklab {

class PatchEstimator {
 public:
  // `runs` must hold the receiving run's gradients (run_baselines with an estimated item).
  PatchEstimator(const ModelConfig& cfg, std::shared_ptr<const BaselineRuns> runs);
  // The item's values: the receiving metric plus each cell's estimate (not normalised).
  // Error for an exact item.
  Result<PatchResult> estimate(const PatchItem& item) const;
  const BaselineRuns& runs() const { return *runs_; }

 private:
  // One head's receiving-run attention rows in double: log-sum-exp of each row's scores and
  // S[i] = sum_j pattern[i, j] * d metric / d pattern[i, j].
  struct HeadRows {
    std::vector<double> lse, pattern, weighted;
  };

  const ModelConfig& cfg() const { return cfg_; }
  const float* src(HookPoint point, int layer) const { return runs_->source.cache.find({point, layer}); }
  const float* recv(HookPoint point, int layer) const { return runs_->receiving.cache.find({point, layer}); }
  const float* grad(HookPoint point, int layer) const { return runs_->receiving.grads.find({point, layer}); }
  double delta_dot(HookPoint point, int layer, int64_t offset, int64_t n) const;
  double atp(const PatchCell& c) const;
  double atp_star_query(const PatchCell& c) const;
  double atp_star_key(const PatchCell& c) const;
  const HeadRows& head_rows(int layer, int head) const;
  // Recomputed score of query row i (queries from q) against key j (keys from k) of one head.
  double score(const float* q, const float* k, int layer, int head, int i, int j) const;
  // sum_j (softmax(new row)_j - pattern_j) * g_j for query row i with freshly computed scores.
  double row_change(const std::vector<double>& scores, int layer, int head, int i) const;

  const ModelConfig& cfg_;
  std::shared_ptr<const BaselineRuns> runs_;
  int positions = 0;
  mutable std::vector<HeadRows> heads_;  // [layer * H + head], filled on first use by AtP*
};

}  // namespace hooklab
