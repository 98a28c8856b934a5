# gemm_bench: Backend::matmul GFLOP/s on GPT-2-small shapes next to the measured SIMD peak.
# Included from bench/CMakeLists.txt (native) and, for Emscripten builds, from wherever the
# browser benchmarks are wired (the top-level adds bench/ only natively today).
#   native:     gemm_bench     (fastest backend compiled in: XNNPACK), 1 and 2 threads
#   Emscripten: gemm_bench_st  (wasm SIMD, single-threaded core)
#               gemm_bench_mt  (wasm SIMD, pthreads core), 1 and 2 threads
set(HOOKLAB_GEMM_BENCH_SOURCE ${CMAKE_CURRENT_LIST_DIR}/gemm_bench.cpp)

if(EMSCRIPTEN)
  foreach(variant st mt)
    set(bench_target gemm_bench_${variant})
    add_executable(${bench_target} ${HOOKLAB_GEMM_BENCH_SOURCE})
    target_link_libraries(${bench_target} PRIVATE hooklab_core_${variant})
    hooklab_set_target_options(${bench_target})
    # M = 1024 x N = 50257 outputs alone are 206 MB.
    target_link_options(${bench_target} PRIVATE -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sEXIT_RUNTIME=1)
    set_target_properties(${bench_target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bench")
  endforeach()
  # One worker per extra thread, started before main (the 2-thread backend and the 2-thread peak).
  target_link_options(gemm_bench_mt PRIVATE -sPTHREAD_POOL_SIZE=2)
else()
  add_executable(gemm_bench ${HOOKLAB_GEMM_BENCH_SOURCE})
  target_link_libraries(gemm_bench PRIVATE hooklab::core)
  hooklab_set_target_options(gemm_bench)
  set_target_properties(gemm_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bench")
endif()
