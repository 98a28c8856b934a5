# GPT-2 byte-level BPE tokenizer.
list(APPEND HOOKLAB_CORE_SOURCES
)
