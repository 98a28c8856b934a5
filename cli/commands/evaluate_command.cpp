// `hooklab evaluate`: the behaviour a model card states, recomputed by the core.
//
//   hooklab evaluate --model DIR [--ioi FILE.jsonl] [--repeated FILE.json]
//
// --ioi: one {"prompt", "answer", "wrong"} per line; BOS prepended; a prompt counts as correct
//   when logit(answer) > logit(wrong) at the last position. Reports accuracy and the mean,
//   median and minimum logit difference.
// --repeated: {"n_repeat": N, "sequences": [[BOS, s_1..s_N, s_1..s_N], ...]}. Reports the mean
//   next-token loss over the first copy (positions 1..N-1) and the second (N+1..2N-1), and per
//   head [L, H] the mean attention along the diagonals TransformerLens's demos use: induction
//   (offset 1 - N), previous token (offset -1), duplicate token (offset -N), averaged over
//   sequences.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/analysis.h"
#include "hooklab/logits.h"

namespace hooklab::cli {
namespace {

Result<std::string> slurp(const std::string& path) { return read_text_file(path); }

Result<nlohmann::ordered_json> evaluate_ioi(const HookedTransformer& model, const std::string& path) {
  HOOKLAB_ASSIGN_OR_RETURN(std::string text, slurp(path));
  std::vector<double> diffs;
  std::istringstream lines(text);
  int line_no = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("prompt") || !j["prompt"].is_string() ||
        !j.contains("answer") || !j["answer"].is_string() || !j.contains("wrong") || !j["wrong"].is_string()) {
      return make_error(ErrorCode::kInvalidInput,
                        path + ": line " + std::to_string(line_no) + " is not {\"prompt\", \"answer\", \"wrong\"}");
    }
    HOOKLAB_ASSIGN_OR_RETURN(int32_t answer, model.to_single_token(j["answer"].get<std::string>()));
    HOOKLAB_ASSIGN_OR_RETURN(int32_t wrong, model.to_single_token(j["wrong"].get<std::string>()));
    const std::vector<int32_t> tokens = model.to_tokens(j["prompt"].get<std::string>());
    // Two logits are all a logit difference needs: the final normalised residual at the last
    // position against two unembedding columns, not the full vocabulary product.
    RunOptions run;
    run.return_logits = false;
    run.cache_filter = [](const std::string& name) { return name == "ln_final.hook_normalized"; };
    HOOKLAB_ASSIGN_OR_RETURN(RunOutput out, model.run(tokens, run));
    const int64_t D = model.cfg().d_model;
    const float* x = out.cache.find({HookPoint::kLnFinalNormalized, -1}) + static_cast<int64_t>(tokens.size() - 1) * D;
    auto logit = [&](int32_t t) {
      std::vector<float> column(static_cast<size_t>(D));
      read_column(column.data(), model.weights().w_u, t);
      double s = model.weights().b_u[t];
      for (int64_t d = 0; d < D; ++d) s += static_cast<double>(x[d]) * column[static_cast<size_t>(d)];
      return s;
    };
    diffs.push_back(logit(answer) - logit(wrong));
  }
  if (diffs.empty()) return make_error(ErrorCode::kInvalidInput, path + ": no prompts");
  double sum = 0.0;
  int correct = 0;
  for (double d : diffs) {
    sum += d;
    correct += d > 0.0 ? 1 : 0;
  }
  std::vector<double> sorted = diffs;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  return nlohmann::ordered_json{{"n", n},
                                {"accuracy", static_cast<double>(correct) / static_cast<double>(n)},
                                {"mean_logit_diff", sum / static_cast<double>(n)},
                                {"median_logit_diff", median},
                                {"min_logit_diff", sorted.front()}};
}

Result<nlohmann::ordered_json> evaluate_repeated(const HookedTransformer& model, const std::string& path) {
  HOOKLAB_ASSIGN_OR_RETURN(std::string text, slurp(path));
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("n_repeat") || !j["n_repeat"].is_number_integer() ||
      !j.contains("sequences") || !j["sequences"].is_array()) {
    return make_error(ErrorCode::kInvalidInput, path + ": expected {\"n_repeat\": N, \"sequences\": [[...], ...]}");
  }
  const int n = j["n_repeat"].get<int>();
  const int L = model.cfg().n_layers, H = model.cfg().n_heads;
  std::vector<double> induction(static_cast<size_t>(L * H)), previous(induction.size()), duplicate(induction.size());
  double first = 0.0, second = 0.0;
  int sequences = 0;
  for (const auto& seq : j["sequences"]) {
    if (!seq.is_array() || static_cast<int>(seq.size()) != 2 * n + 1) {
      return make_error(ErrorCode::kInvalidInput, path + ": every sequence must hold BOS + 2 x n_repeat token ids");
    }
    std::vector<int32_t> tokens;
    for (const auto& t : seq) {
      if (!t.is_number_integer()) return make_error(ErrorCode::kInvalidInput, path + ": token ids must be integers");
      tokens.push_back(t.get<int32_t>());
    }
    HOOKLAB_ASSIGN_OR_RETURN(RunOutput out, model.run_with_cache(tokens, [](const std::string& name) {
      return name.ends_with("hook_pattern");
    }));
    const std::vector<double> losses = loss_per_token(out.logits, tokens);  // losses[t]: predicting token t + 1
    double a = 0.0, b = 0.0;
    for (int t = 1; t < n; ++t) a += losses[static_cast<size_t>(t)];
    for (int t = n + 1; t < 2 * n; ++t) b += losses[static_cast<size_t>(t)];
    first += a / (n - 1);
    second += b / (n - 1);
    const int P = static_cast<int>(tokens.size());
    for (int l = 0; l < L; ++l) {
      const float* pattern = out.cache.find({HookPoint::kPattern, l});
      for (int h = 0; h < H; ++h) {
        const float* p = pattern + static_cast<int64_t>(h) * P * P;
        const size_t at = static_cast<size_t>(l) * H + h;
        induction[at] += attention_diagonal_mean(p, P, n - 1);
        previous[at] += attention_diagonal_mean(p, P, 1);
        duplicate[at] += attention_diagonal_mean(p, P, n);
      }
    }
    ++sequences;
  }
  if (sequences == 0) return make_error(ErrorCode::kInvalidInput, path + ": no sequences");
  for (auto* v : {&induction, &previous, &duplicate}) {
    for (double& x : *v) x /= sequences;
  }
  return nlohmann::ordered_json{{"n_sequences", sequences},
                                {"n_repeat", n},
                                {"loss_first_half", first / sequences},
                                {"loss_second_half", second / sequences},
                                {"shape", {L, H}},
                                {"induction_score", induction},
                                {"previous_token_score", previous},
                                {"duplicate_token_score", duplicate}};
}

}  // namespace

Status evaluate_command(const std::vector<std::string>& argv) {
  std::set<std::string> options = model_options();
  options.insert({"ioi", "repeated"});
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, options, model_switches()));
  if (!args.has("ioi") && !args.has("repeated"))
    return usage_error("give --ioi FILE.jsonl and/or --repeated FILE.json");
  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (auto path = args.get("ioi")) { HOOKLAB_ASSIGN_OR_RETURN(out["ioi"], evaluate_ioi(*model, *path)); }
  if (auto path = args.get("repeated")) { HOOKLAB_ASSIGN_OR_RETURN(out["repeated"], evaluate_repeated(*model, *path)); }
  print_json(out);
  return {};
}

}  // namespace hooklab::cli
