#include "hooklab/status.h"

#include <cstdio>

#include "tokenizer/utf8.h"

namespace hooklab {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kInvalidModel: return "invalid_model";
    case ErrorCode::kInvalidInput: return "invalid_input";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kIoError: return "io_error";
    case ErrorCode::kOutOfMemory: return "out_of_memory";
    case ErrorCode::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::string quote_excerpt(std::string_view text, size_t max_bytes) {
  std::string out = "\"";
  size_t pos = 0;
  while (pos < text.size()) {
    const bpe::Utf8Char c = bpe::decode_utf8_char(text.substr(pos));
    if (pos + c.length > max_bytes) break;
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (c.valid && (c.code_point == '"' || c.code_point == '\\')) {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (c.valid && c.code_point >= 0x20 && c.code_point != 0x7f) {
      out.append(text.substr(pos, c.length));
    } else {  // a control character, or the bytes of an ill-formed sequence
      for (uint32_t i = 0; i < c.length; ++i) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[pos + i])));
        out += hex;
      }
    }
    pos += c.length;
  }
  if (pos < text.size()) out += "\u2026";
  out += '"';
  return out;
}

}  // namespace hooklab
