#include "tokenizer_test_files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hooklab::testing {

std::string source_dir() {
  const char* from_env = std::getenv("HOOKLAB_SOURCE_DIR");
  return from_env && *from_env ? from_env : HOOKLAB_DEFAULT_SOURCE_DIR;
}

std::string read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string gpt2_encoder_json() { return read_text_file(source_dir() + "/models/tokenizer/encoder.json"); }
std::string gpt2_merges() { return read_text_file(source_dir() + "/models/tokenizer/vocab.bpe"); }

const Tokenizer& gpt2_tokenizer() {
  static const Tokenizer tokenizer = [] {
    auto loaded = Tokenizer::from_gpt2_files(gpt2_encoder_json(), gpt2_merges(), "models/tokenizer");
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      std::abort();
    }
    return std::move(loaded).value();
  }();
  return tokenizer;
}

}  // namespace hooklab::testing
