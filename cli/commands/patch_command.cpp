#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/patching.h"

namespace hooklab::cli {

Status patch_command(const std::vector<std::string>& argv) {
  std::set<std::string> options = model_options();
  options.insert({"clean", "corrupted", "answer", "wrong", "act", "metric", "position", "direction", "engine"});
  std::set<std::string> switches = model_switches();
  switches.insert({"normalize", "no-bos"});
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, options, switches));
  HOOKLAB_ASSIGN_OR_RETURN(std::string clean, args.require("clean"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string corrupted, args.require("corrupted"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string answer, args.require("answer"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string act, args.require("act"));

  PatchRequest request;
  HOOKLAB_ASSIGN_OR_RETURN(request.sweep, parse_patch_sweep(act));
  request.metric.kind = MetricKind::kLogitDiff;
  if (auto metric = args.get("metric")) {
    HOOKLAB_ASSIGN_OR_RETURN(request.metric.kind, parse_metric_kind(*metric));
  }
  const bool needs_wrong = request.metric.kind == MetricKind::kLogitDiff;
  if (needs_wrong && !args.has("wrong")) return usage_error("missing required option --wrong (the logit_diff metric needs it)");
  HOOKLAB_ASSIGN_OR_RETURN(request.metric.position, args.get_int("position", -1, -1000000, 1000000));
  request.normalize = args.has("normalize");
  if (auto direction = args.get("direction")) {
    if (*direction == "denoising") {
      request.direction = PatchDirection::kDenoising;
    } else if (*direction == "noising") {
      request.direction = PatchDirection::kNoising;
    } else {
      return usage_error("--direction must be denoising (clean into corrupted) or noising (corrupted into clean)");
    }
  }
  const std::string engine = args.get("engine").value_or("fast");
  if (engine != "fast" && engine != "plain") return usage_error("--engine must be fast or plain");

  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));
  const bool bos = !args.has("no-bos");
  request.clean_tokens = model->to_tokens(clean, bos);
  request.corrupted_tokens = model->to_tokens(corrupted, bos);
  HOOKLAB_ASSIGN_OR_RETURN(int32_t answer_token, model->to_single_token(answer));
  int32_t wrong_token = answer_token;
  if (auto wrong = args.get("wrong")) {
    HOOKLAB_ASSIGN_OR_RETURN(wrong_token, model->to_single_token(*wrong));
  }
  request.metric.answer_pairs.push_back({answer_token, wrong_token});

  HOOKLAB_ASSIGN_OR_RETURN(PatchResult result, engine == "plain" ? patch_plain(*model, request) : patch(*model, request));
  nlohmann::ordered_json values = nlohmann::ordered_json::array();
  for (double v : result.values) values.push_back(json_number(v));
  print_json({{"act", patch_sweep_name(result.sweep)},
              {"shape", result.shape},
              {"axes", result.axes},
              {"metric", metric_kind_name(request.metric.kind)},
              {"normalized", request.normalize},
              {"direction", request.direction == PatchDirection::kDenoising ? "denoising" : "noising"},
              {"clean_metric", json_number(result.clean_metric)},
              {"corrupted_metric", json_number(result.corrupted_metric)},
              {"str_tokens", model->to_str_tokens(request.corrupted_tokens)},
              {"values", values}});
  return {};
}

}  // namespace hooklab::cli
