// A model's own Hugging Face tokenizer files and text encoded with them. The first input byte
// picks the mode:
//   0: the rest is a tokenizer.json;   1: the rest is vocab.json, a NUL byte, then merges.txt.
//      Loading either never crashes; a tokenizer that loads yields vocabulary ids on a sample
//      text and decodes any ids to valid UTF-8.
//   2: the rest is text for the committed byte-level BPE (tests/fixtures/own-tokenizer/bpe-files):
//      every id is in the vocabulary and decode(encode(s)) == s (ill-formed UTF-8 replaced).
//   3: the rest is text for the committed WordLevel tokenizer: every id is in the vocabulary
//      and the decoded text is valid UTF-8.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_files.h"
#include "fuzz_support.h"
#include "hooklab/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using hooklab::Tokenizer;

constexpr std::string_view kFixtures = "tests/fixtures/own-tokenizer/";
// Tokens 0 and 1 as special tokens: in the BPE fixture they are single bytes (ids are shuffled),
// the hardest case for cutting specials out of text (a cut may fall inside a character).
const std::vector<int32_t> kSpecialIds = {0, 1};

const Tokenizer& fixture_tokenizer(bool word_level) {
  static const auto load = [](bool words) {
    const std::string dir = std::string(kFixtures) + (words ? "wordlevel" : "bpe-files");
    auto t =
        words ? Tokenizer::from_hf_tokenizer_json(hooklab::fuzz::repo_file(dir + "/tokenizer.json"), dir, kSpecialIds)
              : Tokenizer::from_hf_vocab_merges(hooklab::fuzz::repo_file(dir + "/vocab.json"),
                                                hooklab::fuzz::repo_file(dir + "/merges.txt"), dir, kSpecialIds);
    hooklab::fuzz::require(t.ok(), "the fixture tokenizer loads", t.ok() ? "" : t.error().message);
    return std::make_unique<Tokenizer>(std::move(*t));
  };
  static const auto bpe = load(false);
  static const auto words = load(true);
  return word_level ? *words : *bpe;
}

bool is_valid_utf8(std::string_view text) { return hooklab::bpe::replace_invalid_utf8(text) == text; }

void check_encoding(const Tokenizer& tokenizer, std::string_view text) {
  const std::vector<int32_t> ids = tokenizer.encode(text);
  for (int32_t id : ids) hooklab::fuzz::require(tokenizer.is_valid_id(id), "encode yields vocabulary ids");
  hooklab::fuzz::require(is_valid_utf8(tokenizer.decode(ids)), "decode yields valid UTF-8");
}

void check_loaded(const hooklab::Result<Tokenizer>& loaded) {
  if (!loaded.ok()) {
    hooklab::fuzz::require(loaded.error().message.size() < 1000, "errors are short", loaded.error().message);
    return;
  }
  check_encoding(*loaded, "Hello w\xC3\xB6rld <|endoftext|> [BOS] 123  \n\t x\xFF");
  const std::vector<int32_t> any_ids = {-1, 0, 1, 2, loaded->vocab_size() - 1, loaded->vocab_size()};
  hooklab::fuzz::require(is_valid_utf8(loaded->decode(any_ids)), "decode of any ids yields valid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: check_loaded(Tokenizer::from_hf_tokenizer_json(rest, "tokenizer.json", kSpecialIds)); break;
    case 1: {
      const size_t split = std::min(rest.find('\0'), rest.size());
      const std::string_view merges = split < rest.size() ? rest.substr(split + 1) : std::string_view();
      check_loaded(Tokenizer::from_hf_vocab_merges(rest.substr(0, split), merges, "vocab.json", kSpecialIds));
      break;
    }
    case 2: {
      const Tokenizer& tokenizer = fixture_tokenizer(false);
      check_encoding(tokenizer, rest);
      hooklab::fuzz::require(tokenizer.decode(tokenizer.encode(rest)) == hooklab::bpe::replace_invalid_utf8(rest),
                             "decode(encode(s)) == s");
      break;
    }
    default: check_encoding(fixture_tokenizer(true), rest); break;
  }
  return 0;
}
