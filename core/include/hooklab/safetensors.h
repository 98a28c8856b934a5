// Reading (and writing) the safetensors format: an 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets}} and then the raw tensor data.
//
// open() accepts exactly the files the reference implementation (huggingface/safetensors)
// accepts, and checks everything a corrupt or hostile file could get wrong before any tensor
// is read: the header length (at most 100,000,000 bytes, within the file) before the header is
// allocated; the header is a UTF-8 JSON object (no byte-order mark, no NUL padding);
// "__metadata__" maps strings to strings; every dtype, shape and offset pair, with byte size =
// numel x dtype size in overflow-checked arithmetic; and the tensors tile the data section
// exactly (no gap, no overlap, no bytes after the last tensor). Names and values from the file
// are quoted in errors as short excerpts (quote_excerpt).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hooklab/byte_source.h"
#include "hooklab/half.h"
#include "hooklab/tensor.h"

namespace hooklab {

enum class DType { kBool, kU8, kI8, kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kF64, kI64, kU64, kF8E4M3, kF8E5M2 };

const char* dtype_name(DType dtype);  // "F32", "BF16", ...
size_t dtype_size(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  uint64_t data_begin = 0;  // absolute offsets in the file
  uint64_t data_end = 0;
  int64_t numel() const { return shape_numel(shape); }
};

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(std::shared_ptr<const ByteSource> source);

  const std::string& file_name() const { return source_->name(); }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(std::string_view name) const;

  // Reads elements [first, first + count) of a floating-point tensor (F32, F16, BF16, F64)
  // converted to f32. Fails on other dtypes and on non-finite values, so a corrupt download
  // cannot load silently.
  Status read_f32(const TensorInfo& tensor, int64_t first, int64_t count, float* dst) const;

 private:
  std::shared_ptr<const ByteSource> source_;
  std::vector<TensorInfo> tensors_;
};

struct TensorToWrite {
  std::string name;
  DType dtype;  // F32, F16 or BF16 (values are rounded to nearest even)
  Shape shape;
  const float* values;
};

// Serialises tensors (in the given order) into safetensors bytes.
Result<std::vector<uint8_t>> write_safetensors(const std::vector<TensorToWrite>& tensors,
                                               const std::vector<std::pair<std::string, std::string>>& metadata);

}  // namespace hooklab
