#include "hooklab/packed_matrix.h"

#include <cstring>

namespace hooklab {

void pack_matrix_rows(PackedMatrix& dst, const float* src_rows, int64_t src_ld, int64_t row_begin, int64_t count) {
  const int64_t panels = dst.padded_cols() / kPanelWidth;
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t col0 = p * kPanelWidth;
    const int64_t width = dst.cols - col0 < kPanelWidth ? dst.cols - col0 : kPanelWidth;
    float* panel = dst.data + p * kPanelWidth * dst.rows;
    for (int64_t r = 0; r < count; ++r) {
      float* out = panel + (row_begin + r) * kPanelWidth;
      const float* in = src_rows + r * src_ld + col0;
      std::memcpy(out, in, static_cast<size_t>(width) * sizeof(float));
      for (int64_t c = width; c < kPanelWidth; ++c) out[c] = 0.0f;
    }
  }
}

void pack_matrix(PackedMatrix& dst, const float* src_row_major) {
  pack_matrix_rows(dst, src_row_major, dst.cols, 0, dst.rows);
}

void unpack_matrix(float* dst_row_major, const PackedMatrix& src) {
  for (int64_t k = 0; k < src.rows; ++k) {
    for (int64_t n = 0; n < src.cols; ++n) dst_row_major[k * src.cols + n] = src.at(k, n);
  }
}

void read_column(float* out, const PackedMatrix& src, int64_t n) {
  const float* panel = src.panel(n / kPanelWidth) + n % kPanelWidth;
  for (int64_t k = 0; k < src.rows; ++k) out[k] = panel[k * kPanelWidth];
}

}  // namespace hooklab
