#include "tokenizer/gpt2_files.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "tokenizer/byte_unicode.h"

namespace hooklab::bpe {
namespace {

constexpr std::string_view kEndOfTextText = "<|endoftext|>";
constexpr int32_t kSingleByteTokens = 256;

}  // namespace

Error invalid_model(std::string_view source_name, std::string_view what, const std::string& problem) {
  return make_error(ErrorCode::kInvalidModel, std::string(source_name) + ": " + std::string(what) + ": " + problem);
}

namespace {

// An id that is not an integer, for an error message: strings as short excerpts, numbers as
// written, anything else by its kind (a list or object could be megabytes).
std::string id_excerpt(const nlohmann::json& value) {
  if (value.is_string()) return quote_excerpt(value.get_ref<const std::string&>());
  if (value.is_number()) return value.dump();
  return std::string("(a JSON ") + value.type_name() + ")";
}

std::string byte_hex(unsigned byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", byte);
  return buffer;
}

}  // namespace

Result<std::vector<std::string>> parse_vocab_object(const nlohmann::json& json, TokenSpelling spelling,
                                                    std::string_view source_name, std::string_view what) {
  if (!json.is_object() || json.empty()) {
    return invalid_model(source_name, what, "expected a non-empty JSON object mapping token strings to ids");
  }
  if (json.size() > kMaxVocabularyTokens) {
    return invalid_model(source_name, what,
                         "has " + std::to_string(json.size()) + " tokens, more than the supported " +
                             std::to_string(kMaxVocabularyTokens));
  }
  const size_t token_count = json.size();
  std::vector<std::string> tokens(token_count);
  std::vector<bool> id_seen(token_count, false);
  for (const auto& [text, id_value] : json.items()) {
    if (!id_value.is_number_integer()) {
      return invalid_model(source_name, what,
                           "token " + quote_excerpt(text) + " has a non-integer id " + id_excerpt(id_value));
    }
    const int64_t id = id_value.get<int64_t>();
    if (id < 0 || static_cast<uint64_t>(id) >= token_count) {
      return invalid_model(source_name, what,
                           "token " + quote_excerpt(text) + " has id " + std::to_string(id) + ", but the " +
                               std::to_string(token_count) + " ids must be 0.." + std::to_string(token_count - 1));
    }
    if (id_seen[id]) return invalid_model(source_name, what, "id " + std::to_string(id) + " is used twice");
    id_seen[id] = true;
    if (text.empty()) return invalid_model(source_name, what, "token " + std::to_string(id) + " is empty");
    if (text.size() > kMaxTokenBytes) {
      return invalid_model(source_name, what,
                           "token " + std::to_string(id) + " is " + std::to_string(text.size()) +
                               " bytes long, more than the supported " + std::to_string(kMaxTokenBytes));
    }
    if (spelling == TokenSpelling::kLiteral) {
      tokens[id] = text;
    } else if (!gpt2_text_to_bytes(text, tokens[id])) {
      return invalid_model(source_name, what,
                           "token " + quote_excerpt(text) + " has a character outside GPT-2's byte-level alphabet");
    }
  }
  return tokens;
}

Status check_all_bytes_are_tokens(const Vocabulary& vocabulary, std::string_view source_name, std::string_view what) {
  for (unsigned byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    if (vocabulary.find(std::string_view(&c, 1)) < 0) {
      return invalid_model(source_name, what,
                           "no token for the single byte " + byte_hex(byte) + ", so some text could not be encoded");
    }
  }
  return {};
}

Result<std::vector<std::string>> parse_gpt2_encoder_json(std::string_view json_text, int32_t end_of_text_id,
                                                         std::string_view source_name) {
  constexpr std::string_view kWhat = "vocabulary (encoder.json / vocab.json)";
  const auto json = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return invalid_model(source_name, kWhat, "not valid JSON");
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<std::string> tokens,
                           parse_vocab_object(json, TokenSpelling::kByteLevel, source_name, kWhat));
  const auto token_count = static_cast<int32_t>(tokens.size());
  if (end_of_text_id >= token_count || tokens[end_of_text_id] != kEndOfTextText) {
    return invalid_model(source_name, kWhat,
                         "\"<|endoftext|>\" must have id " + std::to_string(end_of_text_id) +
                             " (a GPT-2 vocabulary has " + std::to_string(end_of_text_id + 1) +
                             " tokens; this one has " + std::to_string(token_count) + ")");
  }
  HOOKLAB_RETURN_IF_ERROR(check_all_bytes_are_tokens(Vocabulary(tokens), source_name, kWhat));
  return tokens;
}

Status for_each_merge_line(std::string_view merges_text, std::string_view source_name,
                           const std::function<Status(std::string_view first, std::string_view second,
                                                      const std::string& where, std::string_view line)>& visit) {
  constexpr std::string_view kWhat = "merges (vocab.bpe / merges.txt)";
  size_t line_number = 0;
  std::string first_bytes, second_bytes;
  while (!merges_text.empty()) {
    const size_t line_end = std::min(merges_text.find('\n'), merges_text.size());
    std::string_view line = merges_text.substr(0, line_end);
    merges_text.remove_prefix(std::min(line_end + 1, merges_text.size()));
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_number == 1 && line.starts_with("#version"))) continue;

    const std::string where = "line " + std::to_string(line_number);
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      return invalid_model(source_name, kWhat,
                           where + ": expected two tokens separated by one space, got " + quote_excerpt(line));
    }
    first_bytes.clear();
    second_bytes.clear();
    if (!gpt2_text_to_bytes(line.substr(0, space), first_bytes) ||
        !gpt2_text_to_bytes(line.substr(space + 1), second_bytes)) {
      return invalid_model(source_name, kWhat,
                           where + ": " + quote_excerpt(line) + " has a character outside GPT-2's byte-level alphabet");
    }
    HOOKLAB_RETURN_IF_ERROR(visit(first_bytes, second_bytes, where, line));
  }
  return {};
}

Status check_gpt2_merges(std::string_view merges_text, const Vocabulary& vocabulary, std::string_view source_name) {
  constexpr std::string_view kWhat = "merges (vocab.bpe / merges.txt)";
  int32_t merge_count = 0;
  HOOKLAB_RETURN_IF_ERROR(for_each_merge_line(
      merges_text, source_name,
      [&](std::string_view first, std::string_view second, const std::string& where, std::string_view line) -> Status {
        if (vocabulary.find(first) < 0 || vocabulary.find(second) < 0) {
          return invalid_model(source_name, kWhat,
                               where + ": " + quote_excerpt(line) + " joins a string that is not a token");
        }
        const int32_t expected_id = kSingleByteTokens + merge_count;
        const int32_t merged_id = vocabulary.find(std::string(first) + std::string(second));
        if (merged_id != expected_id) {
          return invalid_model(source_name, kWhat,
                               where + ": merge " + std::to_string(merge_count) + " " + quote_excerpt(line) +
                                   " should make token " + std::to_string(expected_id) + " but " +
                                   (merged_id < 0 ? std::string("its result is not in the vocabulary")
                                                  : "the vocabulary gives it id " + std::to_string(merged_id)) +
                                   " (vocabulary and merges do not belong together)");
        }
        ++merge_count;
        return {};
      }));

  // Single bytes and "<|endoftext|>" are the only tokens no merge makes.
  const int32_t expected_merges = vocabulary.size() - kSingleByteTokens - 1;
  if (merge_count != expected_merges) {
    return invalid_model(source_name, kWhat,
                         "has " + std::to_string(merge_count) + " merges, but the vocabulary of " +
                             std::to_string(vocabulary.size()) + " tokens needs " + std::to_string(expected_merges));
  }
  return {};
}

}  // namespace hooklab::bpe
