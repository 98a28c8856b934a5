// Patching sweeps as resumable jobs: the worker calls step() once per event-loop turn, so it
// can post progress and see a cancel message between chunks.
#include <emscripten/bind.h>

#include "hooklab/patching.h"
#include "js_values.h"
#include "wasm_model.h"
#include "wasm_patch_job.h"

namespace hooklab::wasm {

val WasmPatchJob::step() {
  auto done = job_->step();
  if (!done.ok()) return error_value(done.error());
  val out = val::object();
  out.set("done", *done);
  out.set("progress", job_->progress());
  return out;
}

val WasmPatchJob::result() {
  PatchResult r = job_->take_result();
  val out = val::object();
  out.set("sweep", std::string(patch_sweep_name(r.sweep)));
  out.set("shape", shape_value(r.shape));
  out.set("axes", string_array(r.axes));
  out.set("values", float64_copy(r.values));
  out.set("cleanMetric", r.clean_metric);
  out.set("corruptedMetric", r.corrupted_metric);
  out.set("cellsComputed", static_cast<double>(r.cells_computed));
  return out;
}

namespace {

Result<PatchRequest> parse_request(const val& r, const HookedTransformer& model) {
  PatchRequest request;
  HOOKLAB_ASSIGN_OR_RETURN(request.sweep, parse_patch_sweep(r["sweep"].as<std::string>()));
  request.clean_tokens = int32_vector(r["cleanTokens"]);
  request.corrupted_tokens = int32_vector(r["corruptedTokens"]);
  const std::string metric = has(r, "metric") ? r["metric"].as<std::string>() : "logit_diff";
  if (metric == "custom") {
    if (!has(r, "customMetric")) return make_error(ErrorCode::kInvalidArgument, "custom metric without a function");
    val fn = r["customMetric"];
    request.metric.kind = MetricKind::kCustom;
    request.metric.custom = [fn](const float* logits, int64_t vocab) {
      return fn(val(emscripten::typed_memory_view(static_cast<size_t>(vocab), logits))).as<double>();
    };
  } else {
    HOOKLAB_ASSIGN_OR_RETURN(request.metric.kind, parse_metric_kind(metric));
  }
  if (has(r, "position")) request.metric.position = r["position"].as<int>();
  if (has(r, "pairs")) {
    const val pairs = r["pairs"];
    for (int i = 0; i < pairs["length"].as<int>(); ++i) request.metric.answer_pairs.push_back({pairs[i][0].as<int32_t>(), pairs[i][1].as<int32_t>()});
  }
  request.normalize = has(r, "normalize") && r["normalize"].as<bool>();
  if (has(r, "direction") && r["direction"].as<std::string>() == "noising") request.direction = PatchDirection::kNoising;
  (void)model;
  return request;
}

}  // namespace

WasmPatchJob* WasmModel::start_patch(const val& request_value) const {
  auto request = parse_request(request_value, *model_);
  if (!request.ok()) return set_last_error(request.error());
  auto job = PatchJob::start(*model_, std::move(request).value());
  if (!job.ok()) return set_last_error(job.error());
  return new WasmPatchJob(std::move(job).value());
}

}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_patching) {
  using namespace emscripten;
  class_<hooklab::wasm::WasmPatchJob>("PatchJob")
      .function("step", &hooklab::wasm::WasmPatchJob::step)
      .function("result", &hooklab::wasm::WasmPatchJob::result);
}
