// Scalar metrics of a run's logits: what activation patching reads off each patched run and
// what the backward pass differentiates. The set of kinds is the table in patching.def.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "hooklab/config.h"
#include "hooklab/status.h"
#include "hooklab/tensor.h"

namespace hooklab {

enum class MetricKind {
#define HOOKLAB_METRIC(id, name, one_position, differentiable, answers, description) id,
#include "hooklab/patching.def"
#undef HOOKLAB_METRIC
  kCustom,  // a C++ callback over one position's logits (not in the table: it has no name)
};

struct MetricInfo {
  MetricKind kind;
  const char* name;
  bool one_position;
  bool differentiable;
  int answers;  // 2: answer pairs; 1: one answer; 0: none
  const char* description;
};
std::span<const MetricInfo> metric_table();
const char* metric_kind_name(MetricKind kind);
// A name from the table; anything else is an error listing the names.
Result<MetricKind> parse_metric_kind(std::string_view name);

struct Metric {
  MetricKind kind = MetricKind::kLogitDiff;
  int position = -1;  // negative counts from the end; -1 is the last position
  // kLogitDiff: mean over pairs of logit(answer) - logit(wrong). kProb/kLogProb/kRank: the
  // answer of the first pair (rank 0 = most likely).
  std::vector<std::pair<int32_t, int32_t>> answer_pairs;
  // kLinear: [d_vocab] weights applied at `position`, or [P * d_vocab] over every position.
  std::vector<float> linear_weights;
  // kCustom: called with the logits at `position` ([d_vocab]) of each run.
  std::function<double(const float* logits, int64_t vocab)> custom;
};

// Checks the metric against a model and a prompt length: answers present and in the
// vocabulary, position in range (token_loss: not the last position), weights of a valid size.
Status validate_metric(const Metric& metric, const ModelConfig& cfg, int positions);
// True when the metric is read off the logits at its position alone (what patching needs).
bool metric_reads_one_position(const Metric& metric, int64_t vocab);

// The metric position counted from 0.
int metric_position(const Metric& metric, int positions);
// A one-position metric of one row of logits [vocab].
double evaluate_metric_row(const Metric& metric, const float* logits_row, int64_t vocab);
// The metric of one run: logits [1, P, V] and the run's tokens (for the losses).
double evaluate_metric(const Metric& metric, const Tensor& logits, std::span<const int32_t> tokens = {});

// The metric's value and its gradient with respect to the logits, d metric / d logits, as the
// rows it touches: rows[i * vocab .. (i + 1) * vocab) is the gradient at positions[i].
struct MetricGradient {
  double value = 0.0;
  std::vector<int> positions;
  std::vector<float> rows;
};
Result<MetricGradient> metric_gradient(const Metric& metric, const Tensor& logits, std::span<const int32_t> tokens);

}  // namespace hooklab
