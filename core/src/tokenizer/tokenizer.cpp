#include "hooklab/tokenizer.h"

#include <limits>

#include "tokenizer/bpe_merge.h"
#include "tokenizer/gpt2_files.h"
#include "tokenizer/hf_files.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_model.h"
#include "tokenizer/utf8.h"
#include "tokenizer/word_split.h"

namespace hooklab {
namespace {

constexpr std::string_view kEndOfTextText = "<|endoftext|>";
constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";
constexpr size_t kNowhere = std::numeric_limits<size_t>::max();

// Calls on_text(segment) for the text between special tokens and on_special(id) for each special
// token, in order. Matches are leftmost, then longest (Hugging Face's added-vocabulary
// matcher); each special's next occurrence is cached, so the scan is O(specials x text).
template <class OnText, class OnSpecial>
void split_on_specials(std::string_view text, std::span<const bpe::SpecialToken> specials, OnText&& on_text,
                       OnSpecial&& on_special) {
  std::vector<size_t> next(specials.size());
  for (size_t i = 0; i < specials.size(); ++i) next[i] = text.find(specials[i].text);
  size_t position = 0;
  while (true) {
    size_t best = kNowhere;
    for (size_t i = 0; i < specials.size(); ++i) {
      if (next[i] != kNowhere && next[i] < position) next[i] = text.find(specials[i].text, position);
      if (next[i] == kNowhere) continue;
      if (best == kNowhere || next[i] < next[best] ||
          (next[i] == next[best] && specials[i].text.size() > specials[best].text.size())) {
        best = i;
      }
    }
    const size_t start = best == kNowhere ? text.size() : next[best];
    if (start > position) on_text(text.substr(position, start - position));
    if (best == kNowhere) return;
    on_special(specials[best].id);
    position = start + specials[best].text.size();
  }
}

void encode_byte_level_bpe(std::string_view segment, const bpe::TokenizerModel& model, bpe::PairMergeScratch& scratch,
                           std::vector<int32_t>& ids) {
  std::string prefixed;
  if (model.add_prefix_space && segment.front() != ' ') {
    // Appended, not `" " + std::string(segment)`: GCC 12 misreads that as an overlapping memcpy (-Wrestrict).
    prefixed.reserve(segment.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(segment);
    segment = prefixed;
  }
  std::vector<int32_t> symbols;
  bpe::for_each_gpt2_piece(segment, [&](std::string_view piece) {
    if (const int32_t whole = model.vocabulary.find(piece); model.ignore_merges && whole >= 0) {
      ids.push_back(whole);
      return;
    }
    symbols.clear();
    for (const char byte : piece) symbols.push_back(model.byte_tokens[static_cast<uint8_t>(byte)]);
    bpe::apply_pair_merges(model.merges, symbols, scratch);
    ids.insert(ids.end(), symbols.begin(), symbols.end());
  });
}

void encode_word_level(std::string_view segment, const bpe::TokenizerModel& model, std::vector<int32_t>& ids) {
  bpe::for_each_word(segment, model.word_split, [&](std::string_view word) {
    const int32_t id = model.vocabulary.find(word);
    ids.push_back(id >= 0 ? id : model.unknown_id);
  });
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const bpe::TokenizerModel> model) : model_(std::move(model)) {}

Result<Tokenizer> Tokenizer::from_gpt2_files(std::string_view encoder_json, std::string_view merges,
                                             std::string_view source_name) {
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<std::string> tokens,
                           bpe::parse_gpt2_encoder_json(encoder_json, kEndOfText, source_name));
  auto model = std::make_shared<bpe::TokenizerModel>(bpe::TokenizerKind::kGpt2, tokens);
  HOOKLAB_RETURN_IF_ERROR(bpe::check_gpt2_merges(merges, model->vocabulary, source_name));
  model->specials.push_back({std::string(kEndOfTextText), kEndOfText});
  return Tokenizer(std::move(model));
}

Result<Tokenizer> Tokenizer::from_hf_vocab_merges(std::string_view vocab_json, std::string_view merges,
                                                  std::string_view source_name, std::span<const int32_t> special_ids) {
  HOOKLAB_ASSIGN_OR_RETURN(auto model, bpe::build_vocab_merges_model(vocab_json, merges, source_name, special_ids));
  return Tokenizer(std::move(model));
}

Result<Tokenizer> Tokenizer::from_hf_tokenizer_json(std::string_view json_text, std::string_view source_name,
                                                    std::span<const int32_t> special_ids) {
  HOOKLAB_ASSIGN_OR_RETURN(auto model, bpe::build_tokenizer_json_model(json_text, source_name, special_ids));
  return Tokenizer(std::move(model));
}

std::vector<int32_t> Tokenizer::encode(std::string_view utf8_text) const {
  std::vector<int32_t> ids;
  ids.reserve(utf8_text.size() / 3 + 1);  // English averages about 4 bytes per token
  bpe::MergeScratch gpt2_scratch;
  bpe::PairMergeScratch pair_scratch;
  const bpe::TokenizerModel& model = *model_;
  // Special tokens split the text first; each segment between them is pre-tokenized on its own,
  // so e.g. whitespace before "<|endoftext|>" ends its segment.
  auto encode_segment = [&](std::string_view segment) {
    switch (model.kind) {
      case bpe::TokenizerKind::kGpt2:
        bpe::for_each_gpt2_piece(segment, [&](std::string_view piece) {
          bpe::append_bpe_tokens(piece, model.vocabulary, gpt2_scratch, ids);
        });
        break;
      case bpe::TokenizerKind::kByteLevelBpe: encode_byte_level_bpe(segment, model, pair_scratch, ids); break;
      case bpe::TokenizerKind::kWordLevel: encode_word_level(segment, model, ids); break;
    }
  };
  split_on_specials(utf8_text, model.specials, encode_segment, [&](int32_t id) { ids.push_back(id); });
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  const bool word_level = model_->kind == bpe::TokenizerKind::kWordLevel;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (word_level && i > 0) bytes += ' ';
    bytes += is_valid_id(ids[i]) ? model_->vocabulary.bytes(ids[i]) : kReplacementUtf8;
  }
  return bpe::replace_invalid_utf8(bytes);
}

std::string Tokenizer::token_text(int32_t id) const { return decode(std::span<const int32_t>(&id, 1)); }

std::string_view Tokenizer::token_bytes(int32_t id) const {
  return is_valid_id(id) ? model_->vocabulary.bytes(id) : std::string_view();
}

int32_t Tokenizer::vocab_size() const { return model_->vocabulary.size(); }

const char* Tokenizer::kind_name() const {
  switch (model_->kind) {
    case bpe::TokenizerKind::kGpt2: return "gpt2";
    case bpe::TokenizerKind::kByteLevelBpe: return "bpe";
    case bpe::TokenizerKind::kWordLevel: return "wordlevel";
  }
  return "gpt2";
}

}  // namespace hooklab
