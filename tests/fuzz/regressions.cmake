# Every fuzz target's entry function, compiled by the normal build's compiler and fed each
# file of its seed corpus and of regressions/<name>/ (inputs that once crashed) by a small
# driver: the cases fuzzing found stay fixed without libFuzzer or clang.
include(${CMAKE_CURRENT_LIST_DIR}/targets.cmake)
foreach(target ${HOOKLAB_FUZZ_TARGETS})
  add_executable(${target}_fuzz_regressions ${CMAKE_CURRENT_LIST_DIR}/${target}_fuzz.cpp
                                            ${CMAKE_CURRENT_LIST_DIR}/regression_driver.cpp)
  hooklab_fuzz_target_options(${target}_fuzz_regressions)
  add_test(NAME fuzz_regressions_${target}
           COMMAND ${target}_fuzz_regressions ${CMAKE_CURRENT_LIST_DIR}/corpus/${target}
                   ${CMAKE_CURRENT_LIST_DIR}/regressions/${target}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endforeach()
