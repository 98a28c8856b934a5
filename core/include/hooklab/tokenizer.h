// A model's tokenizer: GPT-2's by default, or a model directory's own Hugging Face files
// (byte-level BPE or WordLevel, see from_hf_tokenizer_json). GPT-2's byte-level BPE tokenizer
// (r50k_base) is token for token identical to js-tiktoken on
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
struct TokenizerModel;
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

  // A model directory's own vocab.json + merges.txt: byte-level BPE with Hugging Face's merge
  // semantics (merge ranks are line numbers; ids may be in any order). special_ids (the
  // config's bos/eos ids) name tokens that prompts may spell literally, as "<|endoftext|>".
  static Result<Tokenizer> from_hf_vocab_merges(std::string_view vocab_json, std::string_view merges,
                                                std::string_view source_name, std::span<const int32_t> special_ids);

  // A Hugging Face tokenizer.json: model "BPE" with the ByteLevel pre-tokenizer and decoder
  // (GPT-2 style), or "WordLevel" with the Whitespace or WhitespaceSplit pre-tokenizer (tokens
  // decode joined by single spaces). added_tokens and the special_ids' tokens are cut out of
  // the text first (leftmost, then longest). Anything else (normalizers, Unigram, WordPiece,
  // other pre-tokenizers, decoders or post-processors) is an error naming it.
  static Result<Tokenizer> from_hf_tokenizer_json(std::string_view json_text, std::string_view source_name,
                                                  std::span<const int32_t> special_ids);

  // No BOS is added. A literal "<|endoftext|>" in the text becomes kEndOfText (Hugging Face and
  // js-tiktoken `encode(text, "all")` behaviour); so does any special token of a model's own
  // tokenizer. Any bytes are accepted: invalid UTF-8 is
  // encoded losslessly as byte tokens, each invalid sequence counting as punctuation for the
  // pre-tokenizer.
  std::vector<int32_t> encode(std::string_view utf8_text) const;

  // The tokens' bytes joined (WordLevel: joined by single spaces), then made valid UTF-8: each ill-formed sequence
  // becomes U+FFFD as in Python's bytes.decode(errors="replace"). An id outside [0, vocab_size()) never fails: it
  // decodes to U+FFFD too (check is_valid_id() first where that must be an error).
  std::string decode(std::span<const int32_t> ids) const;
  std::string token_text(int32_t id) const;  // decode({id})

  // The raw bytes of one token (possibly a fragment of a UTF-8 character); empty for an
  // invalid id.
  std::string_view token_bytes(int32_t id) const;

  int32_t vocab_size() const;
  bool is_valid_id(int32_t id) const { return id >= 0 && id < vocab_size(); }

  // "gpt2" (GPT-2's files), "bpe" (a directory's own byte-level BPE) or "wordlevel".
  const char* kind_name() const;

 private:
  explicit Tokenizer(std::shared_ptr<const bpe::TokenizerModel> model);

  // Immutable once built, so copies of a Tokenizer share it and threads may read it freely.
  std::shared_ptr<const bpe::TokenizerModel> model_;
};

}  // namespace hooklab
