#include "tokenizer/utf8.h"

namespace hooklab::bpe {

Utf8Char decode_utf8_char(std::string_view text) {
  const auto lead = static_cast<uint8_t>(text[0]);
  if (lead < 0x80) return {lead, 1, true};

  // The first continuation byte's range is narrower after some leads: that is what rules out
  // overlong forms (E0, F0), UTF-16 surrogates (ED) and code points above U+10FFFF (F4).
  uint32_t continuation_count = 0;
  char32_t code_point = 0;
  uint8_t first_low = 0x80;
  uint8_t first_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_count = 1;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_count = 2;
    code_point = lead & 0x0F;
    if (lead == 0xE0) first_low = 0xA0;
    if (lead == 0xED) first_high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_count = 3;
    code_point = lead & 0x07;
    if (lead == 0xF0) first_low = 0x90;
    if (lead == 0xF4) first_high = 0x8F;
  } else {
    return {kReplacementCharacter, 1, false};  // continuation byte, C0, C1 or F5..FF
  }

  uint32_t length = 1;
  for (uint32_t k = 0; k < continuation_count; ++k, ++length) {
    if (length >= text.size()) return {kReplacementCharacter, length, false};
    const auto byte = static_cast<uint8_t>(text[length]);
    const uint8_t low = k == 0 ? first_low : uint8_t{0x80};
    const uint8_t high = k == 0 ? first_high : uint8_t{0xBF};
    if (byte < low || byte > high) return {kReplacementCharacter, length, false};
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  return {code_point, length, true};
}

void append_utf8(char32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

std::string replace_invalid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Utf8Char ch = decode_utf8_char(bytes.substr(pos));
    if (ch.valid) {
      out.append(bytes.substr(pos, ch.length));
    } else {
      append_utf8(kReplacementCharacter, out);
    }
    pos += ch.length;
  }
  return out;
}

}  // namespace hooklab::bpe
