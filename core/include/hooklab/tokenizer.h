// GPT-2's byte-level BPE tokenizer (r50k_base), token for token identical to js-tiktoken on
// valid UTF-8 (tests/tokenizer/tokenizer-parity.test.mjs), JavaScript regex semantics included.
// openai/gpt-2 and Hugging Face give the same tokens on ordinary text; their regex engines
// may disagree with JavaScript about a few rare whitespace characters (U+0085, U+FEFF).
//
// Built once from the two GPT-2 files (encoder.json + vocab.bpe, or Hugging Face's vocab.json +
// merges.txt); afterwards every member is const and touches no shared mutable state, so one
// Tokenizer may serve several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hooklab/status.h"

namespace hooklab {

namespace bpe {
class Vocabulary;
}

class Tokenizer {
 public:
  static constexpr int32_t kEndOfText = 50256;  // "<|endoftext|>", also BOS/PAD for GPT-2

  // encoder_json: encoder.json/vocab.json text; merges: vocab.bpe/merges.txt text (an optional
  // "#version: ..." first line is skipped). source_name starts every error message (e.g.
  // "models/tokenizer/encoder.json" or the directory); the message then says which of the two
  // files is at fault and how. The merges must agree with the vocabulary's ids
  // (merge k creates token 256 + k, as in GPT-2's files): BPE ranks are the token ids, exactly
  // as tiktoken ranks them, and the check rejects mismatched file pairs instead of silently
  // tokenizing differently.
  static Result<Tokenizer> from_gpt2_files(std::string_view encoder_json, std::string_view merges,
                                           std::string_view source_name);

  // No BOS is added. A literal "<|endoftext|>" in the text becomes kEndOfText (Hugging Face and
  // js-tiktoken `encode(text, "all")` behaviour). Any bytes are accepted: invalid UTF-8 is
  // encoded losslessly as byte tokens, each invalid sequence counting as punctuation for the
  // pre-tokenizer.
  std::vector<int32_t> encode(std::string_view utf8_text) const;

  // The tokens' bytes joined, then made valid UTF-8: each ill-formed sequence becomes U+FFFD as
  // in Python's bytes.decode(errors="replace"). An id outside [0, vocab_size()) never fails:
  // it decodes to U+FFFD too (check is_valid_id() first where that must be an error).
  std::string decode(std::span<const int32_t> ids) const;
  std::string token_text(int32_t id) const;  // decode({id})

  // The raw bytes of one token (possibly a fragment of a UTF-8 character); empty for an
  // invalid id.
  std::string_view token_bytes(int32_t id) const;

  int32_t vocab_size() const;
  bool is_valid_id(int32_t id) const { return id >= 0 && id < vocab_size(); }

 private:
  explicit Tokenizer(std::shared_ptr<const bpe::Vocabulary> vocabulary);

  // Immutable once built, so copies of a Tokenizer share it and threads may read it freely.
  std::shared_ptr<const bpe::Vocabulary> vocabulary_;
};

}  // namespace hooklab
