# Tokenizers: GPT-2 byte-level BPE, and a model directory's own Hugging Face files.
list(APPEND HOOKLAB_CORE_SOURCES
  src/tokenizer/tokenizer.cpp
  src/tokenizer/gpt2_files.cpp
  src/tokenizer/vocabulary.cpp
  src/tokenizer/bpe_merge.cpp
  src/tokenizer/pair_merge.cpp
  src/tokenizer/hf_files.cpp
  src/tokenizer/word_split.cpp
  src/tokenizer/pretokenizer.cpp
  src/tokenizer/unicode_classes.cpp
  src/tokenizer/byte_unicode.cpp
  src/tokenizer/utf8.cpp
)
