// Reading GPT-2's two tokenizer files: encoder.json (Hugging Face: vocab.json), token string ->
// id; and vocab.bpe (merges.txt), the merge list in training order. Both spell bytes in
// GPT-2's byte-level alphabet (see byte_unicode.h).
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "hooklab/status.h"
#include "tokenizer/vocabulary.h"

namespace hooklab::bpe {

// Bounds checked before anything is allocated for a tokenizer file's contents: well above
// every published tokenizer (GPT-2 50,257 tokens; the largest common ones about 256,000; tokens
// of a few hundred bytes) and far below what would exhaust a browser tab's memory.
inline constexpr size_t kMaxVocabularyTokens = 1 << 20;
inline constexpr size_t kMaxTokenBytes = 1024;
inline constexpr size_t kMaxTokenizerFileBytes = size_t{64} << 20;

// "source_name: what: problem", the shape of every tokenizer file error.
Error invalid_model(std::string_view source_name, std::string_view what, const std::string& problem);

// How a vocabulary file spells token bytes: in GPT-2's byte-level alphabet ("Ġthe" is " the"),
// or as the text itself (word-level vocabularies).
enum class TokenSpelling { kByteLevel, kLiteral };

// A JSON object of token strings -> ids 0..N-1 (each once), as token bytes indexed by id.
// `what` names the file part in errors.
Result<std::vector<std::string>> parse_vocab_object(const nlohmann::json& json, TokenSpelling spelling,
                                                    std::string_view source_name, std::string_view what);

// Errors unless each of the 256 single bytes is a token (otherwise some text has no tokens).
Status check_all_bytes_are_tokens(const Vocabulary& vocabulary, std::string_view source_name, std::string_view what);

// Calls visit(first_bytes, second_bytes, where) for each "A B" line of a merges file, in order
// ("where" is "line N", for errors); stops at the first error.
Status for_each_merge_line(std::string_view merges_text, std::string_view source_name,
                           const std::function<Status(std::string_view first, std::string_view second,
                                                      const std::string& where, std::string_view line)>& visit);

// Token bytes indexed by id. Ids must be exactly 0..N-1, the 256 single bytes must all be
// tokens, and "<|endoftext|>" must have id end_of_text_id.
Result<std::vector<std::string>> parse_gpt2_encoder_json(std::string_view json_text, int32_t end_of_text_id,
                                                         std::string_view source_name);

// Checks that the merges describe exactly the vocabulary's merged tokens in id order: line k
// "A B" must make token A+B with id 256 + k, and every token other than the single bytes and
// "<|endoftext|>" must be made by one line. Then the rank tiktoken gives a pair (the id of its
// concatenation) is its merge line's rank, as openai/gpt-2 and Hugging Face rank it.
Status check_gpt2_merges(std::string_view merges_text, const Vocabulary& vocabulary, std::string_view source_name);

}  // namespace hooklab::bpe
