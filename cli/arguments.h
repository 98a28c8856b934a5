// Command-line arguments: `--name value` options and `--flag` switches, checked against
// what each command accepts so a typo is a usage error, not a silently ignored option.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hooklab/status.h"

namespace hooklab::cli {

class Arguments {
 public:
  // options: names taking a value; switches: names without one (both without "--").
  static Result<Arguments> parse(const std::vector<std::string>& argv, const std::set<std::string>& options,
                                 const std::set<std::string>& switches);

  bool has(const std::string& name) const { return values_.count(name) != 0 || switches_.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const;
  Result<std::string> require(const std::string& name) const;
  Result<int> get_int(const std::string& name, int fallback, int min, int max) const;
  // A finite number in [min, max].
  Result<double> get_double(const std::string& name, double fallback, double min, double max) const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
};

// Usage errors exit with status 2.
Error usage_error(const std::string& message);

}  // namespace hooklab::cli
