// Gradients and attribution patching against the independent PyTorch reference (autograd in
// float64, tests/reference/gradients.py and attribution.py):
//  * every <hook>_grad of every fixture case (tests/fixtures/gradients, and the attention-only
//    model's in tests/fixtures/attn-only/gradients), every metric kind,
//    processing on and off, forward zero hooks and backward zero/scale hooks, on every native
//    backend and thread count, within 1e-4 * max(1, max|ref|) per tensor;
//  * every AtP and AtP* sweep of every attribution case (tests/fixtures/attribution), each
//    metric, both directions, within 1e-4 * max(1, max|ref|) per sweep.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hooklab/attribution.h"
#include "hooklab/npy.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

using nlohmann::json;
constexpr double kRel = 1e-4;

struct BackendChoice {
  BackendKind kind;
  int threads;
  const char* label;
};
constexpr BackendChoice kBackends[] = {
    {BackendKind::kReference, 1, "reference"}, {BackendKind::kAuto, 1, "auto1"}, {BackendKind::kAuto, 2, "auto2"}};

const HookedTransformer& model_for(const json& c, const BackendChoice& backend) {
  LoadOptions options;
  if (c.value("processing", "default") == "none") options.processing = ProcessingOptions::none();
  options.backend = backend.kind;
  options.threads = backend.threads;
  return shared_repo_model(c["model"].get<std::string>(), options);
}

Metric metric_from(const json& m) {
  Metric metric;
  metric.kind = parse_metric_kind(m["kind"].get<std::string>()).value();
  if (m.contains("position") && !m["position"].is_null()) metric.position = m["position"].get<int>();
  if (m.contains("pairs")) {
    for (const auto& p : m["pairs"]) metric.answer_pairs.push_back({p[0].get<int32_t>(), p[1].get<int32_t>()});
  }
  if (m.contains("weights_file")) {
    NpyArray w = read_npy_file(repo_path(m["weights_file"].get<std::string>())).value();
    metric.linear_weights = w.values;
  }
  return metric;
}

// The fixture's hook spec ({name, action: zero|scale, heads?, positions?, factor?}) as a hook.
ForwardHook hook_from(const json& h) {
  ForwardHook hook;
  hook.name = h["name"].get<std::string>();
  if (h.contains("heads")) hook.action.heads = h["heads"].get<std::vector<int>>();
  if (h.contains("positions")) hook.action.positions = h["positions"].get<std::vector<int>>();
  if (h["action"] == "zero") {
    hook.action.kind = HookActionKind::kZero;
    return hook;
  }
  // scale: multiply the selected entries (zero them into a copy, and use the difference).
  const float factor = h["factor"].get<float>();
  HookAction select = hook.action;
  select.kind = HookActionKind::kZero;
  hook.action.kind = HookActionKind::kCallback;
  hook.action.callback = [select, factor](TensorView& t, const HookContext& ctx) -> Status {
    std::vector<float> zeroed(t.data, t.data + t.numel());
    TensorView view{zeroed.data(), t.shape};
    HOOKLAB_RETURN_IF_ERROR(apply_hook_action(select, view, ctx));
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (zeroed[static_cast<size_t>(i)] != t.data[i]) t.data[i] *= factor;
    }
    return {};
  };
  return hook;
}

void check_gradients(const json& c, const BackendChoice& backend) {
  const HookedTransformer& model = model_for(c, backend);
  RunOptions options;
  options.grad_metric = metric_from(c["metric"]);
  options.grad_filter = [](const std::string&) { return true; };
  options.use_attn_result = c["use_attn_result"].get<bool>();
  for (const auto& h : c["fwd_hooks"]) options.hooks.push_back(hook_from(h));
  for (const auto& h : c["bwd_hooks"]) options.backward_hooks.push_back(hook_from(h));
  const std::vector<int32_t> tokens = c["tokens"].get<std::vector<int32_t>>();
  Result<RunOutput> out = model.run(tokens, options);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const double metric_ref = c["metric_value"].get<double>();
  EXPECT_NEAR(out->metric, metric_ref, 1e-5 * std::max(1.0, std::fabs(metric_ref)));
  const std::string dir = c["dir"].get<std::string>();
  ASSERT_EQ(out->grads.size(), c["grad_max_abs"].size()) << "every hook point that fires has a gradient";
  double worst = 0.0;
  std::string worst_name;
  for (const auto& entry : out->grads.entries()) {
    Result<NpyArray> ref = read_npy_file(repo_path(dir + "/" + entry.name + ".npy"));
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    ASSERT_EQ(ref->shape, entry.shape) << entry.name;
    const Comparison cmp =
        compare_tensors(out->grads.arena() + entry.offset, ref->values.data(), ref->values.size(), kRel);
    EXPECT_TRUE(cmp.ok) << entry.name << ": " << cmp.detail;
    const double relative = cmp.max_abs_diff / std::max(1.0, cmp.max_abs_ref);
    if (relative > worst) worst_name = entry.name;
    worst = std::max(worst, relative);
  }
  std::printf("  %-28s %-10s %zu gradients, worst max|diff| / max(1, max|ref|) = %.2e (%s)\n",
              c["id"].get<std::string>().c_str(), backend.label, out->grads.size(), worst, worst_name.c_str());
}

void check_attribution(const json& c, PatchMethod method, MetricKind kind, const BackendChoice& backend) {
  LoadOptions options;
  options.backend = backend.kind;
  options.threads = backend.threads;
  const HookedTransformer& model = shared_repo_model(c["model"].get<std::string>(), options);
  PatchRequest request;
  request.clean_tokens = c["clean_tokens"].get<std::vector<int32_t>>();
  request.corrupted_tokens = c["corrupted_tokens"].get<std::vector<int32_t>>();
  request.direction = parse_patch_direction(c["direction"].get<std::string>()).value();
  request.metric.kind = kind;
  request.metric.position = c["metric"]["pos"].get<int>();
  if (kind == MetricKind::kLogitDiff) {
    for (const auto& p : c["metric"]["pairs"])
      request.metric.answer_pairs.push_back({p[0].get<int32_t>(), p[1].get<int32_t>()});
  } else {
    const int32_t answer = c["metric"]["answer"].get<int32_t>();
    request.metric.answer_pairs.push_back({answer, answer});
  }
  auto session = AttributionSession::start(model, request);
  ASSERT_TRUE(session.ok()) << session.error().message;
  const char* method_key = method == PatchMethod::kAtp ? "atp" : "atp_star";
  const json& by_sweep = c[method_key][metric_kind_name(kind)];
  const json& base = c["baseline"];
  const double receiving =
      base[request.direction == PatchDirection::kDenoising ? "corrupted" : "clean"][metric_kind_name(kind)];
  EXPECT_NEAR((*session)->clean_metric(), base["clean"][metric_kind_name(kind)].get<double>(), 1e-5);
  int checked = 0;
  for (PatchSweep sweep : all_patch_sweeps()) {
    const std::string fn = patch_sweep_tl_function(sweep);
    // AtP* equals AtP except where query/key cells are involved; the fixture lists only those.
    const json& entry = by_sweep.contains(fn) ? by_sweep[fn] : c["atp"][metric_kind_name(kind)][fn];
    Result<PatchResult> result = (*session)->sweep(sweep, method, false);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->shape, entry["shape"].get<Shape>()) << fn;
    const std::vector<double> expected = entry["values"].get<std::vector<double>>();
    ASSERT_EQ(result->values.size(), expected.size()) << fn;
    double max_ref = 0.0;
    for (double v : expected) max_ref = std::max(max_ref, std::fabs(v));
    const double tol = kRel * std::max(1.0, max_ref);
    for (size_t i = 0; i < expected.size(); ++i) {
      const double estimate = result->values[i] - receiving;
      ASSERT_NEAR(estimate, expected[i], tol) << fn << " " << metric_kind_name(kind) << " cell " << i;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 18);
}

class GradientParity : public ::testing::Test {
 public:
  GradientParity(json c, BackendChoice backend) : c_(std::move(c)), backend_(backend) {}
  void TestBody() override { check_gradients(c_, backend_); }

 private:
  json c_;
  BackendChoice backend_;
};

class AttributionParity : public ::testing::Test {
 public:
  AttributionParity(json c, PatchMethod method, MetricKind kind, BackendChoice backend)
      : c_(std::move(c)), method_(method), kind_(kind), backend_(backend) {}
  void TestBody() override { check_attribution(c_, method_, kind_, backend_); }

 private:
  json c_;
  PatchMethod method_;
  MetricKind kind_;
  BackendChoice backend_;
};

}  // namespace
}  // namespace hooklab::testing

int main(int argc, char** argv) {
  using namespace hooklab;
  using namespace hooklab::testing;
  ::testing::InitGoogleTest(&argc, argv);
  const json gradients = read_json_file(repo_path("tests/fixtures/gradients/manifest.json"));
  // The attention-only model's backward pass (make_fixtures.py --only-attn-only).
  const json attn_only = read_json_file(repo_path("tests/fixtures/attn-only/gradients/manifest.json"));
  const json attribution = read_json_file(repo_path("tests/fixtures/attribution/manifest.json"));
  if (gradients.is_discarded() || attn_only.is_discarded() || attribution.is_discarded()) {
    std::fprintf(stderr, "cannot read tests/fixtures/{gradients,attn-only/gradients,attribution}/manifest.json\n");
    return 1;
  }
  json cases = gradients["cases"];
  for (const auto& c : attn_only["cases"]) cases.push_back(c);
  for (const auto& c : cases) {
    for (const BackendChoice& backend : kBackends) {
      const std::string name = c["id"].get<std::string>() + "/" + backend.label;
      ::testing::RegisterTest("GradientParity", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [c, backend]() -> ::testing::Test* { return new GradientParity(c, backend); });
    }
  }
  for (const auto& entry : attribution["cases"]) {
    const json c = read_json_file(repo_path(entry["file"].get<std::string>()));
    for (PatchMethod method : {PatchMethod::kAtp, PatchMethod::kAtpStar}) {
      for (MetricKind kind : {MetricKind::kLogitDiff, MetricKind::kProb, MetricKind::kLogProb}) {
        for (const BackendChoice& backend : {kBackends[0], kBackends[2]}) {
          const std::string name = c["id"].get<std::string>() + "/" + patch_method_name(method) + "/" +
                                   metric_kind_name(kind) + "/" + backend.label;
          ::testing::RegisterTest("AttributionParity", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                                  [c, method, kind, backend]() -> ::testing::Test* {
                                    return new AttributionParity(c, method, kind, backend);
                                  });
        }
      }
    }
  }
  return RUN_ALL_TESTS();
}
