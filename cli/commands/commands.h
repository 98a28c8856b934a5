// One function per CLI command; each parses its own options.
#pragma once

#include <string>
#include <vector>

#include "hooklab/status.h"

namespace hooklab::cli {

Status tokenize_command(const std::vector<std::string>& args);
Status run_command(const std::vector<std::string>& args);
Status generate_command(const std::vector<std::string>& args);
Status cache_command(const std::vector<std::string>& args);
Status patch_command(const std::vector<std::string>& args);
Status attribute_command(const std::vector<std::string>& args);
Status path_patch_command(const std::vector<std::string>& args);
Status lens_command(const std::vector<std::string>& args);
Status dla_command(const std::vector<std::string>& args);
Status heads_command(const std::vector<std::string>& args);
Status evaluate_command(const std::vector<std::string>& args);
Status convert_command(const std::vector<std::string>& args);

}  // namespace hooklab::cli
