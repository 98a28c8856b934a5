#include "hooklab/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tokenizer/utf8.h"

namespace hooklab {
namespace {

using nlohmann::json;

// The reference implementation (huggingface/safetensors) refuses headers over 100,000,000
// bytes; GPT-2's is about 15 KB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeEntry {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},          {DType::kI16, "I16", 2},
    {DType::kU16, "U16", 2},   {DType::kF16, "F16", 2},        {DType::kBF16, "BF16", 2},      {DType::kI32, "I32", 4},
    {DType::kU32, "U32", 4},   {DType::kF32, "F32", 4},        {DType::kF64, "F64", 8},        {DType::kI64, "I64", 8},
    {DType::kU64, "U64", 8},   {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
};

Error file_error(const std::string& file, const std::string& what) {
  return make_error(ErrorCode::kInvalidModel, file + ": " + what);
}

Error tensor_error(const std::string& file, const std::string& tensor, const std::string& what) {
  return make_error(ErrorCode::kInvalidModel, file + ": tensor " + quote_excerpt(tensor) + " " + what);
}

// Products stay within int64 so Shape (int64 dims) and shape_numel() cannot overflow later.
bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  constexpr uint64_t kLimit = static_cast<uint64_t>(INT64_MAX);
  if (a > kLimit || b > kLimit || (a != 0 && b > kLimit / a)) return false;
  *out = a * b;
  return true;
}

bool is_non_negative_integer(const json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

// Checks and reads the header bytes. Every size is checked before the header is allocated,
// and the bytes must be what the reference's JSON parser (serde_json) takes: valid UTF-8 with
// no byte-order mark (nlohmann would skip one) and no NUL byte (nlohmann would take it as the
// end of the input and silently ignore everything after it). JSON whitespace around the
// object is accepted, as there: the reference's "must start with '{'" check is still disabled.
Result<std::string> read_header_text(const ByteSource& source) {
  const std::string& file = source.name();
  const uint64_t file_size = source.size();
  if (file_size < 8) {
    return file_error(file, "is " + std::to_string(file_size) + " bytes, too small to be a safetensors file");
  }
  uint8_t len_bytes[8];
  HOOKLAB_RETURN_IF_ERROR(source.read(0, len_bytes, 8));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > kMaxHeaderBytes) {
    return file_error(file, "declares a " + std::to_string(header_len) +
                                "-byte header, larger than the 100,000,000-byte limit (not a safetensors file?)");
  }
  if (header_len > file_size - 8) {
    return file_error(file, "declares a " + std::to_string(header_len) + "-byte header but the file has only " +
                                std::to_string(file_size - 8) +
                                " bytes after the length field (truncated or not a safetensors file)");
  }
  std::string header(static_cast<size_t>(header_len), '\0');
  HOOKLAB_RETURN_IF_ERROR(source.read(8, header.data(), header.size()));
  if (header.rfind("\xEF\xBB\xBF", 0) == 0) {
    return file_error(file, "has a UTF-8 byte-order mark before its header (a header is plain JSON)");
  }
  if (const size_t nul = header.find('\0'); nul != std::string::npos) {
    return file_error(file,
                      "has a NUL byte at byte " + std::to_string(nul) + " of its header; only spaces may pad a header");
  }
  for (size_t pos = 0; pos < header.size();) {
    const bpe::Utf8Char c = bpe::decode_utf8_char(std::string_view(header).substr(pos));
    if (!c.valid) return file_error(file, "has a header that is not valid UTF-8 (at byte " + std::to_string(pos) + ")");
    pos += c.length;
  }
  return header;
}

// "__metadata__" is either null or an object of string values, as in the reference.
Status check_metadata(const std::string& file, const json& metadata) {
  if (metadata.is_null()) return {};
  if (!metadata.is_object()) return file_error(file, "has a \"__metadata__\" entry that is not an object");
  for (auto it = metadata.begin(); it != metadata.end(); ++it) {
    if (!it.value().is_string()) {
      return file_error(file, "has a \"__metadata__\" value for " + quote_excerpt(it.key()) +
                                  " that is not a string (the format allows only strings)");
    }
  }
  return {};
}

Result<uint64_t> parse_shape(const std::string& file, const std::string& name, const json& shape, TensorInfo* info) {
  if (!shape.is_array()) return tensor_error(file, name, "has a shape that is not a list");
  uint64_t numel = 1;
  for (const json& dim : shape) {
    if (!is_non_negative_integer(dim)) {
      return tensor_error(file, name, "has a shape entry that is not a non-negative integer");
    }
    const uint64_t d = dim.get<uint64_t>();
    // Multiplied in order, as the reference does, so an overflow before a zero is refused too.
    if (!checked_mul(numel, d, &numel)) {
      return tensor_error(file, name,
                          "has a shape whose element count overflows (dimension " + std::to_string(d) + ")");
    }
    info->shape.push_back(static_cast<int64_t>(d));
  }
  return numel;
}

// One tensor's entry; offsets stay relative to the data section until the layout is checked.
Result<TensorInfo> parse_entry(const std::string& file, const std::string& name, const json& entry) {
  if (!entry.is_object()) return tensor_error(file, name, "has a header entry that is not an object");
  auto dtype_it = entry.find("dtype");
  auto shape_it = entry.find("shape");
  auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || shape_it == entry.end() || offsets_it == entry.end()) {
    return tensor_error(file, name, "is missing \"dtype\", \"shape\" or \"data_offsets\"");
  }
  if (!dtype_it->is_string()) return tensor_error(file, name, "has a non-string dtype");
  const std::string& dtype_str = dtype_it->get_ref<const std::string&>();
  const DTypeEntry* dtype = nullptr;
  for (const auto& d : kDTypes) {
    if (dtype_str == d.name) dtype = &d;
  }
  if (dtype == nullptr) return tensor_error(file, name, "has unknown dtype " + quote_excerpt(dtype_str));

  TensorInfo info;
  info.name = name;
  info.dtype = dtype->dtype;
  HOOKLAB_ASSIGN_OR_RETURN(const uint64_t numel, parse_shape(file, name, *shape_it, &info));
  if (!offsets_it->is_array() || offsets_it->size() != 2 || !is_non_negative_integer((*offsets_it)[0]) ||
      !is_non_negative_integer((*offsets_it)[1])) {
    return tensor_error(file, name, "has \"data_offsets\" that are not a [begin, end] pair of non-negative integers");
  }
  const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
  const uint64_t end = (*offsets_it)[1].get<uint64_t>();
  if (begin > end) {
    return tensor_error(
        file, name, "has data_offsets with begin > end [" + std::to_string(begin) + ", " + std::to_string(end) + "]");
  }
  uint64_t bytes = 0;
  if (!checked_mul(numel, dtype->size, &bytes)) {
    return tensor_error(file, name, "has a shape whose byte size overflows");
  }
  if (bytes != end - begin) {
    return tensor_error(file, name,
                        "has " + std::to_string(end - begin) + " bytes of data but shape " +
                            shape_to_string(info.shape) + " of " + dtype->name + " needs " + std::to_string(bytes));
  }
  info.data_begin = begin;
  info.data_end = end;
  return info;
}

// The tensors, sorted by offsets, must tile the data section exactly: the first starts at 0,
// each starts where the one before ends, the last ends at the end of the file. Bytes no tensor
// claims could otherwise hold anything, and two parsers could disagree about the file.
Status check_layout(const std::string& file, const std::vector<TensorInfo>& tensors, uint64_t data_size) {
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors.size());
  for (const auto& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->data_begin != b->data_begin ? a->data_begin < b->data_begin : a->data_end < b->data_end;
  });
  uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo* cur : by_offset) {
    if (cur->data_begin < covered) {
      return file_error(file, "tensors " + quote_excerpt(previous->name) + " and " + quote_excerpt(cur->name) +
                                  " overlap in the data section");
    }
    if (cur->data_begin > covered) {
      return file_error(file, "has " + std::to_string(cur->data_begin - covered) +
                                  " bytes no tensor claims before tensor " + quote_excerpt(cur->name) +
                                  " (a gap in the data section)");
    }
    covered = cur->data_end;
    previous = cur;
  }
  if (covered > data_size) {
    return file_error(file, "has tensors ending at byte " + std::to_string(covered) +
                                " of the data section, which has only " + std::to_string(data_size) +
                                " bytes (truncated file?)");
  }
  if (covered < data_size) {
    return file_error(file, "has " + std::to_string(data_size - covered) +
                                " bytes after its last tensor (the data section must end with the last tensor)");
  }
  return {};
}

void convert_to_f32(DType dtype, const uint8_t* src, int64_t count, float* dst) {
  switch (dtype) {
    case DType::kF32: std::memcpy(dst, src, static_cast<size_t>(count) * 4); break;
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
    default: break;
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
  HOOKLAB_ASSIGN_OR_RETURN(const std::string header, read_header_text(*source));
  const json j = json::parse(header.begin(), header.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return file_error(file, "has a header that is not valid JSON (not a safetensors file?)");
  if (!j.is_object()) return file_error(file, "has a header that is not a JSON object");

  SafetensorsFile result;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      HOOKLAB_RETURN_IF_ERROR(check_metadata(file, it.value()));
      continue;
    }
    HOOKLAB_ASSIGN_OR_RETURN(TensorInfo info, parse_entry(file, it.key(), it.value()));
    result.tensors_.push_back(std::move(info));
  }
  const uint64_t data_start = 8 + header.size();
  HOOKLAB_RETURN_IF_ERROR(check_layout(file, result.tensors_, source->size() - data_start));
  for (auto& t : result.tensors_) {
    t.data_begin += data_start;
    t.data_end += data_start;
  }
  result.source_ = std::move(source);
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

}  // namespace hooklab
