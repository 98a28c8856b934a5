// Activation patching on the device: the numbers of PatchJob (patching.h) for exact items,
// planned by the same planner (patch_plan.h), with many patched cells per dispatch.
//
// Each cell is a forward pass of the receiving prompt with the source run's activation
// injected into one box of the patched hook (device_patch_injection.h). A chunk holds up to
// `batch` cells of the same hook and layer; it starts from the receiving run's resid_pre at
// that layer (kept on the device), runs only positions [0, metric position] (causal: later
// ones cannot reach the metric), and reads back per cell only what the metric needs: two or
// more logits for a logit difference, else the full logits row. Cells that plan_cell proves
// unaffected are not run.
//
// As a resumable job: start() encodes the two baseline runs; after each flush, step()
// collects what the flush brought and encodes the next chunk, so the caller awaits one
// flush per step and stays responsive in between.
#pragma once

#include <memory>

#include "device/device_weights.h"
#include "hooklab/patching.h"

namespace hooklab {

class DevicePatchJob final : public ResumablePatchJob {
 public:
  static Result<std::unique_ptr<DevicePatchJob>> start(const HookedTransformer& model, DeviceBackend& device,
                                                       const DeviceWeights& weights, PatchRequest request);
  ~DevicePatchJob() override;
  // Call after each flush: collects, then encodes the next chunk. True once every cell is
  // done (nothing new was encoded).
  Result<bool> step() override;
  double progress() const override;
  // Cells per chunk (the dispatch batch).
  int64_t batch() const;
  // The values (normalised if requested), one result per item (exact items only); call once,
  // after step() returned true.
  std::vector<PatchResult> take_results() override;

 private:
  DevicePatchJob();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace hooklab
