#include "tokenizer/hf_files.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tokenizer/byte_unicode.h"
#include "tokenizer/gpt2_files.h"

namespace hooklab::bpe {
namespace {

using nlohmann::json;

constexpr std::string_view kTokenizerJson = "tokenizer.json";
constexpr size_t kMaxAddedTokens = 1 << 16;

Error unsupported(std::string_view source_name, const std::string& what) {
  return make_error(ErrorCode::kInvalidModel,
                    std::string(source_name) + ": " + what +
                        " is not supported (hooklab reads byte-level BPE and WordLevel tokenizers)");
}

// The "type" of an optional component (normalizer, decoder...): "" when absent or null.
Result<std::string> component_type(const json& root, const char* key, std::string_view source_name) {
  const auto it = root.find(key);
  if (it == root.end() || it->is_null()) return std::string();
  const auto type = it->is_object() ? it->find("type") : it->end();
  if (!it->is_object() || type == it->end() || !type->is_string()) {
    return invalid_model(source_name, kTokenizerJson, std::string("\"") + key + "\" must be an object with a \"type\"");
  }
  return type->get<std::string>();
}

// An option that must be absent, null, false or "" (hooklab implements only its default).
Status require_default(const json& object, const char* key, std::string_view where, std::string_view source_name) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null() || *it == false || *it == "") return {};
  return unsupported(source_name, std::string(where) + " option \"" + key + "\" = " + quote_excerpt(it->dump()));
}

bool flag(const json& object, const char* key, bool default_value) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : default_value;
}

Status check_distinct(const TokenizerModel& model, std::string_view source_name) {
  for (int32_t id = 0; id < model.vocabulary.size(); ++id) {
    const int32_t found = model.vocabulary.find(model.vocabulary.bytes(id));
    if (found != id) {
      return invalid_model(source_name, "vocabulary",
                           "tokens " + std::to_string(std::min(id, found)) + " and " +
                               std::to_string(std::max(id, found)) + " are the same string " +
                               quote_excerpt(model.vocabulary.bytes(id)));
    }
  }
  return {};
}

// Adds the config's bos/eos tokens to the special tokens unless already there.
void add_config_specials(TokenizerModel& model, std::span<const int32_t> special_ids) {
  for (const int32_t id : special_ids) {
    if (id < 0 || id >= model.vocabulary.size()) continue;
    const bool known = std::any_of(model.specials.begin(), model.specials.end(),
                                   [&](const SpecialToken& special) { return special.id == id; });
    if (!known) model.specials.push_back({std::string(model.vocabulary.bytes(id)), id});
  }
}

Status add_merge(TokenizerModel& model, std::string_view first, std::string_view second, const std::string& where,
                 std::string_view source_name) {
  constexpr std::string_view kWhat = "merges";
  const int32_t left = model.vocabulary.find(first), right = model.vocabulary.find(second);
  if (left < 0 || right < 0) {
    return invalid_model(source_name, kWhat,
                         where + ": " + quote_excerpt(left < 0 ? first : second) + " is not a token");
  }
  const int32_t merged = model.vocabulary.find(std::string(first) + std::string(second));
  if (merged < 0) {
    return invalid_model(
        source_name, kWhat,
        where + ": the result " + quote_excerpt(std::string(first) + std::string(second)) + " is not a token");
  }
  if (model.merges.size() >= kMaxVocabularyTokens) {
    return invalid_model(source_name, kWhat, "more than " + std::to_string(kMaxVocabularyTokens) + " merges");
  }
  if (!model.merges.add(left, right, merged)) {
    return invalid_model(source_name, kWhat, where + ": the pair is listed twice");
  }
  return {};
}

// Each byte's token; a byte with none needs an unk_token (Hugging Face would drop it silently).
Status set_byte_tokens(TokenizerModel& model, std::string_view source_name) {
  for (unsigned byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    const int32_t id = model.vocabulary.find(std::string_view(&c, 1));
    if (id < 0 && model.unknown_id < 0) return check_all_bytes_are_tokens(model.vocabulary, source_name, "vocabulary");
    model.byte_tokens[byte] = id < 0 ? model.unknown_id : id;
  }
  return {};
}

// tokenizer.json's added_tokens: each overrides its id's bytes with its content (ids past the
// model's vocabulary extend it, without gaps) and is cut out of prompts as that token.
Status apply_added_tokens(const json& root, std::vector<std::string>& tokens, std::vector<SpecialToken>& specials,
                          std::string_view source_name) {
  constexpr std::string_view kWhat = "added_tokens";
  const auto list = root.find("added_tokens");
  if (list == root.end() || list->is_null()) return {};
  if (!list->is_array()) return invalid_model(source_name, kWhat, "must be a list");
  if (list->size() > kMaxAddedTokens) {
    return invalid_model(source_name, kWhat, "more than " + std::to_string(kMaxAddedTokens) + " entries");
  }
  const size_t base = tokens.size();
  std::vector<SpecialToken> beyond;  // ids past the model's vocabulary
  for (const json& entry : *list) {
    const auto id = entry.is_object() ? entry.find("id") : entry.end();
    const auto content = entry.is_object() ? entry.find("content") : entry.end();
    if (id == entry.end() || !id->is_number_integer() || content == entry.end() || !content->is_string() ||
        content->get_ref<const std::string&>().empty() ||
        content->get_ref<const std::string&>().size() > kMaxTokenBytes) {
      return invalid_model(source_name, kWhat,
                           "each entry needs an integer \"id\" and a non-empty \"content\" of at most " +
                               std::to_string(kMaxTokenBytes) + " bytes, got " + quote_excerpt(entry.dump()));
    }
    for (const char* option : {"lstrip", "rstrip", "single_word"}) {
      HOOKLAB_RETURN_IF_ERROR(require_default(entry, option, "added token", source_name));
    }
    const int64_t value = id->get<int64_t>();
    if (value < 0 || static_cast<uint64_t>(value) >= base + list->size()) {
      return invalid_model(source_name, kWhat, "id " + std::to_string(value) + " is out of range");
    }
    SpecialToken special{content->get<std::string>(), static_cast<int32_t>(value)};
    if (static_cast<size_t>(value) < base) {
      tokens[value] = special.text;
    } else {
      beyond.push_back(special);
    }
    specials.push_back(std::move(special));
  }
  std::sort(beyond.begin(), beyond.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const SpecialToken& special : beyond) {
    if (static_cast<size_t>(special.id) != tokens.size()) {
      return invalid_model(source_name, kWhat,
                           "ids past the vocabulary must continue it without gaps or repeats: expected " +
                               std::to_string(tokens.size()) + ", got " + std::to_string(special.id));
    }
    tokens.push_back(special.text);
  }
  return {};
}

// One entry of tokenizer.json's merges: "A B", or ["A", "B"] (tokenizers >= 0.20).
Status add_json_merge(TokenizerModel& model, const json& entry, size_t index, std::string_view source_name) {
  const std::string where = "merge " + std::to_string(index);
  std::string_view first, second;
  if (entry.is_string()) {
    const std::string_view text = entry.get_ref<const std::string&>();
    const size_t space = text.find(' ');
    if (space == std::string_view::npos || text.find(' ', space + 1) != std::string_view::npos) {
      return invalid_model(source_name, "merges", where + ": expected \"A B\", got " + quote_excerpt(text));
    }
    first = text.substr(0, space);
    second = text.substr(space + 1);
  } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
    first = entry[0].get_ref<const std::string&>();
    second = entry[1].get_ref<const std::string&>();
  } else {
    return invalid_model(source_name, "merges", where + ": expected \"A B\" or [\"A\", \"B\"]");
  }
  std::string first_bytes, second_bytes;
  if (first.empty() || second.empty() || !gpt2_text_to_bytes(first, first_bytes) ||
      !gpt2_text_to_bytes(second, second_bytes)) {
    return invalid_model(source_name, "merges",
                         where + ": " + quote_excerpt(entry.dump()) + " is not two byte-level tokens");
  }
  return add_merge(model, first_bytes, second_bytes, where, source_name);
}

// The id of the model's unk_token (spelled as its vocabulary spells tokens); -1 when it has none.
Result<int32_t> unknown_token_id(const json& model_json, const TokenizerModel& model, TokenSpelling spelling,
                                 std::string_view source_name) {
  const auto unk = model_json.find("unk_token");
  if (unk == model_json.end() || unk->is_null()) return -1;
  std::string bytes;
  if (!unk->is_string() ||
      (spelling == TokenSpelling::kByteLevel ? !gpt2_text_to_bytes(unk->get_ref<const std::string&>(), bytes)
                                             : (bytes = unk->get<std::string>(), false))) {
    return invalid_model(source_name, "model", "\"unk_token\" must be a token string");
  }
  const int32_t id = model.vocabulary.find(bytes);
  if (id < 0)
    return invalid_model(source_name, "model", "unk_token " + quote_excerpt(bytes) + " is not in the vocabulary");
  return id;
}

// Model vocabulary + added tokens -> a TokenizerModel whose ids are all distinct strings.
Result<std::shared_ptr<TokenizerModel>> vocabulary_model(const json& root, const json& model_json, TokenizerKind kind,
                                                         TokenSpelling spelling, std::string_view source_name) {
  const auto vocab = model_json.find("vocab");
  HOOKLAB_ASSIGN_OR_RETURN(
      std::vector<std::string> tokens,
      parse_vocab_object(vocab == model_json.end() ? json() : *vocab, spelling, source_name, "model.vocab"));
  std::vector<SpecialToken> specials;
  HOOKLAB_RETURN_IF_ERROR(apply_added_tokens(root, tokens, specials, source_name));
  auto model = std::make_shared<TokenizerModel>(kind, tokens);
  model->specials = std::move(specials);
  HOOKLAB_RETURN_IF_ERROR(check_distinct(*model, source_name));
  HOOKLAB_ASSIGN_OR_RETURN(model->unknown_id, unknown_token_id(model_json, *model, spelling, source_name));
  return model;
}

// Errors unless the component `key` has one of the `allowed` types ("" = absent or null).
Result<std::string> expect_component(const json& root, const char* key, std::initializer_list<std::string_view> allowed,
                                     std::string_view model_type, std::string_view source_name) {
  HOOKLAB_ASSIGN_OR_RETURN(std::string type, component_type(root, key, source_name));
  if (std::find(allowed.begin(), allowed.end(), type) != allowed.end()) return type;
  return unsupported(source_name, std::string(key) + " " + (type.empty() ? "null" : quote_excerpt(type)) + " with a " +
                                      std::string(model_type) + " model");
}

Result<std::shared_ptr<TokenizerModel>> byte_level_bpe_model(const json& root, const json& model_json,
                                                             std::string_view source_name) {
  HOOKLAB_RETURN_IF_ERROR(expect_component(root, "pre_tokenizer", {"ByteLevel"}, "BPE", source_name).status());
  HOOKLAB_RETURN_IF_ERROR(expect_component(root, "decoder", {"ByteLevel"}, "BPE", source_name).status());
  HOOKLAB_RETURN_IF_ERROR(expect_component(root, "post_processor", {"", "ByteLevel"}, "BPE", source_name).status());
  const json& pre_tokenizer = root["pre_tokenizer"];
  if (!flag(pre_tokenizer, "use_regex", true)) return unsupported(source_name, "ByteLevel with \"use_regex\": false");
  for (const char* option :
       {"dropout", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", "byte_fallback"}) {
    HOOKLAB_RETURN_IF_ERROR(require_default(model_json, option, "BPE", source_name));
  }
  HOOKLAB_ASSIGN_OR_RETURN(auto model, vocabulary_model(root, model_json, TokenizerKind::kByteLevelBpe,
                                                        TokenSpelling::kByteLevel, source_name));
  HOOKLAB_RETURN_IF_ERROR(set_byte_tokens(*model, source_name));
  const auto merges = model_json.find("merges");
  if (merges == model_json.end() || !merges->is_array())
    return invalid_model(source_name, "model", "\"merges\" must be a list");
  for (size_t i = 0; i < merges->size(); ++i) {
    HOOKLAB_RETURN_IF_ERROR(add_json_merge(*model, (*merges)[i], i, source_name));
  }
  model->add_prefix_space = flag(pre_tokenizer, "add_prefix_space", true);
  model->ignore_merges = flag(model_json, "ignore_merges", false);
  return model;
}

// The model's "type". Files written by tokenizers before the type was serialized (GPT-2's and
// RoBERTa's tokenizer.json on the hub among them) have none; tokenizers reads them by trying each
// model in turn, and the only one with "merges" is BPE, so such a model is BPE.
Result<std::string> tokenizer_model_type(const json& root, std::string_view source_name) {
  const auto model = root.find("model");
  if (model == root.end() || !model->is_object()) {
    return invalid_model(source_name, kTokenizerJson, "\"model\" must be an object");
  }
  const auto type = model->find("type");
  if (type != model->end() && type->is_string()) return type->get<std::string>();
  if (type == model->end() && model->contains("merges")) return std::string("BPE");
  return invalid_model(source_name, kTokenizerJson,
                       "\"model\" needs a \"type\" (or \"merges\", which make it a BPE model)");
}

Result<std::shared_ptr<TokenizerModel>> word_level_model(const json& root, const json& model_json,
                                                         std::string_view source_name) {
  HOOKLAB_ASSIGN_OR_RETURN(std::string split, expect_component(root, "pre_tokenizer", {"Whitespace", "WhitespaceSplit"},
                                                               "WordLevel", source_name));
  HOOKLAB_RETURN_IF_ERROR(expect_component(root, "decoder", {""}, "WordLevel", source_name).status());
  HOOKLAB_RETURN_IF_ERROR(expect_component(root, "post_processor", {""}, "WordLevel", source_name).status());
  HOOKLAB_ASSIGN_OR_RETURN(
      auto model, vocabulary_model(root, model_json, TokenizerKind::kWordLevel, TokenSpelling::kLiteral, source_name));
  if (model->unknown_id < 0) return invalid_model(source_name, "model", "a WordLevel model needs an \"unk_token\"");
  model->word_split = split == "Whitespace" ? WordSplit::kWhitespace : WordSplit::kWhitespaceSplit;
  return model;
}

}  // namespace

Result<std::shared_ptr<const TokenizerModel>> build_vocab_merges_model(std::string_view vocab_json,
                                                                       std::string_view merges,
                                                                       std::string_view source_name,
                                                                       std::span<const int32_t> special_ids) {
  constexpr std::string_view kWhat = "vocabulary (vocab.json)";
  if (vocab_json.size() > kMaxTokenizerFileBytes || merges.size() > kMaxTokenizerFileBytes) {
    return invalid_model(source_name, "tokenizer files",
                         "larger than " + std::to_string(kMaxTokenizerFileBytes >> 20) + " MiB");
  }
  const auto vocab = json::parse(vocab_json.begin(), vocab_json.end(), nullptr, /*allow_exceptions=*/false);
  if (vocab.is_discarded()) return invalid_model(source_name, kWhat, "not valid JSON");
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<std::string> tokens,
                           parse_vocab_object(vocab, TokenSpelling::kByteLevel, source_name, kWhat));
  auto model = std::make_shared<TokenizerModel>(TokenizerKind::kByteLevelBpe, tokens);
  HOOKLAB_RETURN_IF_ERROR(set_byte_tokens(*model, source_name));
  HOOKLAB_RETURN_IF_ERROR(
      for_each_merge_line(merges, source_name,
                          [&](std::string_view first, std::string_view second, const std::string& where,
                              std::string_view) { return add_merge(*model, first, second, where, source_name); }));
  add_config_specials(*model, special_ids);
  return std::shared_ptr<const TokenizerModel>(std::move(model));
}

Result<std::shared_ptr<const TokenizerModel>> build_tokenizer_json_model(std::string_view json_text,
                                                                         std::string_view source_name,
                                                                         std::span<const int32_t> special_ids) {
  if (json_text.size() > kMaxTokenizerFileBytes) {
    return invalid_model(source_name, kTokenizerJson,
                         "larger than " + std::to_string(kMaxTokenizerFileBytes >> 20) + " MiB");
  }
  const auto root = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return invalid_model(source_name, kTokenizerJson, "not valid JSON");
  if (!root.is_object()) return invalid_model(source_name, kTokenizerJson, "expected a JSON object");
  HOOKLAB_ASSIGN_OR_RETURN(std::string normalizer, component_type(root, "normalizer", source_name));
  if (!normalizer.empty()) return unsupported(source_name, "normalizer " + quote_excerpt(normalizer));
  const auto model_json = root.find("model");
  HOOKLAB_ASSIGN_OR_RETURN(const std::string type, tokenizer_model_type(root, source_name));
  std::shared_ptr<TokenizerModel> model;
  if (type == "BPE") {
    HOOKLAB_ASSIGN_OR_RETURN(model, byte_level_bpe_model(root, *model_json, source_name));
  } else if (type == "WordLevel") {
    HOOKLAB_ASSIGN_OR_RETURN(model, word_level_model(root, *model_json, source_name));
  } else {
    return unsupported(source_name, "model type " + quote_excerpt(type));
  }
  add_config_specials(*model, special_ids);
  return std::shared_ptr<const TokenizerModel>(std::move(model));
}

}  // namespace hooklab::bpe
