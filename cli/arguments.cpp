#include "arguments.h"

#include <charconv>
#include <cmath>

namespace hooklab::cli {

Error usage_error(const std::string& message) { return make_error(ErrorCode::kInvalidArgument, message); }

Result<Arguments> Arguments::parse(const std::vector<std::string>& argv, const std::set<std::string>& options,
                                   const std::set<std::string>& switches) {
  Arguments args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2) return usage_error("unexpected argument '" + a + "'");
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name) != 0) {
      if (inline_value) return usage_error("--" + name + " takes no value");
      args.switches_.insert(name);
    } else if (options.count(name) != 0) {
      if (args.values_.count(name) != 0) return usage_error("--" + name + " given twice");
      if (inline_value) {
        args.values_[name] = *inline_value;
      } else {
        if (i + 1 >= argv.size()) return usage_error("--" + name + " needs a value");
        args.values_[name] = argv[++i];
      }
    } else {
      return usage_error("unknown option --" + name);
    }
  }
  return args;
}

std::optional<std::string> Arguments::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> Arguments::require(const std::string& name) const {
  auto v = get(name);
  if (!v) return usage_error("missing required option --" + name);
  return *v;
}

Result<int> Arguments::get_int(const std::string& name, int fallback, int min, int max) const {
  auto v = get(name);
  if (!v) return fallback;
  int out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || out < min || out > max) {
    return usage_error("--" + name + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                       "], got '" + *v + "'");
  }
  return out;
}

Result<double> Arguments::get_double(const std::string& name, double fallback, double min, double max) const {
  auto v = get(name);
  if (!v) return fallback;
  double out = 0.0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || !std::isfinite(out) || out < min || out > max) {
    return usage_error("--" + name + " must be a number in [" + std::to_string(min) + ", " + std::to_string(max) +
                       "], got '" + *v + "'");
  }
  return out;
}

}  // namespace hooklab::cli
