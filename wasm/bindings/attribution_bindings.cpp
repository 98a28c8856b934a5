// Attribution patching and datasets for the worker: a session computes its three runs once,
// then answers any sweep by AtP or AtP* without running the model again (the lab re-estimates
// every sweep as the prompts are edited); compareSweeps gives the estimate/exact agreement.
#include <emscripten/bind.h>

#include "hooklab/attribution.h"
#include "hooklab/patch_dataset.h"
#include "hooklab/path_patching.h"
#include "js_values.h"
#include "patch_request.h"
#include "wasm_attribution.h"
#include "wasm_model.h"
#include "wasm_patch_job.h"

namespace hooklab::wasm {

val WasmAttribution::sweep(const std::string& sweep_name, const std::string& method_name, bool normalize) const {
  auto sweep = parse_patch_sweep(sweep_name);
  if (!sweep.ok()) return error_value(sweep.error());
  auto method = parse_patch_method(method_name);
  if (!method.ok()) return error_value(method.error());
  auto result = session_->sweep(*sweep, *method, normalize);
  if (!result.ok()) return error_value(result.error());
  return patch_result_value(*result);
}

WasmAttribution* WasmModel::start_attribution(const val& request_value) const {
  auto request = parse_patch_request(request_value);
  if (!request.ok()) return set_last_error(request.error());
  auto session = AttributionSession::start(*model_, *request);
  if (!session.ok()) return set_last_error(session.error());
  return new WasmAttribution(std::move(session).value());
}

WasmPatchJob* WasmModel::start_patch_dataset(const val& request_value, const std::string& jsonl,
                                             const val& options) const {
  // The request's own tokens are not used: every pair brings its own.
  auto request = parse_patch_request(request_value);
  if (!request.ok()) return set_last_error(request.error());
  const bool bos = !has(options, "prependBos") || options["prependBos"].as<bool>();
  auto pairs = parse_prompt_pairs_jsonl(*model_, jsonl, bos);
  if (!pairs.ok()) return set_last_error(pairs.error());
  const int samples = has(options, "bootstrap") ? options["bootstrap"].as<int>() : 1000;
  const double seed = has(options, "seed") ? options["seed"].as<double>() : 1.0;
  auto job = DatasetPatchJob::start(*model_, std::move(request).value(), std::move(pairs).value(), samples,
                                    static_cast<uint64_t>(seed));
  if (!job.ok()) return set_last_error(job.error());
  // One result: {pairs, shape, axes, mean (also as values), ciLow, ciHigh, method, sweep}.
  std::function<val(DatasetPatchJob&)> results = [](DatasetPatchJob& finished) {
    const DatasetPatchResult result = finished.take_result();
    val out = patch_result_value(result.first);
    out.set("pairs", static_cast<double>(result.pairs));
    out.set("values", float64_copy(result.mean));
    out.set("mean", float64_copy(result.mean));
    out.set("ciLow", float64_copy(result.ci_low));
    out.set("ciHigh", float64_copy(result.ci_high));
    val array = val::array();
    array.call<void>("push", out);
    return array;
  };
  return new WasmPatchJob(std::move(job).value(), results);
}

namespace {

std::vector<double> double_vector(const val& array) {
  std::vector<double> out(array["length"].as<size_t>());
  for (size_t i = 0; i < out.size(); ++i) out[i] = array[i].as<double>();
  return out;
}

val compare_sweeps_value(const val& estimate, const val& exact) {
  const SweepAgreement a = compare_sweeps(double_vector(estimate), double_vector(exact));
  val out = val::object();
  out.set("pearson", a.pearson);
  out.set("spearman", a.spearman);
  out.set("topK", a.top_k);
  out.set("topKOverlap", a.top_k_overlap);
  out.set("cells", static_cast<double>(a.cells));
  return out;
}

// The closed sets of patching (patching.def) for the TypeScript generator.
val patching_table_value() {
  val out = val::object();
  val metrics = val::array();
  for (const MetricInfo& m : metric_table()) {
    val row = val::object();
    row.set("name", std::string(m.name));
    row.set("onePosition", m.one_position);
    row.set("differentiable", m.differentiable);
    row.set("answers", m.answers);
    row.set("description", std::string(m.description));
    metrics.call<void>("push", row);
  }
  out.set("metrics", metrics);
  val sweeps = val::array();
  for (PatchSweep s : all_patch_sweeps()) {
    val row = val::object();
    row.set("name", std::string(patch_sweep_name(s)));
    row.set("tlFunction", std::string(patch_sweep_tl_function(s)));
    sweeps.call<void>("push", row);
  }
  out.set("sweeps", sweeps);
  val methods = val::array();
  for (PatchMethod m : {PatchMethod::kExact, PatchMethod::kAtp, PatchMethod::kAtpStar}) {
    methods.call<void>("push", std::string(patch_method_name(m)));
  }
  out.set("methods", methods);
  val directions = val::array();
  for (PatchDirection d : {PatchDirection::kDenoising, PatchDirection::kNoising}) {
    directions.call<void>("push", std::string(patch_direction_name(d)));
  }
  out.set("directions", directions);
  val inputs = val::array();
  for (PathReceiverInput input : all_path_receiver_inputs()) {
    inputs.call<void>("push", std::string(path_receiver_input_name(input)));
  }
  out.set("receiverInputs", inputs);
  return out;
}

}  // namespace
}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_attribution) {
  using namespace emscripten;
  using hooklab::wasm::WasmAttribution;
  class_<WasmAttribution>("AttributionSession")
      .function("sweep", &WasmAttribution::sweep)
      .function("cleanMetric", &WasmAttribution::clean_metric)
      .function("corruptedMetric", &WasmAttribution::corrupted_metric);
  function("compareSweeps", &hooklab::wasm::compare_sweeps_value);
  function("patchingTable", &hooklab::wasm::patching_table_value);
}
