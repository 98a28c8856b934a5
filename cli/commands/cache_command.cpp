#include <filesystem>
#include <regex>

#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/npy.h"

namespace hooklab::cli {
namespace {

// --grad's metric: the mean loss unless --metric says otherwise, logit_diff when answers are given.
Result<Metric> gradient_metric(const Arguments& args, const HookedTransformer& model) {
  Metric metric;
  metric.kind = args.has("answer") ? MetricKind::kLogitDiff : MetricKind::kLoss;
  if (auto name = args.get("metric")) { HOOKLAB_ASSIGN_OR_RETURN(metric.kind, parse_metric_kind(*name)); }
  HOOKLAB_ASSIGN_OR_RETURN(metric.position, args.get_int("position", -1, -1000000, 1000000));
  if (auto answer = args.get("answer")) {
    HOOKLAB_ASSIGN_OR_RETURN(int32_t a, model.to_single_token(*answer));
    int32_t w = a;
    if (auto wrong = args.get("wrong")) {
      HOOKLAB_ASSIGN_OR_RETURN(w, model.to_single_token(*wrong));
    } else if (metric.kind == MetricKind::kLogitDiff) {
      return usage_error("the logit_diff metric needs --wrong as well as --answer");
    }
    metric.answer_pairs.push_back({a, w});
  }
  return metric;
}

Status write_entries(const std::string& out_dir, const ActivationCache& cache, nlohmann::ordered_json& listed) {
  for (const auto& entry : cache.entries()) {
    HOOKLAB_RETURN_IF_ERROR(
        write_npy_file(out_dir + "/" + entry.name + ".npy", cache.arena() + entry.offset, entry.shape));
    listed.push_back({{"name", entry.name}, {"shape", entry.shape}});
  }
  return {};
}

}  // namespace

Status cache_command(const std::vector<std::string>& argv) {
  std::set<std::string> options = model_options();
  options.insert({"prompt", "out", "names", "metric", "answer", "wrong", "position"});
  std::set<std::string> switches = model_switches();
  switches.insert({"no-bos", "attn-result", "grad"});
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
  const bool grad = args.has("grad");
  if (!grad && (args.has("metric") || args.has("answer") || args.has("wrong"))) {
    return usage_error("--metric, --answer and --wrong choose the metric of --grad; add --grad");
  }
  std::optional<Metric> metric;
  if (grad) { HOOKLAB_ASSIGN_OR_RETURN(metric, gradient_metric(args, *model)); }
  HOOKLAB_ASSIGN_OR_RETURN(RunOutput out,
                           metric ? model->run_with_cache_and_grads(tokens, *metric, filter, args.has("attn-result"))
                                  : model->run_with_cache(tokens, filter, args.has("attn-result")));

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return make_error(ErrorCode::kIoError, out_dir + ": cannot create directory (" + ec.message() + ")");
  nlohmann::ordered_json listed = nlohmann::ordered_json::array();
  HOOKLAB_RETURN_IF_ERROR(write_entries(out_dir, out.cache, listed));
  HOOKLAB_RETURN_IF_ERROR(write_npy_file(out_dir + "/logits.npy", out.logits.data(), out.logits.shape()));
  nlohmann::ordered_json json = {{"tokens", tokens},
                                 {"str_tokens", model->to_str_tokens(tokens)},
                                 {"activations", listed},
                                 {"logits", {{"name", "logits"}, {"shape", out.logits.shape()}}}};
  if (metric) {
    nlohmann::ordered_json gradients = nlohmann::ordered_json::array();
    HOOKLAB_RETURN_IF_ERROR(write_entries(out_dir, out.grads, gradients));
    nlohmann::ordered_json described = {{"kind", metric_kind_name(metric->kind)}, {"value", json_number(out.metric)}};
    if (metric_reads_one_position(*metric, model->cfg().d_vocab) || metric->kind == MetricKind::kTokenLoss) {
      described["position"] = metric_position(*metric, static_cast<int>(tokens.size()));
    }
    if (!metric->answer_pairs.empty()) described["answer_pairs"] = metric->answer_pairs;
    json["metric"] = described;
    json["gradients"] = gradients;
  }
  print_json(json);
  return {};
}

}  // namespace hooklab::cli
