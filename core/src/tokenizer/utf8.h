// UTF-8 decoding that never fails: tokenizer input is arbitrary bytes, and decoded token
// sequences routinely end in the middle of a character.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hooklab::bpe {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

struct Utf8Char {
  char32_t code_point;  // kReplacementCharacter when !valid
  uint32_t length;      // bytes consumed, >= 1
  bool valid;
};

// Decodes the character at the start of `text` (which must not be empty). An ill-formed
// sequence consumes its "maximal subpart" (Unicode 15, section 3.9): the longest prefix that
// could still begin a well-formed character, or one byte. Substituting one U+FFFD per maximal
// subpart is what Python's errors="replace" and the WHATWG TextDecoder both do.
Utf8Char decode_utf8_char(std::string_view text);

void append_utf8(char32_t code_point, std::string& out);

// `bytes` with every ill-formed sequence replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view bytes);

}  // namespace hooklab::bpe
