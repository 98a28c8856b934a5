#include "tokenizer/byte_unicode.h"

#include <array>

#include "tokenizer/utf8.h"

namespace hooklab::bpe {
namespace {

constexpr bool maps_to_itself(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

constexpr auto kByteToCodePoint = [] {
  std::array<char32_t, 256> table{};
  char32_t next_shifted = 256;
  for (int byte = 0; byte < 256; ++byte) {
    table[byte] = maps_to_itself(byte) ? static_cast<char32_t>(byte) : next_shifted++;
  }
  return table;
}();

constexpr char32_t kAlphabetEnd = 256 + 68;
constexpr auto kCodePointToByte = [] {
  std::array<int16_t, kAlphabetEnd> table{};
  table.fill(-1);
  for (int byte = 0; byte < 256; ++byte) table[kByteToCodePoint[byte]] = static_cast<int16_t>(byte);
  return table;
}();
static_assert(kByteToCodePoint[255] == 255 && kByteToCodePoint[' '] == 0x120, "Ġ must spell a space");

}  // namespace

char32_t gpt2_byte_to_code_point(uint8_t byte) { return kByteToCodePoint[byte]; }

bool gpt2_text_to_bytes(std::string_view vocabulary_text, std::string& bytes) {
  size_t pos = 0;
  while (pos < vocabulary_text.size()) {
    const Utf8Char ch = decode_utf8_char(vocabulary_text.substr(pos));
    if (!ch.valid || ch.code_point >= kAlphabetEnd || kCodePointToByte[ch.code_point] < 0) return false;
    bytes += static_cast<char>(kCodePointToByte[ch.code_point]);
    pos += ch.length;
  }
  return true;
}

}  // namespace hooklab::bpe
