// Repository files the fuzz targets build their fixed parts from (the GPT-2 tokenizer files),
// read once per process. HOOKLAB_SOURCE_DIR is set by tests/fuzz/CMakeLists.txt.
#pragma once

#include <string>

#include "fuzz_support.h"
#include "hooklab/byte_source.h"

namespace hooklab::fuzz {

inline std::string repo_file(const std::string& relative) {
  auto text = read_text_file(std::string(HOOKLAB_SOURCE_DIR) + "/" + relative);
  require(text.ok(), "a repository file reads", text.ok() ? "" : text.error().message);
  return std::move(*text);
}

}  // namespace hooklab::fuzz
