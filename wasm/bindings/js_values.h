// Conversions between core types and JavaScript values for the Embind layer.
//
// Every binding returns either its value or {error, code}: the core has no exceptions, and the
// JavaScript wrapper (web/src/engine/core-module.ts) turns {error} into a thrown Error that
// carries the core's message unchanged.
#pragma once

#include <emscripten/val.h>

#include <string>
#include <vector>

#include "hooklab/status.h"
#include "hooklab/tensor.h"

namespace hooklab::wasm {

using emscripten::val;

val error_value(const Error& error);
// Functions that return a C++ object (model, patch job) return null on failure and leave the
// error here; JavaScript reads it with lastError().
std::nullptr_t set_last_error(const Error& error);
val last_error();
template <class T>
val ok_or_error(const Result<T>& r, val (*convert)(const T&)) {
  return r.ok() ? convert(r.value()) : error_value(r.error());
}

// Fresh JavaScript copies (the wasm heap may be reused or grow after the call returns).
val float32_copy(const float* data, size_t n);
val float64_copy(const std::vector<double>& values);
val int32_copy(const std::vector<int32_t>& values);
val shape_value(const Shape& shape);
val string_array(const std::vector<std::string>& strings);

std::vector<int32_t> int32_vector(const val& array);
std::vector<float> float_vector(const val& array);
std::vector<int> int_vector(const val& array);
std::vector<std::string> string_vector(const val& array);
bool has(const val& object, const char* key);

}  // namespace hooklab::wasm
