# GPT-2 byte-level BPE tokenizer.
list(APPEND HOOKLAB_CORE_SOURCES
  src/tokenizer/tokenizer.cpp
  src/tokenizer/gpt2_files.cpp
  src/tokenizer/vocabulary.cpp
  src/tokenizer/bpe_merge.cpp
  src/tokenizer/pretokenizer.cpp
  src/tokenizer/unicode_classes.cpp
  src/tokenizer/byte_unicode.cpp
  src/tokenizer/utf8.cpp
)
