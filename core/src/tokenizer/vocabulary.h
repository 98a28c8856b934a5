// Token bytes by id and the reverse lookup the BPE merge loop hammers: is this byte string a
// token, and which? Lookups must be cheap and allocation-free, so the table is an
// open-addressing hash over ids that compares against the packed token bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hooklab::bpe {

class Vocabulary {
 public:
  // tokens_by_id[id] is token id's bytes; every string must be distinct and non-empty.
  explicit Vocabulary(std::span<const std::string> tokens_by_id);

  int32_t size() const { return static_cast<int32_t>(offsets_.size()) - 1; }
  std::string_view bytes(int32_t id) const {
    return std::string_view(storage_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  int32_t find(std::string_view bytes) const;  // -1 when no token has these bytes

 private:
  std::string storage_;            // all tokens' bytes back to back, in id order
  std::vector<uint32_t> offsets_;  // token id is storage_[offsets_[id], offsets_[id + 1])
  std::vector<int32_t> slots_;     // power-of-two sized; -1 marks an empty slot
};

}  // namespace hooklab::bpe
