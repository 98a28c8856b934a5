// tokenize_jsonl [TOKENIZER_DIR] — the C++ tokenizer behind a JSON-lines pipe, for comparing
// it with other tokenizers (tokenizer-parity.test.mjs drives it with js-tiktoken).
//
// Reads one JSON string per stdin line and writes one line per input:
//   {"tokens":[...],"decoded":"..."}     or, for a line that is not a JSON string,
//   {"error":"..."}                      (and the exit status becomes 1).
// TOKENIZER_DIR holds encoder.json + vocab.bpe (default: $HOOKLAB_SOURCE_DIR/models/tokenizer,
// else the source tree's models/tokenizer).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "hooklab/tokenizer.h"

namespace {

bool read_file(const std::string& path, std::string& text) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream contents;
  contents << file.rdbuf();
  text = contents.str();
  return true;
}

std::string default_tokenizer_dir() {
  const char* source_dir = std::getenv("HOOKLAB_SOURCE_DIR");
  return std::string(source_dir && *source_dir ? source_dir : HOOKLAB_DEFAULT_SOURCE_DIR) + "/models/tokenizer";
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : default_tokenizer_dir();
  std::string encoder_json, merges;
  for (const auto& [name, text] : {std::pair{"/encoder.json", &encoder_json}, std::pair{"/vocab.bpe", &merges}}) {
    if (!read_file(dir + name, *text)) {
      std::fprintf(stderr, "error: cannot read %s%s\n", dir.c_str(), name);
      return 2;
    }
  }
  auto tokenizer = hooklab::Tokenizer::from_gpt2_files(encoder_json, merges, dir);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "error: %s\n", tokenizer.error().message.c_str());
    return 2;
  }

  std::ios::sync_with_stdio(false);
  int status = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    const auto input = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    nlohmann::json output;
    if (input.is_string()) {
      const auto tokens = tokenizer->encode(input.get_ref<const std::string&>());
      output["tokens"] = tokens;
      output["decoded"] = tokenizer->decode(tokens);
    } else {
      output["error"] = "line is not a JSON string: " + line.substr(0, 80);
      status = 1;
    }
    std::cout << dump(output) << '\n';
  }
  return status;
}
