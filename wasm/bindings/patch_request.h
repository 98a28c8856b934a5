// The JavaScript patch request ({sweep, cleanTokens, corruptedTokens, metric, ...}) read into the
// core's PatchRequest, and a PatchResult written back; shared by the wasm (WasmModel::start_patch)
// and WebGPU (WebgpuSession) patch jobs so both accept and return exactly the same shapes.
#pragma once

#include <emscripten/val.h>

#include "hooklab/patching.h"
#include "hooklab/status.h"

namespace hooklab::wasm {

Result<PatchRequest> parse_patch_request(const emscripten::val& request);

// The fields every patching method's request shares: {cleanTokens, corruptedTokens, the metric
// fields, normalize, direction}, read into any request that has those members.
template <class Request>
Status read_prompt_pair(const emscripten::val& r, Request& request);
// The metric fields of a request or a gradient run: {metric, position, pairs, linearWeights, customMetric}.
Result<Metric> parse_metric(const emscripten::val& request);

// {sweep, method, shape, axes, values, cleanMetric, corruptedMetric, cellsComputed}
emscripten::val patch_result_value(const PatchResult& result);

}  // namespace hooklab::wasm
