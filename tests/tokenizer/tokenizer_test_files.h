// Loading the committed GPT-2 tokenizer files (models/tokenizer/) once for all tokenizer tests.
#pragma once

#include <string>

#include "hooklab/tokenizer.h"

namespace hooklab::testing {

// $HOOKLAB_SOURCE_DIR (set by hooklab_add_test), else the source tree this test was built from.
std::string source_dir();
std::string read_text_file(const std::string& path);  // empty if unreadable
std::string gpt2_encoder_json();
std::string gpt2_merges();
const Tokenizer& gpt2_tokenizer();  // fails the test (and aborts) if the files do not load

}  // namespace hooklab::testing
