// Activation patching: every sweep of transformer_lens.patching, with its output shape.
//
// A sweep runs the "receiving" prompt once per cell with one activation replaced by the
// "source" prompt's. Denoising (TransformerLens's default) patches clean activations into the
// corrupted run; noising patches corrupted activations into the clean run. The metric is read
// off the patched logits at one position.
//
// Two engines give the same numbers:
//   patch_plain — one full hooked forward per cell, exactly what TransformerLens does; kept as
//                 the test oracle.
//   patch       — the fast engine (patching_engine.cpp): starts each cell from the cached
//                 receiving run at the patched layer, recomputes only the positions the patch
//                 can reach, batches cells through the matrix products and computes only the
//                 logits the metric reads.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "hooklab/hooked_transformer.h"

namespace hooklab {

enum class PatchSweep {
  kResidPre,          // [L, P]     resid_pre[:, pos]
  kResidMid,          // [L, P]
  kAttnOut,           // [L, P]
  kMlpOut,            // [L, P]
  kHeadOutByPos,      // [L, P, H]  z[:, pos, head]
  kHeadQByPos,        // [L, P, H]
  kHeadKByPos,        // [L, P, H]
  kHeadVByPos,        // [L, P, H]
  kHeadOutAllPos,     // [L, H]     z[:, :, head]
  kHeadQAllPos,       // [L, H]
  kHeadKAllPos,       // [L, H]
  kHeadVAllPos,       // [L, H]
  kHeadPatternAllPos, // [L, H]     pattern[:, head, :, :]
  kHeadPatternByPos,  // [L, H, P]  pattern[:, head, dest, :]  (head before position, as TL)
  kHeadPatternDestSrc,// [L, H, P, P] pattern[:, head, dest, src]
  kBlockEvery,        // [3, L, P]  resid_pre, attn_out, mlp_out
  kHeadAllPosEvery,   // [5, L, H]  out, q, k, v, pattern (all positions)
  kHeadByPosEvery,    // [5, L, P, H] out, q, k, v, pattern (pattern rearranged to [L, P, H])
};

// CLI / URL names: "resid_pre", "head_out" (= head_out_all_pos), "head_out_by_pos", ...
const char* patch_sweep_name(PatchSweep sweep);
Result<PatchSweep> parse_patch_sweep(std::string_view name);

enum class MetricKind { kLogitDiff, kProb, kLogProb, kRank, kCustom };
const char* metric_kind_name(MetricKind kind);
Result<MetricKind> parse_metric_kind(std::string_view name);

struct PatchMetric {
  MetricKind kind = MetricKind::kLogitDiff;
  int position = -1;  // negative counts from the end; -1 is the last position
  // kLogitDiff: mean over pairs of logit(answer) - logit(wrong). kProb/kLogProb/kRank: the
  // answer of the first pair (rank 0 = most likely).
  std::vector<std::pair<int32_t, int32_t>> answer_pairs;
  // kCustom: called with the logits at `position` ([d_vocab]) of each patched run.
  std::function<double(const float* logits, int64_t vocab)> custom;
};

enum class PatchDirection { kDenoising, kNoising };

struct PatchRequest {
  PatchSweep sweep = PatchSweep::kResidPre;
  std::vector<int32_t> clean_tokens;
  std::vector<int32_t> corrupted_tokens;
  PatchMetric metric;
  PatchDirection direction = PatchDirection::kDenoising;
  // Report (patched - corrupted) / (clean - corrupted) instead of the raw metric.
  bool normalize = false;
  // Progress in [0, 1]; return false to cancel.
  std::function<bool(double)> progress;
};

struct PatchResult {
  PatchSweep sweep;
  Shape shape;
  std::vector<std::string> axes;  // e.g. {"layer", "pos"}
  std::vector<double> values;     // row-major over `shape`
  double clean_metric = 0.0;      // metric on the unpatched clean run
  double corrupted_metric = 0.0;  // metric on the unpatched corrupted run
  int64_t cells_computed = 0;     // cells actually run (the fast engine skips cells it can prove unaffected)
};

// Validates the request against the model (equal token lengths, single-token answers in
// range, metric position in range) with messages that name the problem.
Status validate_patch_request(const HookedTransformer& model, const PatchRequest& request);

Result<PatchResult> patch_plain(const HookedTransformer& model, const PatchRequest& request);
Result<PatchResult> patch(const HookedTransformer& model, const PatchRequest& request);

// The fast engine as a resumable job, for callers that must stay responsive (the browser
// worker runs one step per event-loop turn, so a sweep can report progress and be cancelled):
//   auto job = PatchJob::start(model, request);   // the two cached runs and the cell plan
//   while (!*job->step()) report(job->progress());
//   PatchResult r = job->take_result();
class PatchJob {
 public:
  static Result<std::unique_ptr<PatchJob>> start(const HookedTransformer& model, PatchRequest request);
  ~PatchJob();
  // Runs the next chunk of cells; true once every cell is done.
  Result<bool> step();
  double progress() const;
  // The values (normalised if requested); call once, after step() returned true.
  PatchResult take_result();

 private:
  PatchJob();
  struct State;
  std::unique_ptr<State> state_;
};

// The metric of one run, read off logits [1, P, V].
double evaluate_metric(const PatchMetric& metric, const Tensor& logits);

}  // namespace hooklab
