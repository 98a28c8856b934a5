// What a Tokenizer is built from: one of three kinds, and the data each kind's encode() and
// decode() read. Immutable once built (Tokenizer shares it between copies and threads).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/pair_merge.h"
#include "tokenizer/vocabulary.h"
#include "tokenizer/word_split.h"

namespace hooklab::bpe {

enum class TokenizerKind {
  kGpt2,          // models/tokenizer: GPT-2's files, tiktoken's merge loop (bpe_merge.h)
  kByteLevelBpe,  // a directory's own vocab.json + merges.txt, or tokenizer.json "BPE" + ByteLevel
  kWordLevel,     // tokenizer.json "WordLevel" + Whitespace / WhitespaceSplit
};

// A string that is cut out of the text before pre-tokenization and becomes one token:
// tokenizer.json's added_tokens, the config's bos/eos tokens, GPT-2's "<|endoftext|>".
struct SpecialToken {
  std::string text;
  int32_t id;
};

struct TokenizerModel {
  explicit TokenizerModel(TokenizerKind kind, std::span<const std::string> tokens_by_id)
      : kind(kind), vocabulary(tokens_by_id) {}

  TokenizerKind kind;
  Vocabulary vocabulary;  // every id's bytes (an added token's: its content)
  std::vector<SpecialToken> specials;
  int32_t unknown_id = -1;  // the unk_token's id; -1 when there is none

  // kByteLevelBpe
  PairMerges merges;
  std::array<int32_t, 256> byte_tokens{};  // each byte's single-byte token, unknown_id when absent
  bool add_prefix_space = false;           // ByteLevel: a space before a segment not starting with one
  bool ignore_merges = false;              // a word that is itself a token is that token

  // kWordLevel
  WordSplit word_split = WordSplit::kWhitespace;
};

}  // namespace hooklab::bpe
