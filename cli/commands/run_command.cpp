#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/logits.h"

namespace hooklab::cli {

Status run_command(const std::vector<std::string>& argv) {
  std::set<std::string> options = model_options();
  options.insert({"prompt", "top-k"});
  std::set<std::string> switches = model_switches();
  switches.insert("no-bos");
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, options, switches));
  HOOKLAB_ASSIGN_OR_RETURN(std::string prompt, args.require("prompt"));
  HOOKLAB_ASSIGN_OR_RETURN(int k, args.get_int("top-k", 10, 0, 1000000));
  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));

  const std::vector<int32_t> tokens = model->to_tokens(prompt, !args.has("no-bos"));
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput out, model->run(tokens, {}));
  const int64_t vocab = model->cfg().d_vocab;
  const float* last = out.logits.data() + static_cast<int64_t>(tokens.size() - 1) * vocab;
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (const TopKEntry& e : top_k(last, vocab, k)) {
    top.push_back({{"token", e.token},
                   {"str", model->tokenizer().token_text(e.token)},
                   {"prob", json_number(e.prob)},
                   {"logit", json_number(e.logit)}});
  }
  print_json({{"tokenizer", model->tokenizer().kind_name()},
              {"tokens", tokens},
              {"str_tokens", model->to_str_tokens(tokens)},
              {"top_k", top},
              {"loss", json_number(mean_loss(out.logits, tokens))}});
  return {};
}

}  // namespace hooklab::cli
