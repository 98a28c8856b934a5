# GPT-2 tokenizer: GoogleTest unit tests, plus tokenize_jsonl, the command-line tool through
# which tokenizer-parity.test.mjs compares the C++ tokenizer with js-tiktoken
# (cmake --build --preset native --target tokenize_jsonl && node --test tests/tokenizer/).
if(NOT EMSCRIPTEN)
  hooklab_add_test(tokenizer_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/tokenizer_files_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/tokenizer_internals_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/tokenizer_test_files.cpp
    LIBS hooklab::core GTest::gtest_main)
  # The internals test reaches the core's private headers (pre-tokenizer, merge loop, UTF-8).
  target_include_directories(tokenizer_test PRIVATE ${PROJECT_SOURCE_DIR}/core/src)
  target_compile_definitions(tokenizer_test PRIVATE HOOKLAB_DEFAULT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

  # Models with their own Hugging Face tokenizer files, against the reference's encodings.
  hooklab_add_test(own_tokenizer_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/own_tokenizer_test.cpp ${CMAKE_CURRENT_LIST_DIR}/tokenizer_test_files.cpp
    LIBS hooklab::core GTest::gtest_main)
  target_include_directories(own_tokenizer_test SYSTEM PRIVATE ${HOOKLAB_THIRD_PARTY_INCLUDE})
  target_compile_definitions(own_tokenizer_test PRIVATE HOOKLAB_DEFAULT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

  add_executable(tokenize_jsonl ${CMAKE_CURRENT_LIST_DIR}/tokenize_jsonl.cpp)
  target_link_libraries(tokenize_jsonl PRIVATE hooklab::core)
  target_include_directories(tokenize_jsonl SYSTEM PRIVATE ${HOOKLAB_THIRD_PARTY_INCLUDE})
  target_compile_definitions(tokenize_jsonl PRIVATE HOOKLAB_DEFAULT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  hooklab_set_target_options(tokenize_jsonl)
  set_target_properties(tokenize_jsonl PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endif()
