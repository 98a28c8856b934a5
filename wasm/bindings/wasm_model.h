// The object JavaScript holds for a loaded model (Embind class "Model"). It owns the core's
// HookedTransformer plus the cache of the last analysed prompt, so the lab's several views of
// one prompt (lens, attribution, norms) share a single forward pass.
#pragma once

#include <emscripten/val.h>

#include <memory>
#include <optional>
#include <vector>

#include "hooklab/hooked_transformer.h"

namespace hooklab::wasm {

using emscripten::val;

class WasmPatchJob;
class WasmAttribution;
class WasmGenerator;

class WasmModel {
 public:
  explicit WasmModel(std::unique_ptr<HookedTransformer> model) : model_(std::move(model)) {}

  const HookedTransformer& model() const { return *model_; }

  val config() const;
  val to_tokens(const std::string& text, bool prepend_bos) const;
  val str_tokens(const val& tokens) const;
  val token_text(int id) const;
  val decode(const val& tokens) const;
  val single_token(const std::string& text) const;
  // options: {cacheNames?: string[], useAttnResult?: bool, returnLogits?: bool, hooks?: [...],
  //           gradMetric?: {metric, position, pairs, linearWeights}, gradNames?: string[], bwdHooks?: [...]}
  val run(const val& tokens, const val& options) const;
  val top_k(const val& logits_row, int k) const;
  val loss(const val& logits, const val& tokens) const;

  // Analysis on the prepared prompt (analysis_bindings.cpp).
  val logit_lens(const val& tokens, const val& positions, const val& pairs, int k);
  val component_attribution(const val& tokens, int position, const val& pairs);
  val head_attribution(const val& tokens, int position, const val& pairs);
  val residual_norms(const val& tokens);
  // pool: token ids to draw the random sequence from (an empty array: ids 1000..9999).
  val detect_heads(int seq_len, double seed, const val& pool) const;

  // Patching (patch_bindings.cpp): the job, or null with lastError() set.
  WasmPatchJob* start_patch(const val& request) const;
  // Path patching from every sender head ({cleanTokens, corruptedTokens, metric fields,
  // direction, normalize, receivers: [{layer, head, input}]}), one sender per step.
  WasmPatchJob* start_path_patch(const val& request) const;
  // Attribution patching (attribution_bindings.cpp): the session, or null with lastError() set.
  WasmAttribution* start_attribution(const val& request) const;
  // A sweep over prompt pairs (JSON Lines) as a job whose one result is {pairs, shape, axes,
  // mean, ciLow, ciHigh, method, sweep}; null with lastError() set.
  WasmPatchJob* start_patch_dataset(const val& request, const std::string& jsonl, const val& options) const;
  // Generation (generate_bindings.cpp): options {maxNewTokens, temperature, topK, topP,
  // freqPenalty, stopAtEos, seed, steering: [{hook, layer, coefficient, from, to, positions}],
  // ablateHeads: [{layer, head, kind}], hooks: [...]}; the generator, or null with lastError() set.
  WasmGenerator* start_generate(const val& tokens, const val& options) const;

 private:
  // Full cache of `tokens`, reusing the last one when the prompt is the same.
  Result<const RunOutput*> prepared(const std::vector<int32_t>& tokens);

  std::unique_ptr<HookedTransformer> model_;
  std::vector<int32_t> prepared_tokens_;
  std::optional<RunOutput> prepared_;
};

// The model, or null with lastError() set. files = {config, vocab, merges, weights: {size,
// read}}, options = {processing: "default" | "none", threads, onProgress(fraction), name}.
WasmModel* load_model(const val& files, const val& options);

}  // namespace hooklab::wasm
