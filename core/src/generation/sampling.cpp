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

// Step 4: the nucleus, TransformerLens's rule (keep j while the mass before j <= top_p). The kept
// tokens are a head of the order, so only a head is sorted, grown until its mass passes top_p:
// sorting all 50k tokens took 5 ms, a third of a GPT-2-small step. The order is strict (ids break
// ties), so the head and its running sum are exactly those of a full sort.
void keep_top_p(std::vector<double>& x, double top_p) {
  if (top_p >= 1.0) return;
  std::vector<double> p(x);
  softmax_in_place(p);
  std::vector<int32_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  auto earlier = [&](int32_t a, int32_t b) { return x[a] != x[b] ? x[a] > x[b] : a < b; };
  size_t kept = 0;
  for (size_t head = std::min<size_t>(64, order.size());; head = std::min(order.size(), head * 8)) {
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(head), order.end(), earlier);
    double before = 0.0;
    for (kept = 0; kept < head && (kept == 0 || before <= top_p); ++kept) before += p[static_cast<size_t>(order[kept])];
    if (kept < head || head == order.size()) break;
  }
  std::vector<double> nucleus(x.size(), kDropped);
  for (size_t j = 0; j < kept; ++j) nucleus[static_cast<size_t>(order[j])] = x[static_cast<size_t>(order[j])];
  x.swap(nucleus);
}

// Sampling needs finite logits: an inf or NaN would make every probability NaN.
Status check_logits(std::span<const float> logits, const SamplingOptions& o) {
  HOOKLAB_RETURN_IF_ERROR(validate_sampling(o));
  if (logits.empty()) return make_error(ErrorCode::kInvalidArgument, "no logits to sample from");
  for (float v : logits) {
    if (!std::isfinite(v)) return make_error(ErrorCode::kInvalidInput, "cannot sample: a logit is not finite");
  }
  return {};
}

// Greedy's token: the argmax of the raw logits, the lowest id among ties.
int32_t first_argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
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
  HOOKLAB_RETURN_IF_ERROR(check_logits(logits, o));
  const size_t vocab = logits.size();
  std::vector<double> x(vocab, 0.0);
  if (o.temperature == 0.0) {
    x[static_cast<size_t>(first_argmax(logits))] = 1.0;
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
  // Greedy builds no distribution (it is one-hot at the token): a step's vocabulary-sized work is
  // then the normaliser and the top entries alone.
  std::vector<double> p;
  int32_t token = 0;
  if (options.temperature == 0.0) {
    HOOKLAB_RETURN_IF_ERROR(check_logits(logits, options));
    token = first_argmax(logits);
  } else {
    HOOKLAB_ASSIGN_OR_RETURN(p, sampling_distribution(logits, options, context));
    token = draw_token(p, rng);
  }
  auto sample_prob = [&](int32_t t) { return p.empty() ? (t == token ? 1.0 : 0.0) : p[static_cast<size_t>(t)]; };
  const int64_t vocab = static_cast<int64_t>(logits.size());
  // One log-normaliser for the chosen token and the top entries: 50k double exps are a few
  // percent of a GPT-2-small step.
  const double log_z = log_sum_exp(logits.data(), vocab);
  SampledToken out;
  out.chosen = {token, std::exp(static_cast<double>(logits[static_cast<size_t>(token)]) - log_z), sample_prob(token)};
  for (const TopKEntry& e : top_k(logits.data(), vocab, top_n, log_z)) {
    out.top.push_back({e.token, e.prob, sample_prob(e.token)});
  }
  return out;
}

}  // namespace hooklab
