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
#include <span>
#include <string>
#include <vector>

#include "hooklab/hooked_transformer.h"
#include "hooklab/metrics.h"

namespace hooklab {

// The sweeps of transformer_lens.patching (table: patching.def). Layouts, e.g.
//   resid_pre [L, P]: resid_pre[:, pos];  head_out_by_pos [L, P, H]: z[:, pos, head];
//   head_out [L, H]: z[:, :, head];  head_pattern_by_pos [L, H, P] (head before position, as TL);
//   block_every [3, L, P]: resid_pre, attn_out, mlp_out;
//   head_all_pos_every [5, L, H] / head_by_pos_every [5, L, P, H]: out, q, k, v, pattern.
enum class PatchSweep {
#define HOOKLAB_PATCH_SWEEP(id, name, shape, axes, hook, tl_function) id,
#include "hooklab/patching.def"
#undef HOOKLAB_PATCH_SWEEP
};

// CLI / URL names: "resid_pre", "head_out" (= head_out_all_pos), "head_out_by_pos", ...
const char* patch_sweep_name(PatchSweep sweep);
Result<PatchSweep> parse_patch_sweep(std::string_view name);
std::vector<PatchSweep> all_patch_sweeps();
// The transformer_lens.patching function that computes it, e.g. "get_act_patch_resid_pre".
const char* patch_sweep_tl_function(PatchSweep sweep);

using PatchMetric = Metric;

enum class PatchDirection {
#define HOOKLAB_PATCH_DIRECTION(id, name, description) id,
#include "hooklab/patching.def"
#undef HOOKLAB_PATCH_DIRECTION
};
const char* patch_direction_name(PatchDirection direction);
Result<PatchDirection> parse_patch_direction(std::string_view name);

// How a sweep's cells are computed: exactly (one patched run per cell) or estimated from
// gradients (attribution patching, attribution.h).
enum class PatchMethod {
#define HOOKLAB_PATCH_METHOD(id, name, description) id,
#include "hooklab/patching.def"
#undef HOOKLAB_PATCH_METHOD
};
const char* patch_method_name(PatchMethod method);
Result<PatchMethod> parse_patch_method(std::string_view name);

// One sweep of a request and how its cells are computed.
struct PatchItem {
  PatchSweep sweep = PatchSweep::kResidPre;
  PatchMethod method = PatchMethod::kExact;
};

struct PatchRequest {
  PatchSweep sweep = PatchSweep::kResidPre;
  std::vector<int32_t> clean_tokens;
  std::vector<int32_t> corrupted_tokens;
  PatchMetric metric;
  PatchDirection direction = PatchDirection::kDenoising;
  // Report (patched - corrupted) / (clean - corrupted) instead of the raw metric.
  bool normalize = false;
  // Exact (one patched run per cell) or estimated from gradients (attribution.h).
  PatchMethod method = PatchMethod::kExact;
  // Several sweeps, each by its own method, from the same two baseline runs in one job (the
  // planner runs the prompts once per request, not once per sweep). Empty: {sweep, method}.
  std::vector<PatchItem> items;
  // Progress in [0, 1]; return false to cancel.
  std::function<bool(double)> progress;
};

struct PatchResult {
  PatchSweep sweep;
  PatchMethod method = PatchMethod::kExact;
  Shape shape;
  std::vector<std::string> axes;  // e.g. {"layer", "pos"}
  std::vector<double> values;     // row-major over `shape`
  double clean_metric = 0.0;      // metric on the unpatched clean run
  double corrupted_metric = 0.0;  // metric on the unpatched corrupted run
  int64_t cells_computed = 0;     // cells actually run (the fast engine skips cells it can prove unaffected)
};

// The request's items: `items`, or {sweep, method} when it names one sweep.
std::vector<PatchItem> request_items(const PatchRequest& request);

// Validates the request against the model (equal token lengths, single-token answers in
// range, metric position in range) with messages that name the problem.
Status validate_patch_request(const HookedTransformer& model, const PatchRequest& request);
// The checks every patching method shares (path patching too): both prompts valid and of the
// same length, the metric valid for them and read at one position.
Status validate_prompt_pair(const HookedTransformer& model, std::span<const int32_t> clean,
                            std::span<const int32_t> corrupted, const Metric& metric);

Result<PatchResult> patch_plain(const HookedTransformer& model, const PatchRequest& request);
Result<PatchResult> patch(const HookedTransformer& model, const PatchRequest& request);

// Every item of the request (exact sweeps by the fast engine, estimates by attribution
// patching), in item order, from one pair of baseline runs.
Result<std::vector<PatchResult>> patch_items(const HookedTransformer& model, const PatchRequest& request);

// One patch session as a resumable job, for callers that must stay responsive (the browser
// worker runs one step per event-loop turn, so a sweep can report progress and be cancelled):
//   auto job = PatchJob::start(model, request);   // the two baseline runs and the cell plan
//   while (!*job->step()) report(job->progress());
//   std::vector<PatchResult> r = job->take_results();   // one per item
// The first step computes the estimated items (cheap: no model runs); the exact items' cells
// are then run together in chunks, sorted by the layer they start at, whatever sweep they
// belong to. DevicePatchJob (device_patching.h) is the same job for exact items on a GPU;
// both are ResumablePatchJobs, so a caller drives either the same way.
class ResumablePatchJob {
 public:
  virtual ~ResumablePatchJob() = default;
  // Runs the next chunk of cells; true once every cell is done.
  virtual Result<bool> step() = 0;
  virtual double progress() const = 0;
  // The values (normalised if requested), one result per item; call once, after step()
  // returned true.
  virtual std::vector<PatchResult> take_results() = 0;
};

class PatchJob final : public ResumablePatchJob {
 public:
  static Result<std::unique_ptr<PatchJob>> start(const HookedTransformer& model, PatchRequest request);
  ~PatchJob() override;
  Result<bool> step() override;
  double progress() const override;
  std::vector<PatchResult> take_results() override;
  PatchResult take_result();  // the first item's

 private:
  PatchJob();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace hooklab
