// Patching over a dataset of prompt pairs: one sweep (exact or attribution) per pair, and per
// cell the mean with a 95 % percentile-bootstrap confidence interval of that mean.
//
// Pairs come as JSON Lines, one object per line:
//   {"clean": "When Mary and John ...", "corrupted": "When Mary and John ...", "answer": " Mary", "wrong": " John"}
// ("answer"/"wrong" may be left out when the caller gives default answers). Every pair must
// have the same number of tokens; a bad line is an error that names it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "hooklab/patching.h"

namespace hooklab {

struct PromptPair {
  std::vector<int32_t> clean_tokens;
  std::vector<int32_t> corrupted_tokens;
  std::vector<std::pair<int32_t, int32_t>> answer_pairs;  // empty: the request's answers
};

// At most this many pairs and bytes are read (a dataset is a teaching-sized set, not a corpus).
inline constexpr size_t kMaxDatasetPairs = 10000;
inline constexpr size_t kMaxDatasetBytes = 16u << 20;

Result<std::vector<PromptPair>> parse_prompt_pairs_jsonl(const HookedTransformer& model, std::string_view text,
                                                         bool prepend_bos = true);

struct DatasetPatchResult {
  PatchResult first;  // the layout, and the first pair's result
  int64_t pairs = 0;
  std::vector<double> mean, ci_low, ci_high;  // per cell, in the sweep's layout
};

// The dataset sweep as a resumable job, for callers that must stay responsive (the browser
// worker runs one step per event-loop turn, so an exact sweep over many pairs reports progress
// and can be cancelled). Each step runs one chunk of one pair's patch job.
//   auto job = DatasetPatchJob::start(model, request, pairs).value();
//   while (!*job->step()) report(job->progress());
//   DatasetPatchResult r = job->take_result();
class DatasetPatchJob {
 public:
  static Result<std::unique_ptr<DatasetPatchJob>> start(const HookedTransformer& model, PatchRequest request,
                                                        std::vector<PromptPair> pairs, int bootstrap_samples = 1000,
                                                        uint64_t seed = 1);
  ~DatasetPatchJob();
  // True once every pair is done; an error names the pair.
  Result<bool> step();
  double progress() const;
  // The means and intervals; call once, after step() returned true.
  DatasetPatchResult take_result();

 private:
  DatasetPatchJob();
  struct State;
  std::unique_ptr<State> state_;
};

// `request` gives the sweep, method, metric (its answers are the default for pairs without
// their own), direction and normalisation (applied per pair); its tokens are ignored.
Result<DatasetPatchResult> patch_dataset(const HookedTransformer& model, const PatchRequest& request,
                                         const std::vector<PromptPair>& pairs, int bootstrap_samples = 1000,
                                         uint64_t seed = 1);

// The mean of each column of `rows` (n rows of `cells` values) and its 95 % percentile-bootstrap
// interval: `samples` resamples of the rows with replacement (one stream of indices shared by
// every cell, seeded), the 2.5th and 97.5th percentiles of the resampled means.
void bootstrap_mean_interval(const std::vector<double>& rows, int64_t n, int64_t cells, int samples, uint64_t seed,
                             std::vector<double>& mean, std::vector<double>& low, std::vector<double>& high);

}  // namespace hooklab
