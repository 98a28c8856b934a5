#include "hooklab/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>

namespace hooklab {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<FloatBuffer> FloatBuffer::allocate(size_t count, const ZeroFill& zero) {
  FloatBuffer buffer;
  if (count == 0) return buffer;
  constexpr size_t kAlign = 64;
  if (count > (std::numeric_limits<size_t>::max() - kAlign) / sizeof(float)) {
    return make_error(ErrorCode::kOutOfMemory, "allocation of " + std::to_string(count) + " floats is too large");
  }
  size_t bytes = (count * sizeof(float) + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, bytes);
  if (p == nullptr) {
    return make_error(ErrorCode::kOutOfMemory,
                      "out of memory allocating " + std::to_string(bytes / (1024 * 1024)) + " MiB");
  }
  if (zero) {
    zero(static_cast<float*>(p), bytes / sizeof(float));
  } else {
    std::memset(p, 0, bytes);
  }
  buffer.data_ = static_cast<float*>(p);
  buffer.size_ = count;
  return buffer;
}

FloatBuffer::~FloatBuffer() { std::free(data_); }

FloatBuffer::FloatBuffer(FloatBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

FloatBuffer& FloatBuffer::operator=(FloatBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

Result<Tensor> Tensor::zeros(Shape shape) {
  for (int64_t d : shape) {
    if (d < 0) return make_error(ErrorCode::kInvalidArgument, "negative dimension in shape " + shape_to_string(shape));
  }
  HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer storage, FloatBuffer::allocate(static_cast<size_t>(shape_numel(shape))));
  Tensor t;
  t.storage_ = std::move(storage);
  t.shape_ = std::move(shape);
  return t;
}

Result<Tensor> Tensor::from_values(Shape shape, const float* values) {
  HOOKLAB_ASSIGN_OR_RETURN(Tensor t, zeros(std::move(shape)));
  if (t.numel() > 0) std::memcpy(t.data(), values, static_cast<size_t>(t.numel()) * sizeof(float));
  return t;
}

Result<FloatBuffer> carve_buffer(std::initializer_list<BufferPart> parts) {
  auto padded = [](int64_t n) { return (n + 15) / 16 * 16; };
  int64_t total = 0;
  for (const BufferPart& part : parts) total += padded(part.floats);
  HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer buffer, FloatBuffer::allocate(static_cast<size_t>(total)));
  float* cursor = buffer.data();
  for (const BufferPart& part : parts) {
    *part.ptr = cursor;
    cursor += padded(part.floats);
  }
  return buffer;
}

}  // namespace hooklab
