#include "cli_context.h"
#include "commands/commands.h"

namespace hooklab::cli {

Status tokenize_command(const std::vector<std::string>& argv) {
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, {"text", "tokenizer"}, {"no-bos"}));
  HOOKLAB_ASSIGN_OR_RETURN(std::string text, args.require("text"));
  HOOKLAB_ASSIGN_OR_RETURN(Tokenizer tokenizer, load_tokenizer(args));
  std::vector<int32_t> tokens;
  if (!args.has("no-bos")) tokens.push_back(Tokenizer::kEndOfText);
  for (int32_t t : tokenizer.encode(text)) tokens.push_back(t);
  nlohmann::ordered_json str_tokens = nlohmann::ordered_json::array();
  for (int32_t t : tokens) str_tokens.push_back(tokenizer.token_text(t));
  print_json({{"tokens", tokens}, {"str_tokens", str_tokens}});
  return {};
}

}  // namespace hooklab::cli
