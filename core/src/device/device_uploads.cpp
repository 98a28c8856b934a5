// Weight uploads shared by every DeviceBackend: large tensors are split into windows that
// each fit one storage binding, so a 154 MB unembedding works under the default 128 MiB
// limit (and becomes a single window where the device granted a higher one).
#include <algorithm>
#include <vector>

#include "hooklab/device_backend.h"

namespace hooklab {
namespace {

int64_t window_bytes(const DeviceLimits& limits) {
  return std::max<int64_t>(16, std::min(limits.max_binding_bytes, limits.max_buffer_bytes));
}

}  // namespace

Result<DeviceBufferId> DeviceBackend::upload_vector(const float* host, int64_t count) {
  HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId id, allocate(count));
  upload({id, 0}, host, count);
  return id;
}

// The device computes in f32: f16 weights are widened on the way, a bounded piece at a time.
void DeviceBackend::upload_weights(DeviceSpan dst, const float* f32, const uint16_t* f16, int64_t first,
                                   int64_t count) {
  if (f32 != nullptr) {
    upload(dst, f32 + first, count);
    return;
  }
  constexpr int64_t kPieceFloats = int64_t{1} << 18;  // 1 MiB of f32
  std::vector<float> piece(static_cast<size_t>(std::min(count, kPieceFloats)));
  for (int64_t done = 0; done < count; done += kPieceFloats) {
    const int64_t n = std::min(kPieceFloats, count - done);
    read_f32_or_f16(piece.data(), nullptr, f16, first + done, n);
    upload({dst.buffer, dst.offset + done}, piece.data(), n);
  }
}

Result<DeviceMatrix> DeviceBackend::upload_matrix(const PackedMatrix& w, const float* bias) {
  DeviceMatrix m;
  m.rows = w.rows;
  m.cols = w.cols;
  const int64_t panel_floats = kPanelWidth * w.rows;
  const int64_t panels = w.padded_cols() / kPanelWidth;
  const int64_t per_window = std::max<int64_t>(1, window_bytes(limits()) / (panel_floats * 4));
  for (int64_t p = 0; p < panels; p += per_window) {
    const int64_t end = std::min(panels, p + per_window);
    auto id = allocate((end - p) * panel_floats);
    if (!id.ok()) {
      release(m);
      return id.error();
    }
    upload_weights({*id, 0}, w.data, w.halves, p * panel_floats, (end - p) * panel_floats);
    m.windows.push_back({*id, p, end});
  }
  if (bias != nullptr) {
    auto id = upload_vector(bias, w.padded_cols());  // biases are padded to whole panels
    if (!id.ok()) {
      release(m);
      return id.error();
    }
    m.bias = *id;
  }
  return m;
}

Result<DeviceTable> DeviceBackend::upload_table(const EmbeddingTable& host) {
  DeviceTable t;
  const int64_t rows = host.rows, cols = host.cols;
  t.rows = rows;
  t.cols = cols;
  const int64_t per_window = std::max<int64_t>(1, window_bytes(limits()) / (cols * 4));
  for (int64_t r = 0; r < rows; r += per_window) {
    const int64_t end = std::min(rows, r + per_window);
    auto id = allocate((end - r) * cols);
    if (!id.ok()) {
      release(t);
      return id.error();
    }
    upload_weights({*id, 0}, host.data, host.halves, r * cols, (end - r) * cols);
    t.windows.push_back({*id, r, end});
  }
  return t;
}

void DeviceBackend::release(DeviceMatrix& m) {
  for (const auto& w : m.windows) release(w.buffer);
  if (m.bias != kNoDeviceBuffer) release(m.bias);
  m.windows.clear();
  m.bias = kNoDeviceBuffer;
}

void DeviceBackend::release(DeviceTable& t) {
  for (const auto& w : t.windows) release(w.buffer);
  t.windows.clear();
}

}  // namespace hooklab
