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
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/wasmsimd/f16_simd.h"
#include "kernels/wasmsimd/gemm_microkernels.h"
#include "kernels/wasmsimd/vector_kernels.h"

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

// How many panels one call of the single-row kernel for these weights takes.
int64_t row_kernel_panels(const PackedMatrix& w) {
  return static_cast<int64_t>(w.is_f16() ? kF16RowPanels : kF32RowPanels);
}

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
  const int64_t unit = args.m == 1 ? row_kernel_panels(w) : 1;
  const int64_t units = ceil_div(plan.panels, unit);
  const int64_t unit_bytes = std::max<int64_t>(kc, 1) * kPanelWidth * static_cast<int64_t>(sizeof(float)) * unit;
  // A single row reads each panel once, so there is nothing to keep in L2: its blocks are one
  // kernel call each, the finest pieces for the threads to share (measured 3-8 % faster with 2
  // threads than L2-sized blocks).
  int64_t units_per_block = args.m == 1 ? 1 : std::clamp<int64_t>(kPanelBlockBytes / unit_bytes, 1, units);
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

// Where the micro-kernels read panels [first_panel, ...) of the weights from, each panel's
// rows [k_begin, k_end) of the product: the matrix itself (f32 storage), or a per-thread copy
// of the block widened from f16.
struct PanelSource {
  const float* first;  // row k_begin of panel first_panel
  int64_t first_panel;
  int64_t stride;  // floats from one panel to the next

  const float* of(int64_t p) const { return first + (p - first_panel) * stride; }
};

PanelSource panels_in_place(const MatmulArgs& args, int64_t panel_begin) {
  const PackedMatrix& w = *args.w;
  return {w.panel(panel_begin) + args.k_begin * kPanelWidth, panel_begin, kPanelWidth * w.rows};
}

// Widens rows [k_begin, k_end) of panels [panel_begin, panel_end) into `buffer` (grown once per
// thread to one block): f16 weights are read once per block, then every row tile reads f32.
PanelSource panels_widened(const MatmulArgs& args, int64_t panel_begin, int64_t panel_end, std::vector<float>& buffer) {
  const PackedMatrix& w = *args.w;
  const int64_t panel_floats = (args.k_end - args.k_begin) * kPanelWidth;
  buffer.resize(static_cast<size_t>((panel_end - panel_begin) * panel_floats));
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    widen_f16(buffer.data() + (p - panel_begin) * panel_floats, w.panel_halves(p) + args.k_begin * kPanelWidth,
              panel_floats);
  }
  return {buffer.data(), panel_begin, panel_floats};
}

// One tile of `rows` rows (starting at a / c) across panels [panel_begin, panel_end).
void gemm_row_tile(const MatmulArgs& args, const GemmKernel& gemm_kernel, int64_t rows, const float* a, float* c,
                   const PanelSource& panels, int64_t panel_begin, int64_t panel_end, const PanelBias& bias) {
  const PackedMatrix& w = *args.w;
  const size_t kc = static_cast<size_t>(args.k_end - args.k_begin);
  const GemmMicrokernelFn kernel = gemm_kernel.tiles[rows - 1];
  int64_t p = panel_begin;
  if (rows == 1) {
    // A single row: whole groups of full panels in one call, several accumulator chains at once.
    const auto group = static_cast<int64_t>(kF32RowPanels);
    for (; p + group <= std::min(panel_end, bias.full_panels); p += group) {
      gemm_kernel.row(kc, a, panels.of(p), static_cast<size_t>(panels.stride), bias.of(p), c + p * kPanelWidth);
    }
  }
  for (; p < panel_end; ++p) {
    const int64_t col = p * kPanelWidth;
    const size_t nc = static_cast<size_t>(std::min<int64_t>(w.cols - col, kPanelWidth));
    kernel(kc, a, static_cast<size_t>(args.lda), panels.of(p), bias.of(p), c + col, static_cast<size_t>(args.ldc), nc);
  }
}

// The one row of a single-row product over f16 weights, times 2^112 for the fused kernel; null
// where that scaling would overflow (|a| >= 2^15) or a is not finite: the product then widens
// its panels instead (same values, slower).
const float* rebiased_row(const MatmulArgs& args, std::vector<float>& buffer) {
  if (args.m != 1 || !args.w->is_f16()) return nullptr;
  const int64_t kc = args.k_end - args.k_begin;
  buffer.resize(static_cast<size_t>(kc));
  for (int64_t k = 0; k < kc; ++k) {
    const float a = args.a[k];
    if (!(std::fabs(a) < 0x1p15f)) return nullptr;
    buffer[static_cast<size_t>(k)] = a * kF16Rebias;
  }
  return buffer.data();
}

// Whole groups of full f16 panels from panel_begin with the fused one-row kernel; returns the
// first panel it left (the partial last panel and a group's remainder).
int64_t gemm_row_f16(const MatmulArgs& args, const GemmKernel& gemm_kernel, const float* a_rebiased,
                     int64_t panel_begin, int64_t panel_end, const PanelBias& bias) {
  const PackedMatrix& w = *args.w;
  const auto group = static_cast<int64_t>(kF16RowPanels);
  const size_t kc = static_cast<size_t>(args.k_end - args.k_begin);
  const size_t panel_stride = static_cast<size_t>(kPanelWidth * w.rows);
  int64_t p = panel_begin;
  for (; p + group <= std::min(panel_end, bias.full_panels); p += group) {
    gemm_kernel.row_f16(kc, a_rebiased, w.panel_halves(p) + args.k_begin * kPanelWidth, panel_stride, bias.of(p),
                        args.c + p * kPanelWidth);
  }
  return p;
}

// Rows [row_begin, row_end) x panels [panel_begin, panel_end) of the output. a_rebiased: see
// rebiased_row (single-row f16 products only).
void gemm_block(const MatmulArgs& args, const GemmKernel& gemm_kernel, int64_t row_begin, int64_t row_end,
                int64_t panel_begin, int64_t panel_end, const float* a_rebiased) {
  // Per thread: concurrent products never share it.
  thread_local std::vector<float> widened;
  const PanelBias bias(args, panel_end);
  const int64_t first =
      a_rebiased != nullptr ? gemm_row_f16(args, gemm_kernel, a_rebiased, panel_begin, panel_end, bias) : panel_begin;
  if (first == panel_end) return;
  const PanelSource panels =
      args.w->is_f16() ? panels_widened(args, first, panel_end, widened) : panels_in_place(args, first);
  const int64_t mr = static_cast<int64_t>(gemm_kernel.mr);
  for (int64_t i = row_begin; i < row_end; i += mr) {
    gemm_row_tile(args, gemm_kernel, std::min(row_end - i, mr), args.a + i * args.lda, args.c + i * args.ldc, panels,
                  first, panel_end, bias);
  }
}

}  // namespace

void gemm(const MatmulArgs& args, const GemmKernel& kernel, ThreadPool& pool) {
  if (args.m <= 0 || args.w->cols <= 0) return;
  const int64_t macs = args.m * (args.k_end - args.k_begin) * args.w->cols;
  const int threads = macs >= kMinParallelMacs ? pool.threads() : 1;
  const GemmPlan plan = plan_gemm(args, threads, static_cast<int64_t>(kernel.mr));
  thread_local std::vector<float> rebiased;  // the caller's: read by every thread until parallel_for returns
  const float* a_rebiased = rebiased_row(args, rebiased);
  auto run_tasks = [&](int64_t task_begin, int64_t task_end) {
    for (int64_t t = task_begin; t < task_end; ++t) {
      const int64_t column_block = t / plan.row_blocks;
      const int64_t row_block = t % plan.row_blocks;
      const int64_t panel_begin = column_block * plan.panels_per_block;
      const int64_t panel_end = std::min(plan.panels, panel_begin + plan.panels_per_block);
      const int64_t row_begin = row_block * plan.rows_per_block;
      const int64_t row_end = std::min(args.m, row_begin + plan.rows_per_block);
      gemm_block(args, kernel, row_begin, row_end, panel_begin, panel_end, a_rebiased);
    }
  };
  if (threads == 1) {
    run_tasks(0, plan.tasks());
  } else {
    pool.parallel_for(plan.tasks(), 1, run_tasks);
  }
}

}  // namespace hooklab::wasmsimd
