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
double evaluate_metric_row(const PatchMetric& metric, const float* logits_row, int64_t vocab);

}  // namespace hooklab
