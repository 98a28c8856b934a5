// GPT-2's pre-tokenizer: the text is cut into pieces before BPE, and merges never cross a cut.
// The cuts are those of the JavaScript regex js-tiktoken runs for r50k_base,
//   /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu
// hand-compiled: no regex engine is both fast and Unicode-aware in portable C++.
#pragma once

#include <cstddef>
#include <string_view>

namespace hooklab::bpe {

// Length in bytes of the regex's match at the start of `text` (which must not be empty). The
// end of `text` counts as end of input for the lookahead of \s+(?!\S), so callers pass the
// whole segment between special tokens, exactly as js-tiktoken matches each segment alone.
size_t gpt2_piece_length(std::string_view text);

// Calls visit(piece) for each consecutive piece of `text`.
template <class Visitor>
void for_each_gpt2_piece(std::string_view text, Visitor&& visit) {
  while (!text.empty()) {
    const size_t length = gpt2_piece_length(text);
    visit(text.substr(0, length));
    text.remove_prefix(length);
  }
}

}  // namespace hooklab::bpe
