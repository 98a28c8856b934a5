// From a Hugging Face GPT-2 checkpoint to processed, packed ModelWeights.
//
// Processing follows TransformerLens's from_pretrained (HookedTransformer.process_weights_):
// fold_ln -> center_writing_weights -> center_unembed -> fold_value_biases, all on by default;
// ProcessingOptions::none() gives the Hugging Face model unchanged (HF-equal logits).
// Tensors are streamed from the file one at a time (the unembedding in row chunks), processed
// in a bounded staging buffer and packed straight into place, so loading needs the final
// weights plus a few MB, never a second copy of the model.
#pragma once

#include <functional>
#include <memory>

#include "hooklab/config.h"
#include "hooklab/safetensors.h"
#include "hooklab/weights.h"

namespace hooklab {

struct ProcessingOptions {
  bool fold_ln = true;
  bool center_writing_weights = true;
  bool center_unembed = true;
  bool fold_value_biases = true;

  static ProcessingOptions transformer_lens_default() { return {}; }
  static ProcessingOptions none() { return {false, false, false, false}; }
  bool is_none() const { return !fold_ln && !center_writing_weights && !center_unembed && !fold_value_biases; }
};

// Called with the fraction of tensors loaded, for progress bars; return false to cancel.
using LoadProgress = std::function<bool(double fraction)>;

// Checks that the file holds every tensor cfg needs with the right shape (key names as in
// openai-community/gpt2, optionally prefixed "transformer.", lm_head.weight when config.json
// unties it (tie_word_embeddings: false); the
// attention mask buffers h.{i}.attn.bias / masked_bias are ignored) and loads them.
Result<ModelWeights> load_gpt2_weights(const SafetensorsFile& file, const ModelConfig& cfg,
                                       const ProcessingOptions& processing, const LoadProgress& progress = {},
                                       WeightPrecision precision = WeightPrecision::kF32, const ZeroFill& zero = {});

}  // namespace hooklab
