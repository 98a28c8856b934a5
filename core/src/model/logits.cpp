#include "hooklab/logits.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace hooklab {

double log_sum_exp(const float* logits, int64_t vocab) {
  double max = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < vocab; ++i) max = std::max(max, static_cast<double>(logits[i]));
  double sum = 0.0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  return max + std::log(sum);
}

std::vector<double> log_softmax(const float* logits, int64_t vocab) {
  const double log_z = log_sum_exp(logits, vocab);
  std::vector<double> out(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) out[static_cast<size_t>(i)] = static_cast<double>(logits[i]) - log_z;
  return out;
}

std::vector<double> loss_per_token(const Tensor& logits, std::span<const int32_t> tokens) {
  const int64_t vocab = logits.shape().back();
  std::vector<double> losses;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const float* row = logits.data() + static_cast<int64_t>(i) * vocab;
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < vocab; ++j) max = std::max(max, static_cast<double>(row[j]));
    double sum = 0.0;
    for (int64_t j = 0; j < vocab; ++j) sum += std::exp(static_cast<double>(row[j]) - max);
    losses.push_back(max + std::log(sum) - static_cast<double>(row[tokens[i + 1]]));
  }
  return losses;
}

double mean_loss(const Tensor& logits, std::span<const int32_t> tokens) {
  const std::vector<double> losses = loss_per_token(logits, tokens);
  if (losses.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(losses.begin(), losses.end(), 0.0) / static_cast<double>(losses.size());
}

std::vector<TopKEntry> top_k(const float* logits, int64_t vocab, int k) {
  return top_k(logits, vocab, k, log_sum_exp(logits, vocab));
}

std::vector<TopKEntry> top_k(const float* logits, int64_t vocab, int k, double log_z) {
  k = static_cast<int>(std::min<int64_t>(std::max(k, 0), vocab));
  std::vector<int32_t> ids(static_cast<size_t>(vocab));
  std::iota(ids.begin(), ids.end(), 0);
  auto better = [&](int32_t a, int32_t b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; };
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), better);
  std::vector<TopKEntry> out;
  for (int i = 0; i < k; ++i) {
    const int32_t id = ids[static_cast<size_t>(i)];
    out.push_back({id, logits[id], std::exp(static_cast<double>(logits[id]) - log_z)});
  }
  return out;
}

int64_t token_rank(const float* logits, int64_t vocab, int32_t token) {
  int64_t rank = 0;
  for (int64_t i = 0; i < vocab; ++i) rank += logits[i] > logits[token] ? 1 : 0;
  return rank;
}

}  // namespace hooklab
