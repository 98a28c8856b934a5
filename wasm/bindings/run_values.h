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

// A run's cache streamed into one JavaScript array as the forward produces it
// (RunOptions::cache_sink), so the cache never also occupies wasm memory. The array is
// take_buffer's offer for the arena's length (see run_output_value) or new memory.
class StreamedCache {
 public:
  explicit StreamedCache(emscripten::val take_buffer);
  // Valid while this object lives.
  CacheSink sink();
  // {arena, entries}, as run_output_value gives a held cache.
  const emscripten::val& value() const { return value_; }

 private:
  emscripten::val take_buffer_;
  emscripten::val arena_ = emscripten::val::undefined();
  emscripten::val value_ = emscripten::val::object();
};

// {logits, logitsShape} when with_logits, {cache: {arena, entries}} when with_cache: one copy of
// the whole arena, which the main thread views activation by activation; with_grads adds
// {metric, grads: {arena, entries}} (entries named "<hook>_grad").
//
// take_buffer, when a function, is asked for each of those arrays by length (the worker's spare
// buffers, already faulted in): a Float32Array of exactly that length is filled and returned,
// anything else means new memory. `streamed`, when given, is the run's cache instead of out.cache.
emscripten::val run_output_value(const RunOutput& out, bool with_logits, bool with_cache, bool with_grads = false,
                                 const emscripten::val& take_buffer = emscripten::val::undefined(),
                                 const StreamedCache* streamed = nullptr);

}  // namespace hooklab::wasm
