// A running patch job held by JavaScript (Embind class "PatchJob"): a patch session on the host
// (PatchJob) or the device (DevicePatchJob), or a sweep over a dataset of prompt pairs
// (DatasetPatchJob) — one wrapper for every executor, so the worker drives them all the same
// way. Its definition is visible wherever Model's bindings are registered: Embind keys types
// by RTTI, and a pointer to an incomplete class has different RTTI from a pointer to the
// complete one.
#pragma once

#include <emscripten/val.h>

#include <functional>
#include <memory>

#include "hooklab/patching.h"

namespace hooklab::wasm {

class WasmPatchJob {
 public:
  // `results` turns the finished job's results into the JavaScript array results() returns.
  template <class Job>
  WasmPatchJob(std::unique_ptr<Job> job, std::function<emscripten::val(Job&)> results) {
    std::shared_ptr<Job> owned = std::move(job);
    step_ = [owned] { return owned->step(); };
    progress_ = [owned] { return owned->progress(); };
    results_ = [owned, results] { return results(*owned); };
  }
  emscripten::val step();     // {done, progress} or {error}
  emscripten::val results();  // call once, after step() said done

 private:
  std::function<Result<bool>()> step_;
  std::function<double()> progress_;
  std::function<emscripten::val()> results_;
};

// The results of a patch session: one {sweep, method, shape, axes, values, cleanMetric,
// corruptedMetric, cellsComputed} per item.
emscripten::val patch_results_value(ResumablePatchJob& job);

}  // namespace hooklab::wasm
