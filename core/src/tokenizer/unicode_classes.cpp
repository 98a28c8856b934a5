#include "tokenizer/unicode_classes.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace hooklab::bpe {
namespace {

template <class Class>
struct CodePointRange {
  char32_t first;
  char32_t last;
  Class character_class;
};

constexpr CodePointRange<CharacterClass> kRanges[] = {
#include "tokenizer/unicode_class_table.inc"
};

constexpr CodePointRange<RustCharClass> kRustRanges[] = {
#include "tokenizer/rust_word_class_table.inc"
};

// The class of the sorted, disjoint range holding code_point; Class{} (kOther) outside them all.
template <class Class, size_t N>
constexpr Class search_ranges(const CodePointRange<Class> (&ranges)[N], char32_t code_point) {
  const auto* it = std::upper_bound(std::begin(ranges), std::end(ranges), code_point,
                                    [](char32_t cp, const CodePointRange<Class>& r) { return cp < r.first; });
  if (it == std::begin(ranges)) return Class{};
  --it;
  return code_point <= it->last ? it->character_class : Class{};
}

// Most text is Latin-1; a direct table keeps the binary search off its path.
constexpr size_t kDirectTableSize = 256;
constexpr auto kDirectTable = [] {
  std::array<CharacterClass, kDirectTableSize> table{};
  for (char32_t cp = 0; cp < kDirectTableSize; ++cp) table[cp] = search_ranges(kRanges, cp);
  return table;
}();

}  // namespace

CharacterClass character_class(char32_t code_point) {
  if (code_point < kDirectTableSize) return kDirectTable[code_point];
  return search_ranges(kRanges, code_point);
}

RustCharClass rust_char_class(char32_t code_point) { return search_ranges(kRustRanges, code_point); }

const char* unicode_table_version() { return HOOKLAB_UNICODE_TABLE_VERSION; }

}  // namespace hooklab::bpe
