// Driver of the transposed GEMM (Backend::matmul_transposed): c = a . W^T over a row range of a
// PackedMatrix, around the f32_gemm_transposed_*__wasmsimd dot-product micro-kernels.
//
// Loop nest (per task: a block of output columns k x a block of rows):
//   for each panel block                 (kb rows x P panels of W, ~512 KB, packed k-tile-major
//                                          into a per-thread buffer: stays in L2)
//     for each 2-row tile of A           (2 x 8P floats of A: stay in L1)
//       for each 2-wide tile of k        micro-kernel over the block's P panels
// The reduction runs over the panels (N), so a panel block gives partial sums: the first block
// stores them and later blocks add theirs. Blocking over k as well as over panels keeps each
// block's W in L2 while giving the micro-kernel long runs of panels (K = 768, kb = 128 gives
// 128 panels, 1024 columns, per partial sum), so the reductions and partial stores cost little.
//
// Threads split the output columns k (each thread reads different rows of W and writes its own
// outputs; the reduction is never split, so no thread waits on another). When k is too narrow
// to share evenly (one head's 64 columns), rows are split too.
#include <wasm_simd128.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/wasmsimd/gemm_driver.h"
#include "kernels/wasmsimd/gemm_microkernels.h"
#include "kernels/wasmsimd/vector_kernels.h"

namespace hooklab::wasmsimd {
namespace {

constexpr int64_t kBlockBytes = 512 * 1024;
constexpr int64_t kMaxKPerBlock = 128;
// As in the forward driver: below this many multiply-adds waking the workers costs more.
constexpr int64_t kMinParallelMacs = int64_t{1} << 18;
constexpr int64_t kMr = static_cast<int64_t>(kGemmTransposedMr);
constexpr int64_t kKr = static_cast<int64_t>(kGemmTransposedKr);

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct TransposedPlan {
  int64_t panels = 0;       // ceil(cols / 8)
  int64_t full_panels = 0;  // cols / 8
  int64_t panels_per_block = 0;
  int64_t k_per_block = 0;  // multiple of kKr except possibly the last block
  int64_t k_blocks = 0;
  int64_t rows_per_block = 0;
  int64_t row_blocks = 0;

  int64_t tasks() const { return k_blocks * row_blocks; }
};

TransposedPlan plan_transposed(const MatmulTransposedArgs& args, int threads) {
  const int64_t kc = args.k_end - args.k_begin;
  TransposedPlan plan;
  plan.panels = ceil_div(args.w->cols, kPanelWidth);
  plan.full_panels = args.w->cols / kPanelWidth;
  plan.k_per_block = std::min(kc, kMaxKPerBlock);
  plan.k_blocks = ceil_div(kc, plan.k_per_block);
  plan.row_blocks = 1;
  if (threads > 1) {
    // Equal k blocks, a multiple of the thread count when k is wide enough.
    const int64_t wanted = std::min(ceil_div(kc, kKr), ceil_div(plan.k_blocks, threads) * threads);
    plan.k_per_block = ceil_div(ceil_div(kc, wanted), kKr) * kKr;
    plan.k_blocks = ceil_div(kc, plan.k_per_block);
    if (plan.k_blocks % threads != 0) plan.row_blocks = std::min(ceil_div(args.m, kMr), int64_t{2} * threads);
  }
  const int64_t panel_bytes = plan.k_per_block * kPanelWidth * static_cast<int64_t>(sizeof(float));
  plan.panels_per_block = std::clamp<int64_t>(kBlockBytes / panel_bytes, 1, plan.panels);
  plan.rows_per_block = ceil_div(ceil_div(args.m, kMr), plan.row_blocks) * kMr;
  plan.row_blocks = ceil_div(args.m, plan.rows_per_block);
  return plan;
}

// W rows [k_begin, k_end) (relative to args.k_begin) of panels [panel_begin, panel_end), as the
// micro-kernels read them: one source pointer per k tile, panels `stride` floats apart.
struct WeightBlock {
  const float* data = nullptr;  // k tile t starts at data + t * tile_stride
  int64_t tile_stride = 0;
  int64_t panel_stride = 0;  // in place: 8 * K; packed: kKr * 8, or ks * 8 in a last tile of ks rows
  bool packed = false;
};

// rows (<= kKr) rows of 8 floats, in vectors: a memcpy call of a size unknown at compile time
// costs more than the copy itself.
inline void copy_rows(float* dst, const float* src, int64_t rows) {
  for (int64_t v = 0; v < rows * kPanelWidth; v += 4) wasm_v128_store(dst + v, wasm_v128_load(src + v));
}

// Copies the block k-tile-major (tile t: panel after panel, kKr rows of 8 floats each), so each
// micro-kernel call streams contiguous memory. In place, one k tile's rows are 8 * K floats
// apart from panel to panel: a multiple of 4 KB for every GPT-2 width, so all of them fall in
// the same L1 set and on a new page each. The copy reads W sequentially (panel by panel) and
// writes tiles one cache line longer than needed, so its scattered writes do not alias either.
WeightBlock pack_block(const MatmulTransposedArgs& args, int64_t panel_begin, int64_t panel_end, int64_t k_begin,
                       int64_t k_end, std::vector<float>& buffer) {
  const PackedMatrix& w = *args.w;
  const int64_t panels = panel_end - panel_begin;
  const int64_t tile_floats = panels * kKr * kPanelWidth + 16;
  buffer.resize(static_cast<size_t>(ceil_div(k_end - k_begin, kKr) * tile_floats));
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    const int64_t first = p * kPanelWidth * w.rows + args.k_begin * kPanelWidth;
    for (int64_t k = k_begin; k < k_end; k += kKr) {
      const int64_t ks = std::min(kKr, k_end - k);
      float* tile = buffer.data() + (k - k_begin) / kKr * tile_floats + (p - panel_begin) * ks * kPanelWidth;
      if (w.is_f16()) {
        widen_f16(tile, w.halves + first + k * kPanelWidth, ks * kPanelWidth);
      } else {
        copy_rows(tile, w.data + first + k * kPanelWidth, ks);
      }
    }
  }
  return {buffer.data(), tile_floats, kKr * kPanelWidth, true};
}

// One row tile x one panel block, all k tiles of [k_begin, k_end) (relative to args.k_begin).
void transposed_tile(const MatmulTransposedArgs& args, const TransposedPlan& plan, const WeightBlock& wb, int64_t row,
                     int64_t rows, int64_t panel_begin, int64_t panel_end, int64_t k_begin, int64_t k_end) {
  const int64_t full = std::max<int64_t>(0, std::min(panel_end, plan.full_panels) - panel_begin);
  const bool has_tail = panel_end > plan.full_panels;
  // a has exactly `cols` floats per row: the partial last panel reads a zero-padded copy (its
  // W columns past cols are zero too, so the padding adds exact zeros).
  alignas(16) float tail[kMr * kPanelWidth] = {};
  if (has_tail) {
    const int64_t col = plan.full_panels * kPanelWidth;
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(tail + r * kPanelWidth, args.a + (row + r) * args.lda + col, sizeof(float) * (args.w->cols - col));
    }
  }
  const float* a = args.a + row * args.lda + panel_begin * kPanelWidth;
  for (int64_t k = k_begin; k < k_end; k += kKr) {
    const int64_t ks = std::min(kKr, k_end - k);
    const GemmTransposedMicrokernelFn kernel =
        gemm_transposed_microkernel(static_cast<size_t>(rows), static_cast<size_t>(ks));
    const float* w = wb.data + (k - k_begin) / kKr * wb.tile_stride;
    const int64_t panel_stride = wb.packed ? ks * kPanelWidth : wb.panel_stride;
    float* c = args.c + row * args.ldc + k;
    bool accumulate = panel_begin > 0;
    if (full > 0) {
      kernel(static_cast<size_t>(full), a, static_cast<size_t>(args.lda), w, static_cast<size_t>(panel_stride), c,
             static_cast<size_t>(args.ldc), accumulate);
      accumulate = true;
    }
    if (has_tail) {
      kernel(1, tail, kPanelWidth, w + full * panel_stride, static_cast<size_t>(panel_stride), c,
             static_cast<size_t>(args.ldc), accumulate);
    }
  }
}

// Rows [row_begin, row_end) x output columns [k_begin, k_end) (relative to args.k_begin).
void transposed_block(const MatmulTransposedArgs& args, const TransposedPlan& plan, int64_t row_begin, int64_t row_end,
                      int64_t k_begin, int64_t k_end) {
  // Per thread, grown once to one block (kBlockBytes): concurrent calls never share it.
  thread_local std::vector<float> pack_buffer;
  // A single row tile reads each weight once: packing would only add a copy (f16 weights are
  // always packed, which widens them).
  const bool pack = row_end - row_begin > kMr || args.w->is_f16();
  for (int64_t pb = 0; pb < plan.panels; pb += plan.panels_per_block) {
    const int64_t pe = std::min(plan.panels, pb + plan.panels_per_block);
    WeightBlock wb;
    if (pack) {
      wb = pack_block(args, pb, pe, k_begin, k_end, pack_buffer);
    } else {
      const PackedMatrix& w = *args.w;
      wb = {w.panel(pb) + (args.k_begin + k_begin) * kPanelWidth, kKr * kPanelWidth, kPanelWidth * w.rows, false};
    }
    for (int64_t i = row_begin; i < row_end; i += kMr) {
      transposed_tile(args, plan, wb, i, std::min(kMr, row_end - i), pb, pe, k_begin, k_end);
    }
  }
}

}  // namespace

void gemm_transposed(const MatmulTransposedArgs& args, ThreadPool& pool) {
  const int64_t kc = args.k_end - args.k_begin;
  if (args.m <= 0 || kc <= 0) return;
  if (args.w->cols <= 0) {  // an empty sum
    for (int64_t i = 0; i < args.m; ++i) std::fill_n(args.c + i * args.ldc, kc, 0.0f);
    return;
  }
  const int64_t macs = args.m * kc * args.w->cols;
  const int threads = macs >= kMinParallelMacs ? pool.threads() : 1;
  const TransposedPlan plan = plan_transposed(args, threads);
  auto run_tasks = [&](int64_t task_begin, int64_t task_end) {
    for (int64_t t = task_begin; t < task_end; ++t) {
      const int64_t k_block = t / plan.row_blocks;
      const int64_t row_block = t % plan.row_blocks;
      const int64_t k_begin = k_block * plan.k_per_block;
      const int64_t row_begin = row_block * plan.rows_per_block;
      transposed_block(args, plan, row_begin, std::min(args.m, row_begin + plan.rows_per_block), k_begin,
                       std::min(kc, k_begin + plan.k_per_block));
    }
  };
  if (threads == 1) {
    run_tasks(0, plan.tasks());
  } else {
    pool.parallel_for(plan.tasks(), 1, run_tasks);
  }
}

}  // namespace hooklab::wasmsimd
