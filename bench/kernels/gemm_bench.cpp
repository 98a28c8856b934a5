// GEMM micro-benchmark: GFLOP/s of Backend::matmul on GPT-2-small shapes, next to the
// machine's per-thread SIMD peak (independent mul+add chains in registers, no memory traffic).
// Under each forward row, a "^T" row times the backward's Backend::matmul_transposed with the
// same weights ([M, N] x W^T -> [M, K], the same flops) and gives its time relative to the
// forward's ("T/fwd").
//
//   Emscripten: wasm SIMD backend, 1 thread (single-threaded build) or 1 and 2 threads
//               (pthreads build), run in Node or a browser page.
//   Native:     the fastest backend compiled in (XNNPACK), 1 and 2 threads.
//
// Usage: gemm_bench [--quick] [--kernels] [--m M1,M2,...] [--kn KxN,...] [--min-seconds S] [--clock wall|cpu]
//   --kernels  also times every other GEMM kernel the backend offers (one row each per shape).
//   --quick    skips M = 1024 (its 50257-wide product alone is ~80 GFLOP).
//   --m        the row counts to measure (default 8,32,128,1024).
//   --kn       the weight shapes KxN to measure (default 768x2304,768x768,768x3072,3072x768,768x50257).
//   --clock    cpu times the 1-thread columns (peak included) by process CPU time, for loaded
//              machines; multi-thread columns always use wall time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gemm_measure.h"
#include "hooklab/backend.h"
#include "simd_peak.h"
#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#else
#include <time.h>
#endif

namespace {

#if defined(__EMSCRIPTEN__)
// CPU seconds of the Node process (user + system), or wall time where there is no `process`.
// JavaScript inside: clang-format would split its !== operators.
// clang-format off
EM_JS(double, hooklab_bench_process_cpu_seconds, (), {
  if (typeof process !== 'undefined' && process.cpuUsage) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  return performance.now() / 1000;
});
// clang-format on
#endif

// Wall time is what a page sees. On a shared, loaded machine a single thread's CPU time is the
// steadier measure of the kernel itself (it excludes time spent descheduled); it only means
// anything for one thread, so multi-thread figures always use wall time.
struct Timer {
  bool cpu = false;
  double now() const {
    if (!cpu) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
#if defined(__EMSCRIPTEN__)
    return hooklab_bench_process_cpu_seconds();
#else
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
#endif
  }
};

// The peak (simd_peak.h) and the per-shape measurement (gemm_measure.h) are shared with the
// browser benchmark's measureSimdPeak / measureGemm (bench/kernels/probe_bindings.cpp).
using hooklab::bench::GemmWeights;
using hooklab::bench::kPeakIsa;

struct Shape {
  int64_t m, k, n;
};

// "16,64" -> {16, 64}; "768x768,3072x768" -> {768, 768, 3072, 768}. Stops at the first
// character that is not a number or a separator.
std::vector<int64_t> parse_list(const char* text) {
  std::vector<int64_t> out;
  for (const char* p = text; *p != '\0';) {
    char* end = nullptr;
    const long long value = std::strtoll(p, &end, 10);
    if (end == p) break;
    if (value > 0) out.push_back(value);
    p = (*end == ',' || *end == 'x') ? end + 1 : end;
  }
  return out;
}

std::vector<int> thread_counts() {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  return {1};
#else
  return {1, 2};
#endif
}

// One backend per thread count (kAuto: the fastest compiled in); empty on failure.
std::vector<std::unique_ptr<hooklab::Backend>> make_backends(const std::vector<int>& threads) {
  std::vector<std::unique_ptr<hooklab::Backend>> backends;
  for (int t : threads) {
    hooklab::Result<std::unique_ptr<hooklab::Backend>> made = hooklab::make_backend(hooklab::BackendKind::kAuto, t);
    if (!made.ok()) {
      std::fprintf(stderr, "no backend: %s\n", made.error().message.c_str());
      return {};
    }
    backends.push_back(std::move(made.value()));
  }
  return backends;
}

// One line: GFLOP/s and %peak per thread count (and the speedup), without the newline.
using Timed = std::vector<double>;
template <class TimerFor, class Measure>
Timed print_row(const char* label, std::vector<std::unique_ptr<hooklab::Backend>>& backends,
                const std::vector<int>& threads, const std::vector<double>& peak, const TimerFor& timer_for,
                const Measure& measure) {
  std::printf("%-22s", label);
  Timed gflops;
  for (size_t i = 0; i < backends.size(); ++i) {
    const auto timer = timer_for(threads[i]);
    gflops.push_back(measure(*backends[i], [&timer] { return timer.now(); }));
    std::printf("  %13.1f  %5.1f", gflops.back(), 100.0 * gflops.back() / peak[i]);
    std::fflush(stdout);
  }
  if (gflops.size() > 1) std::printf("  %6.2fx", gflops.back() / gflops.front());
  return gflops;
}

// With --kernels, one row per other GEMM kernel the backends offer (the first row of a shape is
// the default kernel), so the variants compare on the same shapes in the same run.
template <class TimerFor, class Measure>
void print_kernel_rows(std::vector<std::unique_ptr<hooklab::Backend>>& backends, const std::vector<int>& threads,
                       const std::vector<double>& peak, const TimerFor& timer_for, const Measure& measure) {
  const std::vector<std::string> kernels = backends[0]->gemm_kernels();
  for (size_t k = 1; k < kernels.size(); ++k) {
    for (auto& backend : backends) (void)backend->select_gemm_kernel(kernels[k]);
    const std::string label = "  " + kernels[k];
    print_row(label.c_str(), backends, threads, peak, timer_for, measure);
    std::printf("\n");
  }
  if (kernels.size() > 1) {
    for (auto& backend : backends) (void)backend->select_gemm_kernel(kernels[0]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  double min_seconds = 0.3;
  bool cpu_clock = false;
  bool all_kernels = false;
  std::vector<int64_t> ms = {8, 32, 128, 1024};
  std::vector<int64_t> kns = {768, 2304, 768, 768, 768, 3072, 3072, 768, 768, 50257};  // K, N pairs
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--m") == 0 && i + 1 < argc) ms = parse_list(argv[++i]);
    if (std::strcmp(argv[i], "--kn") == 0 && i + 1 < argc) kns = parse_list(argv[++i]);
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--kernels") == 0) all_kernels = true;
    if (std::strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) min_seconds = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--clock") == 0 && i + 1 < argc) cpu_clock = std::strcmp(argv[++i], "cpu") == 0;
  }
  auto timer_for = [cpu_clock](int threads) { return Timer{cpu_clock && threads == 1}; };
  const std::vector<int> threads = thread_counts();

  std::vector<double> peak;
  for (int t : threads) {
    const Timer timer = timer_for(t);
    peak.push_back(hooklab::bench::measure_peak(
                       t, [&timer] { return timer.now(); }, min_seconds)
                       .gflops);
  }

  std::vector<std::unique_ptr<GemmWeights>> weights;  // declared before `backends`, so it outlives them
  std::vector<std::unique_ptr<hooklab::Backend>> backends = make_backends(threads);
  if (backends.empty()) return 1;
  std::printf("backend %s, peak kernel: %s, 1-thread clock: %s\n", backends[0]->name().c_str(), kPeakIsa,
              cpu_clock ? "process CPU time" : "wall");
  for (size_t i = 0; i < threads.size(); ++i) {
    if (backends[i]->threads() != threads[i]) {
      std::printf("note: the %d-thread backend runs %d\n", threads[i], backends[i]->threads());
    }
  }
  std::printf("%-22s", "shape (MxKxN)");
  for (int t : threads) std::printf("  %4dt GFLOP/s  %%peak", t);
  if (threads.size() > 1) std::printf("  speedup");
  std::printf("\n%-22s", "peak (t threads at once)");
  for (double p : peak) std::printf("  %13.1f  %5s", p, "100");
  std::printf("\n");

  for (size_t pair = 0; pair + 1 < kns.size(); pair += 2) {
    const int64_t kn[2] = {kns[pair], kns[pair + 1]};
    weights.push_back(hooklab::bench::make_gemm_weights(kn[0], kn[1]));
    for (int64_t m : ms) {
      if (quick && m > 128) continue;
      const Shape s{m, kn[0], kn[1]};
      char label[64];
      std::snprintf(label, sizeof(label), "%lldx%lldx%lld", static_cast<long long>(s.m), static_cast<long long>(s.k),
                    static_cast<long long>(s.n));
      const auto measure_forward = [&](hooklab::Backend& b, auto now) {
        return hooklab::bench::measure_gemm(b, *weights.back(), s.m, now, min_seconds).best_gflops;
      };
      const Timed forward = print_row(label, backends, threads, peak, timer_for, measure_forward);
      std::printf("\n");
      if (all_kernels) print_kernel_rows(backends, threads, peak, timer_for, measure_forward);
      const Timed transposed =
          print_row("  ^T (a . W^T)", backends, threads, peak, timer_for, [&](hooklab::Backend& b, auto now) {
            return hooklab::bench::measure_gemm_transposed(b, *weights.back(), s.m, now, min_seconds).best_gflops;
          });
      // Time of the transposed product relative to the forward's, per thread count.
      std::printf("  T/fwd");
      for (size_t i = 0; i < transposed.size(); ++i) std::printf(" %.2f", forward[i] / transposed[i]);
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  return 0;
}
