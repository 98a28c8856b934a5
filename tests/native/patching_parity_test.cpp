// Every patching sweep against the PyTorch reference (tests/fixtures/patching/*.json, one
// hooked forward per cell in torch), for both engines: the plain engine (the oracle) and the
// fast one. Values within 1e-5 * max(1, max|ref|) of each sweep; ranks exactly, wherever the
// reference's top-two logit margin is large enough for float32 noise not to flip them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hooklab/patching.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

using nlohmann::json;
constexpr double kRel = 1e-5;

// Sweep values are stored as nested lists in the sweep's shape; flatten in row-major order.
void flatten(const json& v, std::vector<double>& out) {
  if (v.is_array()) {
    for (const auto& x : v) flatten(x, out);
  } else {
    out.push_back(v.get<double>());
  }
}

std::vector<double> flat(const json& v) {
  std::vector<double> out;
  flatten(v, out);
  return out;
}

const HookedTransformer& model(const std::string& dir) { return shared_repo_model(dir); }

struct SweepName {
  const char* tl_function;
  PatchSweep sweep;
};

// Fixtures name sweeps by their TransformerLens function.
std::vector<SweepName> all_sweeps() {
  std::vector<SweepName> out;
  for (PatchSweep sweep : all_patch_sweeps()) out.push_back({patch_sweep_tl_function(sweep), sweep});
  return out;
}

enum class Engine { kPlain, kFast };

PatchRequest request_for(const json& c, PatchSweep sweep, MetricKind metric) {
  PatchRequest r;
  r.sweep = sweep;
  r.clean_tokens = c["clean"]["tokens"].get<std::vector<int32_t>>();
  r.corrupted_tokens = c["corrupted"]["tokens"].get<std::vector<int32_t>>();
  r.direction = c["direction"] == "noising" ? PatchDirection::kNoising : PatchDirection::kDenoising;
  r.metric.kind = metric;
  r.metric.position = c["metric"]["pos"].get<int>();
  if (metric == MetricKind::kLogitDiff) {
    for (const auto& pair : c["metric"]["pairs"])
      r.metric.answer_pairs.push_back({pair[0].get<int32_t>(), pair[1].get<int32_t>()});
  } else {
    const int32_t answer = c["metric"]["answer"].get<int32_t>();
    r.metric.answer_pairs.push_back({answer, answer});
  }
  return r;
}

void check(const json& c, const SweepName& s, MetricKind metric, Engine engine) {
  const HookedTransformer& m = model(c["model"].get<std::string>());
  const PatchRequest request = request_for(c, s.sweep, metric);
  auto result = engine == Engine::kPlain ? patch_plain(m, request) : patch(m, request);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const json& sweep = c["sweeps"][s.tl_function];
  EXPECT_EQ(result->shape, sweep["shape"].get<Shape>());
  const std::vector<double> expected = flat(sweep["values"][metric_kind_name(metric)]);
  ASSERT_EQ(result->values.size(), expected.size());
  double max_ref = 0.0, max_diff = 0.0;
  for (double v : expected) max_ref = std::max(max_ref, std::fabs(v));
  const double tol = kRel * std::max(1.0, max_ref);
  const std::vector<double> margins = flat(sweep["values"]["rank_margin"]);
  int rank_checked = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (metric == MetricKind::kRank) {
      // A rank is exact only if the reference's nearest competing logit is far enough away.
      if (margins[i] < 1e-4) continue;
      ++rank_checked;
      EXPECT_EQ(result->values[i], expected[i]) << s.tl_function << " cell " << i;
      continue;
    }
    const double diff = std::fabs(result->values[i] - expected[i]);
    max_diff = std::max(max_diff, diff);
    EXPECT_LE(diff, tol) << s.tl_function << " " << metric_kind_name(metric) << " cell " << i << ": "
                         << result->values[i] << " vs " << expected[i];
  }
  if (metric == MetricKind::kRank) { EXPECT_GE(rank_checked, static_cast<int>(expected.size()) / 2); }
  const json& base = c["baseline"];
  if (metric == MetricKind::kLogitDiff) {
    EXPECT_NEAR(result->clean_metric, base["clean"]["logit_diff"].get<double>(), tol);
    EXPECT_NEAR(result->corrupted_metric, base["corrupted"]["logit_diff"].get<double>(), tol);
  }
  std::printf("  %-46s %-9s %-6s max|diff| %.3g tol %.3g (%zu cells, %lld run)\n", s.tl_function,
              metric_kind_name(metric), engine == Engine::kPlain ? "plain" : "fast", max_diff, tol, expected.size(),
              static_cast<long long>(result->cells_computed));
}

class PatchingParity : public ::testing::Test {
 public:
  PatchingParity(json c, SweepName s, MetricKind metric, Engine engine)
      : c_(std::move(c)), s_(s), metric_(metric), engine_(engine) {}
  void TestBody() override { check(c_, s_, metric_, engine_); }

 private:
  json c_;
  SweepName s_;
  MetricKind metric_;
  Engine engine_;
};

}  // namespace
}  // namespace hooklab::testing

int main(int argc, char** argv) {
  using namespace hooklab;
  using namespace hooklab::testing;
  ::testing::InitGoogleTest(&argc, argv);
  const json manifest = read_json_file(repo_path("tests/fixtures/patching/manifest.json"));
  if (manifest.is_discarded()) {
    std::fprintf(stderr, "cannot read tests/fixtures/patching/manifest.json\n");
    return 1;
  }
  for (const auto& entry : manifest["cases"]) {
    const json c = read_json_file(repo_path(entry["file"].get<std::string>()));
    for (Engine engine : {Engine::kPlain, Engine::kFast}) {
      for (const SweepName& s : all_sweeps()) {
        // The plain engine is one forward per cell: check it on every sweep with logit_diff,
        // and on the two cheapest sweeps with every metric. The fast engine gets everything.
        std::vector<MetricKind> metrics = {MetricKind::kLogitDiff};
        const bool cheap = s.sweep == PatchSweep::kResidPre || s.sweep == PatchSweep::kHeadOutAllPos;
        if (engine == Engine::kFast || cheap)
          metrics = {MetricKind::kLogitDiff, MetricKind::kProb, MetricKind::kLogProb, MetricKind::kRank};
        for (MetricKind metric : metrics) {
          const std::string name = c["id"].get<std::string>() + "/" + s.tl_function + "/" + metric_kind_name(metric) +
                                   "/" + (engine == Engine::kPlain ? "plain" : "fast");
          ::testing::RegisterTest(
              "PatchingParity", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
              [c, s, metric, engine]() -> ::testing::Test* { return new PatchingParity(c, s, metric, engine); });
        }
      }
    }
  }
  return RUN_ALL_TESTS();
}
