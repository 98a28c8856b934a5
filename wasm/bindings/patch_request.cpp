#include "patch_request.h"

#include <string>

#include "hooklab/path_patching.h"
#include "js_values.h"

namespace hooklab::wasm {
namespace {

// Every sweep by every method, a few times over: more is a malformed request, not a use.
constexpr int kMaxPatchItems = 256;

}  // namespace

Result<Metric> parse_metric(const val& r) {
  Metric metric;
  const std::string kind = has(r, "metric") ? r["metric"].as<std::string>() : "logit_diff";
  if (kind == "custom") {
    if (!has(r, "customMetric")) return make_error(ErrorCode::kInvalidArgument, "custom metric without a function");
    val fn = r["customMetric"];
    metric.kind = MetricKind::kCustom;
    metric.custom = [fn](const float* logits, int64_t vocab) {
      return fn(val(emscripten::typed_memory_view(static_cast<size_t>(vocab), logits))).as<double>();
    };
  } else {
    HOOKLAB_ASSIGN_OR_RETURN(metric.kind, parse_metric_kind(kind));
  }
  if (has(r, "position")) metric.position = r["position"].as<int>();
  if (has(r, "pairs")) {
    const val pairs = r["pairs"];
    for (int i = 0; i < pairs["length"].as<int>(); ++i) {
      metric.answer_pairs.push_back({pairs[i][0].as<int32_t>(), pairs[i][1].as<int32_t>()});
    }
  }
  if (has(r, "linearWeights")) metric.linear_weights = float_vector(r["linearWeights"]);
  return metric;
}

template <class Request>
Status read_prompt_pair(const val& r, Request& request) {
  request.clean_tokens = int32_vector(r["cleanTokens"]);
  request.corrupted_tokens = int32_vector(r["corruptedTokens"]);
  HOOKLAB_ASSIGN_OR_RETURN(request.metric, parse_metric(r));
  request.normalize = has(r, "normalize") && r["normalize"].as<bool>();
  if (has(r, "direction")) {
    HOOKLAB_ASSIGN_OR_RETURN(request.direction, parse_patch_direction(r["direction"].as<std::string>()));
  }
  return {};
}
template Status read_prompt_pair<PatchRequest>(const val&, PatchRequest&);
template Status read_prompt_pair<PathPatchRequest>(const val&, PathPatchRequest&);

Result<PatchRequest> parse_patch_request(const val& r) {
  PatchRequest request;
  HOOKLAB_ASSIGN_OR_RETURN(request.sweep, parse_patch_sweep(r["sweep"].as<std::string>()));
  HOOKLAB_RETURN_IF_ERROR(read_prompt_pair(r, request));
  if (has(r, "method")) { HOOKLAB_ASSIGN_OR_RETURN(request.method, parse_patch_method(r["method"].as<std::string>())); }
  if (has(r, "items")) {
    const val items = r["items"];
    const int n = items["length"].as<int>();
    if (n > kMaxPatchItems) {
      return make_error(ErrorCode::kInvalidArgument, "a patch request has at most " + std::to_string(kMaxPatchItems) +
                                                         " items (got " + std::to_string(n) + ")");
    }
    for (int i = 0; i < n; ++i) {
      const val sweep = items[i]["sweep"], method = items[i]["method"];
      if (!sweep.isString() || !method.isString()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "patch item " + std::to_string(i) + " needs a sweep and a method name");
      }
      PatchItem item;
      HOOKLAB_ASSIGN_OR_RETURN(item.sweep, parse_patch_sweep(sweep.as<std::string>()));
      HOOKLAB_ASSIGN_OR_RETURN(item.method, parse_patch_method(method.as<std::string>()));
      request.items.push_back(item);
    }
  }
  return request;
}

val patch_result_value(const PatchResult& r) {
  val out = val::object();
  out.set("sweep", std::string(patch_sweep_name(r.sweep)));
  out.set("method", std::string(patch_method_name(r.method)));
  out.set("shape", shape_value(r.shape));
  out.set("axes", string_array(r.axes));
  out.set("values", float64_copy(r.values));
  out.set("cleanMetric", r.clean_metric);
  out.set("corruptedMetric", r.corrupted_metric);
  out.set("cellsComputed", static_cast<double>(r.cells_computed));
  return out;
}

}  // namespace hooklab::wasm
