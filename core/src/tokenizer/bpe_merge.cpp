#include "tokenizer/bpe_merge.h"

#include <algorithm>
#include <limits>

namespace hooklab::bpe {
namespace {

constexpr int32_t kNotAToken = std::numeric_limits<int32_t>::max();

// Below this many bytes the quadratic scan beats the heap's bookkeeping; above it, one
// pathological piece (a 100 KB run of letters) must not cost seconds.
constexpr size_t kScanMaxBytes = 64;

int32_t pair_rank(std::string_view piece, uint32_t begin, uint32_t end, const Vocabulary& vocabulary) {
  const int32_t id = vocabulary.find(piece.substr(begin, end - begin));
  return id < 0 ? kNotAToken : id;
}

bool lower_priority(const MergeScratch::PairCandidate& a, const MergeScratch::PairCandidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;  // min-heap on (rank, left)
}

}  // namespace

void merge_by_scan(std::string_view piece, const Vocabulary& vocabulary, MergeScratch& scratch) {
  auto& boundaries = scratch.boundaries;
  auto& ranks = scratch.pair_ranks;  // ranks[i]: joining parts i and i + 1
  const auto n = static_cast<uint32_t>(piece.size());
  boundaries.resize(n + 1);
  for (uint32_t i = 0; i <= n; ++i) boundaries[i] = i;
  ranks.resize(n > 0 ? n - 1 : 0);
  for (uint32_t i = 0; i + 1 < n; ++i) ranks[i] = pair_rank(piece, i, i + 2, vocabulary);

  while (!ranks.empty()) {
    const auto best = std::min_element(ranks.begin(), ranks.end());  // first of equal minima
    if (*best == kNotAToken) break;
    const auto i = static_cast<size_t>(best - ranks.begin());
    boundaries.erase(boundaries.begin() + static_cast<ptrdiff_t>(i) + 1);
    ranks.erase(ranks.begin() + static_cast<ptrdiff_t>(std::min(i + 1, ranks.size() - 1)));
    // Only the pairs touching the joined part changed.
    if (i > 0) ranks[i - 1] = pair_rank(piece, boundaries[i - 1], boundaries[i + 1], vocabulary);
    if (i < ranks.size()) ranks[i] = pair_rank(piece, boundaries[i], boundaries[i + 2], vocabulary);
  }
}

void merge_by_heap(std::string_view piece, const Vocabulary& vocabulary, MergeScratch& scratch) {
  const auto n = static_cast<uint32_t>(piece.size());
  auto& next = scratch.next;
  auto& previous = scratch.previous;
  auto& removed = scratch.removed;
  auto& heap = scratch.heap;
  next.resize(n + 1);
  previous.resize(n + 1);
  removed.assign(n + 1, false);
  heap.clear();
  for (uint32_t i = 0; i <= n; ++i) {
    next[i] = i + 1;
    previous[i] = i == 0 ? 0 : i - 1;
  }

  auto push = [&](uint32_t left, uint32_t middle, uint32_t right) {
    const int32_t rank = pair_rank(piece, left, right, vocabulary);
    if (rank == kNotAToken) return;
    heap.push_back({rank, left, middle, right});
    std::push_heap(heap.begin(), heap.end(), lower_priority);
  };
  for (uint32_t i = 0; i + 1 < n; ++i) push(i, i + 1, i + 2);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), lower_priority);
    const MergeScratch::PairCandidate pair = heap.back();
    heap.pop_back();
    // Boundaries are only ever removed, so a candidate whose three boundaries all survive
    // still names two adjacent parts; otherwise an earlier merge made it stale.
    if (removed[pair.left] || removed[pair.middle] || removed[pair.right]) continue;
    removed[pair.middle] = true;
    next[pair.left] = pair.right;
    previous[pair.right] = pair.left;
    if (pair.left > 0) push(previous[pair.left], pair.left, pair.right);
    if (pair.right < n) push(pair.left, pair.right, next[pair.right]);
  }

  scratch.boundaries.clear();
  for (uint32_t boundary = 0; boundary < n; boundary = next[boundary]) scratch.boundaries.push_back(boundary);
  scratch.boundaries.push_back(n);
}

void append_bpe_tokens(std::string_view piece, const Vocabulary& vocabulary, MergeScratch& scratch,
                       std::vector<int32_t>& out) {
  if (const int32_t whole = vocabulary.find(piece); whole >= 0) {
    out.push_back(whole);
    return;
  }
  if (piece.size() <= kScanMaxBytes) {
    merge_by_scan(piece, vocabulary, scratch);
  } else {
    merge_by_heap(piece, vocabulary, scratch);
  }
  const auto& boundaries = scratch.boundaries;
  for (size_t i = 0; i + 1 < boundaries.size(); ++i) {
    // Every single byte is a token (checked at load), so each part is found.
    out.push_back(vocabulary.find(piece.substr(boundaries[i], boundaries[i + 1] - boundaries[i])));
  }
}

}  // namespace hooklab::bpe
