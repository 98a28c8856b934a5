// Internal helpers shared by the patching engines.
#pragma once

#include <string>
#include <vector>

#include "hooklab/patching.h"

namespace hooklab {

struct SweepLayout {
  Shape shape;
  std::vector<std::string> axes;
};

SweepLayout sweep_layout(PatchSweep sweep, const ModelConfig& cfg, int64_t positions);
// The single sweeps a combined sweep (block_every, *_every) stacks; {sweep} otherwise.
std::vector<PatchSweep> component_sweeps(PatchSweep sweep);

// The run the patched activations come from and the run that receives them (denoising: clean
// into corrupted; noising: corrupted into clean), and the metric's position counted from 0.
struct PatchRuns {
  bool denoising;
  const std::vector<int32_t>& source_tokens;
  const std::vector<int32_t>& receiving_tokens;
  int metric_position;
};
PatchRuns patch_runs(const PatchRequest& request);

}  // namespace hooklab
