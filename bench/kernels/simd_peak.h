// The machine's 4-lane f32 mul + add ceiling, per thread and for several threads at once: the
// "peak" every GEMM figure is compared with. Shared by gemm_bench.cpp (Node and native) and
// bench/kernels/probe_bindings.cpp (measureSimdPeak, called by bench/forward.mjs in Chromium),
// so the page and the micro-benchmark measure with the same kernel.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <thread>
#include <vector>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

// The peak loop must be fully unrolled so every chain stays in a register; each compiler spells it its own way.
#if defined(__clang__)
#define HOOKLAB_PEAK_UNROLL _Pragma("clang loop unroll(full)")
#else
#define HOOKLAB_PEAK_UNROLL _Pragma("GCC unroll 16")
#endif

namespace hooklab::bench {

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
using PeakVec = v128_t;
inline PeakVec peak_splat(float x) { return wasm_f32x4_splat(x); }
inline PeakVec peak_mul(PeakVec a, PeakVec b) { return wasm_f32x4_mul(a, b); }
inline PeakVec peak_add(PeakVec a, PeakVec b) { return wasm_f32x4_add(a, b); }
inline float peak_lane0(PeakVec v) { return wasm_f32x4_extract_lane(v, 0); }
inline constexpr const char* kPeakIsa = "wasm simd128 f32x4.mul + f32x4.add";
#else
typedef float PeakVec __attribute__((vector_size(16)));
inline PeakVec peak_splat(float x) { return PeakVec{x, x, x, x}; }
inline PeakVec peak_mul(PeakVec a, PeakVec b) { return a * b; }
inline PeakVec peak_add(PeakVec a, PeakVec b) { return a + b; }
inline float peak_lane0(PeakVec v) { return v[0]; }
inline constexpr const char* kPeakIsa =
    "native 4-lane vector mul + add (the wasm SIMD ceiling; native FMA kernels can pass it)";
#endif

// Read at the start of every run so no two calls are identical (the compiler cannot merge
// them); written with each result so no run is dead code. Relaxed atomic: threads share it.
inline std::atomic<float> g_peak_sink{0.0f};

constexpr int64_t peak_pairs_per_step(int chains) { return chains + chains * (chains + 1) / 2; }

// noinline: V8 tiers a wasm function up to its optimising compiler only between calls (no
// on-stack replacement), so the timed loop must be a function of its own that is called again.
template <int kChains, int kAccumulators>
__attribute__((noinline)) float peak_kernel(int64_t steps) {
  const float start = 1.0f + 0.0f * g_peak_sink.load(std::memory_order_relaxed);
  const PeakVec m = peak_splat(1.0000001f);
  PeakVec p[kChains];
  PeakVec acc[kAccumulators];
  for (int g = 0; g < kChains; ++g) p[g] = peak_splat(start + 0.001f * static_cast<float>(g));
  for (int a = 0; a < kAccumulators; ++a) acc[a] = peak_splat(0.0f);
  for (int64_t s = 0; s < steps; ++s) {
    int a = 0;
    HOOKLAB_PEAK_UNROLL
    for (int g = 0; g < kChains; ++g) {
      HOOKLAB_PEAK_UNROLL
      for (int h = g; h < kChains; ++h, ++a) {
        acc[a % kAccumulators] = peak_add(acc[a % kAccumulators], peak_mul(p[g], p[h]));
      }
    }
    HOOKLAB_PEAK_UNROLL
    for (int g = 0; g < kChains; ++g, ++a) {
      p[g] = peak_mul(p[g], m);
      acc[a % kAccumulators] = peak_add(acc[a % kAccumulators], p[g]);
    }
  }
  float sum = 0.0f;
  for (int a = 0; a < kAccumulators; ++a) sum += peak_lane0(acc[a]);
  return sum;
}

// The register shapes tried; which is fastest depends on the CPU and the engine's register
// allocation, so the peak is the best of them.
struct PeakShape {
  float (*kernel)(int64_t steps);
  double flops_per_step;
};
inline const PeakShape kPeakShapes[] = {
    {&peak_kernel<3, 6>, 8.0 * peak_pairs_per_step(3)},
    {&peak_kernel<4, 5>, 8.0 * peak_pairs_per_step(4)},
    {&peak_kernel<5, 7>, 8.0 * peak_pairs_per_step(5)},
};

inline double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline void run_peak_kernel(const PeakShape& shape, int64_t steps) {
  const float r = shape.kernel(steps);
  g_peak_sink.store(g_peak_sink.load(std::memory_order_relaxed) + r, std::memory_order_relaxed);
}

struct PeakMeasurement {
  double gflops = 0.0;             // all threads together
  double one_thread_gflops = 0.0;  // the calling thread alone, best shape
  int threads = 1;
  int64_t steps = 0;  // per thread per timed run
  int shape = 0;      // index into kPeakShapes
};

// One thread. `now` is a clock in seconds (wall, or process CPU time on a loaded machine).
// Per shape: double the length until one run takes a fifth of min_seconds (this also lets the
// engine tier the loop up), then keep the best of three such runs; the best shape wins.
template <class Clock>
PeakMeasurement measure_peak_one_thread(Clock now, double min_seconds) {
  PeakMeasurement best;
  for (int i = 0; i < static_cast<int>(std::size(kPeakShapes)); ++i) {
    const PeakShape& shape = kPeakShapes[i];
    int64_t steps = 1 << 14;
    for (;;) {
      const double start = now();
      run_peak_kernel(shape, steps);
      if (now() - start >= min_seconds / 5) break;
      steps *= 2;
    }
    for (int rep = 0; rep < 3; ++rep) {
      const double start = now();
      run_peak_kernel(shape, steps);
      const double gflops = static_cast<double>(steps) * shape.flops_per_step / (now() - start) * 1e-9;
      if (gflops > best.gflops) best = {gflops, gflops, 1, steps, i};
    }
  }
  return best;
}

// `threads` threads (the caller and threads - 1 std::threads) run the best one-thread shape at
// the same moment; the figure is all their flops over the caller's wall time from releasing them
// to the last one finishing (one clock, so no cross-thread clock skew; threads that do not
// actually overlap show up as a lower figure, not a doubled one). Best of three rounds. The
// threads are started once and reused: under Emscripten a finished pthread returns to the
// worker pool only through the event loop, which a synchronous caller never reaches.
template <class Clock>
PeakMeasurement measure_peak(int threads, Clock now, double min_seconds) {
  PeakMeasurement one = measure_peak_one_thread(now, min_seconds);
  if (threads <= 1) return one;
  const PeakShape& shape = kPeakShapes[one.shape];
  const int64_t steps = one.steps;
  std::atomic<int> round{0};
  std::atomic<int> finished{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t) {
    helpers.emplace_back([&] {
      for (int seen = 0;;) {
        while (round.load() == seen) std::this_thread::yield();
        seen = round.load();
        if (stop.load()) return;
        run_peak_kernel(shape, steps);
        finished.fetch_add(1);
      }
    });
  }
  PeakMeasurement out = one;
  out.threads = threads;
  out.gflops = 0.0;
  for (int rep = 0; rep < 4; ++rep) {  // the first round warms the helpers' code up; not counted
    finished.store(0);
    const double start = wall_seconds();
    round.fetch_add(1);
    run_peak_kernel(shape, steps);
    while (finished.load() < threads - 1) std::this_thread::yield();
    const double gflops = threads * static_cast<double>(steps) * shape.flops_per_step / (wall_seconds() - start) * 1e-9;
    if (rep > 0) out.gflops = std::max(out.gflops, gflops);
  }
  stop.store(true);
  round.fetch_add(1);
  for (std::thread& helper : helpers) helper.join();
  return out;
}

}  // namespace hooklab::bench
