#include "cli_context.h"
#include "commands/commands.h"

namespace hooklab::cli {

namespace {

// With --model, the model directory's tokenizer (its own files, else GPT-2's) and its config's
// BOS, without reading the weights; otherwise GPT-2's tokenizer and <|endoftext|>.
struct TokenizerAndBos {
  std::shared_ptr<const Tokenizer> tokenizer;
  int32_t bos;
};

Result<TokenizerAndBos> tokenizer_for(const Arguments& args) {
  if (auto dir = args.get("model")) {
    HOOKLAB_ASSIGN_OR_RETURN(ModelFiles files, read_model_directory(*dir, tokenizer_dir(args)));
    HOOKLAB_ASSIGN_OR_RETURN(ModelConfig cfg, parse_hf_gpt2_config(files.config_json, files.config_name));
    HOOKLAB_ASSIGN_OR_RETURN(auto tokenizer, load_model_tokenizer(files));
    return TokenizerAndBos{std::move(tokenizer), cfg.bos_token_id};
  }
  HOOKLAB_ASSIGN_OR_RETURN(Tokenizer tokenizer, load_tokenizer(args));
  return TokenizerAndBos{std::make_shared<const Tokenizer>(std::move(tokenizer)), Tokenizer::kEndOfText};
}

}  // namespace

Status tokenize_command(const std::vector<std::string>& argv) {
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, {"text", "tokenizer", "model"}, {"no-bos"}));
  HOOKLAB_ASSIGN_OR_RETURN(std::string text, args.require("text"));
  HOOKLAB_ASSIGN_OR_RETURN(TokenizerAndBos loaded, tokenizer_for(args));
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const std::vector<int32_t> body = tokenizer.encode(text);
  std::vector<int32_t> tokens;
  if (!args.has("no-bos")) tokens.push_back(loaded.bos);
  tokens.insert(tokens.end(), body.begin(), body.end());
  nlohmann::ordered_json str_tokens = nlohmann::ordered_json::array();
  for (int32_t t : tokens) str_tokens.push_back(tokenizer.token_text(t));
  print_json({{"tokenizer", tokenizer.kind_name()},
              {"tokens", tokens},
              {"str_tokens", str_tokens},
              {"decoded", tokenizer.decode(body)}});
  return {};
}

}  // namespace hooklab::cli
