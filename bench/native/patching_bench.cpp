// Native patching-sweep cost: each sweep's time divided by the time of one full forward at the
// same T, beside the number of forwards TransformerLens runs for it (one per cell). One JSON
// object per sweep on stdout; bench/patching.mjs drives it.
//
//   patching_bench --model DIR --threads N --T 16 --differ 1 [--sweeps resid_pre,head_out,...] [--reps 3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hooklab/patching.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, sweeps = "resid_pre,resid_mid,attn_out,mlp_out,head_out,head_out_by_pos,head_pattern",
                         tokenizer = "models/tokenizer";
  int threads = 1, positions = 16, differ = 1, reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model_dir = v;
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--T") positions = std::atoi(v.c_str());
    else if (k == "--differ") differ = std::atoi(v.c_str());
    else if (k == "--sweeps") sweeps = v;
    else if (k == "--reps") reps = std::atoi(v.c_str());
    else if (k == "--tokenizer") tokenizer = v;
  }
  auto files = hooklab::read_model_directory(model_dir, tokenizer);
  if (!files.ok()) return std::fprintf(stderr, "error: %s\n", files.error().message.c_str()), 1;
  hooklab::LoadOptions options;
  options.threads = threads;
  auto model = hooklab::HookedTransformer::load(*files, options);
  if (!model.ok()) return std::fprintf(stderr, "error: %s\n", model.error().message.c_str()), 1;
  const auto& m = **model;

  // Random prompts that first differ at position `differ` (BOS at 0), like an IOI pair.
  std::mt19937 rng(7);
  std::vector<int32_t> clean(static_cast<size_t>(positions)), corrupted;
  for (auto& t : clean) t = static_cast<int32_t>(1000 + rng() % 9000);
  clean[0] = 50256;
  corrupted = clean;
  corrupted[static_cast<size_t>(differ)] = clean[static_cast<size_t>(differ)] + 1;

  std::vector<double> forward;
  for (int r = 0; r < reps + 2; ++r) {
    const auto t0 = Clock::now();
    auto out = m.run(corrupted, {});
    if (!out.ok()) return std::fprintf(stderr, "error: %s\n", out.error().message.c_str()), 1;
    if (r >= 2) forward.push_back(ms_since(t0));
  }
  const double forward_ms = median(forward);

  std::stringstream list(sweeps);
  double separate_ms = 0.0;
  hooklab::PatchRequest session;  // every listed sweep as one patch session
  session.clean_tokens = clean;
  session.corrupted_tokens = corrupted;
  session.metric.answer_pairs = {{1000, 2000}};
  for (std::string name; std::getline(list, name, ',');) {
    auto sweep = hooklab::parse_patch_sweep(name);
    if (!sweep.ok()) return std::fprintf(stderr, "error: %s\n", sweep.error().message.c_str()), 2;
    hooklab::PatchRequest request;
    request.sweep = *sweep;
    request.clean_tokens = clean;
    request.corrupted_tokens = corrupted;
    request.metric.answer_pairs = {{1000, 2000}};
    std::vector<double> times;
    hooklab::PatchResult result;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = Clock::now();
      auto out = hooklab::patch(m, request);
      if (!out.ok()) return std::fprintf(stderr, "error: %s\n", out.error().message.c_str()), 1;
      times.push_back(ms_since(t0));
      result = std::move(out).value();
    }
    const double sweep_ms = median(times);
    separate_ms += sweep_ms;
    session.items.push_back({*sweep, hooklab::PatchMethod::kExact});
    nlohmann::ordered_json row = {{"sweep", name},
                                  {"runtime", "native"},
                                  {"backend", m.backend().name()},
                                  {"threads", threads},
                                  {"T", positions},
                                  {"first_difference", differ},
                                  {"cells", static_cast<int64_t>(result.values.size())},
                                  {"cells_computed", result.cells_computed},
                                  {"sweep_ms", sweep_ms},
                                  {"forward_ms", forward_ms},
                                  {"forward_times", sweep_ms / forward_ms},
                                  {"transformer_lens_forwards", static_cast<int64_t>(result.values.size())}};
    std::printf("%s\n", row.dump().c_str());
    std::fflush(stdout);
  }
  // The same sweeps as one session: the prompts run once and cells of all sweeps share chunks.
  std::vector<double> times;
  int64_t cells = 0, computed = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    auto out = hooklab::patch_items(m, session);
    if (!out.ok()) return std::fprintf(stderr, "error: %s\n", out.error().message.c_str()), 1;
    times.push_back(ms_since(t0));
    cells = computed = 0;
    for (const hooklab::PatchResult& result : *out) {
      cells += static_cast<int64_t>(result.values.size());
      computed += result.cells_computed;
    }
  }
  const double session_ms = median(times);
  nlohmann::ordered_json row = {{"sweep", "session"},
                                {"runtime", "native"},
                                {"backend", m.backend().name()},
                                {"threads", threads},
                                {"T", positions},
                                {"first_difference", differ},
                                {"cells", cells},
                                {"cells_computed", computed},
                                {"sweep_ms", session_ms},
                                {"forward_ms", forward_ms},
                                {"forward_times", session_ms / forward_ms},
                                {"transformer_lens_forwards", cells},
                                {"separate_ms", separate_ms}};
  std::printf("%s\n", row.dump().c_str());
  return 0;
}
