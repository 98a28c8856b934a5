// A running generation held by JavaScript (Embind class "Generator"): the core's Generator on
// the host, or a DeviceGeneration on the WebGPU path, plus what it borrows (the hooks' data).
// The worker calls beginStep(), awaits the WebGPU flush when the generation is on the device,
// then step(): one token per event-loop turn, so it streams and sees a stop between tokens.
// Its definition is visible where Model's bindings are registered: Embind keys types by RTTI
// (see wasm_patch_job.h).
#pragma once

#include <emscripten/val.h>

#include <memory>
#include <optional>
#include <vector>

#include "hooklab/generation.h"

namespace hooklab {
class DeviceGeneration;
}

namespace hooklab::wasm {

// Model.startGenerate's options ({maxNewTokens, temperature, ..., steering, ablateHeads,
// hooks}) as the core's; the hooks' tensors point into `hook_data`.
Result<GenerateOptions> parse_generate_options(const HookedTransformer& model, int64_t prompt_length,
                                               const emscripten::val& options,
                                               std::vector<std::shared_ptr<std::vector<float>>>& hook_data);

class WasmGenerator {
 public:
  WasmGenerator(const HookedTransformer& model, Generator generator,
                std::vector<std::shared_ptr<std::vector<float>>> hook_data);
  WasmGenerator(const HookedTransformer& model, std::unique_ptr<DeviceGeneration> device);
  ~WasmGenerator();

  // {ok: true}, or {error}. On the device it encodes the step, whose logits arrive at the flush.
  emscripten::val begin_step();
  // {done: true} once finished, else {done, step: {token, str, prob, sampleProb, top: [...]}},
  // or {error} (a failed step changes nothing).
  emscripten::val step();
  bool done() const { return generator().done(); }
  emscripten::val tokens() const;  // the prompt, then the generated tokens
  int prompt_length() const { return static_cast<int>(generator().prompt_length()); }
  bool stopped_at_eos() const { return generator().stopped_at_eos(); }

 private:
  const Generator& generator() const;
  const HookedTransformer* model_;  // the Model's; the worker deletes a generator before its model
  std::optional<Generator> host_;
  std::unique_ptr<DeviceGeneration> device_;
  std::vector<std::shared_ptr<std::vector<float>>> hook_data_;  // the hooks' tensors point into these
};

}  // namespace hooklab::wasm
