// Loading the vocabulary/merges pair: the Hugging Face spellings are accepted, and every
// malformed or mismatched file is refused with a message naming the file and the problem.
#include <gtest/gtest.h>

#include <string>

#include "hooklab/tokenizer.h"
#include "tokenizer_test_files.h"

namespace hooklab {
namespace {

using ::hooklab::testing::gpt2_encoder_json;
using ::hooklab::testing::gpt2_merges;

constexpr const char* kSource = "models/tokenizer/encoder.json";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The error message of a load that must fail ("" if it unexpectedly succeeds).
std::string load_error(const std::string& encoder_json, const std::string& merges) {
  auto loaded = Tokenizer::from_gpt2_files(encoder_json, merges, kSource);
  EXPECT_FALSE(loaded.ok());
  if (loaded.ok()) return "";
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidModel);
  EXPECT_NE(loaded.error().message.find(kSource), std::string::npos) << loaded.error().message;
  return loaded.error().message;
}

TEST(TokenizerFiles, AcceptsHuggingFaceMergesSpelling) {
  std::string merges = gpt2_merges();
  // merges.txt as some tools write it: CRLF line ends, or without the "#version" line.
  std::string crlf;
  for (char c : merges) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const std::string headerless = merges.substr(merges.find('\n') + 1);
  for (const std::string& variant : {crlf, headerless}) {
    auto loaded = Tokenizer::from_gpt2_files(gpt2_encoder_json(), variant, kSource);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->encode("Hello world"), (std::vector<int32_t>{15496, 995}));
  }
}

TEST(TokenizerFiles, RefusesMalformedVocabulary) {
  const std::string json = gpt2_encoder_json();
  const std::string merges = gpt2_merges();
  EXPECT_NE(load_error("", merges).find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error(json.substr(0, json.size() / 2), merges).find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error("[1, 2, 3]", merges).find("JSON object"), std::string::npos);
  EXPECT_NE(load_error("{}", merges).find("JSON object"), std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"!\": \"zero\""), merges).find("non-integer id \"zero\""),
            std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"!\": 0.5"), merges).find("non-integer"), std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"!\": 99999"), merges).find("has id 99999"), std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"!\": -1"), merges).find("has id -1"), std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"!\": 1"), merges).find("id 1 is used twice"), std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"\": 0"), merges).find("is empty"), std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"\\u4e00\": 0"), merges).find("byte-level alphabet"),
            std::string::npos);
  EXPECT_NE(load_error(replaced(json, "\"<|endoftext|>\": 50256", "\"<|endoftext|>!\": 50256"), merges)
                .find("\"<|endoftext|>\" must have id 50256"),
            std::string::npos);
  // "!" renamed to a string no other token spells: ids stay complete, but byte 0x21 is lost.
  EXPECT_NE(load_error(replaced(json, "\"!\": 0", "\"!\u0100!\u0100!\": 0"), merges).find("single byte 0x21"),
            std::string::npos);
}

TEST(TokenizerFiles, RefusesMalformedOrMismatchedMerges) {
  const std::string json = gpt2_encoder_json();
  const std::string merges = gpt2_merges();
  EXPECT_NE(load_error(json, "").find("has 0 merges"), std::string::npos);
  EXPECT_NE(load_error(json, replaced(merges, "\u0120 t\n", "\u0120t\n")).find("line 2: expected two tokens"),
            std::string::npos);
  EXPECT_NE(load_error(json, replaced(merges, "\u0120 t\n", "\u0120  t\n")).find("line 2: expected two tokens"),
            std::string::npos);
  EXPECT_NE(load_error(json, replaced(merges, "\u0120 t\n", "\u0120 \u4e00\n")).find("line 2:"), std::string::npos);
  EXPECT_NE(load_error(json, replaced(merges, "\u0120 t\n", "\u0120 \u0120\n")).find("not in the vocabulary"),
            std::string::npos);
  // Two merges swapped: each still makes a token, but not the one its rank says.
  EXPECT_NE(load_error(json, replaced(merges, "\u0120 t\n\u0120 a\n", "\u0120 a\n\u0120 t\n"))
                .find("line 2: merge 0 \"\u0120 a\" should make token 256 but the vocabulary gives it id 257"),
            std::string::npos);
  // A truncated merge list leaves tokens that no merge makes.
  const std::string truncated = merges.substr(0, merges.rfind('\n', merges.size() - 2) + 1);
  EXPECT_NE(load_error(json, truncated).find("has 49999 merges"), std::string::npos);
  EXPECT_NE(load_error(json, merges + "a b\n").find("should make token 50256"), std::string::npos);
}

TEST(TokenizerFiles, RefusesSwappedFileArguments) {
  EXPECT_NE(load_error(gpt2_merges(), gpt2_encoder_json()).find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace hooklab
