#include "patch_request.h"

#include <string>

#include "js_values.h"

namespace hooklab::wasm {

Result<PatchRequest> parse_patch_request(const val& r) {
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
    for (int i = 0; i < pairs["length"].as<int>(); ++i) {
      request.metric.answer_pairs.push_back({pairs[i][0].as<int32_t>(), pairs[i][1].as<int32_t>()});
    }
  }
  request.normalize = has(r, "normalize") && r["normalize"].as<bool>();
  if (has(r, "direction") && r["direction"].as<std::string>() == "noising") request.direction = PatchDirection::kNoising;
  return request;
}

val patch_result_value(const PatchResult& r) {
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

}  // namespace hooklab::wasm
