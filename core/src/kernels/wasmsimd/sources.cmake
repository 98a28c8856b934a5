# wasm SIMD kernels (compiled only under Emscripten with -msimd128).
if(EMSCRIPTEN)
  list(APPEND HOOKLAB_CORE_SOURCES
    src/kernels/wasmsimd/f32_gemm_wasmsimd_loadsplat.cpp
    src/kernels/wasmsimd/f32_gemm_wasmsimd_splat.cpp
    src/kernels/wasmsimd/gemm_driver.cpp
    src/kernels/wasmsimd/f16_widen.cpp
    src/kernels/wasmsimd/f16w_gemm_1x32_wasmsimd.cpp
    src/kernels/wasmsimd/f32_gemm_transposed_wasmsimd.cpp
    src/kernels/wasmsimd/gemm_transposed_driver.cpp
    src/kernels/wasmsimd/layer_norm.cpp
    src/kernels/wasmsimd/gelu.cpp
    src/kernels/wasmsimd/softmax.cpp
    src/kernels/wasmsimd/attention.cpp
    src/kernels/wasmsimd/attention_backward.cpp
    src/kernels/wasmsimd/wasmsimd_backend.cpp
  )
endif()
