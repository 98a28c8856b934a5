// Dense f32 tensors: an owning Tensor and a non-owning TensorView.
//
// Shapes follow TransformerLens (row-major, batch first). Storage is 64-byte aligned so SIMD
// kernels can use aligned loads on row starts whose length is a multiple of 16 floats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "hooklab/status.h"

namespace hooklab {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "[1, 10, 768]"

// A view of someone else's floats. Hooks receive these and may edit the values in place.
struct TensorView {
  float* data = nullptr;
  Shape shape;

  int64_t numel() const { return shape_numel(shape); }
  int rank() const { return static_cast<int>(shape.size()); }
};

// Writes n zeros from data. The first write to a fresh page is a page fault, which on some
// VMs costs far more than the write itself (the AMD EPYC VM of README's tables: 2.8 ms per MB
// natively, 3.5-3.9 in Chromium, against 0.05 ms per MB for a page already touched), so the model's
// weights are zeroed by the backend's threads (Backend::zero_fill), which take faults in parallel.
using ZeroFill = std::function<void(float* data, size_t n)>;

// 64-byte aligned, zero-initialised float storage that reports allocation failure instead of
// aborting: a model that does not fit must produce an error, not kill the tab.
class FloatBuffer {
 public:
  FloatBuffer() = default;
  // `zero` zeroes the new storage; empty: one memset on the calling thread.
  static Result<FloatBuffer> allocate(size_t count, const ZeroFill& zero = {});
  ~FloatBuffer();
  FloatBuffer(FloatBuffer&& other) noexcept;
  FloatBuffer& operator=(FloatBuffer&& other) noexcept;
  FloatBuffer(const FloatBuffer&) = delete;
  FloatBuffer& operator=(const FloatBuffer&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};

// One named slice of a per-run workspace: `*ptr` is set to `floats` floats of the buffer.
struct BufferPart {
  float** ptr;
  int64_t floats;
};
// Allocates one buffer for every part (each padded to 16 floats, 64 bytes) and points each
// part's pointer at its slice: the forward's and the backward's scratch, one allocation each.
Result<FloatBuffer> carve_buffer(std::initializer_list<BufferPart> parts);

class Tensor {
 public:
  Tensor() = default;
  static Result<Tensor> zeros(Shape shape);
  static Result<Tensor> from_values(Shape shape, const float* values);

  float* data() { return storage_.data(); }
  const float* data() const { return storage_.data(); }
  const Shape& shape() const { return shape_; }
  int64_t numel() const { return shape_numel(shape_); }
  TensorView view() { return TensorView{storage_.data(), shape_}; }

 private:
  FloatBuffer storage_;
  Shape shape_;
};

}  // namespace hooklab
