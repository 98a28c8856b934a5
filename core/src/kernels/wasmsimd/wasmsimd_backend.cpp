// The wasm SIMD backend: the loadsplat GEMM plus the vectorised LayerNorm, GELU, softmax and
// attention kernels, and their backward counterparts (the transposed GEMM and the vectorised
// GELU, softmax and attention backward), each split over the ThreadPool in the pthreads build.
//
// The single-threaded wasm build (no -pthread) cannot start threads, so it always runs on the
// calling thread whatever the caller asks for; threads() reports what is really used.
#include <algorithm>
#include <cstring>
#include <memory>

#include "hooklab/thread_pool.h"
#include "kernels/backends.h"
#include "kernels/wasmsimd/gemm_driver.h"
#include "kernels/wasmsimd/gemm_microkernels.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab {
namespace {

// Rough floats touched per chunk below which splitting a row-wise op costs more than it saves:
// a parallel region costs a few microseconds even when the worker is awake (and tens when it is
// not), about what streaming 64k floats takes. This keeps a generation step's attention over a
// few hundred cached positions on one thread instead of two tiny regions per layer.
constexpr int64_t kMinFloatsPerChunk = 64 * 1024;

int64_t rows_per_chunk(int64_t floats_per_row) {
  return std::max<int64_t>(1, kMinFloatsPerChunk / std::max<int64_t>(floats_per_row, 1));
}

// Lambdas handed to ThreadPool::parallel_for capture one reference, so std::function keeps
// them in its small buffer (3 pointers in libc++) instead of allocating on every call.
struct ElementwiseJob {
  float* y;
  const float* x;
  int64_t n;
};

struct BackwardElementwiseJob {
  float* dx;
  const float* dy;
  const float* x;  // the forward's input (GELU) or output (softmax)
  int64_t n;
};

class WasmSimdBackend final : public Backend {
 public:
  explicit WasmSimdBackend(int threads) : pool_(threads) {}

  std::string name() const override { return std::string("wasmsimd_") + gemm_kernel_->name; }
  int threads() const override { return pool_.threads(); }

  void zero_fill(float* data, size_t n) const override {
    pool_.parallel_for(static_cast<int64_t>(n), kZeroFillGrainFloats, [data](int64_t begin, int64_t end) {
      std::memset(data + begin, 0, static_cast<size_t>(end - begin) * sizeof(float));
    });
  }

  void matmul(const MatmulArgs& args) const override { wasmsimd::gemm(args, *gemm_kernel_, pool_); }

  std::vector<std::string> gemm_kernels() const override {
    std::vector<std::string> names{gemm_kernel_->name};
    for (const wasmsimd::GemmKernel& kernel : wasmsimd::kGemmKernels) {
      if (&kernel != gemm_kernel_) names.emplace_back(kernel.name);
    }
    return names;
  }

  Status select_gemm_kernel(const std::string& name) override {
    for (const wasmsimd::GemmKernel& kernel : wasmsimd::kGemmKernels) {
      if (name == kernel.name) {
        gemm_kernel_ = &kernel;
        return {};
      }
    }
    return Backend::select_gemm_kernel(name);
  }

  void layer_norm(const LayerNormArgs& args) const override {
    pool_.parallel_for(args.rows, rows_per_chunk(args.dim),
                       [&args](int64_t begin, int64_t end) { wasmsimd::layer_norm_rows(args, begin, end); });
  }

  void gelu_new(float* y, const float* x, int64_t n) const override {
    // Chunks of whole vectors keep every chunk but the last on the aligned 8-wide path.
    constexpr int64_t kChunk = 4 * 1024;
    const ElementwiseJob job{y, x, n};
    pool_.parallel_for((n + kChunk - 1) / kChunk, 4, [&job](int64_t begin, int64_t end) {
      const int64_t first = begin * kChunk;
      wasmsimd::gelu_new(job.y + first, job.x + first, std::min(job.n, end * kChunk) - first);
    });
  }

  void attention_scores(const AttentionScoresArgs& args) const override {
    pool_.parallel_for(args.n_heads * args.nq, rows_per_chunk(args.nk * args.d_head / 4),
                       [&args](int64_t begin, int64_t end) { wasmsimd::attention_scores_rows(args, begin, end); });
  }

  void softmax_rows(float* y, const float* x, int64_t rows, int64_t n) const override {
    const ElementwiseJob job{y, x, n};
    pool_.parallel_for(rows, rows_per_chunk(n),
                       [&job](int64_t begin, int64_t end) { wasmsimd::softmax_rows(job.y, job.x, job.n, begin, end); });
  }

  void attention_mix(const AttentionMixArgs& args) const override {
    pool_.parallel_for(args.nq * args.n_heads, rows_per_chunk(args.nk * args.d_head / 4),
                       [&args](int64_t begin, int64_t end) { wasmsimd::attention_mix_rows(args, begin, end); });
  }

  void matmul_transposed(const MatmulTransposedArgs& args) const override { wasmsimd::gemm_transposed(args, pool_); }

  void gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n) const override {
    constexpr int64_t kChunk = 4 * 1024;  // a multiple of 4: every chunk but the last is whole vectors
    const BackwardElementwiseJob job{dx, dy, x, n};
    pool_.parallel_for((n + kChunk - 1) / kChunk, 4, [&job](int64_t begin, int64_t end) {
      const int64_t first = begin * kChunk;
      wasmsimd::gelu_new_backward(job.dx + first, job.dy + first, job.x + first, std::min(job.n, end * kChunk) - first);
    });
  }

  void softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n) const override {
    const BackwardElementwiseJob job{dx, dy, y, n};
    pool_.parallel_for(rows, rows_per_chunk(2 * n), [&job](int64_t begin, int64_t end) {
      wasmsimd::softmax_rows_backward(job.dx, job.dy, job.x, job.n, begin, end);
    });
  }

  void attention_mix_backward(const AttentionMixBackwardArgs& args) const override {
    pool_.parallel_for(args.n_heads, 1, [&args](int64_t begin, int64_t end) {
      wasmsimd::attention_mix_backward_heads(args, begin, end);
    });
  }

  void attention_scores_backward(const AttentionScoresBackwardArgs& args) const override {
    pool_.parallel_for(args.n_heads, 1, [&args](int64_t begin, int64_t end) {
      wasmsimd::attention_scores_backward_heads(args, begin, end);
    });
  }

 private:
  // parallel_for is not const; the kernels are logically const (no state survives a call).
  mutable ThreadPool pool_;
  const wasmsimd::GemmKernel* gemm_kernel_ = &wasmsimd::kDefaultGemmKernel;
};

}  // namespace

std::unique_ptr<Backend> make_wasmsimd_backend(int threads) {
#if defined(__EMSCRIPTEN_PTHREADS__)
  const int usable = std::max(threads, 1);
#else
  const int usable = 1;
#endif
  return std::make_unique<WasmSimdBackend>(usable);
}

}  // namespace hooklab
