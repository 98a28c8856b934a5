// The fast patching engine equals the plain one-forward-per-cell engine (the oracle) on every
// sweep, at prompt lengths from 1 to n_ctx, for metric positions other than the last, both
// directions, several answer pairs, a custom metric — and requests that make no sense fail
// with a clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hooklab/patching.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

const HookedTransformer& model(const std::string& dir) { return shared_repo_model(dir); }

// Random prompts of `length` tokens (BOS first) that differ at one position `differ`.
std::pair<std::vector<int32_t>, std::vector<int32_t>> prompt_pair(int length, int differ, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> a(static_cast<size_t>(length)), b;
  for (auto& t : a) t = static_cast<int32_t>(1000 + rng() % 9000);
  a[0] = 50256;
  b = a;
  if (differ >= 0 && differ < length) b[static_cast<size_t>(differ)] = static_cast<int32_t>(1000 + rng() % 9000);
  return {a, b};
}

void expect_engines_agree(const HookedTransformer& m, const PatchRequest& request, const std::string& label) {
  auto plain = patch_plain(m, request);
  auto fast = patch(m, request);
  ASSERT_TRUE(plain.ok()) << label << ": " << plain.error().message;
  ASSERT_TRUE(fast.ok()) << label << ": " << fast.error().message;
  ASSERT_EQ(plain->shape, fast->shape) << label;
  ASSERT_EQ(plain->values.size(), fast->values.size());
  double max_ref = 0.0;
  for (double v : plain->values) max_ref = std::max(max_ref, std::fabs(v));
  const double tol = 1e-5 * std::max(1.0, max_ref);
  for (size_t i = 0; i < plain->values.size(); ++i) {
    ASSERT_NEAR(fast->values[i], plain->values[i], tol) << label << " cell " << i;
  }
  EXPECT_NEAR(fast->clean_metric, plain->clean_metric, tol);
  EXPECT_NEAR(fast->corrupted_metric, plain->corrupted_metric, tol);
  EXPECT_LE(fast->cells_computed, plain->cells_computed);
}

constexpr PatchSweep kAllSweeps[] = {
    PatchSweep::kResidPre,
    PatchSweep::kResidMid,
    PatchSweep::kAttnOut,
    PatchSweep::kMlpOut,
    PatchSweep::kHeadOutByPos,
    PatchSweep::kHeadQByPos,
    PatchSweep::kHeadKByPos,
    PatchSweep::kHeadVByPos,
    PatchSweep::kHeadOutAllPos,
    PatchSweep::kHeadQAllPos,
    PatchSweep::kHeadKAllPos,
    PatchSweep::kHeadVAllPos,
    PatchSweep::kHeadPatternAllPos,
    PatchSweep::kHeadPatternByPos,
    PatchSweep::kHeadPatternDestSrc,
    PatchSweep::kBlockEvery,
    PatchSweep::kHeadAllPosEvery,
    PatchSweep::kHeadByPosEvery,
};

TEST(PatchingEngines, EverySweepAtSeveralLengths) {
  // tiny-c: n_ctx 12, so 12 is the longest prompt; tiny-b: f16, untied, 3 layers.
  struct Case {
    const char* model;
    int length;
    int differ;
  } cases[] = {{"models/testdata/tiny-c", 1, 0},
               {"models/testdata/tiny-c", 2, 1},
               {"models/testdata/tiny-c", 12, 5},
               {"models/testdata/tiny-b", 5, 2}};
  for (const Case& c : cases) {
    const HookedTransformer& m = model(c.model);
    auto [clean, corrupted] = prompt_pair(c.length, c.differ, 7u + static_cast<unsigned>(c.length));
    for (PatchSweep sweep : kAllSweeps) {
      PatchRequest r;
      r.sweep = sweep;
      r.clean_tokens = clean;
      r.corrupted_tokens = corrupted;
      r.metric.answer_pairs = {{1000, 2000}, {3000, 4000}};
      expect_engines_agree(m, r,
                           std::string(c.model) + " P=" + std::to_string(c.length) + " " + patch_sweep_name(sweep));
    }
  }
}

TEST(PatchingEngines, MetricsPositionsDirectionsAndNormalisation) {
  const HookedTransformer& m = model("models/testdata/tiny-a");
  auto [clean, corrupted] = prompt_pair(9, 3, 99);
  for (MetricKind kind : {MetricKind::kLogitDiff, MetricKind::kProb, MetricKind::kLogProb, MetricKind::kRank}) {
    for (int position : {-1, -3, 4}) {
      for (PatchDirection direction : {PatchDirection::kDenoising, PatchDirection::kNoising}) {
        for (PatchSweep sweep : {PatchSweep::kResidPre, PatchSweep::kHeadOutByPos, PatchSweep::kHeadVAllPos}) {
          PatchRequest r;
          r.sweep = sweep;
          r.clean_tokens = clean;
          r.corrupted_tokens = corrupted;
          r.metric.kind = kind;
          r.metric.position = position;
          r.metric.answer_pairs = {{1234, 4321}};
          r.direction = direction;
          r.normalize = kind == MetricKind::kLogitDiff;
          expect_engines_agree(m, r, std::string(metric_kind_name(kind)) + " pos " + std::to_string(position));
        }
      }
    }
  }
}

TEST(PatchingEngines, CustomMetricSeesTheLogitsAtThePosition) {
  const HookedTransformer& m = model("models/testdata/tiny-a");
  auto [clean, corrupted] = prompt_pair(6, 2, 5);
  PatchRequest r;
  r.sweep = PatchSweep::kResidPre;
  r.clean_tokens = clean;
  r.corrupted_tokens = corrupted;
  r.metric.kind = MetricKind::kCustom;
  r.metric.custom = [](const float* logits, int64_t vocab) {
    double max = logits[0];
    for (int64_t i = 1; i < vocab; ++i) max = std::max(max, static_cast<double>(logits[i]));
    return max - logits[42];
  };
  expect_engines_agree(m, r, "custom");
}

TEST(PatchingEngines, CellsBeforeTheFirstDifferenceCostNothing) {
  const HookedTransformer& m = model("models/testdata/tiny-a");
  auto [clean, corrupted] = prompt_pair(16, 10, 3);
  PatchRequest r;
  r.sweep = PatchSweep::kResidPre;
  r.clean_tokens = clean;
  r.corrupted_tokens = corrupted;
  r.metric.answer_pairs = {{1000, 2000}};
  auto fast = patch(m, r);
  ASSERT_TRUE(fast.ok());
  // Only position 10 differs in the inputs; every other position of resid_pre is identical in
  // layer 0, and positions before 10 stay identical in every layer.
  const int L = m.cfg().n_layers;
  EXPECT_LE(fast->cells_computed, 1 + (L - 1) * 6);
  for (int l = 0; l < L; ++l) {
    for (int p = 0; p < 10; ++p) EXPECT_EQ(fast->values[static_cast<size_t>(l * 16 + p)], fast->corrupted_metric);
  }
}

TEST(PatchingEngines, BadRequestsAreClearErrors) {
  const HookedTransformer& m = model("models/testdata/tiny-a");
  PatchRequest r;
  r.clean_tokens = m.to_tokens("When Mary and John went");
  r.corrupted_tokens = m.to_tokens("When Mary went");
  r.metric.answer_pairs = {{1000, 2000}};
  auto mismatch = patch(m, r);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("same number of tokens"), std::string::npos) << mismatch.error().message;

  r.corrupted_tokens = r.clean_tokens;
  r.metric.position = 7;
  auto position = patch(m, r);
  ASSERT_FALSE(position.ok());
  EXPECT_NE(position.error().message.find("out of range"), std::string::npos) << position.error().message;

  r.metric.position = -1;
  r.metric.answer_pairs = {{1000, 70000}};
  EXPECT_FALSE(patch(m, r).ok());
  r.metric.answer_pairs.clear();
  EXPECT_FALSE(patch(m, r).ok());

  std::vector<int32_t> too_long(static_cast<size_t>(m.cfg().n_ctx + 1), 50);
  r.clean_tokens = r.corrupted_tokens = too_long;
  r.metric.answer_pairs = {{1000, 2000}};
  EXPECT_EQ(patch(m, r).error().code, ErrorCode::kInvalidInput);
}

TEST(PatchingEngines, ProgressAndCancellation) {
  const HookedTransformer& m = model("models/testdata/tiny-a");
  auto [clean, corrupted] = prompt_pair(8, 1, 11);
  PatchRequest r;
  r.sweep = PatchSweep::kHeadOutByPos;
  r.clean_tokens = clean;
  r.corrupted_tokens = corrupted;
  r.metric.answer_pairs = {{1000, 2000}};
  double last = -1.0;
  r.progress = [&](double f) {
    EXPECT_GE(f, last);
    last = f;
    return true;
  };
  ASSERT_TRUE(patch(m, r).ok());
  EXPECT_DOUBLE_EQ(last, 1.0);
  r.progress = [](double) { return false; };
  auto cancelled = patch(m, r);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, ErrorCode::kCancelled);
}

}  // namespace
}  // namespace hooklab::testing
