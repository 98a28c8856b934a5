#include "hooklab/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

namespace hooklab {
namespace {

using nlohmann::json;

// The reference implementation refuses headers over 100 MB; GPT-2's is about 15 KB.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr size_t kMaxRank = 8;

struct DTypeEntry {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},       {DType::kI8, "I8", 1},
    {DType::kI16, "I16", 2},   {DType::kU16, "U16", 2},     {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI32, "I32", 4},     {DType::kU32, "U32", 4},
    {DType::kF32, "F32", 4},   {DType::kF64, "F64", 8},     {DType::kI64, "I64", 8},
    {DType::kU64, "U64", 8},   {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
};

Error file_error(const std::string& file, const std::string& what) {
  return make_error(ErrorCode::kInvalidModel, file + ": " + what);
}

Error tensor_error(const std::string& file, const std::string& tensor, const std::string& what) {
  return make_error(ErrorCode::kInvalidModel, file + ": tensor '" + tensor + "' " + what);
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *out = a * b;
  return true;
}

Result<TensorInfo> parse_entry(const std::string& file, const std::string& name, const json& entry,
                               uint64_t data_start, uint64_t data_size) {
  if (!entry.is_object()) return tensor_error(file, name, "has a header entry that is not an object");
  auto dtype_it = entry.find("dtype");
  auto shape_it = entry.find("shape");
  auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || shape_it == entry.end() || offsets_it == entry.end()) {
    return tensor_error(file, name, "is missing \"dtype\", \"shape\" or \"data_offsets\"");
  }
  if (!dtype_it->is_string()) return tensor_error(file, name, "has a non-string dtype");
  const std::string dtype_str = dtype_it->get<std::string>();
  const DTypeEntry* dtype = nullptr;
  for (const auto& d : kDTypes) {
    if (dtype_str == d.name) dtype = &d;
  }
  if (dtype == nullptr) return tensor_error(file, name, "has unknown dtype \"" + dtype_str + "\"");

  if (!shape_it->is_array() || shape_it->size() > kMaxRank) {
    return tensor_error(file, name, "has a shape that is not a list of at most 8 dimensions");
  }
  TensorInfo info;
  info.name = name;
  info.dtype = dtype->dtype;
  uint64_t numel = 1;
  for (const json& dim : *shape_it) {
    if (!dim.is_number_unsigned() && !(dim.is_number_integer() && dim.get<int64_t>() >= 0)) {
      return tensor_error(file, name, "has a shape entry that is not a non-negative integer: " + shape_it->dump());
    }
    const uint64_t d = dim.get<uint64_t>();
    if (d > (1ull << 40) || !checked_mul(numel, d, &numel)) {
      return tensor_error(file, name, "has an impossibly large shape " + shape_it->dump());
    }
    info.shape.push_back(static_cast<int64_t>(d));
  }
  if (!offsets_it->is_array() || offsets_it->size() != 2) {
    return tensor_error(file, name, "has \"data_offsets\" that is not a [begin, end] pair");
  }
  for (const json& o : *offsets_it) {
    if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<int64_t>() >= 0)) {
      return tensor_error(file, name, "has negative or non-integer data_offsets " + offsets_it->dump());
    }
  }
  const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
  const uint64_t end = (*offsets_it)[1].get<uint64_t>();
  if (begin > end) return tensor_error(file, name, "has data_offsets with begin > end " + offsets_it->dump());
  if (end > data_size) {
    return tensor_error(file, name, "ends at byte " + std::to_string(end) + " of the data section, which has only " +
                                        std::to_string(data_size) + " bytes (truncated file?)");
  }
  uint64_t bytes = 0;
  if (!checked_mul(numel, dtype->size, &bytes) || bytes != end - begin) {
    return tensor_error(file, name, "has " + std::to_string(end - begin) + " bytes of data but shape " +
                                        shape_to_string(info.shape) + " of " + dtype->name + " needs " +
                                        std::to_string(numel * dtype->size));
  }
  info.data_begin = data_start + begin;
  info.data_end = data_start + end;
  return info;
}

void convert_to_f32(DType dtype, const uint8_t* src, int64_t count, float* dst) {
  switch (dtype) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(count) * 4);
      break;
    case DType::kF16:
      for (int64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      break;
    case DType::kBF16:
      for (int64_t i = 0; i < count; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        dst[i] = bf16_to_f32(b);
      }
      break;
    case DType::kF64:
      for (int64_t i = 0; i < count; ++i) {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        dst[i] = static_cast<float>(d);
      }
      break;
    default:
      break;
  }
}

}  // namespace

const char* dtype_name(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.size;
  }
  return 0;
}

Result<SafetensorsFile> SafetensorsFile::open(std::shared_ptr<const ByteSource> source) {
  const std::string& file = source->name();
  const uint64_t file_size = source->size();
  if (file_size < 8) {
    return file_error(file, "is " + std::to_string(file_size) + " bytes, too small to be a safetensors file");
  }
  uint8_t len_bytes[8];
  HOOKLAB_RETURN_IF_ERROR(source->read(0, len_bytes, 8));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > file_size - 8) {
    return file_error(file, "declares a " + std::to_string(header_len) + "-byte header but the file has only " +
                                std::to_string(file_size - 8) + " bytes after the length field (truncated or not a safetensors file)");
  }
  if (header_len > kMaxHeaderBytes) {
    return file_error(file, "declares a " + std::to_string(header_len) + "-byte header, larger than the 100 MB limit");
  }
  std::string header(static_cast<size_t>(header_len), '\0');
  HOOKLAB_RETURN_IF_ERROR(source->read(8, header.data(), header.size()));
  const json j = json::parse(header.begin(), header.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return file_error(file, "has a header that is not valid JSON (not a safetensors file?)");
  if (!j.is_object()) return file_error(file, "has a header that is not a JSON object");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;
  SafetensorsFile result;
  result.source_ = std::move(source);
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) return file_error(file, "has a \"__metadata__\" entry that is not an object");
      continue;
    }
    HOOKLAB_ASSIGN_OR_RETURN(TensorInfo info, parse_entry(file, it.key(), it.value(), data_start, data_size));
    result.tensors_.push_back(std::move(info));
  }

  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : result.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->data_begin != b->data_begin ? a->data_begin < b->data_begin : a->data_end < b->data_end;
  });
  // Compare each tensor with the furthest-reaching one before it, so an empty tensor in
  // between cannot hide an overlap.
  const TensorInfo* reach = nullptr;
  for (const TensorInfo* cur : by_offset) {
    if (reach != nullptr && cur->data_begin < reach->data_end && cur->data_begin != cur->data_end) {
      return file_error(file, "tensors '" + reach->name + "' and '" + cur->name + "' overlap in the data section");
    }
    if (reach == nullptr || cur->data_end > reach->data_end) reach = cur;
  }
  return result;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Status SafetensorsFile::read_f32(const TensorInfo& tensor, int64_t first, int64_t count, float* dst) const {
  const size_t elem = dtype_size(tensor.dtype);
  if (tensor.dtype != DType::kF32 && tensor.dtype != DType::kF16 && tensor.dtype != DType::kBF16 &&
      tensor.dtype != DType::kF64) {
    return tensor_error(file_name(), tensor.name,
                        std::string("has dtype ") + dtype_name(tensor.dtype) + "; weights must be F32, F16 or BF16");
  }
  if (first < 0 || count < 0 || first + count > tensor.numel()) {
    return tensor_error(file_name(), tensor.name, "read out of range");
  }
  // Convert in bounded chunks so a 150 MB embedding never needs a second full-size buffer.
  constexpr int64_t kChunk = 1 << 16;
  std::vector<uint8_t> staging(tensor.dtype == DType::kF32 ? 0 : static_cast<size_t>(std::min(count, kChunk)) * elem);
  for (int64_t done = 0; done < count; done += kChunk) {
    const int64_t n = std::min(kChunk, count - done);
    const uint64_t offset = tensor.data_begin + static_cast<uint64_t>(first + done) * elem;
    float* out = dst + done;
    if (tensor.dtype == DType::kF32) {
      HOOKLAB_RETURN_IF_ERROR(source_->read(offset, out, static_cast<size_t>(n) * 4));
    } else {
      HOOKLAB_RETURN_IF_ERROR(source_->read(offset, staging.data(), static_cast<size_t>(n) * elem));
      convert_to_f32(tensor.dtype, staging.data(), n, out);
    }
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(out[i])) {
        return tensor_error(file_name(), tensor.name,
                            "contains a non-finite value (" + std::to_string(out[i]) + ") at element " +
                                std::to_string(first + done + i) + "; the file is corrupt");
      }
    }
  }
  return {};
}

Result<std::vector<uint8_t>> write_safetensors(const std::vector<TensorToWrite>& tensors,
                                               const std::vector<std::pair<std::string, std::string>>& metadata) {
  json header = json::object();
  if (!metadata.empty()) {
    json meta = json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16) {
      return make_error(ErrorCode::kInvalidArgument, "write_safetensors: only F32, F16 and BF16 are written");
    }
    const uint64_t bytes = static_cast<uint64_t>(shape_numel(t.shape)) * dtype_size(t.dtype);
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');
  std::vector<uint8_t> out(8 + text.size() + offset);
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(len >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* p = out.data() + 8 + text.size();
  for (const auto& t : tensors) {
    const int64_t n = shape_numel(t.shape);
    for (int64_t i = 0; i < n; ++i) {
      if (t.dtype == DType::kF32) {
        std::memcpy(p, &t.values[i], 4);
        p += 4;
      } else {
        const uint16_t h = t.dtype == DType::kF16 ? f32_to_f16(t.values[i]) : f32_to_bf16(t.values[i]);
        std::memcpy(p, &h, 2);
        p += 2;
      }
    }
  }
  return out;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflows to inf after rounding
  if (abs < 0x33000000u) return sign;                                     // rounds to zero
  int32_t exp = static_cast<int32_t>(abs >> 23) - 127 + 15;
  uint32_t mant = abs & 0x7fffffu;
  if (exp <= 0) {  // subnormal half
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // may carry into the exponent: correct
  return static_cast<uint16_t>(sign | half);
}

}  // namespace hooklab
