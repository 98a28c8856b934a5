# Kernel-consistency test (backend_ops_test): every backend of this build against the
# reference kernels. Natively it checks XNNPACK (1 and 2 threads); under Emscripten it checks
# the wasm SIMD backend in the single-threaded core (backend_ops_test_st) and the pthreads core
# (backend_ops_test_mt, 2 and 3 threads), both run by Node; simd_exp_test checks the wasm SIMD
# exp against double precision.
set(HOOKLAB_BACKEND_OPS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/backend_ops_test.cpp)

if(EMSCRIPTEN)
  # The 50257-wide cases need ~350 MB of heap; EXIT_RUNTIME makes Node exit with main's status
  # (and stop the pthread workers).
  set(HOOKLAB_BACKEND_OPS_LINK_OPTIONS -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sEXIT_RUNTIME=1)
  foreach(variant st mt)
    set(test_name backend_ops_test_${variant})
    hooklab_add_test(${test_name} SOURCES ${HOOKLAB_BACKEND_OPS_SOURCES} LIBS hooklab_core_${variant})
    target_link_options(${test_name} PRIVATE ${HOOKLAB_BACKEND_OPS_LINK_OPTIONS})
    # Node 20's fetch() cannot load the .wasm from a file path (docs: TOOLCHAIN.md, gotcha 2).
    set_target_properties(${test_name} PROPERTIES CROSSCOMPILING_EMULATOR "${CMAKE_CROSSCOMPILING_EMULATOR};--no-experimental-fetch")
  endforeach()
  # The 2- and 3-thread backends live at the same time (1 + 2 workers), and the GEMM tuning
  # check makes one more backend of each size beside them (up to 2 more): 5 workers, started
  # before main, because a blocked main thread cannot spawn one (std::thread would wait forever).
  target_link_options(backend_ops_test_mt PRIVATE -sPTHREAD_POOL_SIZE=5)

  # Accuracy of the vectorised exp under softmax and GELU (a header of the core's kernels).
  hooklab_add_test(simd_exp_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/simd_exp_test.cpp)
  target_include_directories(simd_exp_test PRIVATE ${PROJECT_SOURCE_DIR}/core/src)
  target_link_options(simd_exp_test PRIVATE -sEXIT_RUNTIME=1)
  set_target_properties(simd_exp_test PROPERTIES CROSSCOMPILING_EMULATOR "${CMAKE_CROSSCOMPILING_EMULATOR};--no-experimental-fetch")
else()
  hooklab_add_test(backend_ops_test SOURCES ${HOOKLAB_BACKEND_OPS_SOURCES} LIBS hooklab::core)
endif()
