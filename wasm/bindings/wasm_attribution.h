// An attribution session held by JavaScript (Embind class "AttributionSession"). Like
// WasmPatchJob, its definition is visible where Model's bindings are registered: Embind keys
// types by RTTI, and a pointer to an incomplete class has other RTTI than the complete one.
#pragma once

#include <emscripten/val.h>

#include <memory>
#include <string>

#include "hooklab/attribution.h"

namespace hooklab::wasm {

class WasmAttribution {
 public:
  explicit WasmAttribution(std::unique_ptr<AttributionSession> session) : session_(std::move(session)) {}
  // The sweep's result (patch_result_value's shape) or {error}.
  emscripten::val sweep(const std::string& sweep_name, const std::string& method_name, bool normalize) const;
  double clean_metric() const { return session_->clean_metric(); }
  double corrupted_metric() const { return session_->corrupted_metric(); }

 private:
  std::unique_ptr<AttributionSession> session_;
};

}  // namespace hooklab::wasm
