// Attribution patching: every cell of every patching sweep estimated from gradients, at the
// cost of two forwards and one backward per prompt pair (Nanda 2023; TransformerLens 3.9's
// attribution_patch), with the same shapes, directions and normalisation as the exact sweeps:
//
//   estimate(cell) = sum over the cell's slice of (a_source - a_receiving) * d metric / d a,
//   the gradient taken on the receiving run (denoising: the corrupted run).
//
// Reported like an exact sweep: values = metric(receiving) + estimate (the estimated patched
// metric), or normalised (values - corrupted) / (clean - corrupted).
//
// AtP* (Kramar et al. 2024, the "QK fix"): query and key cells act through the softmax, where
// a linear estimate is poor, so their estimate recomputes the head's attention pattern exactly
// with the source's queries (keys) and linearises only from the pattern on:
//   estimate(cell) = sum (pattern_patched - pattern_receiving) * d metric / d pattern.
//
//   auto session = AttributionSession::start(model, request).value();  // 2 forwards + 1 backward
//   PatchResult a = session->sweep(PatchSweep::kHeadOutByPos, PatchMethod::kAtp, true).value();
//   PatchResult b = session->sweep(PatchSweep::kBlockEvery, PatchMethod::kAtpStar, true).value();
#pragma once

#include <memory>
#include <vector>

#include "hooklab/patching.h"

namespace hooklab {

class AttributionSession {
 public:
  // Runs the source prompt (cached) and the receiving prompt (cached, with the metric's
  // gradients) of `request` (its tokens, metric and direction; sweep and method are ignored).
  static Result<std::unique_ptr<AttributionSession>> start(const HookedTransformer& model, const PatchRequest& request);
  ~AttributionSession();

  // One sweep by AtP or AtP* (kExact is an error: use patch()). Cheap: no model runs.
  Result<PatchResult> sweep(PatchSweep sweep, PatchMethod method, bool normalize) const;
  double clean_metric() const;
  double corrupted_metric() const;

 private:
  AttributionSession();
  struct State;
  std::unique_ptr<State> state_;
};

// How well an estimate ranks and predicts the exact sweep's cells (both in the same layout;
// compare normalised or raw values alike). top_k_overlap: the share of the k cells with the
// largest |exact| that are also among the k largest |estimate| (k = min(10, cells)).
struct SweepAgreement {
  double pearson = 0.0;
  double spearman = 0.0;
  double top_k_overlap = 0.0;
  int top_k = 0;
  int64_t cells = 0;
};
SweepAgreement compare_sweeps(const std::vector<double>& estimate, const std::vector<double>& exact);

}  // namespace hooklab
