#include "hooklab/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "hooklab/logits.h"

namespace hooklab {
namespace {

constexpr double kDropped = -std::numeric_limits<double>::infinity();

// Step 3: keep x >= the k-th largest value.
void keep_top_k(std::vector<double>& x, int k) {
  if (k <= 0 || static_cast<size_t>(k) >= x.size()) return;
  std::vector<double> sorted(x);
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<double>());
  const double threshold = sorted[static_cast<size_t>(k - 1)];
  for (double& v : x) {
    if (v < threshold) v = kDropped;
  }
}

// Softmax over the kept (finite) entries, in place; dropped entries become 0.
void softmax_in_place(std::vector<double>& x) {
  const double max = *std::max_element(x.begin(), x.end());
  double sum = 0.0;
  for (double& v : x) {
    v = v == kDropped ? 0.0 : std::exp(v - max);
    sum += v;
  }
  for (double& v : x) v /= sum;
}

// Step 4: the nucleus, TransformerLens's rule (keep j while the mass before j <= top_p).
void keep_top_p(std::vector<double>& x, double top_p) {
  if (top_p >= 1.0) return;
  std::vector<int32_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return x[a] != x[b] ? x[a] > x[b] : a < b; });
  std::vector<double> p(x);
  softmax_in_place(p);
  double before = 0.0;
  for (size_t j = 0; j < order.size(); ++j) {
    const int32_t t = order[j];
    if (j > 0 && before > top_p) x[static_cast<size_t>(t)] = kDropped;
    before += p[static_cast<size_t>(t)];
  }
}

}  // namespace

Status validate_sampling(const SamplingOptions& o) {
  if (!(o.temperature >= 0.0) || !std::isfinite(o.temperature)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "temperature must be a finite number >= 0 (0 is greedy), got " + std::to_string(o.temperature));
  }
  if (o.top_k < 0) return make_error(ErrorCode::kInvalidArgument, "top_k must be >= 0 (0 keeps every token)");
  if (!(o.top_p > 0.0 && o.top_p <= 1.0)) {
    return make_error(ErrorCode::kInvalidArgument, "top_p must be in (0, 1], got " + std::to_string(o.top_p));
  }
  if (!(o.freq_penalty >= 0.0) || !std::isfinite(o.freq_penalty)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "freq_penalty must be a finite number >= 0, got " + std::to_string(o.freq_penalty));
  }
  return {};
}

Result<std::vector<double>> sampling_distribution(std::span<const float> logits, const SamplingOptions& o,
                                                  std::span<const int32_t> context) {
  HOOKLAB_RETURN_IF_ERROR(validate_sampling(o));
  if (logits.empty()) return make_error(ErrorCode::kInvalidArgument, "no logits to sample from");
  for (float v : logits) {
    if (!std::isfinite(v)) return make_error(ErrorCode::kInvalidInput, "cannot sample: a logit is not finite");
  }
  const size_t vocab = logits.size();
  std::vector<double> x(vocab, 0.0);
  if (o.temperature == 0.0) {
    x[static_cast<size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin())] = 1.0;
    return x;
  }
  for (size_t t = 0; t < vocab; ++t) x[t] = static_cast<double>(logits[t]) / o.temperature;
  if (o.freq_penalty > 0.0) {
    std::vector<int64_t> counts(vocab, 0);
    for (int32_t t : context) {
      if (t >= 0 && static_cast<size_t>(t) < vocab) ++counts[static_cast<size_t>(t)];
    }
    for (size_t t = 0; t < vocab; ++t) x[t] -= o.freq_penalty * static_cast<double>(counts[t]);
  }
  keep_top_k(x, o.top_k);
  keep_top_p(x, o.top_p);
  softmax_in_place(x);
  return x;
}

int32_t draw_token(std::span<const double> probs, SplitMix64& rng) {
  const double u = rng.next_unit();
  double cumulative = 0.0;
  int32_t last_kept = 0;
  for (size_t t = 0; t < probs.size(); ++t) {
    if (probs[t] <= 0.0) continue;
    cumulative += probs[t];
    last_kept = static_cast<int32_t>(t);
    if (u < cumulative) return last_kept;
  }
  return last_kept;
}

Result<SampledToken> sample_next_token(std::span<const float> logits, const SamplingOptions& options,
                                       std::span<const int32_t> context, SplitMix64& rng, int top_n) {
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<double> p, sampling_distribution(logits, options, context));
  const int32_t token = options.temperature == 0.0
                            ? static_cast<int32_t>(std::max_element(p.begin(), p.end()) - p.begin())
                            : draw_token(p, rng);
  const int64_t vocab = static_cast<int64_t>(logits.size());
  // One log-normaliser for the chosen token and the top entries: 50k double exps are a few
  // percent of a GPT-2-small step.
  const double log_z = log_sum_exp(logits.data(), vocab);
  SampledToken out;
  out.chosen = {token, std::exp(static_cast<double>(logits[static_cast<size_t>(token)]) - log_z),
                p[static_cast<size_t>(token)]};
  for (const TopKEntry& e : top_k(logits.data(), vocab, top_n, log_z)) {
    out.top.push_back({e.token, e.prob, p[static_cast<size_t>(e.token)]});
  }
  return out;
}

}  // namespace hooklab
