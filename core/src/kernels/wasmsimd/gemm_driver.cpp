// GEMM driver for PackedMatrix weights.
//
// Loop nest (per task):  for each MR-row tile of A         (A tile: MR x kc floats, stays in L1)
//                          for each panel of the column block (block of panels stays in L2)
//                            micro-kernel MR x 8
// The output columns are tiled outermost in blocks of panels sized to a fraction of L2, so each
// panel is fetched from memory once per block and then re-read from L2 by every row tile; for
// the 50257-wide unembedding (154 MB of weights) this is what keeps the kernel compute-bound
// for M >= 32 instead of streaming the whole matrix once per 4 rows.
//
// Threads split the column blocks (each thread streams different weights; A is small and
// shared). When there are too few panels to give every thread equal work, rows are split too.
#include "kernels/wasmsimd/gemm_driver.h"

#include <algorithm>
#include <cstddef>

#include "kernels/wasmsimd/gemm_microkernels.h"

namespace hooklab::wasmsimd {
namespace {

// Weights of one column block. Typical L2 is 1-2 MiB per core on x86 and ARM; half a MiB
// leaves room for the A rows, the outputs and another tab. K = 768 gives 21 panels (168
// columns) per block, K = 3072 gives 5.
constexpr int64_t kPanelBlockBytes = 512 * 1024;

// Below this many multiply-adds the product runs on the calling thread: waking the workers
// and joining them costs a few microseconds, about what 2^18 MACs take on one core.
constexpr int64_t kMinParallelMacs = int64_t{1} << 18;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct GemmPlan {
  int64_t panels = 0;  // ceil(cols / 8)
  int64_t panels_per_block = 0;
  int64_t column_blocks = 0;
  int64_t rows_per_block = 0;  // multiple of the kernel's MR except possibly the last block
  int64_t row_blocks = 0;

  int64_t tasks() const { return column_blocks * row_blocks; }
};

GemmPlan plan_gemm(const MatmulArgs& args, int threads, int64_t mr) {
  const PackedMatrix& w = *args.w;
  const int64_t kc = args.k_end - args.k_begin;
  GemmPlan plan;
  plan.panels = ceil_div(w.cols, kPanelWidth);
  // Blocks are whole units of panels: one panel, or for a single row the group of panels that
  // one micro-kernel call takes (gemm_row_tile), so that no block leaves a panel to the slower
  // one-panel tile.
  const int64_t unit = args.m == 1 ? static_cast<int64_t>(kGemmRowPanels) : 1;
  const int64_t units = ceil_div(plan.panels, unit);
  const int64_t unit_bytes = std::max<int64_t>(kc, 1) * kPanelWidth * static_cast<int64_t>(sizeof(float)) * unit;
  int64_t units_per_block = std::clamp<int64_t>(kPanelBlockBytes / unit_bytes, 1, units);
  plan.column_blocks = ceil_div(units, units_per_block);
  plan.row_blocks = 1;
  if (threads > 1) {
    // Equal-sized column blocks, a multiple of the thread count when there are enough units.
    const int64_t wanted = std::min(units, ceil_div(plan.column_blocks, threads) * threads);
    units_per_block = ceil_div(units, wanted);
    plan.column_blocks = ceil_div(units, units_per_block);
    if (plan.column_blocks % threads != 0) {
      // Too few panels to share evenly: also split rows, into whole tiles.
      plan.row_blocks = std::min<int64_t>(ceil_div(args.m, mr), 2 * threads);
    }
  }
  plan.panels_per_block = std::min(plan.panels, units_per_block * unit);
  const int64_t tiles = ceil_div(args.m, mr);
  plan.rows_per_block = ceil_div(tiles, plan.row_blocks) * mr;
  plan.row_blocks = ceil_div(args.m, plan.rows_per_block);
  return plan;
}

// The micro-kernel reads 8 bias values per panel; the caller's bias holds exactly `cols`, so the
// last, partial panel gets a zero-padded copy.
struct PanelBias {
  const float* bias;
  int64_t full_panels;
  alignas(16) float tail[kPanelWidth] = {};

  PanelBias(const MatmulArgs& args, int64_t panel_end) : bias(args.bias), full_panels(args.w->cols / kPanelWidth) {
    if (bias != nullptr && panel_end > full_panels) {
      for (int64_t n = full_panels * kPanelWidth; n < args.w->cols; ++n) tail[n % kPanelWidth] = bias[n];
    }
  }
  const float* of(int64_t p) const {
    return bias == nullptr ? nullptr : (p < full_panels ? bias + p * kPanelWidth : tail);
  }
};

// One tile of `rows` rows (starting at a / c) across panels [panel_begin, panel_end).
void gemm_row_tile(const MatmulArgs& args, const GemmKernel& gemm_kernel, int64_t rows, const float* a, float* c,
                   int64_t panel_begin, int64_t panel_end, const PanelBias& bias) {
  const PackedMatrix& w = *args.w;
  const size_t kc = static_cast<size_t>(args.k_end - args.k_begin);
  const GemmMicrokernelFn kernel = gemm_kernel.tiles[rows - 1];
  int64_t p = panel_begin;
  if (rows == 1) {
    // A single row: whole groups of full panels in one call, several accumulator chains at once.
    const auto group = static_cast<int64_t>(kGemmRowPanels);
    const size_t panel_stride = static_cast<size_t>(kPanelWidth * w.rows);
    for (; p + group <= std::min(panel_end, bias.full_panels); p += group) {
      f32_gemm_1x32__wasmsimd_loadsplat(kc, a, w.panel(p) + args.k_begin * kPanelWidth, panel_stride, bias.of(p),
                                        c + p * kPanelWidth);
    }
  }
  for (; p < panel_end; ++p) {
    const int64_t col = p * kPanelWidth;
    const size_t nc = static_cast<size_t>(std::min<int64_t>(w.cols - col, kPanelWidth));
    kernel(kc, a, static_cast<size_t>(args.lda), w.panel(p) + args.k_begin * kPanelWidth, bias.of(p), c + col,
           static_cast<size_t>(args.ldc), nc);
  }
}

// Rows [row_begin, row_end) x panels [panel_begin, panel_end) of the output.
void gemm_block(const MatmulArgs& args, const GemmKernel& gemm_kernel, int64_t row_begin, int64_t row_end,
                int64_t panel_begin, int64_t panel_end) {
  const PanelBias bias(args, panel_end);
  const int64_t mr = static_cast<int64_t>(gemm_kernel.mr);
  for (int64_t i = row_begin; i < row_end; i += mr) {
    gemm_row_tile(args, gemm_kernel, std::min(row_end - i, mr), args.a + i * args.lda, args.c + i * args.ldc,
                  panel_begin, panel_end, bias);
  }
}

}  // namespace

void gemm(const MatmulArgs& args, const GemmKernel& kernel, ThreadPool& pool) {
  if (args.m <= 0 || args.w->cols <= 0) return;
  const int64_t macs = args.m * (args.k_end - args.k_begin) * args.w->cols;
  const int threads = macs >= kMinParallelMacs ? pool.threads() : 1;
  const GemmPlan plan = plan_gemm(args, threads, static_cast<int64_t>(kernel.mr));
  auto run_tasks = [&](int64_t task_begin, int64_t task_end) {
    for (int64_t t = task_begin; t < task_end; ++t) {
      const int64_t column_block = t / plan.row_blocks;
      const int64_t row_block = t % plan.row_blocks;
      const int64_t panel_begin = column_block * plan.panels_per_block;
      const int64_t panel_end = std::min(plan.panels, panel_begin + plan.panels_per_block);
      const int64_t row_begin = row_block * plan.rows_per_block;
      const int64_t row_end = std::min(args.m, row_begin + plan.rows_per_block);
      gemm_block(args, kernel, row_begin, row_end, panel_begin, panel_end);
    }
  };
  if (threads == 1) {
    run_tasks(0, plan.tasks());
  } else {
    pool.parallel_for(plan.tasks(), 1, run_tasks);
  }
}

}  // namespace hooklab::wasmsimd
