# wasm SIMD kernels (compiled only under Emscripten with -msimd128).
if(EMSCRIPTEN)
  list(APPEND HOOKLAB_CORE_SOURCES
  )
endif()
