// `hooklab lens`, `hooklab dla` and `hooklab heads`: the analysis tools of the tutorials.
#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/analysis.h"

namespace hooklab::cli {
namespace {

struct Prepared {
  std::unique_ptr<HookedTransformer> model;
  std::vector<int32_t> tokens;
  RunOutput run;
  AnswerPairs pairs;
  int position = 0;
};

// Shared options: --model, --prompt, [--answer --wrong], [--position], [--no-bos].
Result<Prepared> prepare(const Arguments& args, bool pairs_required) {
  Prepared p;
  HOOKLAB_ASSIGN_OR_RETURN(std::string prompt, args.require("prompt"));
  if (pairs_required && (!args.has("answer") || !args.has("wrong"))) {
    return usage_error("--answer and --wrong are required (the logit difference they define is what is attributed)");
  }
  if (args.has("answer") != args.has("wrong")) return usage_error("--answer and --wrong go together");
  HOOKLAB_ASSIGN_OR_RETURN(p.model, load_model(args));
  p.tokens = p.model->to_tokens(prompt, !args.has("no-bos"));
  if (args.has("answer")) {
    HOOKLAB_ASSIGN_OR_RETURN(int32_t a, p.model->to_single_token(*args.get("answer")));
    HOOKLAB_ASSIGN_OR_RETURN(int32_t w, p.model->to_single_token(*args.get("wrong")));
    p.pairs.push_back({a, w});
  }
  const int n = static_cast<int>(p.tokens.size());
  HOOKLAB_ASSIGN_OR_RETURN(int position, args.get_int("position", -1, -1000000, 1000000));
  p.position = position < 0 ? position + n : position;
  if (p.position < 0 || p.position >= n) {
    return make_error(ErrorCode::kInvalidInput, "--position " + std::to_string(position) + " is out of range for " +
                                                    std::to_string(n) + " tokens");
  }
  HOOKLAB_ASSIGN_OR_RETURN(p.run, p.model->run_with_cache(p.tokens));
  return p;
}

std::set<std::string> with(std::set<std::string> base, std::initializer_list<const char*> extra) {
  for (const char* e : extra) base.insert(e);
  return base;
}

nlohmann::ordered_json numbers(const std::vector<double>& v) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (double x : v) out.push_back(json_number(x));
  return out;
}

}  // namespace

Status lens_command(const std::vector<std::string>& argv) {
  HOOKLAB_ASSIGN_OR_RETURN(
      Arguments args, Arguments::parse(argv, with(model_options(), {"prompt", "answer", "wrong", "position", "top-k"}),
                                       with(model_switches(), {"no-bos"})));
  HOOKLAB_ASSIGN_OR_RETURN(int k, args.get_int("top-k", 5, 0, 1000));
  HOOKLAB_ASSIGN_OR_RETURN(Prepared p, prepare(args, false));
  const std::vector<int> positions = {p.position};
  HOOKLAB_ASSIGN_OR_RETURN(LogitLens lens, logit_lens(*p.model, p.run.cache, positions, p.pairs, k));
  HOOKLAB_ASSIGN_OR_RETURN(ResidualNorms norms, residual_norms(*p.model, p.run.cache));
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (size_t c = 0; c < lens.labels.size(); ++c) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (int i = 0; i < lens.top_k; ++i) {
      const size_t at = c * static_cast<size_t>(lens.top_k) + static_cast<size_t>(i);
      row.push_back({{"token", lens.top_tokens[at]},
                     {"str", p.model->tokenizer().token_text(lens.top_tokens[at])},
                     {"logit", json_number(lens.top_logits[at])},
                     {"prob", json_number(lens.top_probs[at])}});
    }
    top.push_back(row);
  }
  nlohmann::ordered_json out = {{"tokens", p.tokens},
                                {"str_tokens", p.model->to_str_tokens(p.tokens)},
                                {"position", p.position},
                                {"labels", lens.labels}};
  if (!p.pairs.empty()) {
    out["logit_diff"] = numbers(lens.logit_diff);
    out["logit_diff_with_bias"] = numbers(lens.logit_diff_with_bias);
  }
  out["top_k"] = top;
  out["resid_post_norm"] = numbers(norms.per_layer);
  print_json(out);
  return {};
}

Status dla_command(const std::vector<std::string>& argv) {
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args,
                           Arguments::parse(argv, with(model_options(), {"prompt", "answer", "wrong", "position"}),
                                            with(model_switches(), {"no-bos"})));
  HOOKLAB_ASSIGN_OR_RETURN(Prepared p, prepare(args, true));
  HOOKLAB_ASSIGN_OR_RETURN(ComponentAttribution comps,
                           component_attribution(*p.model, p.run.cache, p.position, p.pairs));
  HOOKLAB_ASSIGN_OR_RETURN(HeadAttribution heads, head_attribution(*p.model, p.run.cache, p.position, p.pairs));
  print_json({{"tokens", p.tokens},
              {"str_tokens", p.model->to_str_tokens(p.tokens)},
              {"position", p.position},
              {"labels", comps.labels},
              {"logit_diff", numbers(comps.logit_diff)},
              {"bias_term", json_number(comps.bias_term)},
              {"total_logit_diff", json_number(comps.total_logit_diff)},
              {"heads", {{"shape", {heads.n_layers, heads.n_heads}}, {"values", numbers(heads.logit_diff)}}}});
  return {};
}

Status heads_command(const std::vector<std::string>& argv) {
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args,
                           Arguments::parse(argv, with(model_options(), {"seq-len", "seed"}), model_switches()));
  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));
  const int max_len = (model->cfg().n_ctx - 1) / 2;
  HOOKLAB_ASSIGN_OR_RETURN(int seq_len, args.get_int("seq-len", std::min(50, max_len), 1, 1000000));
  if (seq_len > max_len) {
    return make_error(ErrorCode::kInvalidInput,
                      "--seq-len " + std::to_string(seq_len) + " does not fit twice in n_ctx = " +
                          std::to_string(model->cfg().n_ctx) + " (at most " + std::to_string(max_len) + ")");
  }
  HOOKLAB_ASSIGN_OR_RETURN(int seed, args.get_int("seed", 0, 0, 1 << 30));
  const std::vector<int32_t> tokens = repeated_random_tokens(static_cast<uint64_t>(seed), seq_len, model->cfg());
  HOOKLAB_ASSIGN_OR_RETURN(HeadDetectorScores s, detect_heads(*model, tokens));
  const nlohmann::ordered_json shape = {s.n_layers, s.n_heads};
  print_json({{"tokens", tokens},
              {"shape", shape},
              {"previous_token", numbers(s.previous_token)},
              {"duplicate_token", numbers(s.duplicate_token)},
              {"induction", numbers(s.induction)},
              {"previous_token_diagonal", numbers(s.previous_token_diagonal)},
              {"induction_diagonal", numbers(s.induction_diagonal)}});
  return {};
}

}  // namespace hooklab::cli
