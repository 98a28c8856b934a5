#include "js_values.h"

#include <emscripten/val.h>

// hooklab_values.js: 1 when every element of the array is a string without a NUL.
extern "C" int hooklab_joinable_strings(emscripten::EM_VAL array);

namespace hooklab::wasm {

using emscripten::typed_memory_view;

val error_value(const Error& error) {
  val out = val::object();
  out.set("error", error.message);
  out.set("code", std::string(error_code_name(error.code)));
  return out;
}

namespace {
Error g_last_error{ErrorCode::kInvalidArgument, ""};
}  // namespace

std::nullptr_t set_last_error(const Error& error) {
  g_last_error = error;
  return nullptr;
}

val last_error() { return error_value(g_last_error); }

val float32_copy(const float* data, size_t n) {
  return val::global("Float32Array").new_(val(typed_memory_view(n, data)));
}

val float64_copy(const std::vector<double>& values) {
  return val::global("Float64Array").new_(val(typed_memory_view(values.size(), values.data())));
}

val int32_copy(const std::vector<int32_t>& values) {
  return val::global("Int32Array").new_(val(typed_memory_view(values.size(), values.data())));
}

val shape_value(const Shape& shape) {
  val out = val::array();
  for (int64_t d : shape) out.call<void>("push", static_cast<double>(d));
  return out;
}

val string_array(const std::vector<std::string>& strings) {
  val out = val::array();
  for (const std::string& s : strings) out.call<void>("push", s);
  return out;
}

std::vector<int32_t> int32_vector(const val& array) { return emscripten::convertJSArrayToNumberVector<int32_t>(array); }
std::vector<float> float_vector(const val& array) { return emscripten::convertJSArrayToNumberVector<float>(array); }
std::vector<int> int_vector(const val& array) { return emscripten::convertJSArrayToNumberVector<int>(array); }

// The strings cross as one NUL-joined string: a run_with_cache names all 208 of GPT-2 small's
// hooks on every run, and one Embind conversion per element cost about 0.6 ms of each run.
// Elements that hold a NUL themselves (no hook or head name does), or that are not strings
// (Embind refuses them, where join would turn them into text), take the per-element path.
std::vector<std::string> string_vector(const val& array) {
  std::vector<std::string> out;
  const int n = array["length"].as<int>();
  if (n <= 0) return out;
  if (hooklab_joinable_strings(array.as_handle()) == 0) {
    for (int i = 0; i < n; ++i) out.push_back(array[i].as<std::string>());
    return out;
  }
  const std::string joined =
      val::global("Array")["prototype"]["join"].call<std::string>("call", array, std::string(1, '\0'));
  size_t start = 0;
  for (size_t end; (end = joined.find('\0', start)) != std::string::npos; start = end + 1) {
    out.push_back(joined.substr(start, end - start));
  }
  out.push_back(joined.substr(start));
  return out;
}

bool has(const val& object, const char* key) {
  if (object.isUndefined() || object.isNull()) return false;
  const val v = object[key];
  return !v.isUndefined() && !v.isNull();
}

}  // namespace hooklab::wasm
