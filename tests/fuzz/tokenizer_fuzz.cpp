// GPT-2's tokenizer on arbitrary bytes and arbitrary token-id lists. The first input byte picks
// the direction: encode the rest as text, or decode it as little-endian int32 ids.
//   encode: every id is in the vocabulary, and decode(encode(s)) == s for valid UTF-8 (for
//           other bytes, s with each ill-formed sequence replaced by U+FFFD);
//   decode: never fails, and always yields valid UTF-8.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "fuzz_files.h"
#include "hooklab/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

const hooklab::Tokenizer& gpt2_tokenizer() {
  static const auto tokenizer = [] {
    auto t =
        hooklab::Tokenizer::from_gpt2_files(hooklab::fuzz::repo_file("models/tokenizer/encoder.json"),
                                            hooklab::fuzz::repo_file("models/tokenizer/vocab.bpe"), "models/tokenizer");
    hooklab::fuzz::require(t.ok(), "the GPT-2 tokenizer files load", t.ok() ? "" : t.error().message);
    return std::make_unique<hooklab::Tokenizer>(std::move(*t));
  }();
  return *tokenizer;
}

bool is_valid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const auto c = hooklab::bpe::decode_utf8_char(text.substr(pos));
    if (!c.valid) return false;
    pos += c.length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hooklab;
  if (size == 0) return 0;
  const Tokenizer& tokenizer = gpt2_tokenizer();
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    const std::vector<int32_t> ids = tokenizer.encode(rest);
    for (int32_t id : ids) fuzz::require(tokenizer.is_valid_id(id), "encode yields vocabulary ids");
    const std::string round_trip = tokenizer.decode(ids);
    const std::string expected = is_valid_utf8(rest) ? std::string(rest) : bpe::replace_invalid_utf8(rest);
    fuzz::require(round_trip == expected, "decode(encode(s)) == s");
  } else {
    std::vector<int32_t> ids(rest.size() / 4);
    if (!ids.empty()) std::memcpy(ids.data(), rest.data(), ids.size() * 4);
    fuzz::require(is_valid_utf8(tokenizer.decode(ids)), "decode yields valid UTF-8");
  }
  return 0;
}
