// The hook-point table and name resolution, exposed so that web/ generates its TypeScript
// list from the core's single definition and tests can cross-check the TypeScript resolver.
#include <emscripten/bind.h>

#include "hooklab/hook_points.h"
#include "js_values.h"

namespace hooklab::wasm {
namespace {

val hook_point_table_value() {
  val out = val::array();
  for (const HookPointInfo& info : hook_point_table()) {
    val row = val::object();
    row.set("pattern", std::string(info.name_pattern));
    row.set("shortName", std::string(info.short_name));
    row.set("layerType", std::string(info.layer_type));
    row.set("shape", std::string(info.shape));
    row.set("optional", info.optional);
    row.set("perBlock", info.per_block());
    out.call<void>("push", row);
  }
  return out;
}

val resolve(const std::string& name, const val& layer, const std::string& layer_type, int n_layers) {
  std::optional<int> l;
  if (!layer.isUndefined() && !layer.isNull()) l = layer.as<int>();
  auto ref = resolve_hook_name(name, l, layer_type, n_layers);
  if (!ref.ok()) return error_value(ref.error());
  val out = val::object();
  out.set("name", hook_name(*ref));
  return out;
}

}  // namespace
}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_hook_points) {
  emscripten::function("hookPointTable", &hooklab::wasm::hook_point_table_value);
  emscripten::function("resolveHookName", &hooklab::wasm::resolve);
}
