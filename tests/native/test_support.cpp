#include "test_support.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hooklab::testing {

std::string source_dir() {
  const char* env = std::getenv("HOOKLAB_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : ".";
}

std::string repo_path(const std::string& relative) { return source_dir() + "/" + relative; }

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json parsed = nlohmann::json::parse(ss.str(), nullptr, false);
  // A missing or broken fixture must fail the test that reads it, not read as an empty case list.
  if (!in || parsed.is_discarded()) throw std::runtime_error("cannot read the JSON fixture " + path);
  return parsed;
}

Result<std::unique_ptr<HookedTransformer>> load_repo_model(const std::string& relative_dir,
                                                           const LoadOptions& options) {
  HOOKLAB_ASSIGN_OR_RETURN(ModelFiles files,
                           read_model_directory(repo_path(relative_dir), repo_path("models/tokenizer")));
  LoadOptions named = options;
  named.model_name = relative_dir;
  return HookedTransformer::load(files, named);
}

const HookedTransformer& shared_repo_model(const std::string& relative_dir, const LoadOptions& options) {
  static std::map<std::string, std::unique_ptr<HookedTransformer>> models;
  const std::string key =
      relative_dir + "|" + std::to_string(options.processing.fold_ln) +
      std::to_string(options.processing.center_writing_weights) + std::to_string(options.processing.center_unembed) +
      std::to_string(options.processing.fold_value_biases) + "|" + std::to_string(static_cast<int>(options.backend)) +
      "|" + std::to_string(options.threads) + "|" + weight_precision_name(options.weight_precision);
  auto& slot = models[key];
  if (!slot) {
    auto loaded = load_repo_model(relative_dir, options);
    if (!loaded.ok()) {
      std::fprintf(stderr, "cannot load %s: %s\n", relative_dir.c_str(), loaded.error().message.c_str());
      std::abort();
    }
    slot = std::move(loaded).value();
  }
  return *slot;
}

Comparison compare_tensors(const float* actual, const float* expected, size_t n, double rel) {
  Comparison c;
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(expected[i]))
      c.max_abs_ref = std::max(c.max_abs_ref, std::fabs(static_cast<double>(expected[i])));
  }
  c.tolerance = rel * std::max(1.0, c.max_abs_ref);
  for (size_t i = 0; i < n; ++i) {
    const double a = actual[i], e = expected[i];
    if (std::isinf(e) || std::isinf(a) || std::isnan(e) || std::isnan(a)) {
      if (!(std::isinf(a) && std::isinf(e) && (a > 0) == (e > 0))) {
        if (c.ok)
          c.detail = "element " + std::to_string(i) + ": got " + std::to_string(a) + ", expected " + std::to_string(e);
        c.ok = false;
      }
      continue;
    }
    const double diff = std::fabs(a - e);
    c.max_abs_diff = std::max(c.max_abs_diff, diff);
    if (diff > c.tolerance && c.ok) {
      c.ok = false;
      c.detail = "element " + std::to_string(i) + ": got " + std::to_string(a) + ", expected " + std::to_string(e);
    }
  }
  return c;
}

}  // namespace hooklab::testing
