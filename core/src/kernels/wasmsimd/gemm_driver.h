// GEMM drivers (forward and transposed): cache blocking, tail dispatch and thread split around
// the micro-kernels.
#pragma once

#include "hooklab/backend.h"
#include "hooklab/thread_pool.h"
#include "kernels/wasmsimd/gemm_microkernels.h"

namespace hooklab::wasmsimd {

// Computes args (see MatmulArgs) with one of the f32_gemm_*x8__wasmsimd kernels, split across
// pool's threads when the product is large enough to pay for waking them.
void gemm(const MatmulArgs& args, const GemmKernel& kernel, ThreadPool& pool);

// Computes args (see MatmulTransposedArgs) with the f32_gemm_transposed_*__wasmsimd kernels,
// split across pool's threads like gemm().
void gemm_transposed(const MatmulTransposedArgs& args, ThreadPool& pool);

}  // namespace hooklab::wasmsimd
