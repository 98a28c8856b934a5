// Path patching against the PyTorch reference (tests/fixtures/path-patching/*.json: every sender
// cell run literally in float64), with TransformerLens processing on and off (the metrics do
// not depend on it), both metrics, normalisation, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "hooklab/path_patching.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

using nlohmann::json;
constexpr double kRel = 1e-5;

std::vector<json> fixture_cases() {
  const json manifest = read_json_file(repo_path("tests/fixtures/path-patching/manifest.json"));
  std::vector<json> out;
  if (manifest.is_discarded()) return out;
  for (const json& entry : manifest["cases"]) out.push_back(read_json_file(repo_path(entry["file"])));
  return out;
}

PathPatchRequest request_for(const json& c, MetricKind kind) {
  PathPatchRequest r;
  r.clean_tokens = c["clean_tokens"].get<std::vector<int32_t>>();
  r.corrupted_tokens = c["corrupted_tokens"].get<std::vector<int32_t>>();
  r.direction = c["direction"] == "noising" ? PatchDirection::kNoising : PatchDirection::kDenoising;
  r.metric.kind = kind;
  r.metric.position = c["pos"].get<int>();
  for (const json& p : c["pairs"]) r.metric.answer_pairs.push_back({p[0].get<int32_t>(), p[1].get<int32_t>()});
  if (kind != MetricKind::kLogitDiff) r.metric.answer_pairs = {{c["answer"].get<int32_t>(), 0}};
  for (const json& rec : c["receivers"]) {
    r.receivers.push_back({rec["layer"].get<int>(), rec["head"].get<int>(),
                           parse_path_receiver_input(rec["input"].get<std::string>()).value()});
  }
  return r;
}

void expect_matches(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double max_ref = 0.0;
  for (double w : want) max_ref = std::max(max_ref, std::abs(w));
  const double tol = kRel * std::max(1.0, max_ref);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " cell " << i;
}

TEST(PathPatching, EverySenderMatchesTheReference) {
  const std::vector<json> cases = fixture_cases();
  ASSERT_GE(cases.size(), 10u) << "tests/fixtures/path-patching is missing: run make_fixtures.py --only-path-patching";
  for (const json& c : cases) {
    for (const bool processed : {true, false}) {
      LoadOptions options;
      if (!processed) options.processing = ProcessingOptions::none();
      const HookedTransformer& m = shared_repo_model(c["model"].get<std::string>(), options);
      for (const auto& [name, kind] :
           {std::pair{"logit_diff", MetricKind::kLogitDiff}, {"logprob", MetricKind::kLogProb}}) {
        const std::string what = c["id"].get<std::string>() + " " + name + (processed ? " processed" : " raw");
        auto result = path_patch(m, request_for(c, kind));
        ASSERT_TRUE(result.ok()) << what << ": " << result.error().message;
        EXPECT_EQ(result->shape, (Shape{m.cfg().n_layers, m.cfg().n_heads})) << what;
        expect_matches(result->values, c["values"][name].get<std::vector<double>>(), what);
        expect_matches({result->clean_metric, result->corrupted_metric},
                       {c["baseline"]["clean"][name].get<double>(), c["baseline"]["corrupted"][name].get<double>()},
                       what);
        // Senders that cannot reach a receiver are not run, and read the receiving metric.
        int reach = m.cfg().n_layers;
        if (!c["receivers"].empty()) {
          reach = 0;
          for (const json& rec : c["receivers"]) reach = std::max(reach, rec["layer"].get<int>());
        }
        EXPECT_EQ(result->cells_computed, int64_t{reach} * m.cfg().n_heads) << what;
      }
    }
  }
}

TEST(PathPatching, NormalisedIsTheRawValueScaledBetweenTheBaselines) {
  const json c = fixture_cases().at(0);
  const HookedTransformer& m = shared_repo_model(c["model"].get<std::string>());
  PathPatchRequest request = request_for(c, MetricKind::kLogitDiff);
  const PathPatchResult raw = path_patch(m, request).value();
  request.normalize = true;
  const PathPatchResult normalised = path_patch(m, request).value();
  auto scaled = [&](double v) { return (v - raw.corrupted_metric) / (raw.clean_metric - raw.corrupted_metric); };
  for (size_t i = 0; i < raw.values.size(); ++i) EXPECT_NEAR(normalised.values[i], scaled(raw.values[i]), 1e-12);
  EXPECT_NEAR(normalised.receiving_metric, scaled(raw.receiving_metric), 1e-12);
  EXPECT_EQ(normalised.clean_metric, raw.clean_metric);
}

TEST(PathPatching, ProgressReachesOneAndCancelStops) {
  const json c = fixture_cases().at(0);
  const HookedTransformer& m = shared_repo_model(c["model"].get<std::string>());
  PathPatchRequest request = request_for(c, MetricKind::kLogitDiff);
  // The job itself: one sender a step, its progress rising to exactly 1 at the last step.
  auto job = PathPatchJob::start(m, request).value();
  std::vector<double> seen;
  for (bool done = false; !done;) {
    done = job->step().value();
    seen.push_back(job->progress());
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(m.cfg().n_layers * m.cfg().n_heads));
  EXPECT_EQ(seen.back(), 1.0);
  EXPECT_LT(seen[seen.size() - 2], 1.0);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  request.progress = [](double p) { return p < 0.3; };
  auto cancelled = path_patch(m, request);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, ErrorCode::kCancelled);
}

TEST(PathPatching, BadInputIsAClearError) {
  const json c = fixture_cases().at(0);
  const HookedTransformer& m = shared_repo_model(c["model"].get<std::string>());
  PathPatchRequest request = request_for(c, MetricKind::kLogitDiff);
  request.receivers = {{m.cfg().n_layers, 0, PathReceiverInput::kQuery}};
  auto out = path_patch(m, request);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("is not a head of this model"), std::string::npos) << out.error().message;
  request = request_for(c, MetricKind::kLogitDiff);
  request.corrupted_tokens.pop_back();
  out = path_patch(m, request);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("same number of tokens"), std::string::npos) << out.error().message;

  EXPECT_EQ(path_receiver_label(parse_path_receiver("9.10:k").value()), "9.10:k");
  for (const char* bad : {"9.9", "9:q", "a.b:q", "1.2:z", "1.2:", ".2:q", "1.-2:q"}) {
    EXPECT_FALSE(parse_path_receiver(bad).ok()) << bad;
  }
  EXPECT_NE(parse_path_receiver("1.2:z").error().message.find("one of: q, k, v"), std::string::npos);
}

}  // namespace
}  // namespace hooklab::testing
