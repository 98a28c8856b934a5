// Embind registration of the WebGPU path (webgpu_session.h).
#include <emscripten/bind.h>

#include "webgpu_session.h"

EMSCRIPTEN_BINDINGS(hooklab_webgpu) {
  using namespace emscripten;
  using hooklab::wasm::WebgpuSession;
  function("createWebgpuSession", &WebgpuSession::create, allow_raw_pointers());
  class_<WebgpuSession>("WebgpuSession")
      .function("name", &WebgpuSession::name)
      .function("beginRun", &WebgpuSession::begin_run)
      .function("finishRun", &WebgpuSession::finish_run)
      .function("abandonRun", &WebgpuSession::abandon_run)
      .function("startPatch", &WebgpuSession::start_patch, allow_raw_pointers())         // a PatchJob
      .function("startGenerate", &WebgpuSession::start_generate, allow_raw_pointers());  // a Generator
}
