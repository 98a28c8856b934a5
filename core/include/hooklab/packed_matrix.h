// The one in-memory layout of every large weight matrix: column panels of kPanelWidth.
//
// A weight W of shape [K, N] (K input features, N output features; y = x @ W) is stored as
// ceil(N / 8) panels. Panel p holds columns [8p, 8p + 8); inside a panel the 8 values of row k
// are contiguous, so a register-tiled GEMM micro-kernel streams one panel with unit stride:
//
//   W(k, n) = data[(n / 8) * (8 * K) + k * 8 + n % 8]
//
// Columns past N in the last panel are zero, so kernels never need a scalar tail over N.
// The layout is shared by every CPU backend (reference, wasm SIMD) and read by analysis code
// through at()/column(); weights are packed once at load and never kept twice (wasm memory).
#pragma once

#include <cstdint>

namespace hooklab {

inline constexpr int64_t kPanelWidth = 8;

inline constexpr int64_t round_up_to_panel(int64_t n) { return (n + kPanelWidth - 1) / kPanelWidth * kPanelWidth; }

struct PackedMatrix {
  float* data = nullptr;  // rows * padded_cols() floats
  int64_t rows = 0;       // K
  int64_t cols = 0;       // N

  int64_t padded_cols() const { return round_up_to_panel(cols); }
  int64_t storage_floats() const { return rows * padded_cols(); }
  // Start of panel p (columns [8p, 8p + 8)).
  const float* panel(int64_t p) const { return data + p * kPanelWidth * rows; }
  float at(int64_t k, int64_t n) const {
    return data[(n / kPanelWidth) * kPanelWidth * rows + k * kPanelWidth + n % kPanelWidth];
  }
  float& at(int64_t k, int64_t n) {
    return data[(n / kPanelWidth) * kPanelWidth * rows + k * kPanelWidth + n % kPanelWidth];
  }
};

// dst.data must hold dst.storage_floats() floats; src is row-major [rows, cols].
void pack_matrix(PackedMatrix& dst, const float* src_row_major);
// Packs rows [row_begin, row_begin + count) of a matrix given row-major with stride src_ld.
void pack_matrix_rows(PackedMatrix& dst, const float* src_rows, int64_t src_ld, int64_t row_begin, int64_t count);
// Writes row-major [rows, cols] into dst.
void unpack_matrix(float* dst_row_major, const PackedMatrix& src);
// Copies column n (all K rows) into out[0..K).
void read_column(float* out, const PackedMatrix& src, int64_t n);

}  // namespace hooklab
