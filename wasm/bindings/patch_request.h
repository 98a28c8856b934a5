// The JavaScript patch request ({sweep, cleanTokens, corruptedTokens, metric, ...}) read into the
// core's PatchRequest; shared by the wasm (WasmModel::start_patch) and WebGPU (WebgpuSession)
// patch jobs so both accept exactly the same options.
#pragma once

#include <emscripten/val.h>

#include "hooklab/patching.h"
#include "hooklab/status.h"

namespace hooklab::wasm {

Result<PatchRequest> parse_patch_request(const emscripten::val& request);

}  // namespace hooklab::wasm
