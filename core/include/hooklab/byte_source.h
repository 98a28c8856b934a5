// Random-access bytes of one file, wherever they live.
//
// Natively a model file is read from disk on demand; in the browser its bytes stay in a
// JavaScript ArrayBuffer and the loader pulls one tensor at a time into the wasm heap, so the
// file is never held twice in wasm memory (see wasm/). The loader only needs this interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hooklab/status.h"

namespace hooklab {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Shown in error messages, e.g. "models/gpt2/model.safetensors".
  virtual const std::string& name() const = 0;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset, or fails (never a short read).
  virtual Status read(uint64_t offset, void* dst, size_t n) const = 0;
};

// Bytes owned by the source (tests, small files).
std::shared_ptr<ByteSource> make_memory_source(std::string name, std::vector<uint8_t> bytes);
// Bytes owned by the caller; they must outlive the source.
std::shared_ptr<ByteSource> make_borrowed_source(std::string name, const uint8_t* data, size_t size);
// A file on disk (standard C++ streams, read lazily).
Result<std::shared_ptr<ByteSource>> open_file_source(const std::string& path);

// Reads a whole (small) text file, e.g. config.json.
Result<std::string> read_text_file(const std::string& path);
Result<std::string> read_all_text(const ByteSource& source);

}  // namespace hooklab
