// Shared by the fuzz targets: the properties every parser promises on any input, checked by
// aborting (which libFuzzer and the regression driver both report as a failure).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "hooklab/status.h"

namespace hooklab::fuzz {

// Longer messages mean a value from the input was echoed instead of quoted as an excerpt.
inline constexpr size_t kMaxMessageBytes = 600;

[[noreturn]] inline void fail(const char* property, const std::string& detail) {
  std::fprintf(stderr, "fuzz property violated: %s: %.2000s\n", property, detail.c_str());
  std::abort();
}

inline void require(bool holds, const char* property, const std::string& detail = {}) {
  if (!holds) fail(property, detail);
}

// A refusal is one short line.
inline void require_clear_error(const Error& error) {
  require(!error.message.empty(), "error message is not empty");
  require(error.message.find('\n') == std::string::npos, "error message is one line", error.message);
  require(error.message.size() <= kMaxMessageBytes, "error message is short", error.message.substr(0, 300));
}

}  // namespace hooklab::fuzz
