// The benchmark probes of bench/forward.mjs, a wasm module of their own (build/bench/probes/
// probes-{st,mt}.mjs, loaded by bench/pages/probes.mjs in a worker of the page that runs the
// lab's engine): the wasm SIMD mul + add ceiling and one GEMM shape's throughput, with the same
// code as the GEMM micro-benchmark, so the forward is compared with a ceiling measured in the same
// browser. Kept out of the lab's module: no benchmark code ships in the product.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <memory>
#include <string>

#include "gemm_measure.h"
#include "simd_peak.h"
#include "hooklab/backend.h"

namespace hooklab::bench {
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
val simd_peak_probe(double milliseconds, int threads) {
  const PeakMeasurement peak = measure_peak(usable_threads(threads), wall_seconds, milliseconds / 1000.0);
  val out = val::object();
  out.set("gflops", peak.gflops);
  out.set("oneThreadGflops", peak.one_thread_gflops);
  out.set("threads", peak.threads);
  out.set("isa", std::string(kPeakIsa));
  return out;
}

// [m, k] x [k, n] + bias on a fresh backend with `threads` threads and GEMM kernel `kernel`
// (one of Backend::gemm_kernels(); empty: the backend's default). The forward being compared
// runs the kernel its engine tuned, so the probe must time that one, not the default:
// {bestGflops, medianGflops, calls, threads, backend} or {error}.
val gemm_probe(int m, int k, int n, int threads, double milliseconds, const std::string& kernel) {
  val out = val::object();
  auto backend = make_backend(BackendKind::kAuto, usable_threads(threads));
  if (!backend.ok()) {
    out.set("error", backend.error().message);
    return out;
  }
  if (!kernel.empty()) {
    const Status selected = backend.value()->select_gemm_kernel(kernel);
    if (!selected.ok()) {
      out.set("error", selected.message());
      return out;
    }
  }
  const auto weights = make_gemm_weights(k, n);
  const GemmMeasurement g = measure_gemm(*backend.value(), *weights, m, wall_seconds, milliseconds / 1000.0);
  out.set("bestGflops", g.best_gflops);
  out.set("medianGflops", g.median_gflops);
  out.set("calls", g.calls);
  out.set("threads", backend.value()->threads());
  out.set("backend", backend.value()->name());
  return out;
}

}  // namespace
}  // namespace hooklab::bench

EMSCRIPTEN_BINDINGS(hooklab_bench_probes) {
  emscripten::function("measureSimdPeak", &hooklab::bench::simd_peak_probe);
  emscripten::function("measureGemm", &hooklab::bench::gemm_probe);
}
