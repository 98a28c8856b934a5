// Run options and run results in JavaScript form, shared by the wasm (WasmModel::run) and
// WebGPU (WebgpuSession) forwards so the worker sees one shape whichever backend ran.
#pragma once

#include <emscripten/val.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hooklab/hooked_transformer.h"

namespace hooklab::wasm {

// options[key] (an array of hook names, e.g. cacheNames or gradNames) as a filter; empty when absent.
std::function<bool(const std::string&)> cache_filter_from(const emscripten::val& options,
                                                          const char* key = "cacheNames");

// One JavaScript hook spec ({name, layer?, kind, data?, shape?, positions?, heads?, fn?}) ->
// ForwardHook; its tensor is copied into `storage`, which must outlive the hook.
Result<ForwardHook> parse_hook(const emscripten::val& spec, std::vector<std::shared_ptr<std::vector<float>>>& storage);

// {logits, logitsShape} when with_logits, {cache: {arena, entries}} when with_cache: one copy of
// the whole arena, which the main thread views activation by activation; with_grads adds
// {metric, grads: {arena, entries}} (entries named "<hook>_grad").
//
// take_buffer, when a function, is asked for each of those arrays by length (the worker's spare
// buffers, already faulted in): a Float32Array of exactly that length is filled and returned,
// anything else means new memory.
emscripten::val run_output_value(const RunOutput& out, bool with_logits, bool with_cache, bool with_grads = false,
                                 const emscripten::val& take_buffer = emscripten::val::undefined());

}  // namespace hooklab::wasm
