// Gradients, attribution patching and datasets beyond the reference fixtures: error paths
// (every bad name, metric or dataset line gets a message that names it), identities that must
// hold on any model, and the dataset statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "hooklab/attribution.h"
#include "hooklab/logits.h"
#include "hooklab/patch_dataset.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

const HookedTransformer& tiny_a() { return shared_repo_model("models/testdata/tiny-a"); }
const HookedTransformer& demo() { return shared_repo_model("models/hooklab-demo"); }

constexpr const char* kClean = "When Mary and John went to the store, John gave a drink to";
constexpr const char* kCorrupted = "When Mary and John went to the store, Mary gave a drink to";

PatchRequest ioi_request(const HookedTransformer& m, PatchSweep sweep, PatchMethod method) {
  PatchRequest r;
  r.sweep = sweep;
  r.method = method;
  r.clean_tokens = m.to_tokens(kClean);
  r.corrupted_tokens = m.to_tokens(kCorrupted);
  r.metric.answer_pairs.push_back({m.to_single_token(" Mary").value(), m.to_single_token(" John").value()});
  return r;
}

template <class T>
std::string error_of(const Result<T>& r) {
  return r.ok() ? "" : r.error().message;
}

TEST(Names, EveryUnknownNameIsAnErrorListingTheKnownOnes) {
  EXPECT_NE(error_of(parse_metric_kind("logit-diff")).find("logit_diff, prob"), std::string::npos);
  EXPECT_NE(error_of(parse_patch_method("atp*")).find("exact, atp, atp-star"), std::string::npos);
  EXPECT_NE(error_of(parse_patch_direction("denoise")).find("denoising, noising"), std::string::npos);
  EXPECT_NE(error_of(parse_patch_sweep("resid")).find("resid_pre"), std::string::npos);
  for (PatchSweep s : all_patch_sweeps()) EXPECT_EQ(parse_patch_sweep(patch_sweep_name(s)).value(), s);
}

TEST(Gradients, MetricsWithoutAGradientAndBadMetricsAreErrors) {
  const HookedTransformer& m = tiny_a();
  const std::vector<int32_t> tokens = m.to_tokens("Hello world");
  Metric rank;
  rank.kind = MetricKind::kRank;
  rank.answer_pairs.push_back({1, 1});
  EXPECT_NE(error_of(m.run_with_cache_and_grads(tokens, rank)).find("has no gradient"), std::string::npos);
  Metric token_loss;
  token_loss.kind = MetricKind::kTokenLoss;
  EXPECT_NE(error_of(m.run_with_cache_and_grads(tokens, token_loss)).find("last position"), std::string::npos);
  Metric linear;
  linear.kind = MetricKind::kLinear;
  linear.linear_weights.assign(7, 1.0f);
  EXPECT_NE(error_of(m.run_with_cache_and_grads(tokens, linear)).find("expected d_vocab"), std::string::npos);
  Metric loss;
  loss.kind = MetricKind::kLoss;
  EXPECT_NE(error_of(m.run_with_cache_and_grads(m.to_tokens(""), loss)).find("at least 2 tokens"), std::string::npos);
  Metric diff;  // logit_diff without answers
  EXPECT_NE(error_of(m.run_with_cache_and_grads(tokens, diff)).find("needs an answer"), std::string::npos);
}

TEST(Gradients, CallbackForwardHooksHaveNoKnownGradient) {
  const HookedTransformer& m = tiny_a();
  RunOptions options;
  options.grad_metric = Metric{};
  options.grad_metric->kind = MetricKind::kLoss;
  ForwardHook hook;
  hook.name = "blocks.0.hook_mlp_out";
  hook.action.kind = HookActionKind::kCallback;
  hook.action.callback = [](TensorView&, const HookContext&) { return Status{}; };
  options.hooks.push_back(hook);
  EXPECT_NE(error_of(m.run(m.to_tokens("Hello world"), options)).find("blocks.0.hook_mlp_out"), std::string::npos);
}

TEST(Gradients, TheCacheHoldsOnlyWhatTheFilterKeeps) {
  const HookedTransformer& m = tiny_a();
  Metric loss;
  loss.kind = MetricKind::kLoss;
  auto only_z = [](const std::string& name) { return name == "blocks.1.attn.hook_z"; };
  Result<RunOutput> out = m.run_with_cache_and_grads(m.to_tokens("Hello world, again"), loss, only_z);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->cache.size(), 1u);
  ASSERT_EQ(out->grads.size(), 1u);
  EXPECT_EQ(out->grads.entries()[0].name, "blocks.1.attn.hook_z_grad");
  EXPECT_TRUE(out->grads.get("blocks.1.attn.hook_z_grad").ok());
  EXPECT_TRUE(out->grads.get("z", 1).ok());
  EXPECT_NEAR(out->metric, mean_loss(out->logits, m.to_tokens("Hello world, again")), 1e-6);
}

// A central difference of the metric along one activation entry, through an add hook.
TEST(Gradients, AgreeWithFiniteDifferencesOnTheDemoModel) {
  const HookedTransformer& m = demo();
  const PatchRequest r = ioi_request(m, PatchSweep::kResidPre, PatchMethod::kAtp);
  const Metric metric = r.metric;
  Result<RunOutput> base = m.run_with_cache_and_grads(r.clean_tokens, metric);
  ASSERT_TRUE(base.ok());
  const int D = m.cfg().d_model;
  for (const char* name : {"blocks.1.hook_resid_mid", "blocks.2.attn.hook_v", "blocks.0.mlp.hook_post"}) {
    const TensorView grad = base->grads.get(name).value();
    for (int64_t index : {int64_t{5} * D + 3, grad.numel() - 7}) {
      const double eps = 1e-2;
      double values[2];
      for (int side = 0; side < 2; ++side) {
        ForwardHook hook;
        hook.name = name;
        hook.action.kind = HookActionKind::kAdd;
        auto delta = std::make_shared<std::vector<float>>(static_cast<size_t>(grad.numel()), 0.0f);
        (*delta)[static_cast<size_t>(index)] = static_cast<float>(side == 0 ? eps : -eps);
        hook.action.source = TensorView{delta->data(), grad.shape};
        hook.action.source_owner = delta;
        values[side] = evaluate_metric(metric, m.run_with_hooks(r.clean_tokens, {hook}).value().logits);
      }
      const double numeric = (values[0] - values[1]) / (2 * eps);
      EXPECT_NEAR(grad.data[index], numeric, 2e-3 * std::max(1.0, std::fabs(numeric))) << name << "[" << index << "]";
    }
  }
}

TEST(Attribution, IdenticalPromptsEstimateNoChange) {
  const HookedTransformer& m = tiny_a();
  PatchRequest r = ioi_request(m, PatchSweep::kHeadByPosEvery, PatchMethod::kAtpStar);
  r.corrupted_tokens = r.clean_tokens;
  auto session = AttributionSession::start(m, r).value();
  for (PatchSweep s : all_patch_sweeps()) {
    for (PatchMethod method : {PatchMethod::kAtp, PatchMethod::kAtpStar}) {
      const PatchResult result = session->sweep(s, method, false).value();
      for (double v : result.values) ASSERT_EQ(v, session->corrupted_metric()) << patch_sweep_name(s);
    }
  }
}

TEST(Attribution, EachMethodRunsByItsOwnEngineAndSessionsRefuseExact) {
  const HookedTransformer& m = tiny_a();
  const PatchRequest r = ioi_request(m, PatchSweep::kHeadOutAllPos, PatchMethod::kExact);
  const PatchResult via_patch = patch(m, r).value();
  auto session = AttributionSession::start(m, r).value();
  EXPECT_FALSE(session->sweep(PatchSweep::kResidPre, PatchMethod::kExact, false).ok());
  // A job computes each item by its own method: an atp request is estimated, not run exactly.
  PatchRequest atp = r;
  atp.method = PatchMethod::kAtp;
  const PatchResult estimated = patch(m, atp).value();
  EXPECT_EQ(estimated.method, PatchMethod::kAtp);
  EXPECT_EQ(estimated.values, session->sweep(r.sweep, PatchMethod::kAtp, false).value().values);
  EXPECT_NE(estimated.values, via_patch.values);
  EXPECT_FALSE(patch_plain(m, atp).ok()) << "the oracle runs exact sweeps only";
}

// One patch session (several sweeps and methods from one pair of baseline runs, exact cells
// of every sweep chunked together) gives each item what a request for that item alone gives.
TEST(PatchSession, EveryItemEqualsItsOwnRequest) {
  const HookedTransformer& m = demo();
  for (PatchDirection direction : {PatchDirection::kDenoising, PatchDirection::kNoising}) {
    PatchRequest session = ioi_request(m, PatchSweep::kResidPre, PatchMethod::kExact);
    session.direction = direction;
    session.normalize = true;
    for (PatchSweep sweep : {PatchSweep::kHeadOutByPos, PatchSweep::kResidPre, PatchSweep::kBlockEvery,
                             PatchSweep::kHeadByPosEvery, PatchSweep::kMlpOut, PatchSweep::kHeadPatternAllPos}) {
      session.items.push_back({sweep, PatchMethod::kExact});
    }
    session.items.push_back({PatchSweep::kHeadByPosEvery, PatchMethod::kAtpStar});
    session.items.push_back({PatchSweep::kResidPre, PatchMethod::kAtp});
    std::vector<double> progress;
    session.progress = [&](double f) {
      progress.push_back(f);
      return true;
    };
    const std::vector<PatchResult> together = patch_items(m, session).value();
    ASSERT_EQ(together.size(), session.items.size());
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), 1.0);
    EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
    for (size_t i = 0; i < session.items.size(); ++i) {
      PatchRequest alone = session;
      alone.items.clear();
      alone.progress = nullptr;
      alone.sweep = session.items[i].sweep;
      alone.method = session.items[i].method;
      const PatchResult expected = patch(m, alone).value();
      const PatchResult& got = together[i];
      const std::string what = std::string(patch_sweep_name(alone.sweep)) + " " + patch_method_name(alone.method);
      EXPECT_EQ(got.sweep, alone.sweep) << what;
      EXPECT_EQ(got.method, alone.method) << what;
      EXPECT_EQ(got.shape, expected.shape) << what;
      EXPECT_EQ(got.cells_computed, expected.cells_computed) << what;
      EXPECT_EQ(got.clean_metric, expected.clean_metric) << what;
      EXPECT_EQ(got.corrupted_metric, expected.corrupted_metric) << what;
      ASSERT_EQ(got.values.size(), expected.values.size()) << what;
      // Chunks stack other cells beside these, which may change the kernels' row blocking.
      for (size_t k = 0; k < got.values.size(); ++k) {
        EXPECT_NEAR(got.values[k], expected.values[k], 1e-5 * std::max(1.0, std::abs(expected.values[k])))
            << what << " cell " << k;
      }
    }
  }
}

TEST(PatchSession, ItemsAreCheckedAndTheOracleTakesOneSweep) {
  const HookedTransformer& m = tiny_a();
  PatchRequest r = ioi_request(m, PatchSweep::kResidPre, PatchMethod::kExact);
  r.items = {{PatchSweep::kResidPre, PatchMethod::kExact}, {PatchSweep::kAttnOut, PatchMethod::kAtp}};
  EXPECT_FALSE(patch_plain(m, r).ok());
  r.metric.kind = MetricKind::kRank;  // exact sweeps can rank; an estimate needs a gradient
  EXPECT_NE(error_of(patch_items(m, r)).find("rank"), std::string::npos) << error_of(patch_items(m, r));
  r.items = {{PatchSweep::kResidPre, PatchMethod::kExact}};
  EXPECT_TRUE(patch_items(m, r).ok());
}

TEST(Attribution, NormalisationMatchesTheExactSweepsConvention) {
  const HookedTransformer& m = demo();
  PatchRequest r = ioi_request(m, PatchSweep::kResidPre, PatchMethod::kAtp);
  const PatchResult raw = patch(m, r).value();
  r.normalize = true;
  const PatchResult normalized = patch(m, r).value();
  const double denom = raw.clean_metric - raw.corrupted_metric;
  for (size_t i = 0; i < raw.values.size(); ++i) {
    EXPECT_NEAR(normalized.values[i], (raw.values[i] - raw.corrupted_metric) / denom, 1e-12);
  }
  const SweepAgreement self = compare_sweeps(raw.values, raw.values);
  EXPECT_NEAR(self.pearson, 1.0, 1e-12);
  EXPECT_NEAR(self.spearman, 1.0, 1e-12);
  EXPECT_EQ(self.top_k_overlap, 1.0);
}

TEST(Dataset, BadLinesAreErrorsThatNameTheLine) {
  const HookedTransformer& m = demo();
  const std::string good =
      R"({"clean": "When Mary and John went", "corrupted": "When John and Mary went", "answer": " Mary", "wrong": " John"})";
  EXPECT_NE(error_of(parse_prompt_pairs_jsonl(m, good + "\n{not json\n")).find("dataset line 2: not a JSON object"),
            std::string::npos);
  EXPECT_NE(error_of(parse_prompt_pairs_jsonl(m, good + "\n" + R"({"clean": "a b c", "corrupted": "a b"})"))
                .find("dataset line 2: every prompt must have the same number of tokens"),
            std::string::npos);
  EXPECT_NE(error_of(parse_prompt_pairs_jsonl(m, "\n\n" + std::string(R"({"clean": 3, "corrupted": "x"})")))
                .find("dataset line 3: \"clean\" must be a string"),
            std::string::npos);
  EXPECT_NE(error_of(parse_prompt_pairs_jsonl(m, R"({"clean": "a", "corrupted": "b", "answer": " Mary Mary"})"))
                .find("dataset line 1: ' Mary Mary' is not a single token"),
            std::string::npos);
  EXPECT_NE(error_of(parse_prompt_pairs_jsonl(m, "  \n")).find("no prompt pairs"), std::string::npos);
  EXPECT_EQ(parse_prompt_pairs_jsonl(m, good + "\r\n" + good + "\n").value().size(), 2u);
}

TEST(Dataset, MeansAndBootstrapIntervals) {
  std::vector<double> mean, low, high;
  bootstrap_mean_interval({1, 2, 1, 2, 1, 2}, 3, 2, 500, 7, mean, low, high);  // identical rows
  EXPECT_EQ(mean, (std::vector<double>{1, 2}));
  EXPECT_EQ(low, mean);
  EXPECT_EQ(high, mean);
  std::vector<double> rows;
  for (int i = 0; i < 40; ++i) rows.push_back(i % 2 == 0 ? 0.0 : 1.0);
  bootstrap_mean_interval(rows, 40, 1, 2000, 3, mean, low, high);
  EXPECT_DOUBLE_EQ(mean[0], 0.5);
  // A mean of 40 fair coins: standard error 0.079, so the interval is about 0.5 +- 0.155.
  EXPECT_NEAR(low[0], 0.345, 0.05);
  EXPECT_NEAR(high[0], 0.655, 0.05);
}

TEST(Dataset, EachPairsSweepAggregated) {
  const HookedTransformer& m = demo();
  const std::string text =
      R"({"clean": "When Mary and John went to the store, John gave a drink to", "corrupted": "When Mary and John went to the store, Mary gave a drink to", "answer": " Mary", "wrong": " John"})"
      "\n"
      R"({"clean": "When Tom and Anna went to the park, Anna gave a ball to", "corrupted": "When Tom and Anna went to the park, Tom gave a ball to", "answer": " Tom", "wrong": " Anna"})";
  Result<std::vector<PromptPair>> pairs = parse_prompt_pairs_jsonl(m, text);
  ASSERT_TRUE(pairs.ok()) << pairs.error().message;
  PatchRequest r = ioi_request(m, PatchSweep::kResidPre, PatchMethod::kAtp);
  const DatasetPatchResult d = patch_dataset(m, r, *pairs, 200, 1).value();
  EXPECT_EQ(d.pairs, 2);
  std::vector<double> by_hand(d.mean.size(), 0.0);
  for (const PromptPair& p : *pairs) {
    PatchRequest one = r;
    one.clean_tokens = p.clean_tokens;
    one.corrupted_tokens = p.corrupted_tokens;
    one.metric.answer_pairs = p.answer_pairs;
    const PatchResult single = patch(m, one).value();
    for (size_t i = 0; i < by_hand.size(); ++i) by_hand[i] += single.values[i] / 2.0;
  }
  for (size_t i = 0; i < by_hand.size(); ++i) {
    EXPECT_NEAR(d.mean[i], by_hand[i], 1e-9);
    EXPECT_LE(d.ci_low[i], d.mean[i] + 1e-12);
    EXPECT_GE(d.ci_high[i], d.mean[i] - 1e-12);
  }
}

}  // namespace
}  // namespace hooklab::testing
