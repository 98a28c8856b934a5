// GPT-2's vocabulary files spell token bytes as printable Unicode characters: bytes_to_unicode()
// in openai/gpt-2's encoder.py maps printable Latin-1 bytes to themselves and the 68 others
// (controls, space, DEL, NBSP, soft hyphen...) to U+0100..U+0143, so "Ġthe" is " the".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hooklab::bpe {

char32_t gpt2_byte_to_code_point(uint8_t byte);

// Appends the bytes a vocabulary string spells; false (with `bytes` partly appended) when it
// holds a character outside GPT-2's 256-character alphabet or is not valid UTF-8.
bool gpt2_text_to_bytes(std::string_view vocabulary_text, std::string& bytes);

}  // namespace hooklab::bpe
