// A running patching sweep held by JavaScript (Embind class "PatchJob"). Its definition is
// visible wherever Model's bindings are registered: Embind keys types by RTTI, and a pointer
// to an incomplete class has different RTTI from a pointer to the complete one.
#pragma once

#include <emscripten/val.h>

#include <memory>

#include "hooklab/patching.h"

namespace hooklab::wasm {

class WasmPatchJob {
 public:
  explicit WasmPatchJob(std::unique_ptr<PatchJob> job) : job_(std::move(job)) {}
  emscripten::val step();    // {done, progress} or {error}
  emscripten::val result();  // {sweep, shape, axes, values, cleanMetric, corruptedMetric, cellsComputed}

 private:
  std::unique_ptr<PatchJob> job_;
};

}  // namespace hooklab::wasm
