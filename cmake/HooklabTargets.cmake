# Shared compile settings and the one helper every test registers through.

# Warnings and sanitizers, applied per target (never through global CMAKE_CXX_FLAGS).
function(hooklab_set_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(EMSCRIPTEN)
    target_compile_options(${target} PRIVATE -msimd128 -fno-exceptions)
  endif()
  if(HOOKLAB_SANITIZE AND NOT EMSCRIPTEN)
    target_compile_options(${target} PRIVATE -fsanitize=${HOOKLAB_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${HOOKLAB_SANITIZE})
  endif()
endfunction()

# hooklab_add_test(<name> SOURCES <files...> [LIBS <libs...>] [ARGS <args...>] [SKIP_RETURN_CODE <n>])
# Builds one test executable and registers it with CTest. A test that cannot run here (e.g.
# GPT-2 weights absent) exits with SKIP_RETURN_CODE so CTest reports it as skipped, by name.
function(hooklab_add_test name)
  cmake_parse_arguments(T "" "SKIP_RETURN_CODE" "SOURCES;LIBS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  hooklab_set_target_options(${name})
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "HOOKLAB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  if(T_SKIP_RETURN_CODE)
    set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE ${T_SKIP_RETURN_CODE})
  endif()
endfunction()
