// Reading GPT-2's two tokenizer files: encoder.json (Hugging Face: vocab.json), token string ->
// id; and vocab.bpe (merges.txt), the merge list in training order. Both spell bytes in
// GPT-2's byte-level alphabet (see byte_unicode.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hooklab/status.h"
#include "tokenizer/vocabulary.h"

namespace hooklab::bpe {

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
