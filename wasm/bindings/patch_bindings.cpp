// Patch sessions as resumable jobs: the worker calls step() once per event-loop turn, so it
// can post progress and see a cancel message between chunks.
#include <emscripten/bind.h>

#include <cmath>

#include "hooklab/path_patching.h"
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

namespace {

// Every head's q, k and v, a few times over: more is a malformed request, not a use.
constexpr int kMaxReceiversPerHead = 12;

// A layer or head index from JavaScript: a whole number, bounded before it is converted to int
// (the model's own range is checked when the job starts).
bool whole_index(const val& v) {
  if (!v.isNumber()) return false;
  const double x = v.as<double>();
  return x >= 0 && x < 1e6 && x == std::floor(x);
}

Result<PathPatchRequest> parse_path_patch_request(const val& r, const ModelConfig& cfg) {
  PathPatchRequest request;
  HOOKLAB_RETURN_IF_ERROR(read_prompt_pair(r, request));
  const val receivers = has(r, "receivers") ? r["receivers"] : val::array();
  if (!receivers.isArray()) return make_error(ErrorCode::kInvalidArgument, "receivers must be an array");
  const int n = receivers["length"].as<int>();
  if (n > kMaxReceiversPerHead * cfg.n_layers * cfg.n_heads) {
    return make_error(ErrorCode::kInvalidArgument, "too many receivers (" + std::to_string(n) + ")");
  }
  for (int i = 0; i < n; ++i) {
    const val item = receivers[i];
    if (!whole_index(item["layer"]) || !whole_index(item["head"]) || !item["input"].isString()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "receiver " + std::to_string(i) + " needs a whole-number layer and head and an input");
    }
    PathReceiver receiver{item["layer"].as<int>(), item["head"].as<int>()};
    HOOKLAB_ASSIGN_OR_RETURN(receiver.input, parse_path_receiver_input(item["input"].as<std::string>()));
    request.receivers.push_back(receiver);
  }
  return request;
}

val path_patch_results_value(PathPatchJob& job) {
  const PathPatchResult r = job.take_result();
  val out = val::object();
  out.set("method", std::string("path"));
  val receivers = val::array();
  for (const PathReceiver& receiver : r.receivers) receivers.call<void>("push", path_receiver_label(receiver));
  out.set("receivers", receivers);
  out.set("shape", shape_value(r.shape));
  out.set("axes", string_array(r.axes));
  out.set("values", float64_copy(r.values));
  out.set("cleanMetric", r.clean_metric);
  out.set("corruptedMetric", r.corrupted_metric);
  out.set("receivingMetric", r.receiving_metric);
  out.set("cellsComputed", static_cast<double>(r.cells_computed));
  val array = val::array();
  array.call<void>("push", out);
  return array;
}

}  // namespace

WasmPatchJob* WasmModel::start_path_patch(const val& request_value) const {
  auto request = parse_path_patch_request(request_value, model_->cfg());
  if (!request.ok()) return set_last_error(request.error());
  auto job = PathPatchJob::start(*model_, std::move(request).value());
  if (!job.ok()) return set_last_error(job.error());
  return new WasmPatchJob(std::move(job).value(), std::function<val(PathPatchJob&)>(path_patch_results_value));
}

}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_patching) {
  using namespace emscripten;
  class_<hooklab::wasm::WasmPatchJob>("PatchJob")
      .function("step", &hooklab::wasm::WasmPatchJob::step)
      .function("results", &hooklab::wasm::WasmPatchJob::results);
}
