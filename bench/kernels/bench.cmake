# gemm_bench: Backend::matmul GFLOP/s on GPT-2-small shapes next to the measured SIMD peak.
# Included from bench/CMakeLists.txt (native) and, for Emscripten builds, from wherever the
# browser benchmarks are wired (the top-level adds bench/ only natively today).
#   native:     gemm_bench     (fastest backend compiled in: XNNPACK), 1 and 2 threads
#   Emscripten: gemm_bench_st  (wasm SIMD, single-threaded core)
#               gemm_bench_mt  (wasm SIMD, pthreads core), 1 and 2 threads
#               bench_probes_{st,mt} (the peak and GEMM probes of the browser benchmark)
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

  # The same peak and GEMM measurements as ES modules for the browser benchmark
  # (bench/pages/probes.mjs): build/bench/probes/probes-{st,mt}.mjs, apart from the lab's module.
  foreach(variant st mt)
    set(probe_target bench_probes_${variant})
    add_executable(${probe_target} ${CMAKE_CURRENT_LIST_DIR}/probe_bindings.cpp)
    target_link_libraries(${probe_target} PRIVATE hooklab_core_${variant})
    hooklab_set_target_options(${probe_target})
    target_link_options(${probe_target} PRIVATE --bind -O3 -msimd128
      -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createProbesModule -sENVIRONMENT=web,worker
      -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=4GB -sFILESYSTEM=0)
    set_target_properties(${probe_target} PROPERTIES OUTPUT_NAME probes-${variant} SUFFIX ".mjs"
                          RUNTIME_OUTPUT_DIRECTORY "${PROJECT_SOURCE_DIR}/build/bench/probes")
  endforeach()
  target_link_options(bench_probes_mt PRIVATE -pthread -sPTHREAD_POOL_SIZE=4)
else()
  add_executable(gemm_bench ${HOOKLAB_GEMM_BENCH_SOURCE})
  target_link_libraries(gemm_bench PRIVATE hooklab::core)
  hooklab_set_target_options(gemm_bench)
  set_target_properties(gemm_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bench")
endif()
