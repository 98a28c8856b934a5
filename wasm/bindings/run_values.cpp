#include "run_values.h"

#include <array>
#include <memory>
#include <set>

#include "js_values.h"

// hooklab_values.js: target[offset, offset + n) = data[0, n), without Embind's per-call work.
extern "C" void hooklab_float32_set(emscripten::EM_VAL target, const float* data, double n, double offset);
// hooklab_values.js: JSON.parse of the `length` bytes at `text`, every object and array in it frozen.
extern "C" emscripten::EM_VAL hooklab_frozen_json(const char* text, double length);

namespace hooklab::wasm {

std::function<bool(const std::string&)> cache_filter_from(const val& options, const char* key) {
  if (!has(options, key)) return {};
  auto names = std::make_shared<std::set<std::string>>();
  for (const std::string& name : string_vector(options[key])) names->insert(name);
  return [names](const std::string& name) { return names->count(name) != 0; };
}

namespace {

// A Float32Array of exactly n floats over the whole of a plain ArrayBuffer: never a view into
// wasm memory or a SharedArrayBuffer, which later runs or other threads could write.
bool is_whole_float32_array(const val& array, size_t n) {
  const val float32_array = val::global("Float32Array");
  if (!array.instanceof (float32_array) || array["length"].as<size_t>() != n || array["byteOffset"].as<size_t>() != 0) {
    return false;
  }
  const val buffer = array["buffer"];
  const val array_buffer = val::global("ArrayBuffer");
  return buffer.instanceof (array_buffer) && buffer["byteLength"].as<size_t>() == n * sizeof(float);
}

// A Float32Array of n floats for a result: the one take_buffer offers for n, or new memory.
val float32_target(size_t n, const val& take_buffer) {
  if (take_buffer.typeOf().as<std::string>() == "function") {
    val spare = take_buffer(static_cast<double>(n));
    if (is_whole_float32_array(spare, n)) return spare;
  }
  return val::global("Float32Array").new_(static_cast<double>(n));
}

// data[0, n) in a Float32Array: the one take_buffer offers for n, or new memory.
val float32_result(const float* data, size_t n, const val& take_buffer) {
  val target = float32_target(n, take_buffer);
  hooklab_float32_set(target.as_handle(), data, static_cast<double>(n), 0);
  return target;
}

// Zeroes the gaps that align a plan's entries to 16 floats, as they are in a held cache's arena,
// so that a reused spare shows nothing of an earlier result anywhere in `cache.arena`.
void zero_alignment_gaps(const val& arena, const ActivationCache& plan) {
  const auto& entries = plan.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    const size_t end = entries[i].offset + static_cast<size_t>(shape_numel(entries[i].shape));
    const size_t next = i + 1 < entries.size() ? entries[i + 1].offset : plan.planned_floats();
    if (end < next) arena.call<void>("fill", 0, static_cast<double>(end), static_cast<double>(next));
  }
}

// s as a JSON string literal.
void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

// A cache's entries as one JSON text [{name, shape, offset}, ...].
std::string cache_entries_json(const ActivationCache& cache) {
  std::string json = "[";
  json.reserve(64 * cache.entries().size() + 2);
  for (const auto& e : cache.entries()) {
    if (json.size() > 1) json += ',';
    json += "{\"name\":";
    append_json_string(json, e.name);
    json += ",\"shape\":[";
    for (size_t d = 0; d < e.shape.size(); ++d) {
      if (d > 0) json += ',';
      json += std::to_string(e.shape[d]);
    }
    json += "],\"offset\":";
    json += std::to_string(e.offset);
    json += '}';
  }
  json += "]";
  return json;
}

// [{name, shape, offset}] for every entry. It crosses into JavaScript as one JSON text instead of
// about six Embind calls per entry (208 entries: ~0.5 ms), and the parsed values of the last two
// texts are handed out again while the plan stays the same (the same names at the same length:
// every run of a loop; two, for a gradient run's cache and gradients), since parsing 208 entries
// took another 0.3 ms of a 35-40 ms run. Shared between results, they are frozen, entries and
// shapes included.
val cache_entries_value(const ActivationCache& cache) {
  struct Parsed {
    std::string json;
    val value = val::undefined();
  };
  static std::array<Parsed, 2> recent;  // recent[0]: the one handed out last
  std::string json = cache_entries_json(cache);
  if (recent[1].json == json && !recent[1].value.isUndefined()) std::swap(recent[0], recent[1]);
  if (recent[0].json != json || recent[0].value.isUndefined()) {
    std::swap(recent[0], recent[1]);
    recent[0].value = val::take_ownership(hooklab_frozen_json(json.data(), static_cast<double>(json.size())));
    recent[0].json = std::move(json);
  }
  return recent[0].value;
}

// {arena, entries: [{name, shape, offset}]}: one copy of a cache's arena.
val cache_value(const ActivationCache& cache, const val& take_buffer) {
  val value = val::object();
  value.set("arena", float32_result(cache.arena(), cache.arena_floats(), take_buffer));
  value.set("entries", cache_entries_value(cache));
  return value;
}

}  // namespace

StreamedCache::StreamedCache(val take_buffer) : take_buffer_(std::move(take_buffer)) {}

CacheSink StreamedCache::sink() {
  return CacheSink{[this](const ActivationCache& plan) -> Status {
                     arena_ = float32_target(plan.planned_floats(), take_buffer_);
                     zero_alignment_gaps(arena_, plan);
                     value_.set("arena", arena_);
                     value_.set("entries", cache_entries_value(plan));
                     return {};
                   },
                   [this](const ActivationCache::Entry& entry, const float* data) -> Status {
                     hooklab_float32_set(arena_.as_handle(), data, static_cast<double>(shape_numel(entry.shape)),
                                         static_cast<double>(entry.offset));
                     return {};
                   }};
}

val run_output_value(const RunOutput& out, bool with_logits, bool with_cache, bool with_grads, const val& take_buffer,
                     const StreamedCache* streamed) {
  val result = val::object();
  if (with_logits) {
    result.set("logits", float32_result(out.logits.data(), static_cast<size_t>(out.logits.numel()), take_buffer));
    result.set("logitsShape", shape_value(out.logits.shape()));
  }
  if (with_cache) result.set("cache", streamed != nullptr ? streamed->value() : cache_value(out.cache, take_buffer));
  if (with_grads) {
    result.set("metric", out.metric);
    result.set("grads", cache_value(out.grads, take_buffer));
  }
  return result;
}

}  // namespace hooklab::wasm
