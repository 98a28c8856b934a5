// The character classes GPT-2's pre-tokenizer regex distinguishes, as JavaScript (V8) defines
// them: js-tiktoken is the reference implementation we must match code point for code point.
#pragma once

namespace hooklab::bpe {

enum class CharacterClass : unsigned char {
  kOther,       // [^\s\p{L}\p{N}]; also every ill-formed UTF-8 sequence
  kLetter,      // \p{L}
  kNumber,      // \p{N}
  kWhitespace,  // JavaScript's \s: Unicode White_Space minus U+0085, plus U+FEFF
};

CharacterClass character_class(char32_t code_point);

// The classes Hugging Face's Whitespace and WhitespaceSplit pre-tokenizers distinguish, as the
// Rust regex crate defines them: \w (Alphabetic, marks, Nd, Pc, join controls) and \s
// (White_Space). Not JavaScript's: U+0085 is a space here and U+FEFF is not, and combining
// marks are word characters.
enum class RustCharClass : unsigned char { kOther, kWord, kSpace };

RustCharClass rust_char_class(char32_t code_point);

// The Unicode version of the V8 that generated the tables (e.g. "17.0").
const char* unicode_table_version();

}  // namespace hooklab::bpe
