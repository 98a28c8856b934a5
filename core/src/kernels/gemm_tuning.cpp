#include "hooklab/gemm_tuning.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "hooklab/packed_matrix.h"

namespace hooklab {
namespace {

// Depths of GPT-2 small's products (d_model and d_mlp) and a narrow width: the kernels' ranking
// depends on the depth (how long a tile accumulates), not on N, and the scratch (under 1 MiB) is
// freed but stays in wasm memory's high-water mark, which a model near the memory limit needs.
constexpr int64_t kDepths[] = {768, 3072};
constexpr int64_t kWidth = 64;
// A timed batch lasts at least this long (30 steps of a coarse page clock).
constexpr double kMinBatchSeconds = 0.003;
constexpr int kMaxRounds = 16;

struct TimedProduct {
  std::vector<float> weights, input, output;
  PackedMatrix w;
};

TimedProduct make_product(int64_t rows, int64_t depth) {
  TimedProduct p;
  p.w = PackedMatrix{nullptr, depth, kWidth};
  p.weights.assign(static_cast<size_t>(p.w.storage_elements()), 0.0f);
  p.w.data = p.weights.data();
  // Small non-zero values: zeros or denormals could take another path through the FPU.
  for (size_t i = 0; i < p.weights.size(); ++i) p.weights[i] = 0.001f * static_cast<float>(i % 13);
  p.input.assign(static_cast<size_t>(rows * depth), 0.5f);
  p.output.assign(static_cast<size_t>(rows * kWidth), 0.0f);
  return p;
}

// Seconds of `calls` back-to-back runs of both products with the selected kernel.
double time_batch(const Backend& backend, std::vector<TimedProduct>& products, int64_t rows, int calls,
                  const std::function<double()>& clock) {
  const double start = clock();
  for (int call = 0; call < calls; ++call) {
    for (TimedProduct& p : products) {
      MatmulArgs args;
      args.c = p.output.data();
      args.ldc = kWidth;
      args.a = p.input.data();
      args.lda = p.w.rows;
      args.m = rows;
      args.w = &p.w;
      args.k_begin = 0;
      args.k_end = p.w.rows;
      backend.matmul(args);
    }
  }
  return clock() - start;
}

std::function<double()> steady_seconds() {
  return [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
}

}  // namespace

Result<GemmTuning> tune_gemm_kernel(const GemmTuningOptions& options) {
  if (options.rows < 1 || options.rows > 4096) {
    return make_error(ErrorCode::kInvalidArgument, "tune_gemm_kernel: rows must be in 1..4096");
  }
  const std::function<double()> clock = options.clock ? options.clock : steady_seconds();
  HOOKLAB_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, make_backend(options.backend, 1));
  GemmTuning tuning;
  const std::vector<std::string> kernels = backend->gemm_kernels();
  if (kernels.empty()) return tuning;
  std::vector<TimedProduct> products;
  for (int64_t depth : kDepths) products.push_back(make_product(options.rows, depth));
  for (TimedProduct& p : products) HOOKLAB_RETURN_IF_ERROR(backend->prepare_matmul(p.w, nullptr));
  for (const std::string& kernel : kernels) tuning.timings.push_back({kernel, std::numeric_limits<double>::infinity()});

  const double start = clock();
  // Warm-up: every kernel once (caches, the output's pages). The fastest sets how many calls a
  // timed batch holds, so that a batch spans many steps of a coarse clock: a page that is not
  // cross-origin isolated reads performance.now() in 100 us steps.
  double fastest_once = std::numeric_limits<double>::infinity();
  for (const GemmKernelTiming& timing : tuning.timings) {
    HOOKLAB_RETURN_IF_ERROR(backend->select_gemm_kernel(timing.kernel));
    fastest_once = std::min(fastest_once, time_batch(*backend, products, options.rows, 1, clock));
  }
  tuning.calls_per_batch =
      static_cast<int>(std::clamp(std::ceil(kMinBatchSeconds / std::max(fastest_once, 1e-4)), 1.0, 256.0));
  // Rounds interleave the kernels, so machine noise falls on all of them alike; at least one.
  do {
    for (GemmKernelTiming& timing : tuning.timings) {
      HOOKLAB_RETURN_IF_ERROR(backend->select_gemm_kernel(timing.kernel));
      const double seconds = time_batch(*backend, products, options.rows, tuning.calls_per_batch, clock);
      timing.best_seconds = std::min(timing.best_seconds, seconds / tuning.calls_per_batch);
    }
    ++tuning.rounds;
  } while (tuning.rounds < kMaxRounds && clock() - start < options.budget_seconds);
  tuning.elapsed_seconds = clock() - start;
  tuning.kernel = std::min_element(tuning.timings.begin(), tuning.timings.end(), [](const auto& a, const auto& b) {
                    return a.best_seconds < b.best_seconds;
                  })->kernel;
  return tuning;
}

}  // namespace hooklab
