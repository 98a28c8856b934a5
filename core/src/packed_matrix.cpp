#include "hooklab/packed_matrix.h"

#include <cstring>

namespace hooklab {
namespace {

// One panel row of width values (the rest of the 8 are zero) into f16 storage.
bool store_halves(uint16_t* out, const float* in, int64_t width) {
  for (int64_t c = width; c < kPanelWidth; ++c) out[c] = 0;
  return store_f16(out, in, width);
}

}  // namespace

PackedMatrix PackedMatrix::column_panels(int64_t first_panel, int64_t n_cols) const {
  PackedMatrix view = *this;
  const int64_t offset = first_panel * kPanelWidth * rows;
  if (is_f16()) {
    view.halves = halves + offset;
  } else {
    view.data = data + offset;
  }
  view.cols = n_cols;
  return view;
}

bool pack_matrix_rows(PackedMatrix& dst, const float* src_rows, int64_t src_ld, int64_t row_begin, int64_t count) {
  const int64_t panels = dst.padded_cols() / kPanelWidth;
  bool fits = true;
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t col0 = p * kPanelWidth;
    const int64_t width = dst.cols - col0 < kPanelWidth ? dst.cols - col0 : kPanelWidth;
    for (int64_t r = 0; r < count; ++r) {
      const int64_t at = p * kPanelWidth * dst.rows + (row_begin + r) * kPanelWidth;
      const float* in = src_rows + r * src_ld + col0;
      if (dst.is_f16()) {
        fits = store_halves(dst.halves + at, in, width) && fits;
        continue;
      }
      float* out = dst.data + at;
      std::memcpy(out, in, static_cast<size_t>(width) * sizeof(float));
      for (int64_t c = width; c < kPanelWidth; ++c) out[c] = 0.0f;
    }
  }
  return fits;
}

bool pack_matrix(PackedMatrix& dst, const float* src_row_major) {
  return pack_matrix_rows(dst, src_row_major, dst.cols, 0, dst.rows);
}

void unpack_matrix(float* dst_row_major, const PackedMatrix& src) {
  for (int64_t k = 0; k < src.rows; ++k) {
    for (int64_t n = 0; n < src.cols; ++n) dst_row_major[k * src.cols + n] = src.at(k, n);
  }
}

void read_column(float* out, const PackedMatrix& src, int64_t n) {
  for (int64_t k = 0; k < src.rows; ++k) out[k] = src.at(k, n);
}

void read_storage(float* out, const PackedMatrix& src, int64_t first, int64_t count) {
  read_f32_or_f16(out, src.data, src.halves, first, count);
}

}  // namespace hooklab
