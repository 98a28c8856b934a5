#include "tokenizer/word_split.h"

#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"

namespace hooklab::bpe {
namespace {

enum class RunKind { kSpace, kWord, kPunctuation };

RunKind run_kind(std::string_view text, size_t position, WordSplit split, size_t& length) {
  const Utf8Char c = decode_utf8_char(text.substr(position));
  length = c.length;
  const RustCharClass cls = c.valid ? rust_char_class(c.code_point) : RustCharClass::kOther;
  if (cls == RustCharClass::kSpace) return RunKind::kSpace;
  // WhitespaceSplit does not tell words from punctuation: one run of anything else.
  if (split == WordSplit::kWhitespaceSplit || cls == RustCharClass::kWord) return RunKind::kWord;
  return RunKind::kPunctuation;
}

}  // namespace

WordSpan next_word(std::string_view text, size_t position, WordSplit split) {
  size_t length = 0;
  RunKind kind = RunKind::kSpace;
  while (position < text.size() && (kind = run_kind(text, position, split, length)) == RunKind::kSpace) {
    position += length;
  }
  if (position >= text.size()) return {text.size(), 0};
  size_t end = position + length;
  while (end < text.size() && run_kind(text, end, split, length) == kind) end += length;
  return {position, end - position};
}

}  // namespace hooklab::bpe
