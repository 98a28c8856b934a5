#include "js_byte_source.h"

namespace hooklab::wasm {
namespace {

class JsByteSource final : public ByteSource {
 public:
  JsByteSource(std::string name, emscripten::val reader)
      : name_(std::move(name)),
        reader_(std::move(reader)),
        size_(static_cast<uint64_t>(reader_["size"].as<double>())) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, void* dst, size_t n) const override {
    if (offset > size_ || n > size_ - offset) {
      return make_error(ErrorCode::kInvalidModel, name_ + ": read of " + std::to_string(n) + " bytes at offset " +
                                                      std::to_string(offset) + " is past the end of the file");
    }
    if (n == 0) return {};
    reader_.call<void>("read", static_cast<double>(offset), static_cast<double>(n),
                       static_cast<double>(reinterpret_cast<uintptr_t>(dst)));
    return {};
  }

 private:
  std::string name_;
  emscripten::val reader_;
  uint64_t size_;
};

}  // namespace

std::shared_ptr<ByteSource> make_js_byte_source(std::string name, emscripten::val reader) {
  return std::make_shared<JsByteSource>(std::move(name), std::move(reader));
}

}  // namespace hooklab::wasm
