// The byte-pair merge loop, with tiktoken's semantics (ranks are token ids): starting from
// single bytes, repeatedly join the adjacent pair whose concatenation is the lowest-id token,
// the leftmost such pair on ties, until no adjacent pair forms a token. With GPT-2's files
// (merge k creates token 256 + k) this gave the same tokens as the merge-list BPE of
// openai/gpt-2 and Hugging Face on every vocabulary token and 300,000 random token pairs tried;
// js-tiktoken, the oracle of the parity test, merges this way.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocabulary.h"

namespace hooklab::bpe {

// Buffers reused across the pieces of one encode() call; each call owns its own, which is
// what keeps a shared Tokenizer thread-safe.
struct MergeScratch {
  struct PairCandidate {
    int32_t rank;
    uint32_t left, middle, right;  // boundaries of the two parts
  };
  std::vector<uint32_t> boundaries;
  std::vector<int32_t> pair_ranks;
  std::vector<uint32_t> next, previous;
  std::vector<bool> removed;
  std::vector<PairCandidate> heap;
};

// Appends the token ids of one pre-tokenized piece (non-empty). A piece that is itself a token
// becomes that token without merging, as in tiktoken.
void append_bpe_tokens(std::string_view piece, const Vocabulary& vocabulary, MergeScratch& scratch,
                       std::vector<int32_t>& out);

// The two implementations of the merge loop; append_bpe_tokens() picks by piece length. Both
// leave the part boundaries in scratch.boundaries (0, ..., piece.size()). Exposed so tests can
// check they agree.
void merge_by_scan(std::string_view piece, const Vocabulary& vocabulary, MergeScratch& scratch);  // O(n^2)
void merge_by_heap(std::string_view piece, const Vocabulary& vocabulary, MergeScratch& scratch);  // O(n log n)

}  // namespace hooklab::bpe
