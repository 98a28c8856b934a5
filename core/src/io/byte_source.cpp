#include "hooklab/byte_source.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace hooklab {
namespace {

Error out_of_range(const std::string& name, uint64_t offset, size_t n, uint64_t size) {
  return make_error(ErrorCode::kInvalidModel, name + ": read of " + std::to_string(n) + " bytes at offset " +
                                                  std::to_string(offset) + " is past the end of the file (" +
                                                  std::to_string(size) + " bytes)");
}

bool in_range(uint64_t offset, size_t n, uint64_t size) { return offset <= size && n <= size - offset; }

class MemorySource final : public ByteSource {
 public:
  MemorySource(std::string name, std::vector<uint8_t> bytes) : name_(std::move(name)), bytes_(std::move(bytes)) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, void* dst, size_t n) const override {
    if (!in_range(offset, n, bytes_.size())) return out_of_range(name_, offset, n, bytes_.size());
    if (n > 0) std::memcpy(dst, bytes_.data() + offset, n);
    return {};
  }

 private:
  std::string name_;
  std::vector<uint8_t> bytes_;
};

class BorrowedSource final : public ByteSource {
 public:
  BorrowedSource(std::string name, const uint8_t* data, size_t size)
      : name_(std::move(name)), data_(data), size_(size) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, void* dst, size_t n) const override {
    if (!in_range(offset, n, size_)) return out_of_range(name_, offset, n, size_);
    if (n > 0) std::memcpy(dst, data_ + offset, n);
    return {};
  }

 private:
  std::string name_;
  const uint8_t* data_;
  size_t size_;
};

class FileSource final : public ByteSource {
 public:
  FileSource(std::string name, std::FILE* file, uint64_t size) : name_(std::move(name)), file_(file), size_(size) {}
  ~FileSource() override { std::fclose(file_); }
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, void* dst, size_t n) const override {
    if (!in_range(offset, n, size_)) return out_of_range(name_, offset, n, size_);
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0 || std::fread(dst, 1, n, file_) != n) {
      return make_error(ErrorCode::kIoError, name_ + ": read failed at offset " + std::to_string(offset));
    }
    return {};
  }

 private:
  std::string name_;
  std::FILE* file_;
  uint64_t size_;
  mutable std::mutex mutex_;
};

}  // namespace

std::shared_ptr<ByteSource> make_memory_source(std::string name, std::vector<uint8_t> bytes) {
  return std::make_shared<MemorySource>(std::move(name), std::move(bytes));
}

std::shared_ptr<ByteSource> make_borrowed_source(std::string name, const uint8_t* data, size_t size) {
  return std::make_shared<BorrowedSource>(std::move(name), data, size);
}

Result<std::shared_ptr<ByteSource>> open_file_source(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return make_error(ErrorCode::kIoError, path + ": cannot open (" + std::strerror(errno) + ")");
  }
  if (std::fseek(file, 0, SEEK_END) != 0) {
    std::fclose(file);
    return make_error(ErrorCode::kIoError, path + ": cannot determine the file size (is it a directory?)");
  }
  const long end = std::ftell(file);
  if (end < 0) {
    std::fclose(file);
    return make_error(ErrorCode::kIoError, path + ": cannot determine the file size (is it a directory?)");
  }
  return std::shared_ptr<ByteSource>(std::make_shared<FileSource>(path, file, static_cast<uint64_t>(end)));
}

Result<std::string> read_all_text(const ByteSource& source) {
  constexpr uint64_t kMaxTextFile = 64ull << 20;  // config.json / vocab.json are far smaller
  if (source.size() > kMaxTextFile) {
    return make_error(ErrorCode::kInvalidModel,
                      source.name() + ": too large for a text file (" + std::to_string(source.size()) + " bytes)");
  }
  std::string text(static_cast<size_t>(source.size()), '\0');
  HOOKLAB_RETURN_IF_ERROR(source.read(0, text.data(), text.size()));
  return text;
}

Result<std::string> read_text_file(const std::string& path) {
  HOOKLAB_ASSIGN_OR_RETURN(auto source, open_file_source(path));
  return read_all_text(*source);
}

}  // namespace hooklab
