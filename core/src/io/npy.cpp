#include "hooklab/npy.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "hooklab/byte_source.h"

namespace hooklab {
namespace {

Error npy_error(const std::string& name, const std::string& what) {
  return make_error(ErrorCode::kInvalidInput, name + ": " + what);
}

// The dims of a shape tuple such as "1, 3, 8" or "5," (Python's one-element tuple). Every dim
// is a non-negative decimal integer and the element count stays within int64.
Result<Shape> parse_dims(std::string_view dims, const std::string& name) {
  Shape shape;
  uint64_t numel = 1;
  size_t pos = 0;
  while (pos < dims.size()) {
    const size_t comma = std::min(dims.find(',', pos), dims.size());
    std::string_view item = dims.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    pos = comma + 1;
    if (item.empty() && comma == dims.size()) break;  // after a trailing comma
    int64_t dim = -1;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), dim);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || dim < 0) {
      return npy_error(name, "malformed shape in .npy header: " + quote_excerpt(dims));
    }
    if (dim != 0 && numel > static_cast<uint64_t>(INT64_MAX) / static_cast<uint64_t>(dim)) {
      return npy_error(name, "shape in .npy header has too many elements: " + quote_excerpt(dims));
    }
    numel *= static_cast<uint64_t>(dim);
    shape.push_back(dim);
  }
  return shape;
}

// Parses the Python-dict header, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8), }
Result<std::pair<std::string, Shape>> parse_header(const std::string& header, const std::string& name) {
  auto field = [&](const char* key) -> std::string::size_type {
    const auto at = header.find(key);
    return at == std::string::npos ? at : at + std::strlen(key);
  };
  const auto descr_at = field("'descr':");
  const auto fortran_at = field("'fortran_order':");
  const auto shape_at = field("'shape':");
  if (descr_at == std::string::npos || fortran_at == std::string::npos || shape_at == std::string::npos) {
    return npy_error(name, "malformed .npy header");
  }
  const auto q1 = header.find('\'', descr_at);
  const auto q2 = q1 == std::string::npos ? q1 : header.find('\'', q1 + 1);
  if (q2 == std::string::npos) return npy_error(name, "malformed dtype in .npy header");
  const std::string descr = header.substr(q1 + 1, q2 - q1 - 1);
  const auto fortran_value = header.find_first_not_of(' ', fortran_at);
  if (fortran_value == std::string::npos || header.compare(fortran_value, 5, "False") != 0) {
    return npy_error(name, "Fortran-order arrays are not supported");
  }
  const auto open = header.find('(', shape_at);
  const auto close = open == std::string::npos ? open : header.find(')', open);
  if (close == std::string::npos) return npy_error(name, "malformed shape in .npy header");
  HOOKLAB_ASSIGN_OR_RETURN(Shape shape, parse_dims(std::string_view(header).substr(open + 1, close - open - 1), name));
  return std::make_pair(descr, std::move(shape));
}

}  // namespace

std::vector<uint8_t> encode_npy(const float* data, const Shape& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) dims += ", ";
    dims += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dims += ",";  // Python's one-element tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  const size_t n = static_cast<size_t>(shape_numel(shape));
  std::vector<uint8_t> out(10 + header.size() + n * 4);
  std::memcpy(out.data(), "\x93NUMPY\x01\x00", 8);
  out[8] = static_cast<uint8_t>(header.size() & 0xff);
  out[9] = static_cast<uint8_t>(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (n > 0) std::memcpy(out.data() + 10 + header.size(), data, n * 4);
  return out;
}

Status write_npy_file(const std::string& path, const float* data, const Shape& shape) {
  const std::vector<uint8_t> bytes = encode_npy(data, shape);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return make_error(ErrorCode::kIoError, path + ": cannot create file");
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) return make_error(ErrorCode::kIoError, path + ": write failed");
  return {};
}

Result<NpyArray> decode_npy(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) return npy_error(name, "not a .npy file");
  const int major = bytes[6];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = bytes[8] | (bytes[9] << 8);
    header_start = 10;
  } else {
    if (bytes.size() < 12) return npy_error(name, "truncated .npy header");
    header_len = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (static_cast<size_t>(bytes[11]) << 24);
    header_start = 12;
  }
  if (header_start + header_len > bytes.size()) return npy_error(name, "truncated .npy header");
  const std::string header(reinterpret_cast<const char*>(bytes.data() + header_start), header_len);
  HOOKLAB_ASSIGN_OR_RETURN(auto parsed, parse_header(header, name));
  NpyArray array;
  array.shape = parsed.second;
  const size_t n = static_cast<size_t>(shape_numel(array.shape));
  const size_t elem = parsed.first == "<f4" ? 4 : parsed.first == "<f8" ? 8 : 0;
  if (elem == 0) return npy_error(name, "dtype " + quote_excerpt(parsed.first) + " is not supported (need <f4 or <f8)");
  const uint8_t* data = bytes.data() + header_start + header_len;
  // Compared by division: n * elem could overflow for a hostile shape.
  const size_t data_bytes = bytes.size() - header_start - header_len;
  if (data_bytes % elem != 0 || data_bytes / elem != n) return npy_error(name, "data size does not match the shape");
  array.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (elem == 4) {
      std::memcpy(&array.values[i], data + 4 * i, 4);
    } else {
      double d;
      std::memcpy(&d, data + 8 * i, 8);
      array.values[i] = static_cast<float>(d);
    }
  }
  return array;
}

Result<NpyArray> read_npy_file(const std::string& path) {
  HOOKLAB_ASSIGN_OR_RETURN(auto source, open_file_source(path));
  std::vector<uint8_t> bytes(static_cast<size_t>(source->size()));
  HOOKLAB_RETURN_IF_ERROR(source->read(0, bytes.data(), bytes.size()));
  return decode_npy(bytes, path);
}

}  // namespace hooklab
