// tuneGemmKernel: the GEMM micro-kernel for this machine (core/include/hooklab/gemm_tuning.h),
// called once by the engine worker at start-up; the page remembers the pick per device and
// passes it back next time, when only its name is checked.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <string>

#include "hooklab/gemm_tuning.h"
#include "js_values.h"

namespace hooklab::wasm {
namespace {

using emscripten::val;

val describe(const GemmTuning& tuning, bool tuned) {
  val out = val::object();
  out.set("kernel", tuning.kernel);
  out.set("tuned", tuned);
  out.set("rounds", tuning.rounds);
  out.set("callsPerBatch", tuning.calls_per_batch);
  out.set("elapsedMs", tuning.elapsed_seconds * 1e3);
  val timings = val::array();
  for (const GemmKernelTiming& t : tuning.timings) {
    val entry = val::object();
    entry.set("kernel", t.kernel);
    entry.set("ms", t.best_seconds * 1e3);
    timings.call<void>("push", entry);
  }
  out.set("timings", timings);
  return out;
}

// {budgetMs, remembered?} -> {kernel, tuned, rounds, elapsedMs, timings} or null (lastError).
// A remembered kernel this build still has is returned as it is, untimed.
val tune_gemm_kernel_js(const val& options) {
  GemmTuningOptions tuning_options;
  if (has(options, "budgetMs")) tuning_options.budget_seconds = options["budgetMs"].as<double>() / 1e3;
  if (has(options, "remembered")) {
    const std::string remembered = options["remembered"].as<std::string>();
    auto backend = make_backend(tuning_options.backend, 1);
    if (!backend.ok()) return val(set_last_error(backend.error()));
    const std::vector<std::string> kernels = backend.value()->gemm_kernels();
    if (std::find(kernels.begin(), kernels.end(), remembered) != kernels.end()) {
      GemmTuning known;
      known.kernel = remembered;
      return describe(known, false);
    }
  }
  auto tuning = tune_gemm_kernel(tuning_options);
  if (!tuning.ok()) return val(set_last_error(tuning.error()));
  return describe(tuning.value(), true);
}

}  // namespace
}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_tuning) { emscripten::function("tuneGemmKernel", &hooklab::wasm::tune_gemm_kernel_js); }
