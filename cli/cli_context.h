// What the commands share: loading the model and tokenizer named on the command line, and
// printing JSON.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "arguments.h"
#include "hooklab/hooked_transformer.h"

namespace hooklab::cli {

// Options every model-reading command accepts.
const std::set<std::string>& model_options();   // model, threads, tokenizer, backend
const std::set<std::string>& model_switches();  // no-processing

// models/tokenizer: --tokenizer, $HOOKLAB_TOKENIZER_DIR, or the source tree's copy.
std::string tokenizer_dir(const Arguments& args);
Result<Tokenizer> load_tokenizer(const Arguments& args);
Result<std::unique_ptr<HookedTransformer>> load_model(const Arguments& args);

// NaN and infinities have no JSON spelling: they print as null.
nlohmann::ordered_json json_number(double value);
void print_json(const nlohmann::ordered_json& value);

}  // namespace hooklab::cli
