// GEMM micro-kernels over PackedMatrix panels (XNNPACK naming: f32_gemm_<MR>x<NR>__<isa>_<variant>).
//
// One call computes an MR x 8 block of C from MR rows of A and one 8-wide weight panel:
//   c[r, 0..nc) = sum_{k < kc} a[r * lda + k] * w[k * 8 + 0..8) (+ bias[0..8))
// w points at the panel's row k_begin (panel rows are contiguous, so a K sub-range is just an
// offset). All 8 panel columns are computed (padded columns hold zeros); only the store is
// limited to nc <= 8 columns. bias, when set, must be readable for 8 floats.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hooklab::wasmsimd {

using GemmMicrokernelFn = void (*)(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                   size_t ldc, size_t nc);

// Loadsplat family: the full tiles 4x8, 5x8 and 6x8 and the M-tail tiles below them.
void f32_gemm_6x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc);
void f32_gemm_5x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc);
void f32_gemm_4x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc);
void f32_gemm_3x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc);
void f32_gemm_2x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc);
void f32_gemm_1x8__wasmsimd_loadsplat(size_t kc, const float* a, size_t lda, const float* w, const float* bias,
                                      float* c, size_t ldc, size_t nc);

// One A row times kF32RowPanels whole consecutive panels, panel_stride floats apart: the
// single-row product of a generation step (see f32_gemm_wasmsimd_loadsplat.cpp). Every column
// must exist (no partial panel); bias, when set, holds 8 * kF32RowPanels floats. Bit-identical
// to running the 1x8 tile on each panel.
void f32_gemm_1x48__wasmsimd_loadsplat(size_t kc, const float* a, const float* w, size_t panel_stride,
                                       const float* bias, float* c);
// Six panels: twelve accumulator chains plus the A splat and a weight row fit x86-64's sixteen
// SIMD registers, and six weight streams per thread kept a 2-core AMD EPYC's memory busier than
// four (a GPT-2-small step's 49 products: 9.4 ms against 10.5 with 2 threads, 17.8 against 19.5
// with 1); eight spill and were slower again.
inline constexpr size_t kF32RowPanels = 6;
// The same over f16 panels (panel_stride in f16 values), with the A row multiplied by 2^112
// (kF16Rebias, f16_simd.h): bit-identical to the f32 kernel over the widened weights, as long as
// that scaling is exact (every |a| < 2^15; the driver checks). Four panels: widening needs
// registers of its own, and six were no faster.
void f16w_gemm_1x32__wasmsimd_loadsplat(size_t kc, const float* a_rebiased, const uint16_t* w, size_t panel_stride,
                                        const float* bias, float* c);
inline constexpr size_t kF16RowPanels = 4;

// Splat family (f32_gemm_splat.cpp): A read 4 k steps at a time, lanes broadcast by shuffles.
void f32_gemm_4x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc);
void f32_gemm_3x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc);
void f32_gemm_2x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc);
void f32_gemm_1x8__wasmsimd_splat(size_t kc, const float* a, size_t lda, const float* w, const float* bias, float* c,
                                  size_t ldc, size_t nc);

// Transposed-GEMM micro-kernels (f32_gemm_transposed_<MR>x<KR>__wasmsimd): one call computes an
// MR x KR block of C = A . W^T over `panels` whole panels:
//   c[r, kk] (+)= sum_{p < panels} sum_{l < 8} a[r * lda + 8p + l] * w[p * panel_stride + kk * 8 + l]
// w points at row k of the first panel, panel_stride = 8 * K; a must hold 8 * panels readable
// floats per row (the driver zero-pads the partial last panel). accumulate adds to c instead of
// overwriting it (partial sums of later panel blocks).
using GemmTransposedMicrokernelFn = void (*)(size_t panels, const float* a, size_t lda, const float* w,
                                             size_t panel_stride, float* c, size_t ldc, bool accumulate);

void f32_gemm_transposed_2x2__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate);
void f32_gemm_transposed_2x1__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate);
void f32_gemm_transposed_1x2__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate);
void f32_gemm_transposed_1x1__wasmsimd(size_t panels, const float* a, size_t lda, const float* w, size_t panel_stride,
                                       float* c, size_t ldc, bool accumulate);

inline constexpr size_t kGemmTransposedMr = 2;
inline constexpr size_t kGemmTransposedKr = 2;

// Kernel for a tile of rows (1..kGemmTransposedMr) x ks (1..kGemmTransposedKr) outputs.
inline GemmTransposedMicrokernelFn gemm_transposed_microkernel(size_t rows, size_t ks) {
  if (rows == 1) return ks == 1 ? f32_gemm_transposed_1x1__wasmsimd : f32_gemm_transposed_1x2__wasmsimd;
  return ks == 1 ? f32_gemm_transposed_2x1__wasmsimd : f32_gemm_transposed_2x2__wasmsimd;
}

inline constexpr size_t kGemmNr = 8;
inline constexpr size_t kMaxGemmMr = 6;

// One selectable GEMM kernel: a full MR x 8 tile and its M-tail tiles, tiles[r - 1] computing r
// rows. Which is fastest depends on the CPU under the browser (x86 has 16 vector registers,
// ARM64 32, so the taller tiles pay on ARM and spill on x86), hence several and a choice at run
// time. Every variant sums each output in the same order (k ascending, mul then add, bias
// last), so the choice never changes a result.
//
// A single row (a generation step) takes the wide one-row kernels instead of tiles[0]. They are
// called through these pointers like the tiles: called directly, binaryen inlined the f32 one into
// the driver's task loop at link, where V8 compiled the same loop 7-10 % slower (a 1-thread
// GPT-2-small step's 49 products: 19.4 ms against 18.0).
using GemmRowFn = void (*)(size_t kc, const float* a, const float* w, size_t panel_stride, const float* bias, float* c);
using F16GemmRowFn = void (*)(size_t kc, const float* a_rebiased, const uint16_t* w, size_t panel_stride,
                              const float* bias, float* c);
struct GemmKernel {
  const char* name;  // "<MR>x8_<variant>", shown in the backend's name
  size_t mr;
  GemmMicrokernelFn tiles[kMaxGemmMr];
  GemmRowFn row = f32_gemm_1x48__wasmsimd_loadsplat;          // kF32RowPanels panels
  F16GemmRowFn row_f16 = f16w_gemm_1x32__wasmsimd_loadsplat;  // kF16RowPanels panels
};

inline constexpr GemmKernel kGemmKernels[] = {
    {"4x8_loadsplat",
     4,
     {f32_gemm_1x8__wasmsimd_loadsplat, f32_gemm_2x8__wasmsimd_loadsplat, f32_gemm_3x8__wasmsimd_loadsplat,
      f32_gemm_4x8__wasmsimd_loadsplat}},
    {"5x8_loadsplat",
     5,
     {f32_gemm_1x8__wasmsimd_loadsplat, f32_gemm_2x8__wasmsimd_loadsplat, f32_gemm_3x8__wasmsimd_loadsplat,
      f32_gemm_4x8__wasmsimd_loadsplat, f32_gemm_5x8__wasmsimd_loadsplat}},
    {"6x8_loadsplat",
     6,
     {f32_gemm_1x8__wasmsimd_loadsplat, f32_gemm_2x8__wasmsimd_loadsplat, f32_gemm_3x8__wasmsimd_loadsplat,
      f32_gemm_4x8__wasmsimd_loadsplat, f32_gemm_5x8__wasmsimd_loadsplat, f32_gemm_6x8__wasmsimd_loadsplat}},
    {"4x8_splat",
     4,
     {f32_gemm_1x8__wasmsimd_splat, f32_gemm_2x8__wasmsimd_splat, f32_gemm_3x8__wasmsimd_splat,
      f32_gemm_4x8__wasmsimd_splat}},
};

// The default before any choice: the fastest on the x86 machines measured (TOOLCHAIN.md).
inline constexpr const GemmKernel& kDefaultGemmKernel = kGemmKernels[0];

}  // namespace hooklab::wasmsimd
