#include "run_values.h"

#include <memory>
#include <set>

#include "js_values.h"

namespace hooklab::wasm {

std::function<bool(const std::string&)> cache_filter_from(const val& options) {
  if (!has(options, "cacheNames")) return {};
  auto names = std::make_shared<std::set<std::string>>();
  for (const std::string& name : string_vector(options["cacheNames"])) names->insert(name);
  return [names](const std::string& name) { return names->count(name) != 0; };
}

val run_output_value(const RunOutput& out, bool with_logits, bool with_cache) {
  val result = val::object();
  if (with_logits) {
    result.set("logits", float32_copy(out.logits.data(), static_cast<size_t>(out.logits.numel())));
    result.set("logitsShape", shape_value(out.logits.shape()));
  }
  if (with_cache) {
    val entries = val::array();
    for (const auto& e : out.cache.entries()) {
      val entry = val::object();
      entry.set("name", e.name);
      entry.set("shape", shape_value(e.shape));
      entry.set("offset", static_cast<double>(e.offset));
      entries.call<void>("push", entry);
    }
    val cache = val::object();
    cache.set("arena", float32_copy(out.cache.arena(), out.cache.arena_floats()));
    cache.set("entries", entries);
    result.set("cache", cache);
  }
  return result;
}

}  // namespace hooklab::wasm
