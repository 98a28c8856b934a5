// Shared helpers of the native tests: repository paths, model loading, tensor comparison
// with the project's tolerance rule (max |diff| <= rel * max(1, max |ref|), two-sided).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hooklab/hooked_transformer.h"

namespace hooklab::testing {

// Repository root: $HOOKLAB_SOURCE_DIR (set by CTest) or the current directory.
std::string source_dir();
std::string repo_path(const std::string& relative);

// Parses a JSON file (a fixture manifest); a discarded value when it is missing or malformed.
nlohmann::json read_json_file(const std::string& path);

// Loads a model directory of the repository (tokenizer from models/tokenizer).
Result<std::unique_ptr<HookedTransformer>> load_repo_model(const std::string& relative_dir, const LoadOptions& options);

// The same repository model for the whole test program, loaded once per (dir, options).
const HookedTransformer& shared_repo_model(const std::string& relative_dir, const LoadOptions& options = {});

struct Comparison {
  bool ok = true;
  double max_abs_diff = 0.0;
  double max_abs_ref = 0.0;
  double tolerance = 0.0;
  std::string detail;  // first problem found, if any
};

// Compares element by element: equal infinities (same sign at the same places) count as
// equal; NaN never does; finite values must agree within rel * max(1, max|ref|).
Comparison compare_tensors(const float* actual, const float* expected, size_t n, double rel);

}  // namespace hooklab::testing
