// The hooked forward pass (forward.cpp). Callers validate the tokens first. With a KV cache
// the tokens are new positions after the cache's rows (whose count the caller checked
// against n_ctx); the cache grows by them only when the run succeeds.
#pragma once

#include <span>

#include "hooklab/hooked_transformer.h"
#include "hooklab/kv_cache.h"

namespace hooklab {

Result<RunOutput> hooked_forward(const ModelConfig& cfg, const ModelWeights& weights, const Backend& backend,
                                 std::span<const int32_t> tokens, const RunOptions& options, KvCache* kv = nullptr);

}  // namespace hooklab
