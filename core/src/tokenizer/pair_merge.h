// Hugging Face's BPE merge loop (tokenizers' Word::merge_all): merges are ranked by their place
// in the merge list and apply to a pair of adjacent token ids, not to the concatenated string.
// That differs from the tiktoken loop of bpe_merge.h when a vocabulary token can be spelled by
// a pair that no merge names (e.g. merges "b c", "a b", "ab c": the word "abc" stays "a" "bc"
// here), so a tokenizer from arbitrary Hugging Face files must use this one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace hooklab::bpe {

class PairMerges {
 public:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };
  // Adds the next merge (rank = number added before); false when the pair is already there.
  bool add(int32_t left, int32_t right, int32_t merged_id);
  const Merge* find(int32_t left, int32_t right) const;
  size_t size() const { return merges_.size(); }

 private:
  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  std::unordered_map<uint64_t, Merge> merges_;
};

// Buffers reused across the words of one encode() call.
struct PairMergeScratch {
  struct Candidate {
    int32_t rank;
    uint32_t left, right;  // symbol positions
    int32_t merged_id;
  };
  std::vector<uint32_t> next, previous;
  std::vector<bool> removed;
  std::vector<Candidate> heap;
};

// Repeatedly merges the adjacent pair with the lowest rank (the leftmost on ties) until no
// adjacent pair has a merge; `symbols` (the word's initial token ids) becomes the result.
// O(n log n) in the word's length, so a hostile 1 MB word costs milliseconds.
void apply_pair_merges(const PairMerges& merges, std::vector<int32_t>& symbols, PairMergeScratch& scratch);

}  // namespace hooklab::bpe
