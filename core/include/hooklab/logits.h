// What users read off the logits: next-token loss (mean and per token), log-probabilities,
// top-k predictions. Reductions accumulate in double so results do not depend on vocab order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hooklab/tensor.h"

namespace hooklab {

// log(sum_i exp(logits[i])) of one row: the log-normaliser that turns a logit into a log-probability.
double log_sum_exp(const float* logits, int64_t vocab);
// log_softmax of one row of logits.
std::vector<double> log_softmax(const float* logits, int64_t vocab);

// Next-token cross-entropy per position: element i is -log p(tokens[i + 1] | tokens[..i]),
// shape [P - 1] (TransformerLens's loss_per_token). logits: [1, P, V].
std::vector<double> loss_per_token(const Tensor& logits, std::span<const int32_t> tokens);
// Mean of loss_per_token (TransformerLens's return_type="loss"); NaN for a single token.
double mean_loss(const Tensor& logits, std::span<const int32_t> tokens);

struct TopKEntry {
  int32_t token;
  float logit;
  double prob;
};
// The k most likely next tokens after `position` (ties broken by lower id).
std::vector<TopKEntry> top_k(const float* logits, int64_t vocab, int k);
// The same with the row's log_sum_exp already known (a generation step needs it for the chosen token too).
std::vector<TopKEntry> top_k(const float* logits, int64_t vocab, int k, double log_z);
// 0-based rank of `token` among the logits (number of strictly larger logits).
int64_t token_rank(const float* logits, int64_t vocab, int32_t token);

}  // namespace hooklab
