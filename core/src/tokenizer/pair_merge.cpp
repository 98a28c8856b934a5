#include "tokenizer/pair_merge.h"

#include <algorithm>

namespace hooklab::bpe {
namespace {

bool lower_priority(const PairMergeScratch::Candidate& a, const PairMergeScratch::Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;  // min-heap on (rank, left)
}

}  // namespace

bool PairMerges::add(int32_t left, int32_t right, int32_t merged_id) {
  const auto rank = static_cast<int32_t>(merges_.size());
  return merges_.try_emplace(key(left, right), Merge{rank, merged_id}).second;
}

const PairMerges::Merge* PairMerges::find(int32_t left, int32_t right) const {
  const auto it = merges_.find(key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void apply_pair_merges(const PairMerges& merges, std::vector<int32_t>& symbols, PairMergeScratch& scratch) {
  const auto n = static_cast<uint32_t>(symbols.size());
  if (n < 2) return;
  auto& next = scratch.next;
  auto& previous = scratch.previous;
  auto& removed = scratch.removed;
  auto& heap = scratch.heap;
  next.resize(n);
  previous.resize(n);
  removed.assign(n, false);
  heap.clear();
  for (uint32_t i = 0; i < n; ++i) {
    next[i] = i + 1;  // n marks the end
    previous[i] = i == 0 ? n : i - 1;
  }

  auto push = [&](uint32_t left, uint32_t right) {
    const PairMerges::Merge* merge = merges.find(symbols[left], symbols[right]);
    if (merge == nullptr) return;
    heap.push_back({merge->rank, left, right, merge->merged_id});
    std::push_heap(heap.begin(), heap.end(), lower_priority);
  };
  for (uint32_t i = 0; i + 1 < n; ++i) push(i, i + 1);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), lower_priority);
    const PairMergeScratch::Candidate candidate = heap.back();
    heap.pop_back();
    // A candidate is stale when an earlier merge consumed or changed one of its two symbols.
    if (removed[candidate.left] || removed[candidate.right] || next[candidate.left] != candidate.right) continue;
    const PairMerges::Merge* current = merges.find(symbols[candidate.left], symbols[candidate.right]);
    if (current == nullptr || current->rank != candidate.rank) continue;
    symbols[candidate.left] = candidate.merged_id;
    removed[candidate.right] = true;
    next[candidate.left] = next[candidate.right];
    if (next[candidate.left] < n) previous[next[candidate.left]] = candidate.left;
    if (previous[candidate.left] < n) push(previous[candidate.left], candidate.left);
    if (next[candidate.left] < n) push(candidate.left, next[candidate.left]);
  }

  uint32_t kept = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (!removed[i]) symbols[kept++] = symbols[i];
  }
  symbols.resize(kept);
}

}  // namespace hooklab::bpe
