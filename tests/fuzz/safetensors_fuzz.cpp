// The safetensors header and layout parser on arbitrary file bytes. Accepted files must obey
// the layout rules open() promises (tensors tile the data section exactly), and reading any
// floating-point tensor must stay within the file.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "hooklab/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hooklab;
  auto file = SafetensorsFile::open(make_borrowed_source("model.safetensors", data, size));
  if (!file.ok()) {
    fuzz::require_clear_error(file.error());
    return 0;
  }
  uint64_t claimed = 0;
  for (const TensorInfo& t : file->tensors()) {
    fuzz::require(t.data_begin <= t.data_end && t.data_end <= size, "tensor inside the file", t.name);
    fuzz::require(static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype) == t.data_end - t.data_begin,
                  "byte size = numel x dtype size", t.name);
    claimed += t.data_end - t.data_begin;
    const bool is_float =
        t.dtype == DType::kF32 || t.dtype == DType::kF16 || t.dtype == DType::kBF16 || t.dtype == DType::kF64;
    std::vector<float> values(static_cast<size_t>(std::min<int64_t>(t.numel(), 1024)));
    const Status read = file->read_f32(t, 0, static_cast<int64_t>(values.size()), values.data());
    fuzz::require(read.ok() || !is_float || read.message().find("non-finite") != std::string::npos,
                  "a float tensor reads", read.ok() ? "" : read.message());
    if (!read.ok()) fuzz::require_clear_error(read.error());
  }
  if (!file->tensors().empty()) {
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
    fuzz::require(8 + header_len + claimed == size, "tensors tile the data section exactly");
  }
  return 0;
}
