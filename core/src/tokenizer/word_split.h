// The two word-level pre-tokenizers of Hugging Face tokenizers that hooklab implements:
//   Whitespace:      the Rust regex \w+|[^\w\s]+ (runs of word characters, runs of punctuation),
//   WhitespaceSplit: runs of non-whitespace.
// Whitespace itself is dropped. Ill-formed UTF-8 (which Hugging Face never sees: its input is a
// Rust String) counts as punctuation, so no input byte is lost.
#pragma once

#include <string_view>

namespace hooklab::bpe {

enum class WordSplit { kWhitespace, kWhitespaceSplit };

// The next word at or after `position`: its start and length; length 0 when none is left.
struct WordSpan {
  size_t begin;
  size_t length;
};
WordSpan next_word(std::string_view text, size_t position, WordSplit split);

template <class Visitor>
void for_each_word(std::string_view text, WordSplit split, Visitor&& visit) {
  for (WordSpan word = next_word(text, 0, split); word.length > 0;
       word = next_word(text, word.begin + word.length, split)) {
    visit(text.substr(word.begin, word.length));
  }
}

}  // namespace hooklab::bpe
