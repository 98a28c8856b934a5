// Patch sessions as resumable jobs: the worker calls step() once per event-loop turn, so it
// can post progress and see a cancel message between chunks.
#include <emscripten/bind.h>

#include "hooklab/patching.h"
#include "js_values.h"
#include "patch_request.h"
#include "wasm_model.h"
#include "wasm_patch_job.h"

namespace hooklab::wasm {

val WasmPatchJob::step() {
  auto done = step_();
  if (!done.ok()) return error_value(done.error());
  val out = val::object();
  out.set("done", *done);
  out.set("progress", progress_());
  return out;
}

val WasmPatchJob::results() { return results_(); }

val patch_results_value(ResumablePatchJob& job) {
  val out = val::array();
  for (const PatchResult& result : job.take_results()) out.call<void>("push", patch_result_value(result));
  return out;
}

WasmPatchJob* WasmModel::start_patch(const val& request_value) const {
  auto request = parse_patch_request(request_value);
  if (!request.ok()) return set_last_error(request.error());
  auto job = PatchJob::start(*model_, std::move(request).value());
  if (!job.ok()) return set_last_error(job.error());
  return new WasmPatchJob(std::unique_ptr<ResumablePatchJob>(std::move(job).value()),
                          std::function<val(ResumablePatchJob&)>(patch_results_value));
}

}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_patching) {
  using namespace emscripten;
  class_<hooklab::wasm::WasmPatchJob>("PatchJob")
      .function("step", &hooklab::wasm::WasmPatchJob::step)
      .function("results", &hooklab::wasm::WasmPatchJob::results);
}
