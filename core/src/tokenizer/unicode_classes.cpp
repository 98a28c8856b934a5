#include "tokenizer/unicode_classes.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace hooklab::bpe {
namespace {

struct CodePointRange {
  char32_t first;
  char32_t last;
  CharacterClass character_class;
};

constexpr CodePointRange kRanges[] = {
#include "tokenizer/unicode_class_table.inc"
};

constexpr CharacterClass search_ranges(char32_t code_point) {
  const auto* it = std::upper_bound(std::begin(kRanges), std::end(kRanges), code_point,
                                    [](char32_t cp, const CodePointRange& r) { return cp < r.first; });
  if (it == std::begin(kRanges)) return CharacterClass::kOther;
  --it;
  return code_point <= it->last ? it->character_class : CharacterClass::kOther;
}

// Most text is Latin-1; a direct table keeps the binary search off its path.
constexpr size_t kDirectTableSize = 256;
constexpr auto kDirectTable = [] {
  std::array<CharacterClass, kDirectTableSize> table{};
  for (char32_t cp = 0; cp < kDirectTableSize; ++cp) table[cp] = search_ranges(cp);
  return table;
}();

}  // namespace

CharacterClass character_class(char32_t code_point) {
  if (code_point < kDirectTableSize) return kDirectTable[code_point];
  return search_ranges(code_point);
}

const char* unicode_table_version() { return HOOKLAB_UNICODE_TABLE_VERSION; }

}  // namespace hooklab::bpe
