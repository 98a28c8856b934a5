// config.json on arbitrary text: a config is accepted with every size inside the supported
// bounds and consistent (heads divide the width), or refused with one short line.
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "hooklab/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hooklab;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = parse_hf_gpt2_config(text, "config.json");
  if (!cfg.ok()) {
    fuzz::require_clear_error(cfg.error());
    return 0;
  }
  fuzz::require(
      cfg->n_layers > 0 && cfg->d_model > 0 && cfg->n_heads > 0 && cfg->d_vocab > 0 && cfg->n_ctx > 0 && cfg->d_mlp > 0,
      "sizes are positive");
  fuzz::require(cfg->d_head * cfg->n_heads == cfg->d_model, "heads divide the width");
  fuzz::require(cfg->eps > 0.0f && cfg->eps < 1.0f, "epsilon in (0, 1)");
  fuzz::require(cfg->total_params() > 0, "parameter count does not overflow");
  return 0;
}
