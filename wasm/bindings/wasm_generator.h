// A running generation held by JavaScript (Embind class "Generator"): the core's Generator plus
// what it borrows (the hooks' data). The worker calls step() once per event-loop turn, so it
// streams one token at a time and sees a stop between tokens. Its definition is visible
// where Model's bindings are registered: Embind keys types by RTTI (see wasm_patch_job.h).
#pragma once

#include <emscripten/val.h>

#include <memory>
#include <vector>

#include "hooklab/generation.h"

namespace hooklab::wasm {

class WasmGenerator {
 public:
  WasmGenerator(const HookedTransformer& model, Generator generator,
                std::vector<std::shared_ptr<std::vector<float>>> hook_data)
      : model_(&model), generator_(std::move(generator)), hook_data_(std::move(hook_data)) {}

  // {done: true} once finished, else {done, step: {token, str, prob, sampleProb, top: [...]}},
  // or {error} (a failed step changes nothing).
  emscripten::val step();
  bool done() const { return generator_.done(); }
  emscripten::val tokens() const;  // the prompt, then the generated tokens
  int prompt_length() const { return static_cast<int>(generator_.prompt_length()); }
  bool stopped_at_eos() const { return generator_.stopped_at_eos(); }

 private:
  const HookedTransformer* model_;  // the Model's; the worker deletes a generator before its model
  Generator generator_;
  std::vector<std::shared_ptr<std::vector<float>>> hook_data_;  // the hooks' tensors point into these
};

}  // namespace hooklab::wasm
