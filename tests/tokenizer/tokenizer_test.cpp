// Behaviour of hooklab::Tokenizer on the real GPT-2 files. Expected ids come from js-tiktoken
// (r50k_base); tokenizer-parity.test.mjs compares the two on the whole corpus.
#include "hooklab/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer_test_files.h"

namespace hooklab {
namespace {

using ::hooklab::testing::gpt2_tokenizer;
using Ids = std::vector<int32_t>;

std::vector<std::string> token_strings(const Tokenizer& tokenizer, const Ids& ids) {
  std::vector<std::string> strings;
  for (int32_t id : ids) strings.emplace_back(tokenizer.token_bytes(id));
  return strings;
}

std::string joined_bytes(const Tokenizer& tokenizer, const Ids& ids) {
  std::string bytes;
  for (int32_t id : ids) bytes += tokenizer.token_bytes(id);
  return bytes;
}

TEST(Tokenizer, VocabularyIsGpt2s) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  EXPECT_EQ(tokenizer.vocab_size(), 50257);
  EXPECT_EQ(tokenizer.token_bytes(0), "!");
  EXPECT_EQ(tokenizer.token_bytes(220), " ");
  EXPECT_EQ(tokenizer.token_bytes(198), "\n");
  EXPECT_EQ(tokenizer.token_bytes(Tokenizer::kEndOfText), "<|endoftext|>");
}

TEST(Tokenizer, KnownEncodings) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  EXPECT_EQ(tokenizer.encode("Hello world"), (Ids{15496, 995}));
  EXPECT_EQ(tokenizer.encode(" Paris"), (Ids{6342}));
  EXPECT_EQ(tokenizer.encode("The cat sat on the mat."), (Ids{464, 3797, 3332, 319, 262, 2603, 13}));
  EXPECT_EQ(tokenizer.encode("aaaaaaaaaa"), (Ids{24794, 24794, 7252}));
  EXPECT_EQ(token_strings(tokenizer, tokenizer.encode("2342+2017=21445")),
            (std::vector<std::string>{"23", "42", "+", "2017", "=", "214", "45"}));
  EXPECT_EQ(tokenizer.encode("2342+2017=21445"), (Ids{1954, 3682, 10, 5539, 28, 22291, 2231}));
  EXPECT_EQ(tokenizer.encode(""), Ids{});
}

TEST(Tokenizer, ContractionsAreLowerCaseOnly) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  EXPECT_EQ(tokenizer.encode("I'm here, you're there; it's 3.14!"),
            (Ids{40, 1101, 994, 11, 345, 821, 612, 26, 340, 338, 513, 13, 1415, 0}));
  // "'T" is not a contraction (the pattern has no /i), so the apostrophe is punctuation.
  EXPECT_EQ(token_strings(tokenizer, tokenizer.encode("don't DON'T")),
            (std::vector<std::string>{"don", "'t", " DON", "'", "T"}));
}

TEST(Tokenizer, WhitespaceRunGivesItsLastSpaceToTheNextWord) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  EXPECT_EQ(tokenizer.encode("  hello   world  \n\n\tx"), (Ids{220, 23748, 220, 220, 995, 220, 220, 628, 197, 87}));
  // NBSP is whitespace to the regex but only U+0020 may lead a word.
  EXPECT_EQ(tokenizer.encode("\u00a0x"), (Ids{1849, 87}));
  EXPECT_EQ(tokenizer.encode(" \u00a0x"), (Ids{220, 1849, 87}));
}

TEST(Tokenizer, MultiByteCharactersSplitAcrossTokens) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  const std::string text = "h\u00e9llo w\u00f6rld \u65e5\u672c\u8a9e \U0001F642";
  const Ids ids = tokenizer.encode(text);
  EXPECT_EQ(ids, (Ids{71, 2634, 18798, 266, 30570, 335, 10545, 245, 98, 17312, 105, 45739, 252, 32485}));
  EXPECT_EQ(tokenizer.decode(ids), text);
  EXPECT_EQ(tokenizer.token_text(10545), " \xEF\xBF\xBD");  // " " plus a lone lead byte
}

TEST(Tokenizer, EndOfTextInTextIsTheSpecialToken) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  EXPECT_EQ(tokenizer.encode("<|endoftext|>"), (Ids{Tokenizer::kEndOfText}));
  EXPECT_EQ(tokenizer.encode("a<|endoftext|>b"), (Ids{64, Tokenizer::kEndOfText, 65}));
  EXPECT_EQ(tokenizer.encode("<|endoftext|><|endoftext|>"), (Ids{Tokenizer::kEndOfText, Tokenizer::kEndOfText}));
  // Whitespace before the special token ends its own segment: both spaces stay together.
  EXPECT_EQ(tokenizer.encode("x  <|endoftext|>"), (Ids{87, 220, 220, Tokenizer::kEndOfText}));
  // Anything short of the exact string is ordinary text.
  const Ids near_miss = tokenizer.encode("<|endoftext|");
  EXPECT_EQ(std::count(near_miss.begin(), near_miss.end(), Tokenizer::kEndOfText), 0);
  EXPECT_EQ(tokenizer.decode(near_miss), "<|endoftext|");
  EXPECT_EQ(tokenizer.token_text(Tokenizer::kEndOfText), "<|endoftext|>");
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("a<|endoftext|>b")), "a<|endoftext|>b");
}

TEST(Tokenizer, RoundTripsValidUtf8) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  const char* texts[] = {
      "Hello, world!",
      "  leading and trailing  ",
      "tabs\tand\nnewlines\r\n\r\nand\u2028separators\u0085",
      "\ufeffBOM first",
      "e\u0301 Z\u0351\u0352\u0357a\u0358\u035c\u0360l\u0334g\u0336o",
      "\U0001F468\u200D\U0001F469\u200D\U0001F467 \U0001F44D\U0001F3FD \U0001F1EF\U0001F1F5",
      "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u0928\u092e\u0938\u094d\u0924\u0947 "
      "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
      "\U0001D400\U0001D401 \u2167 \u00b2\u00b3 \u00bd",
  };
  for (const char* text : texts) { EXPECT_EQ(tokenizer.decode(tokenizer.encode(text)), text) << text; }
  const std::string with_nul("a\0b\x01\x7f", 5);
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(with_nul)), with_nul);
}

TEST(Tokenizer, InvalidUtf8IsEncodedLosslesslyAsBytes) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  const std::string samples[] = {
      "\xff",
      "\xc3",
      "abc\xe2\x82",
      "\xed\xa0\x80 surrogate",
      "\xc0\xaf overlong",
      "x\x80y",
      "\xf4\x90\x80\x80",
      " \xfe\xfe word",
      "it\x92s",
      "caf\xe9 ole",
  };
  for (const std::string& bytes : samples) {
    const Ids ids = tokenizer.encode(bytes);
    EXPECT_EQ(joined_bytes(tokenizer, ids), bytes);
  }
  // Replacement as Python's bytes.decode("utf-8", errors="replace"): one U+FFFD per maximal subpart.
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("abc\xe2\x82")), "abc\uFFFD");
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("\xed\xa0\x80!")), "\uFFFD\uFFFD\uFFFD!");
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("caf\xe9 ole")), "caf\uFFFD ole");

  std::mt19937 random(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(random() % 64, '\0');
    for (char& byte : bytes) byte = static_cast<char>(random() & 0xFF);
    const Ids ids = tokenizer.encode(bytes);
    ASSERT_EQ(joined_bytes(tokenizer, ids), bytes) << "trial " << trial;
    for (int32_t id : ids) ASSERT_TRUE(tokenizer.is_valid_id(id));
  }
}

TEST(Tokenizer, InvalidIdsDecodeToReplacementCharacter) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  EXPECT_FALSE(tokenizer.is_valid_id(-1));
  EXPECT_FALSE(tokenizer.is_valid_id(50257));
  EXPECT_TRUE(tokenizer.is_valid_id(50256));
  EXPECT_EQ(tokenizer.token_bytes(-1), "");
  EXPECT_EQ(tokenizer.token_bytes(1 << 30), "");
  EXPECT_EQ(tokenizer.decode(Ids{15496, -7, 995, 50257}), "Hello\uFFFD world\uFFFD");
  EXPECT_EQ(tokenizer.token_text(123456), "\uFFFD");
}

TEST(Tokenizer, LongPiecesStayFast) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  // One 200 KB pre-tokenizer piece: the merge loop must not be quadratic in it.
  const std::string letters(200'000, 'a');
  const auto start = std::chrono::steady_clock::now();
  const Ids ids = tokenizer.encode(letters);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(joined_bytes(tokenizer, ids), letters);
  EXPECT_LT(seconds, 2.0);
}

TEST(Tokenizer, EncodesTenKilobytesQuickly) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  std::string text;
  const std::string paragraph =
      "The quick brown fox jumps over the lazy dog. It's 2024, and we've got 3.5 million "
      "reasons to tokenize text quickly: code like `for (int i = 0; i < n; ++i)`, URLs like "
      "https://example.com/a?b=c, and caf\u00e9 na\u00efvet\u00e9 \u65e5\u672c\u8a9e \U0001F642.\n";
  while (text.size() < 10'000) text += paragraph;
  (void)tokenizer.encode(text);  // warm caches
  constexpr int kRepeats = 20;
  const auto start = std::chrono::steady_clock::now();
  size_t token_count = 0;
  for (int i = 0; i < kRepeats; ++i) token_count += tokenizer.encode(text).size();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / kRepeats;
  std::printf("encoding %zu bytes (%zu tokens) took %.3f ms\n", text.size(), token_count / kRepeats, ms);
  EXPECT_LT(ms, 50.0);  // the target is well under 10 ms; the slack absorbs sanitizers and busy CI machines
}

TEST(Tokenizer, EncodeIsSafeFromSeveralThreads) {
  const Tokenizer& tokenizer = gpt2_tokenizer();
  const std::string texts[] = {"Hello world, it's me.", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
                               std::string(3000, 'z') + " tail", "  spaced   out  "};
  std::vector<Ids> expected;
  for (const auto& text : texts) expected.push_back(tokenizer.encode(text));

  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        const size_t which = static_cast<size_t>(t + round) % std::size(texts);
        if (tokenizer.encode(texts[which]) != expected[which]) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(Tokenizer, CopiesShareTheVocabulary) {
  const Tokenizer copy = gpt2_tokenizer();
  EXPECT_EQ(copy.encode("Hello world"), (Ids{15496, 995}));
}

}  // namespace
}  // namespace hooklab
