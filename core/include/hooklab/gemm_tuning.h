// Choosing the GEMM micro-kernel on the user's machine. Which tile shape and broadcast style
// (4x8 / 5x8 / 6x8, loadsplat / splat) is fastest depends on the CPU, not on the model, so the
// page times each kernel once per device on GPT-2-sized products and remembers the winner;
// LoadOptions::gemm_kernel then selects it. Every kernel computes the same values.
//
// The kernels are timed on the calling thread alone, whatever thread count the model then runs
// with: the ranking is a property of one core, and threads only split the work. Timed with two
// threads on a 2-core machine whose other core was busy (another page loading), a batch's time was
// the wait for the descheduled second thread, and the pick went by luck: 4x8 splat (12 % slower
// than the loadsplat kernels at T = 32, 2 threads, in one page) won in 2 of 3 benchmark runs on a
// 2-core Zen 5 VM whose pages loaded onnxruntime-web meanwhile, and in 1 of 10 trials with both
// cores loaded; the page then remembered it for the device. On one thread under the same load the
// pick was a loadsplat kernel 10 times in 10.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hooklab/backend.h"
#include "hooklab/status.h"

namespace hooklab {

struct GemmTuningOptions {
  BackendKind backend = BackendKind::kAuto;
  // Rows of the timed products: the prompt lengths the lab runs most (short prompts, sweeps).
  int64_t rows = 16;
  // The timing stops starting new rounds past this (one round always runs).
  double budget_seconds = 0.07;
  // Seconds from an arbitrary origin (steady_clock when empty).
  std::function<double()> clock;
};

struct GemmKernelTiming {
  std::string kernel;
  double best_seconds = 0.0;  // both products once, from the fastest round's batch
};

struct GemmTuning {
  std::string kernel;  // the fastest; empty when the backend has one fixed kernel
  std::vector<GemmKernelTiming> timings;
  int rounds = 0;
  int calls_per_batch = 0;
  double elapsed_seconds = 0.0;
};

// Times every kernel of a fresh one-thread backend of options.backend on [rows, 768] x [768, 64] and
// [rows, 3072] x [3072, 64] (GPT-2 small's attention and MLP-out depths), interleaved round by
// round so that machine noise falls on all of them alike, and picks the lowest best round.
Result<GemmTuning> tune_gemm_kernel(const GemmTuningOptions& options);

}  // namespace hooklab
