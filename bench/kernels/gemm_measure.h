// GFLOP/s of one Backend::matmul (or matmul_transposed) shape: shared by gemm_bench.cpp and
// bench/kernels/probe_bindings.cpp (measureGemm, called by bench/forward.mjs in Chromium).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "hooklab/backend.h"
#include "hooklab/packed_matrix.h"

namespace hooklab::bench {

inline float next_value(uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
}

// One weight matrix and bias, shared by every M of a (K, N) and kept until the backends are
// gone: prepare_matmul() may cache per weight pointer (XNNPACK does) and the contract is that
// weights outlive the backend.
struct GemmWeights {
  std::vector<float> storage, bias;
  PackedMatrix w;
};

inline std::unique_ptr<GemmWeights> make_gemm_weights(int64_t k, int64_t n) {
  auto weights = std::make_unique<GemmWeights>();
  weights->w = PackedMatrix{nullptr, k, n};
  weights->storage.assign(static_cast<size_t>(weights->w.storage_elements()), 0.0f);
  weights->w.data = weights->storage.data();
  weights->bias.resize(static_cast<size_t>(n));
  uint32_t state = 12345;
  for (int64_t row = 0; row < k; ++row) {
    for (int64_t col = 0; col < n; ++col) weights->w.data[weights->w.index(row, col)] = next_value(state);
  }
  for (float& x : weights->bias) x = next_value(state);
  return weights;
}

struct GemmMeasurement {
  double best_gflops = 0.0;
  double median_gflops = 0.0;
  int calls = 0;  // timed calls, all batches together
};

// Repeated [m, k] x [k, n] + bias calls lasting at least min_seconds in total, timed in batches
// of calls that last at least kMinSampleSeconds each (at least 2 batches, after warm-up calls
// that page C in and fill the caches). Batches, because a small shape takes well under a
// millisecond and a page that is not cross-origin isolated sees performance.now() in 100 us
// steps. `now`: seconds.
inline constexpr double kMinSampleSeconds = 0.005;

// Times call() (one product of `flops_per_call` flops): warm-up, then batches as above.
template <class Call, class Clock>
GemmMeasurement measure_calls(const Call& call, double flops_per_call, Clock now, double min_seconds) {
  call();
  // Double the batch until one lasts kMinSampleSeconds (these calls are warm-up too).
  int batch = 1;
  while (batch < (1 << 16)) {
    const double start = now();
    for (int b = 0; b < batch; ++b) call();
    if (now() - start >= kMinSampleSeconds) break;
    batch *= 2;
  }
  const double flops = flops_per_call * batch;
  std::vector<double> gflops;
  double total = 0.0;
  while (gflops.size() < 2 || total < min_seconds) {
    const double start = now();
    for (int b = 0; b < batch; ++b) call();
    const double t = now() - start;
    total += t;
    gflops.push_back(flops / t * 1e-9);
  }
  std::sort(gflops.begin(), gflops.end());
  return {gflops.back(), gflops[gflops.size() / 2], static_cast<int>(gflops.size()) * batch};
}

template <class Clock>
GemmMeasurement measure_gemm(Backend& backend, const GemmWeights& weights, int64_t m, Clock now, double min_seconds) {
  const int64_t k = weights.w.rows, n = weights.w.cols;
  std::vector<float> a(static_cast<size_t>(m * k));
  std::vector<float> c(static_cast<size_t>(m * n));
  uint32_t state = 777;
  for (float& x : a) x = next_value(state);
  MatmulArgs args;
  args.a = a.data();
  args.lda = k;
  args.m = m;
  args.w = &weights.w;
  args.k_begin = 0;
  args.k_end = k;
  args.bias = weights.bias.data();
  args.c = c.data();
  args.ldc = n;
  if (!backend.prepare_matmul(weights.w, args.bias).ok()) return {};
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
  return measure_calls([&] { backend.matmul(args); }, flops, now, min_seconds);
}

// The backward's product with the transpose of the same weights: [m, n] x W^T -> [m, k]
// (Backend::matmul_transposed), the same flops as the forward shape.
template <class Clock>
GemmMeasurement measure_gemm_transposed(Backend& backend, const GemmWeights& weights, int64_t m, Clock now,
                                        double min_seconds) {
  const int64_t k = weights.w.rows, n = weights.w.cols;
  std::vector<float> a(static_cast<size_t>(m * n));
  std::vector<float> c(static_cast<size_t>(m * k));
  uint32_t state = 778;
  for (float& x : a) x = next_value(state);
  MatmulTransposedArgs args;
  args.c = c.data();
  args.ldc = k;
  args.a = a.data();
  args.lda = n;
  args.m = m;
  args.w = &weights.w;
  args.k_begin = 0;
  args.k_end = k;
  // Model weights are prepared at load; XNNPACK only builds its a . W^T operator for those.
  if (!backend.prepare_matmul(weights.w, weights.bias.data()).ok()) return {};
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
  return measure_calls([&] { backend.matmul_transposed(args); }, flops, now, min_seconds);
}

}  // namespace hooklab::bench
