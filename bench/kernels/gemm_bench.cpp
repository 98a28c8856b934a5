// GEMM micro-benchmark: GFLOP/s of Backend::matmul on GPT-2-small shapes, next to the
// machine's per-thread SIMD peak (independent mul+add chains in registers, no memory traffic).
//
//   Emscripten: wasm SIMD backend, 1 thread (single-threaded build) or 1 and 2 threads
//               (pthreads build), run in Node or a browser page.
//   Native:     the fastest backend compiled in (XNNPACK), 1 and 2 threads.
//
// Usage: gemm_bench [--quick] [--min-seconds S] [--clock wall|cpu]
//   --quick    skips M = 1024 (its 50257-wide product alone is ~80 GFLOP).
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

#include "hooklab/backend.h"
#include "hooklab/packed_matrix.h"
#include "hooklab/thread_pool.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif
#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#else
#include <time.h>
#endif

namespace {

#if defined(__EMSCRIPTEN__)
// CPU seconds of the Node process (user + system), or wall time where there is no `process`.
EM_JS(double, hooklab_bench_process_cpu_seconds, (), {
  if (typeof process !== 'undefined' && process.cpuUsage) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  return performance.now() / 1000;
});
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

// ---- peak ---------------------------------------------------------------------------------

// Register-only mul + add throughput, shaped like a GEMM micro-kernel's acc += a * b: the
// products do not depend on the accumulators, so only the short add latency (2-4 cycles)
// chains each accumulator and the multipliers and adders can all be kept busy.
//   kChains values p_g advance as p_g = p_g * m (so nothing is loop-invariant and the compiler
//   can neither fold nor hoist a product; no fast-math), and every step adds the outer products
//   p_g * p_h (g <= h) and the new p_g into kAccumulators accumulators. m is just above 1, so
//   nothing underflows or overflows over billions of steps.
// Each step is kChains + kChains (kChains + 1) / 2 muls and as many adds, 8 flops per pair;
// with 4-5 chains and 5-7 accumulators everything stays in x86's 16 vector registers. (Simple
// chains x = x * m + c reach only ~85% of this: their mul sits on the critical path.)
#if defined(__wasm_simd128__)
using Vec = v128_t;
inline Vec vec_splat(float x) { return wasm_f32x4_splat(x); }
inline Vec vec_mul(Vec a, Vec b) { return wasm_f32x4_mul(a, b); }
inline Vec vec_add(Vec a, Vec b) { return wasm_f32x4_add(a, b); }
inline float vec_lane0(Vec v) { return wasm_f32x4_extract_lane(v, 0); }
constexpr const char* kPeakIsa = "wasm simd128 f32x4.mul + f32x4.add";
#else
typedef float Vec __attribute__((vector_size(16)));
inline Vec vec_splat(float x) { return Vec{x, x, x, x}; }
inline Vec vec_mul(Vec a, Vec b) { return a * b; }
inline Vec vec_add(Vec a, Vec b) { return a + b; }
inline float vec_lane0(Vec v) { return v[0]; }
constexpr const char* kPeakIsa = "native 4-lane vector mul + add (the wasm SIMD ceiling; native FMA kernels can pass it)";
#endif

volatile float g_sink = 0.0f;

constexpr int64_t peak_pairs_per_step(int chains) { return chains + chains * (chains + 1) / 2; }

// noinline: V8 tiers a wasm function up to its optimising compiler only between calls (no
// on-stack replacement), so the timed loop must be a function of its own that is called again.
template <int kChains, int kAccumulators>
__attribute__((noinline)) float peak_kernel(int64_t steps) {
  // The volatile read makes every call distinct, so the compiler cannot merge repeated calls.
  const float start = 1.0f + 0.0f * g_sink;
  const Vec m = vec_splat(1.0000001f);
  Vec p[kChains];
  Vec acc[kAccumulators];
  for (int g = 0; g < kChains; ++g) p[g] = vec_splat(start + 0.001f * static_cast<float>(g));
  for (int a = 0; a < kAccumulators; ++a) acc[a] = vec_splat(0.0f);
  for (int64_t s = 0; s < steps; ++s) {
    int a = 0;
#pragma clang loop unroll(full)
    for (int g = 0; g < kChains; ++g) {
#pragma clang loop unroll(full)
      for (int h = g; h < kChains; ++h, ++a) acc[a % kAccumulators] = vec_add(acc[a % kAccumulators], vec_mul(p[g], p[h]));
    }
#pragma clang loop unroll(full)
    for (int g = 0; g < kChains; ++g, ++a) {
      p[g] = vec_mul(p[g], m);
      acc[a % kAccumulators] = vec_add(acc[a % kAccumulators], p[g]);
    }
  }
  float sum = 0.0f;
  for (int a = 0; a < kAccumulators; ++a) sum += vec_lane0(acc[a]);
  return sum;
}

template <int kChains, int kAccumulators>
double measure_peak_gflops(const Timer& timer, double min_seconds) {
  auto run = [&timer](int64_t steps) {
    const double start = timer.now();
    g_sink = g_sink + peak_kernel<kChains, kAccumulators>(steps);
    const double flops = static_cast<double>(steps) * static_cast<double>(peak_pairs_per_step(kChains)) * 8;
    return flops / (timer.now() - start) * 1e-9;
  };
  // Double the length until one run takes a fifth of the budget (this also lets the engine
  // tier the loop up to its optimising compiler), then keep the best of three such runs.
  int64_t steps = 1 << 14;
  for (;;) {
    const double start = timer.now();
    run(steps);
    if (timer.now() - start >= min_seconds / 5) break;
    steps *= 2;
  }
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) best = std::max(best, run(steps));
  return best;
}

// The best of a few register shapes, per thread; with `threads` > 1 every thread runs it at once
// and the sum is reported.
double measure_peak(int threads, const Timer& timer, double min_seconds) {
  auto one_thread = [&timer, min_seconds] {
    return std::max({measure_peak_gflops<3, 6>(timer, min_seconds), measure_peak_gflops<4, 5>(timer, min_seconds),
                     measure_peak_gflops<5, 7>(timer, min_seconds)});
  };
  if (threads == 1) return one_thread();
  hooklab::ThreadPool pool(threads);
  std::vector<double> per_thread(static_cast<size_t>(threads), 0.0);
  pool.parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) per_thread[static_cast<size_t>(t)] = one_thread();
  });
  double total = 0.0;
  for (double g : per_thread) total += g;
  return total;
}

// ---- GEMM ---------------------------------------------------------------------------------

struct Shape {
  int64_t m, k, n;
};

float next_value(uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
}

// One weight matrix and bias, shared by every M of a (K, N) and kept until the backends are
// gone: prepare_matmul() may cache per weight pointer (XNNPACK does) and the contract is that
// weights outlive the backend. (Fresh backends per shape are not an option under Emscripten:
// finished pthreads return to the worker pool only through the event loop, which a synchronous
// main() never reaches.)
struct Weights {
  std::vector<float> storage, bias;
  hooklab::PackedMatrix w;
};

std::unique_ptr<Weights> make_weights(int64_t k, int64_t n) {
  auto weights = std::make_unique<Weights>();
  weights->w = hooklab::PackedMatrix{nullptr, k, n};
  weights->storage.assign(static_cast<size_t>(weights->w.storage_floats()), 0.0f);
  weights->w.data = weights->storage.data();
  weights->bias.resize(static_cast<size_t>(n));
  uint32_t state = 12345;
  for (int64_t row = 0; row < k; ++row) {
    for (int64_t col = 0; col < n; ++col) weights->w.at(row, col) = next_value(state);
  }
  for (float& x : weights->bias) x = next_value(state);
  return weights;
}

// Best GFLOP/s over repeated calls lasting at least min_seconds in total (at least 2 calls).
double measure_gemm(hooklab::Backend& backend, const Weights& weights, const Shape& s, const Timer& timer,
                    double min_seconds) {
  std::vector<float> a(static_cast<size_t>(s.m * s.k));
  std::vector<float> c(static_cast<size_t>(s.m * s.n));
  uint32_t state = 777;
  for (float& x : a) x = next_value(state);
  hooklab::MatmulArgs args;
  args.a = a.data();
  args.lda = s.k;
  args.m = s.m;
  args.w = &weights.w;
  args.k_begin = 0;
  args.k_end = s.k;
  args.bias = weights.bias.data();
  args.c = c.data();
  args.ldc = s.n;
  if (!backend.prepare_matmul(weights.w, args.bias).ok()) return 0.0;
  backend.matmul(args);  // warm-up: pages in C, fills caches
  const double flops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n);
  double best = 0.0;
  double total = 0.0;
  for (int calls = 0; calls < 2 || total < min_seconds; ++calls) {
    const double start = timer.now();
    backend.matmul(args);
    const double t = timer.now() - start;
    total += t;
    best = std::max(best, flops / t * 1e-9);
  }
  return best;
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

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  double min_seconds = 0.3;
  bool cpu_clock = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) min_seconds = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--clock") == 0 && i + 1 < argc) cpu_clock = std::strcmp(argv[++i], "cpu") == 0;
  }
  auto timer_for = [cpu_clock](int threads) { return Timer{cpu_clock && threads == 1}; };
  const std::vector<int> threads = thread_counts();

  std::vector<double> peak;
  for (int t : threads) peak.push_back(measure_peak(t, timer_for(t), min_seconds));

  std::vector<std::unique_ptr<Weights>> weights;  // declared before `backends`, so it outlives them
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
  std::printf("\n%-22s", "peak (per-thread x t)");
  for (double p : peak) std::printf("  %13.1f  %5s", p, "100");
  std::printf("\n");

  const int64_t ms[] = {8, 32, 128, 1024};
  const int64_t kns[][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}, {768, 50257}};
  for (const auto& kn : kns) {
    weights.push_back(make_weights(kn[0], kn[1]));
    for (int64_t m : ms) {
      if (quick && m > 128) continue;
      const Shape s{m, kn[0], kn[1]};
      char label[64];
      std::snprintf(label, sizeof(label), "%lldx%lldx%lld", static_cast<long long>(s.m), static_cast<long long>(s.k),
                    static_cast<long long>(s.n));
      std::printf("%-22s", label);
      std::vector<double> gflops;
      for (size_t i = 0; i < backends.size(); ++i) {
        gflops.push_back(measure_gemm(*backends[i], *weights.back(), s, timer_for(threads[i]), min_seconds));
        std::printf("  %13.1f  %5.1f", gflops.back(), 100.0 * gflops.back() / peak[i]);
        std::fflush(stdout);
      }
      if (gflops.size() > 1) std::printf("  %6.2fx", gflops.back() / gflops.front());
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  return 0;
}
