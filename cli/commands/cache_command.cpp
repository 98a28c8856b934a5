#include <filesystem>
#include <regex>

#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/npy.h"

namespace hooklab::cli {

Status cache_command(const std::vector<std::string>& argv) {
  std::set<std::string> options = model_options();
  options.insert({"prompt", "out", "names"});
  std::set<std::string> switches = model_switches();
  switches.insert({"no-bos", "attn-result"});
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, options, switches));
  HOOKLAB_ASSIGN_OR_RETURN(std::string prompt, args.require("prompt"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string out_dir, args.require("out"));

  std::function<bool(const std::string&)> filter = [](const std::string&) { return true; };
  if (auto pattern = args.get("names")) {
    std::shared_ptr<std::regex> re;
    try {
      re = std::make_shared<std::regex>(*pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return usage_error("--names is not a valid regular expression: " + std::string(e.what()));
    }
    filter = [re](const std::string& name) { return std::regex_search(name, *re); };
  }
  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));
  const std::vector<int32_t> tokens = model->to_tokens(prompt, !args.has("no-bos"));
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput out, model->run_with_cache(tokens, filter, args.has("attn-result")));

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return make_error(ErrorCode::kIoError, out_dir + ": cannot create directory (" + ec.message() + ")");
  nlohmann::ordered_json listed = nlohmann::ordered_json::array();
  for (const auto& entry : out.cache.entries()) {
    HOOKLAB_RETURN_IF_ERROR(write_npy_file(out_dir + "/" + entry.name + ".npy", out.cache.arena() + entry.offset, entry.shape));
    listed.push_back({{"name", entry.name}, {"shape", entry.shape}});
  }
  HOOKLAB_RETURN_IF_ERROR(write_npy_file(out_dir + "/logits.npy", out.logits.data(), out.logits.shape()));
  print_json({{"tokens", tokens},
              {"str_tokens", model->to_str_tokens(tokens)},
              {"activations", listed},
              {"logits", {{"name", "logits"}, {"shape", out.logits.shape()}}}});
  return {};
}

}  // namespace hooklab::cli
