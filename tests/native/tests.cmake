# Native tests of the core (GoogleTest). test_support is shared by all of them.
if(NOT EMSCRIPTEN)
  add_library(hooklab_test_support STATIC native/test_support.cpp)
  target_link_libraries(hooklab_test_support PUBLIC hooklab::core GTest::gtest)
  target_include_directories(hooklab_test_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/native SYSTEM PUBLIC ${HOOKLAB_THIRD_PARTY_INCLUDE})
  hooklab_set_target_options(hooklab_test_support)

  # Tests that register their cases from fixture manifests have their own main().
  hooklab_add_test(reference_parity_test SOURCES native/reference_parity_test.cpp LIBS hooklab_test_support)
  hooklab_add_test(patching_parity_test SOURCES native/patching_parity_test.cpp LIBS hooklab_test_support)
  hooklab_add_test(gradient_parity_test SOURCES native/gradient_parity_test.cpp LIBS hooklab_test_support)
  hooklab_add_test(gpt2_small_golden_test SOURCES native/gpt2_small_golden_test.cpp LIBS hooklab_test_support SKIP_RETURN_CODE 77)
  foreach(test model_loading_errors_test hooks_and_cache_test patching_engines_test analysis_parity_test half_precision_test attribution_test generation_test
              path_patching_test thread_pool_test)
    hooklab_add_test(${test} SOURCES native/${test}.cpp LIBS hooklab_test_support GTest::gtest_main)
  endforeach()
endif()
