#include "tokenizer/pretokenizer.h"

#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"

namespace hooklab::bpe {
namespace {

struct ClassifiedChar {
  char32_t code_point;  // U+FFFD for an ill-formed sequence, which is never ' ' or '\''
  CharacterClass character_class;
  size_t length;
};

ClassifiedChar char_at(std::string_view text, size_t pos) {
  const Utf8Char ch = decode_utf8_char(text.substr(pos));
  return {ch.code_point, ch.valid ? character_class(ch.code_point) : CharacterClass::kOther, ch.length};
}

size_t end_of_run(std::string_view text, size_t pos, CharacterClass run_class) {
  while (pos < text.size()) {
    const ClassifiedChar ch = char_at(text, pos);
    if (ch.character_class != run_class) break;
    pos += ch.length;
  }
  return pos;
}

// 's 't 're 've 'm 'll 'd, lower case only (the regex has no /i flag).
size_t contraction_length(std::string_view text) {
  if (text.size() >= 2) {
    const char c = text[1];
    if (c == 's' || c == 't' || c == 'm' || c == 'd') return 2;
  }
  if (text.size() >= 3) {
    const std::string_view suffix = text.substr(1, 2);
    if (suffix == "re" || suffix == "ve" || suffix == "ll") return 3;
  }
  return 0;
}

// \s+(?!\S)|\s+ at a whitespace character. The first alternative backtracks until the next
// character is not non-whitespace: a run reaching the end is taken whole, a longer run
// followed by text leaves its last character to start the next piece (so " word" stays one
// piece), and a single whitespace character before text falls through to \s+.
size_t whitespace_piece_length(std::string_view text) {
  size_t pos = 0;
  size_t last_char_start = 0;
  while (pos < text.size()) {
    const ClassifiedChar ch = char_at(text, pos);
    if (ch.character_class != CharacterClass::kWhitespace) break;
    last_char_start = pos;
    pos += ch.length;
  }
  if (pos == text.size() || last_char_start == 0) return pos;
  return last_char_start;
}

}  // namespace

size_t gpt2_piece_length(std::string_view text) {
  const ClassifiedChar first = char_at(text, 0);
  if (first.code_point == '\'') {
    if (const size_t length = contraction_length(text)) return length;
  }

  // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`: every character is in exactly one of the three
  // classes or is whitespace, so the class of the character after the optional U+0020 alone
  // picks the alternative. Only U+0020 may lead a run; other whitespace never does.
  size_t run_start = 0;
  CharacterClass run_class = first.character_class;
  if (first.code_point == ' ' && text.size() > 1) {
    run_start = first.length;
    run_class = char_at(text, run_start).character_class;
  }
  if (run_class != CharacterClass::kWhitespace) return end_of_run(text, run_start, run_class);

  return whitespace_piece_length(text);
}

}  // namespace hooklab::bpe
