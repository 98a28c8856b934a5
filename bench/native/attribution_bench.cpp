// Native attribution-patching cost: the backward pass against a plain forward, AtP and AtP* for
// every cell of every sweep (all_patch_sweeps()) from ONE AttributionSession (its start -- two
// forwards and one backward -- included), each sweep on its own, and a few exact sweeps (patch())
// for comparison. Times are also given in forward-times (divided by one plain forward at the same
// T, same run). One JSON object per row on stdout; bench/attribution.mjs drives it.
//
//   attribution_bench --model DIR --threads N [--T 16,64] [--differ 1] [--reps 5]
//                     [--exact resid_pre,head_out,head_out_by_pos@16] [--exact-reps 1]
//
// --exact lists the exact sweeps to time; "name@16" restricts one to that T. "none" skips them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hooklab/attribution.h"
#include "hooklab/patching.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream list(s);
  for (std::string item; std::getline(list, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, tokenizer = "models/tokenizer", t_list = "16,64",
                         exact = "resid_pre,head_out,head_out_by_pos@16";
  int threads = 1, differ = 1, reps = 5, exact_reps = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model_dir = v;
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--T") t_list = v;
    else if (k == "--differ") differ = std::atoi(v.c_str());
    else if (k == "--reps") reps = std::atoi(v.c_str());
    else if (k == "--exact") exact = v;
    else if (k == "--exact-reps") exact_reps = std::atoi(v.c_str());
    else if (k == "--tokenizer") tokenizer = v;
    else fail("unknown option " + k);
  }
  auto files = hooklab::read_model_directory(model_dir, tokenizer);
  if (!files.ok()) fail(files.error().message);
  hooklab::LoadOptions options;
  options.threads = threads;
  auto loaded = hooklab::HookedTransformer::load(*files, options);
  if (!loaded.ok()) fail(loaded.error().message);
  const hooklab::HookedTransformer& m = **loaded;
  const std::string backend = m.backend().name();
  const std::vector<hooklab::PatchSweep> sweeps = hooklab::all_patch_sweeps();

  for (const std::string& t_text : split(t_list)) {
    const int positions = std::atoi(t_text.c_str());
    // Random prompts that first differ at position `differ` (BOS at 0), as patching_bench.
    std::mt19937 rng(7);
    std::vector<int32_t> clean(static_cast<size_t>(positions)), corrupted;
    for (auto& t : clean) t = static_cast<int32_t>(1000 + rng() % 9000);
    clean[0] = 50256;
    corrupted = clean;
    corrupted[static_cast<size_t>(differ)] = clean[static_cast<size_t>(differ)] + 1;

    hooklab::PatchRequest request;
    request.clean_tokens = clean;
    request.corrupted_tokens = corrupted;
    request.metric.kind = hooklab::MetricKind::kLogitDiff;
    request.metric.answer_pairs = {{1000, 2000}};
    request.normalize = true;

    auto row = [&](const char* method, const std::string& sweep) {
      return nlohmann::ordered_json{{"method", method},          {"sweep", sweep},     {"runtime", "native"},
                                    {"backend", backend},        {"threads", threads}, {"T", positions},
                                    {"first_difference", differ}};
    };
    auto emit = [](const nlohmann::ordered_json& r) {
      std::printf("%s\n", r.dump().c_str());
      std::fflush(stdout);
    };

    // Plain forward vs forward + backward of logit_diff (no activations or gradients kept),
    // interleaved so both medians see the same machine state.
    hooklab::RunOptions plain;
    hooklab::RunOptions with_grad;
    with_grad.grad_metric = request.metric;
    std::vector<double> forward, forward_backward;
    for (int r = 0; r < reps + 1; ++r) {  // one warm-up
      auto t0 = Clock::now();
      auto a = m.run(corrupted, plain);
      if (!a.ok()) fail(a.error().message);
      const double f = ms_since(t0);
      t0 = Clock::now();
      auto b = m.run(corrupted, with_grad);
      if (!b.ok()) fail(b.error().message);
      const double fb = ms_since(t0);
      if (r >= 1) forward.push_back(f), forward_backward.push_back(fb);
    }
    const double forward_ms = median(forward), fwd_bwd_ms = median(forward_backward);
    {
      auto r = row("backward", "");
      r["ms"] = fwd_bwd_ms - forward_ms;
      r["forward_ms"] = forward_ms;
      r["forward_backward_ms"] = fwd_bwd_ms;
      r["forward_times"] = (fwd_bwd_ms - forward_ms) / forward_ms;
      emit(r);
    }

    // AtP / AtP*: every sweep from one session; the total includes the session's start.
    for (const hooklab::PatchMethod method : {hooklab::PatchMethod::kAtp, hooklab::PatchMethod::kAtpStar}) {
      std::vector<double> total, start;
      std::vector<std::vector<double>> per_sweep(sweeps.size());
      std::vector<int64_t> cells(sweeps.size(), 0);
      const int warm = method == hooklab::PatchMethod::kAtp ? 1 : 0;  // AtP* runs warm after AtP
      for (int r = 0; r < reps + warm; ++r) {
        const auto t0 = Clock::now();
        auto session = hooklab::AttributionSession::start(m, request);
        if (!session.ok()) fail(session.error().message);
        const double start_ms = ms_since(t0);
        for (size_t i = 0; i < sweeps.size(); ++i) {
          const auto t1 = Clock::now();
          auto result = (*session)->sweep(sweeps[i], method, true);
          if (!result.ok()) fail(result.error().message);
          if (r >= warm) per_sweep[i].push_back(ms_since(t1));
          cells[i] = static_cast<int64_t>(result->values.size());
        }
        if (r >= warm) total.push_back(ms_since(t0)), start.push_back(start_ms);
      }
      const char* name = hooklab::patch_method_name(method);
      int64_t all_cells = 0;
      for (int64_t c : cells) all_cells += c;
      const double start_ms = median(start), all_ms = median(total);
      auto r = row(name, "all");
      r["ms"] = all_ms;
      r["forward_ms"] = forward_ms;
      r["forward_times"] = all_ms / forward_ms;
      r["start_ms"] = start_ms;
      r["sweeps"] = static_cast<int64_t>(sweeps.size());
      r["cells"] = all_cells;
      emit(r);
      for (size_t i = 0; i < sweeps.size(); ++i) {
        // One sweep on its own: a session's start plus that sweep's estimate.
        auto s = row(name, hooklab::patch_sweep_name(sweeps[i]));
        const double sweep_ms = median(per_sweep[i]);
        s["ms"] = start_ms + sweep_ms;
        s["forward_ms"] = forward_ms;
        s["forward_times"] = (start_ms + sweep_ms) / forward_ms;
        s["start_ms"] = start_ms;
        s["sweep_ms"] = sweep_ms;
        s["cells"] = cells[i];
        emit(s);
      }
    }

    // A few exact sweeps (the fast engine), for scale; never the exact "all".
    if (exact == "none") continue;
    for (const std::string& item : split(exact)) {
      std::string name = item;
      const size_t at = item.find('@');
      if (at != std::string::npos) {
        name = item.substr(0, at);
        if (std::atoi(item.c_str() + at + 1) != positions) continue;
      }
      auto sweep = hooklab::parse_patch_sweep(name);
      if (!sweep.ok()) fail(sweep.error().message);
      hooklab::PatchRequest exact_request = request;
      exact_request.sweep = *sweep;
      exact_request.method = hooklab::PatchMethod::kExact;
      std::vector<double> times;
      hooklab::PatchResult result;
      for (int rep = 0; rep < exact_reps; ++rep) {
        const auto t0 = Clock::now();
        auto out = hooklab::patch(m, exact_request);
        if (!out.ok()) fail(out.error().message);
        times.push_back(ms_since(t0));
        result = std::move(out).value();
      }
      const double ms = median(times);
      auto r = row("exact", name);
      r["ms"] = ms;
      r["forward_ms"] = forward_ms;
      r["forward_times"] = ms / forward_ms;
      r["cells"] = static_cast<int64_t>(result.values.size());
      r["cells_computed"] = result.cells_computed;
      emit(r);
    }
  }
  return 0;
}
