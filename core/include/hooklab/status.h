// Error reporting for the whole core: every fallible call returns a Status or a Result<T>.
//
// The core is compiled without exceptions for WebAssembly (Emscripten's JS exception
// handling taxes every call site), so errors travel as values, XNNPACK-style: a code that
// callers can branch on plus one human-readable message that names the file, tensor or
// argument at fault. Messages are shown to users verbatim (CLI `error:` lines, JS Errors).
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hooklab {

enum class ErrorCode {
  kInvalidArgument,  // the caller asked for something malformed (bad usage)
  kInvalidModel,     // a model file or directory is malformed or inconsistent (bad data)
  kInvalidInput,     // a prompt, token or position is not acceptable for this model (bad data)
  kUnsupported,      // well-formed, but a feature this core does not implement
  kIoError,          // a file could not be read or written
  kOutOfMemory,      // an allocation failed
  kCancelled,        // a long operation was cancelled by its caller
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }
  const std::string& message() const { return error_.message; }

 private:
  Error error_{ErrorCode::kInvalidArgument, {}};
  bool ok_ = true;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(status.error()) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Error& error() const { return std::get<Error>(state_); }
  Status status() const { return ok() ? Status() : Status(error()); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> state_;
};

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

// A value taken from untrusted input, fit for a one-line error message: in double quotes, at
// most `max_bytes` of it (cut at a character boundary, the cut marked by "…"), with quotes,
// backslashes, control characters and ill-formed UTF-8 escaped. A 50 MB string or a newline in
// a file then cannot flood or split the message.
std::string quote_excerpt(std::string_view text, size_t max_bytes = 60);

}  // namespace hooklab

// Propagate a failed Status/Result from the enclosing function.
#define HOOKLAB_RETURN_IF_ERROR(expr)                          \
  do {                                                         \
    auto hooklab_status_ = (expr);                             \
    if (!hooklab_status_.ok()) return hooklab_status_.error(); \
  } while (0)

#define HOOKLAB_CONCAT_INNER_(a, b) a##b
#define HOOKLAB_CONCAT_(a, b) HOOKLAB_CONCAT_INNER_(a, b)
// `HOOKLAB_ASSIGN_OR_RETURN(auto x, make_x());`
#define HOOKLAB_ASSIGN_OR_RETURN(lhs, expr)                                                                        \
  auto HOOKLAB_CONCAT_(hooklab_result_, __LINE__) = (expr);                                                        \
  if (!HOOKLAB_CONCAT_(hooklab_result_, __LINE__).ok()) return HOOKLAB_CONCAT_(hooklab_result_, __LINE__).error(); \
  lhs = std::move(HOOKLAB_CONCAT_(hooklab_result_, __LINE__)).value()
