// The one in-memory layout of every large weight matrix: column panels of kPanelWidth.
//
// A weight W of shape [K, N] (K input features, N output features; y = x @ W) is stored as
// ceil(N / 8) panels. Panel p holds columns [8p, 8p + 8); inside a panel the 8 values of row k
// are contiguous, so a register-tiled GEMM micro-kernel streams one panel with unit stride:
//
//   W(k, n) = storage[(n / 8) * (8 * K) + k * 8 + n % 8]
//
// Columns past N in the last panel are zero, so kernels never need a scalar tail over N.
// The layout is shared by every CPU backend (reference, wasm SIMD) and read by analysis code
// through at()/read_column(); weights are packed once at load and never kept twice (wasm memory).
//
// The storage is f32 (`data`) or, when a model is loaded with f16 weights, IEEE binary16
// (`halves`, same layout, half the bytes): exactly one of the two is set. f16 matrices hold the
// processed f32 weights rounded to nearest even; kernels widen them to f32 and compute in f32.
#pragma once

#include <cstdint>

#include "hooklab/half.h"

namespace hooklab {

inline constexpr int64_t kPanelWidth = 8;

inline constexpr int64_t round_up_to_panel(int64_t n) { return (n + kPanelWidth - 1) / kPanelWidth * kPanelWidth; }

// How the large weight matrices are held in memory. The names ("f32", "f16") are the CLI's
// --weights values and the lab's load option; the TypeScript union is generated from them.
enum class WeightPrecision { kF32, kF16 };
inline constexpr WeightPrecision kWeightPrecisions[] = {WeightPrecision::kF32, WeightPrecision::kF16};
inline constexpr const char* weight_precision_name(WeightPrecision p) {
  return p == WeightPrecision::kF16 ? "f16" : "f32";
}

struct PackedMatrix {
  float* data = nullptr;       // rows * padded_cols() floats, or null for f16 storage
  int64_t rows = 0;            // K
  int64_t cols = 0;            // N
  uint16_t* halves = nullptr;  // rows * padded_cols() f16 values, or null for f32 storage

  bool is_f16() const { return halves != nullptr; }
  // The start of the storage, whichever precision: identifies the matrix (backend caches key on it).
  const void* storage() const { return is_f16() ? static_cast<const void*>(halves) : static_cast<const void*>(data); }
  int64_t padded_cols() const { return round_up_to_panel(cols); }
  // Elements (not bytes) of storage.
  int64_t storage_elements() const { return rows * padded_cols(); }
  int64_t storage_bytes() const { return storage_elements() * (is_f16() ? 2 : 4); }
  int64_t index(int64_t k, int64_t n) const {
    return (n / kPanelWidth) * kPanelWidth * rows + k * kPanelWidth + n % kPanelWidth;
  }
  // Start of panel p (columns [8p, 8p + 8)) of f32 storage.
  const float* panel(int64_t p) const { return data + p * kPanelWidth * rows; }
  const uint16_t* panel_halves(int64_t p) const { return halves + p * kPanelWidth * rows; }
  float at(int64_t k, int64_t n) const { return is_f16() ? f16_to_f32(halves[index(k, n)]) : data[index(k, n)]; }
  // Columns [8 * first_panel, 8 * first_panel + cols) as a matrix of its own over the same storage.
  PackedMatrix column_panels(int64_t first_panel, int64_t n_cols) const;
};

// Packs rows [row_begin, row_begin + count) of a matrix given row-major with stride src_ld.
// For f16 storage the values are rounded to nearest even; false when one of them is not finite
// in f16 (|x| > 65504, inf or NaN), which f16 storage cannot hold (f32 storage always returns true).
bool pack_matrix_rows(PackedMatrix& dst, const float* src_rows, int64_t src_ld, int64_t row_begin, int64_t count);
// The whole matrix, src row-major [rows, cols]; see pack_matrix_rows for the result.
bool pack_matrix(PackedMatrix& dst, const float* src_row_major);
// Writes row-major [rows, cols] into dst.
void unpack_matrix(float* dst_row_major, const PackedMatrix& src);
// Copies column n (all K rows) into out[0..K).
void read_column(float* out, const PackedMatrix& src, int64_t n);
// Widens `count` consecutive storage elements starting at `first` into out (a plain copy for f32).
void read_storage(float* out, const PackedMatrix& src, int64_t first, int64_t count);

}  // namespace hooklab
