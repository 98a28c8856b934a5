// Benchmark entry points for bench/forward.mjs, run in the engine's worker in Chromium: the
// wasm SIMD mul + add ceiling and one GEMM shape's throughput, with the same code as the GEMM
// micro-benchmark (bench/kernels/), so the page compares the forward with a ceiling measured in
// the same browser. Both allocate (GEMM: up to ~160 MB of weights), and wasm memory never
// shrinks: read memoryStats() before calling them.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <memory>

#include "../../bench/kernels/gemm_measure.h"
#include "../../bench/kernels/simd_peak.h"
#include "hooklab/backend.h"

namespace hooklab::wasm {
namespace {

using emscripten::val;

// The single-threaded build has no workers: it always measures one thread.
int usable_threads(int threads) {
#ifdef __EMSCRIPTEN_PTHREADS__
  return std::max(1, threads);
#else
  (void)threads;
  return 1;
#endif
}

// {gflops (all threads together), oneThreadGflops, threads, isa}
val measure_simd_peak(double milliseconds, int threads) {
  const bench::PeakMeasurement peak =
      bench::measure_peak(usable_threads(threads), bench::wall_seconds, milliseconds / 1000.0);
  val out = val::object();
  out.set("gflops", peak.gflops);
  out.set("oneThreadGflops", peak.one_thread_gflops);
  out.set("threads", peak.threads);
  out.set("isa", std::string(bench::kPeakIsa));
  return out;
}

// [m, k] x [k, n] + bias on a fresh backend with `threads` threads:
// {bestGflops, medianGflops, calls, threads, backend} or {error}.
val measure_gemm(int m, int k, int n, int threads, double milliseconds) {
  val out = val::object();
  auto backend = make_backend(BackendKind::kAuto, usable_threads(threads));
  if (!backend.ok()) {
    out.set("error", backend.error().message);
    return out;
  }
  const auto weights = bench::make_gemm_weights(k, n);
  const bench::GemmMeasurement g =
      bench::measure_gemm(*backend.value(), *weights, m, bench::wall_seconds, milliseconds / 1000.0);
  out.set("bestGflops", g.best_gflops);
  out.set("medianGflops", g.median_gflops);
  out.set("calls", g.calls);
  out.set("threads", backend.value()->threads());
  out.set("backend", backend.value()->name());
  return out;
}

}  // namespace
}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_peak) {
  emscripten::function("measureSimdPeak", &hooklab::wasm::measure_simd_peak);
  emscripten::function("measureGemm", &hooklab::wasm::measure_gemm);
}
