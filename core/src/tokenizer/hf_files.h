// A model directory's own Hugging Face tokenizer files:
//   vocab.json + merges.txt  byte-level BPE (GPT-2's format, any vocabulary and merge list);
//   tokenizer.json           model "BPE" with the ByteLevel pre-tokenizer and decoder, or
//                            model "WordLevel" with Whitespace / WhitespaceSplit.
// Anything else a tokenizer.json may hold (normalizers, other models, pre-tokenizers, decoders,
// post-processors, options hooklab does not implement) is refused with one error naming it:
// a silently different tokenization would be worse than none.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "hooklab/status.h"
#include "tokenizer/tokenizer_model.h"

namespace hooklab::bpe {

// special_ids: the config's bos/eos token ids; each such token's text is cut out of prompts as
// that token (ids outside the vocabulary are ignored here: the config check reports them).
Result<std::shared_ptr<const TokenizerModel>> build_vocab_merges_model(std::string_view vocab_json,
                                                                       std::string_view merges,
                                                                       std::string_view source_name,
                                                                       std::span<const int32_t> special_ids);

Result<std::shared_ptr<const TokenizerModel>> build_tokenizer_json_model(std::string_view json_text,
                                                                         std::string_view source_name,
                                                                         std::span<const int32_t> special_ids);

}  // namespace hooklab::bpe
