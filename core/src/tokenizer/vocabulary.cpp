#include "tokenizer/vocabulary.h"

#include <bit>

namespace hooklab::bpe {
namespace {

uint64_t hash_bytes(std::string_view bytes) {  // FNV-1a: tokens are short
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace

Vocabulary::Vocabulary(std::span<const std::string> tokens_by_id) {
  offsets_.reserve(tokens_by_id.size() + 1);
  offsets_.push_back(0);
  for (const std::string& token : tokens_by_id) {
    storage_ += token;
    offsets_.push_back(static_cast<uint32_t>(storage_.size()));
  }

  // At most half full keeps probe sequences short.
  slots_.assign(std::bit_ceil(2 * tokens_by_id.size() + 1), -1);
  const size_t mask = slots_.size() - 1;
  for (int32_t id = 0; id < size(); ++id) {
    size_t slot = hash_bytes(bytes(id)) & mask;
    while (slots_[slot] >= 0) slot = (slot + 1) & mask;
    slots_[slot] = id;
  }
}

int32_t Vocabulary::find(std::string_view token_bytes) const {
  const size_t mask = slots_.size() - 1;
  for (size_t slot = hash_bytes(token_bytes) & mask;; slot = (slot + 1) & mask) {
    const int32_t id = slots_[slot];
    if (id < 0) return -1;
    if (bytes(id) == token_bytes) return id;
  }
}

}  // namespace hooklab::bpe
