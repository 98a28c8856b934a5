# The fuzz targets, shared by the libFuzzer build (tests/fuzz/CMakeLists.txt) and the
# regression tests of the normal builds (tests/fuzz/regressions.cmake).
file(GLOB HOOKLAB_FUZZ_SOURCES RELATIVE ${CMAKE_CURRENT_LIST_DIR} CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_fuzz.cpp)
list(TRANSFORM HOOKLAB_FUZZ_SOURCES REPLACE "_fuzz\\.cpp$" "" OUTPUT_VARIABLE HOOKLAB_FUZZ_TARGETS)

function(hooklab_fuzz_target_options target)
  target_link_libraries(${target} PRIVATE hooklab::core)
  # The tokenizer target checks its property with the core's internal UTF-8 decoder.
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/core/src)
  target_compile_definitions(${target} PRIVATE HOOKLAB_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  hooklab_set_target_options(${target})
endfunction()
