// NumPy .npy files (format 1.0, little-endian float32, C order): how the CLI writes caches
// and how tests read the PyTorch reference tensors.
#pragma once

#include <string>
#include <vector>

#include "hooklab/tensor.h"

namespace hooklab {

std::vector<uint8_t> encode_npy(const float* data, const Shape& shape);
Status write_npy_file(const std::string& path, const float* data, const Shape& shape);

struct NpyArray {
  Shape shape;
  std::vector<float> values;
};
// Reads '<f4' (and '<f8', converted) arrays in C order.
Result<NpyArray> read_npy_file(const std::string& path);
Result<NpyArray> decode_npy(const std::vector<uint8_t>& bytes, const std::string& name);

}  // namespace hooklab
