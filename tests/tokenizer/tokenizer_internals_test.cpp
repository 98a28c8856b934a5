// The tokenizer's building blocks, tested directly where the public API would hide a mistake:
// UTF-8 error recovery, the hand-compiled pre-tokenizer regex, the Unicode class tables, and
// the two implementations of the merge loop.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/bpe_merge.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/gpt2_files.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_files.h"

namespace hooklab::bpe {
namespace {

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> result;
  for_each_gpt2_piece(text, [&](std::string_view piece) { result.emplace_back(piece); });
  return result;
}

using Pieces = std::vector<std::string>;

TEST(Utf8, DecodesWellFormedCharacters) {
  EXPECT_EQ(decode_utf8_char("A").code_point, U'A');
  const Utf8Char euro = decode_utf8_char("\u20ac");
  EXPECT_TRUE(euro.valid);
  EXPECT_EQ(euro.code_point, 0x20AC);
  EXPECT_EQ(euro.length, 3u);
  EXPECT_EQ(decode_utf8_char("\U0010FFFF").code_point, 0x10FFFF);
  EXPECT_EQ(decode_utf8_char(std::string_view("\0", 1)).length, 1u);
}

TEST(Utf8, ReplacesMaximalSubpartsLikePython) {
  // Expected strings are Python 3's bytes.decode("utf-8", errors="replace").
  EXPECT_EQ(replace_invalid_utf8("\xe2\x82"), "\uFFFD");                            // truncated: one
  EXPECT_EQ(replace_invalid_utf8("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");            // surrogate: three
  EXPECT_EQ(replace_invalid_utf8("\xc0\xaf"), "\uFFFD\uFFFD");                      // overlong lead
  EXPECT_EQ(replace_invalid_utf8("\xe0\x80\x80"), "\uFFFD\uFFFD\uFFFD");            // overlong 3-byte
  EXPECT_EQ(replace_invalid_utf8("\xf0\x9f\x98"), "\uFFFD");                        // truncated emoji
  EXPECT_EQ(replace_invalid_utf8("\xf4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // above U+10FFFF
  EXPECT_EQ(replace_invalid_utf8("a\x80\x80z"), "a\uFFFD\uFFFDz");
  EXPECT_EQ(replace_invalid_utf8("\xe2\x82\xac\xe2"), "\u20ac\uFFFD");
}

TEST(UnicodeClasses, FollowJavaScriptRegexSemantics) {
  EXPECT_EQ(character_class(U'a'), CharacterClass::kLetter);
  EXPECT_EQ(character_class(0x01C5), CharacterClass::kLetter);   // Dž, titlecase
  EXPECT_EQ(character_class(0x4E00), CharacterClass::kLetter);   // CJK ideograph
  EXPECT_EQ(character_class(0x1D400), CharacterClass::kLetter);  // mathematical bold A
  EXPECT_EQ(character_class(0x0301), CharacterClass::kOther);    // combining acute: Mn, not L
  EXPECT_EQ(character_class(U'7'), CharacterClass::kNumber);
  EXPECT_EQ(character_class(0x00B2), CharacterClass::kNumber);  // superscript two
  EXPECT_EQ(character_class(0x00BD), CharacterClass::kNumber);  // one half
  EXPECT_EQ(character_class(0x2167), CharacterClass::kNumber);  // Roman numeral eight
  EXPECT_EQ(character_class(0x0663), CharacterClass::kNumber);  // Arabic-Indic three
  EXPECT_EQ(character_class(U' '), CharacterClass::kWhitespace);
  EXPECT_EQ(character_class(0x000B), CharacterClass::kWhitespace);  // vertical tab
  EXPECT_EQ(character_class(0x00A0), CharacterClass::kWhitespace);
  EXPECT_EQ(character_class(0x2028), CharacterClass::kWhitespace);
  EXPECT_EQ(character_class(0x3000), CharacterClass::kWhitespace);
  EXPECT_EQ(character_class(0xFEFF), CharacterClass::kWhitespace);  // JS \s includes the BOM...
  EXPECT_EQ(character_class(0x0085), CharacterClass::kOther);       // ...but not NEL
  EXPECT_EQ(character_class(0x180E), CharacterClass::kOther);       // Mongolian vowel separator
  EXPECT_EQ(character_class(0x200B), CharacterClass::kOther);       // zero-width space
  EXPECT_EQ(character_class(U'\''), CharacterClass::kOther);
  EXPECT_EQ(character_class(0x1F600), CharacterClass::kOther);
  EXPECT_EQ(character_class(0x10FFFF), CharacterClass::kOther);
  EXPECT_STRNE(unicode_table_version(), "");
}

TEST(Pretokenizer, SplitsLikeTheGpt2Regex) {
  EXPECT_EQ(pieces("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(pieces("it's we'll I'D 'sup ''s"),
            (Pieces{"it", "'s", " we", "'ll", " I", "'", "D", " '", "sup", " ''", "s"}));
  EXPECT_EQ(pieces("abc123 456!!! ?"), (Pieces{"abc", "123", " 456", "!!!", " ?"}));
  EXPECT_EQ(pieces("a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(pieces("a \t b"), (Pieces{"a", " \t", " b"}));
  EXPECT_EQ(pieces("a\tb"), (Pieces{"a", "\t", "b"}));
  EXPECT_EQ(pieces("a\t\tb"), (Pieces{"a", "\t", "\t", "b"}));
  EXPECT_EQ(pieces("a  "), (Pieces{"a", "  "}));
  EXPECT_EQ(pieces(" "), (Pieces{" "}));
  EXPECT_EQ(pieces("x\n\n  y"), (Pieces{"x", "\n\n ", " y"}));
  EXPECT_EQ(pieces("x \u00a0y"), (Pieces{"x", " ", "\u00a0", "y"}));
  EXPECT_EQ(pieces("caf\u00e9 \u65e5\u672c"), (Pieces{"caf\u00e9", " \u65e5\u672c"}));
  EXPECT_EQ(pieces("e\u0301t\u00e9"), (Pieces{"e", "\u0301", "t\u00e9"}));
  EXPECT_EQ(pieces("\u2167\u00b2 x\u00bd"), (Pieces{"\u2167\u00b2", " x", "\u00bd"}));
  // Ill-formed bytes count as punctuation and join punctuation runs.
  EXPECT_EQ(pieces("ab\xff\xfe!cd"), (Pieces{"ab", "\xff\xfe!", "cd"}));
  EXPECT_EQ(pieces(" \x80"), (Pieces{" \x80"}));
  EXPECT_EQ(pieces("\xe2\x82"), (Pieces{"\xe2\x82"}));
}

TEST(ByteUnicode, MatchesGpt2sAlphabet) {
  EXPECT_EQ(gpt2_byte_to_code_point(' '), 0x0120u);
  EXPECT_EQ(gpt2_byte_to_code_point('\n'), 0x010Au);
  EXPECT_EQ(gpt2_byte_to_code_point('!'), 0x0021u);
  EXPECT_EQ(gpt2_byte_to_code_point(0xAD), 0x0143u);
  std::string bytes;
  EXPECT_TRUE(gpt2_text_to_bytes("\u0120the\u010a", bytes));
  EXPECT_EQ(bytes, " the\n");
  bytes.clear();
  EXPECT_FALSE(gpt2_text_to_bytes(" ", bytes));  // a raw space is spelled "Ġ"
  EXPECT_FALSE(gpt2_text_to_bytes("\u0144", bytes));
}

// A Vocabulary built from the real files, for the merge tests.
const Vocabulary& gpt2_vocabulary() {
  static const Vocabulary vocabulary = [] {
    auto tokens = parse_gpt2_encoder_json(testing::gpt2_encoder_json(), 50256, "encoder.json");
    EXPECT_TRUE(tokens.ok());
    return Vocabulary(tokens.ok() ? tokens.value() : std::vector<std::string>{});
  }();
  return vocabulary;
}

TEST(BpeMerge, ScanAndHeapAgree) {
  const Vocabulary& vocabulary = gpt2_vocabulary();
  ASSERT_EQ(vocabulary.size(), 50257);
  std::mt19937 random(7);
  const std::string alphabet = "aaabcdeeefghiijklmnoopqrssttuvwxyz ";
  MergeScratch scan, heap;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string piece(1 + random() % 150, ' ');
    for (char& c : piece) c = alphabet[random() % alphabet.size()];
    if (trial % 3 == 0) {  // raw bytes too
      for (char& c : piece) c = static_cast<char>(random() & 0xFF);
    }
    merge_by_scan(piece, vocabulary, scan);
    merge_by_heap(piece, vocabulary, heap);
    ASSERT_EQ(scan.boundaries, heap.boundaries) << "piece " << piece;
  }
}

TEST(BpeMerge, MergesByLowestTokenId) {
  const Vocabulary& vocabulary = gpt2_vocabulary();
  MergeScratch scratch;
  std::vector<int32_t> ids;
  append_bpe_tokens(" the", vocabulary, scratch, ids);  // a whole-piece token
  EXPECT_EQ(ids, (std::vector<int32_t>{262}));
  ids.clear();
  append_bpe_tokens("aaaaaaaaaa", vocabulary, scratch, ids);
  EXPECT_EQ(ids, (std::vector<int32_t>{24794, 24794, 7252}));
}

}  // namespace
}  // namespace hooklab::bpe
