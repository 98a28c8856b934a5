// The hooked forward pass (forward.cpp). Callers validate the tokens first.
#pragma once

#include <span>

#include "hooklab/hooked_transformer.h"

namespace hooklab {

Result<RunOutput> hooked_forward(const ModelConfig& cfg, const ModelWeights& weights, const Backend& backend,
                                 std::span<const int32_t> tokens, const RunOptions& options);

}  // namespace hooklab
