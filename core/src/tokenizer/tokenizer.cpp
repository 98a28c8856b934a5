#include "hooklab/tokenizer.h"

#include "tokenizer/bpe_merge.h"
#include "tokenizer/gpt2_files.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocabulary.h"

namespace hooklab {
namespace {

constexpr std::string_view kEndOfTextText = "<|endoftext|>";
constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const bpe::Vocabulary> vocabulary) : vocabulary_(std::move(vocabulary)) {}

Result<Tokenizer> Tokenizer::from_gpt2_files(std::string_view encoder_json, std::string_view merges,
                                             std::string_view source_name) {
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<std::string> tokens,
                           bpe::parse_gpt2_encoder_json(encoder_json, kEndOfText, source_name));
  auto vocabulary = std::make_shared<const bpe::Vocabulary>(tokens);
  HOOKLAB_RETURN_IF_ERROR(bpe::check_gpt2_merges(merges, *vocabulary, source_name));
  return Tokenizer(std::move(vocabulary));
}

std::vector<int32_t> Tokenizer::encode(std::string_view utf8_text) const {
  std::vector<int32_t> ids;
  ids.reserve(utf8_text.size() / 3 + 1);  // English averages about 4 bytes per token
  bpe::MergeScratch scratch;
  // Special tokens split the text first; each segment between them is pre-tokenized on its own,
  // so e.g. whitespace before "<|endoftext|>" ends its segment.
  while (true) {
    const size_t special = utf8_text.find(kEndOfTextText);
    const std::string_view segment = utf8_text.substr(0, special);
    bpe::for_each_gpt2_piece(
        segment, [&](std::string_view piece) { bpe::append_bpe_tokens(piece, *vocabulary_, scratch, ids); });
    if (special == std::string_view::npos) break;
    ids.push_back(kEndOfText);
    utf8_text.remove_prefix(special + kEndOfTextText.size());
  }
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  for (const int32_t id : ids) { bytes += is_valid_id(id) ? vocabulary_->bytes(id) : kReplacementUtf8; }
  return bpe::replace_invalid_utf8(bytes);
}

std::string Tokenizer::token_text(int32_t id) const { return decode(std::span<const int32_t>(&id, 1)); }

std::string_view Tokenizer::token_bytes(int32_t id) const {
  return is_valid_id(id) ? vocabulary_->bytes(id) : std::string_view();
}

int32_t Tokenizer::vocab_size() const { return vocabulary_->size(); }

}  // namespace hooklab
