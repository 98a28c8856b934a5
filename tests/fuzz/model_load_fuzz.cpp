// The whole model load (config.json + model.safetensors + GPT-2's tokenizer files) from bytes
// in memory. Input: a 2-byte little-endian length L, L bytes of config.json, then the bytes of
// model.safetensors; the tokenizer is built once from the repository's files. A model that loads must run a
// one-token forward; a refusal is one short line.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "fuzz_files.h"
#include "fuzz_support.h"
#include "hooklab/hooked_transformer.h"

namespace {

const hooklab::ModelFiles& tokenizer_files() {
  static const hooklab::ModelFiles files = [] {
    // Built once: rebuilding GPT-2's tokenizer for every input would cost most of the time.
    auto tokenizer =
        hooklab::Tokenizer::from_gpt2_files(hooklab::fuzz::repo_file("models/tokenizer/encoder.json"),
                                            hooklab::fuzz::repo_file("models/tokenizer/vocab.bpe"), "models/tokenizer");
    hooklab::fuzz::require(tokenizer.ok(), "the GPT-2 tokenizer files load",
                           tokenizer.ok() ? "" : tokenizer.error().message);
    hooklab::ModelFiles f;
    f.tokenizer = std::make_shared<const hooklab::Tokenizer>(std::move(*tokenizer));
    return f;
  }();
  return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hooklab;
  if (size < 2) return 0;
  const size_t config_len = std::min<size_t>(data[0] | (data[1] << 8), size - 2);
  ModelFiles files = tokenizer_files();
  files.config_json.assign(reinterpret_cast<const char*>(data + 2), config_len);
  files.weights = make_borrowed_source("model.safetensors", data + 2 + config_len, size - 2 - config_len);
  LoadOptions options;
  options.backend = BackendKind::kReference;
  auto model = HookedTransformer::load(files, options);
  if (!model.ok()) {
    fuzz::require_clear_error(model.error());
    return 0;
  }
  const std::vector<int32_t> tokens = {464};  // "The"
  auto out = (*model)->run(tokens, RunOptions{});
  fuzz::require(out.ok(), "a loaded model runs", out.ok() ? "" : out.error().message);
  return 0;
}
