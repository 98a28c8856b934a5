// `patch` (exact activation patching) and `attribute` (attribution patching, AtP / AtP*): the
// same arguments and the same JSON, plus "method"; both take --dataset FILE.jsonl.
// `path-patch`: path patching from every sender head to the logits or to receiver heads.
#include <fstream>
#include <sstream>

#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/attribution.h"
#include "hooklab/patch_dataset.h"
#include "hooklab/path_patching.h"

namespace hooklab::cli {
namespace {

std::set<std::string> patch_options() {
  std::set<std::string> options = model_options();
  options.insert({"clean", "corrupted", "answer", "wrong", "act", "metric", "position", "direction", "engine", "method",
                  "dataset", "bootstrap", "seed"});
  return options;
}

// The request's sweep, metric, direction and normalisation from the command line (the tokens
// and answers come later, once the model and its tokenizer are loaded).
Result<PatchRequest> parse_request(const Arguments& args, PatchMethod method) {
  PatchRequest request;
  request.method = method;
  HOOKLAB_ASSIGN_OR_RETURN(std::string act, args.require("act"));
  HOOKLAB_ASSIGN_OR_RETURN(request.sweep, parse_patch_sweep(act));
  if (auto metric = args.get("metric")) { HOOKLAB_ASSIGN_OR_RETURN(request.metric.kind, parse_metric_kind(*metric)); }
  HOOKLAB_ASSIGN_OR_RETURN(request.metric.position, args.get_int("position", -1, -1000000, 1000000));
  request.normalize = args.has("normalize");
  if (auto direction = args.get("direction")) {
    HOOKLAB_ASSIGN_OR_RETURN(request.direction, parse_patch_direction(*direction));
  }
  return request;
}

Result<std::vector<std::pair<int32_t, int32_t>>> parse_answers(const Arguments& args, const HookedTransformer& model,
                                                               MetricKind kind, bool required) {
  std::vector<std::pair<int32_t, int32_t>> answers;
  auto answer = args.get("answer");
  if (!answer) {
    if (required) return usage_error("missing required option --answer");
    return answers;
  }
  const bool needs_wrong = kind == MetricKind::kLogitDiff;
  if (needs_wrong && !args.has("wrong"))
    return usage_error("missing required option --wrong (the logit_diff metric needs it)");
  HOOKLAB_ASSIGN_OR_RETURN(int32_t answer_token, model.to_single_token(*answer));
  int32_t wrong_token = answer_token;
  if (auto wrong = args.get("wrong")) { HOOKLAB_ASSIGN_OR_RETURN(wrong_token, model.to_single_token(*wrong)); }
  answers.push_back({answer_token, wrong_token});
  return answers;
}

nlohmann::ordered_json json_values(const std::vector<double>& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (double v : values) out.push_back(json_number(v));
  return out;
}

// The fields every patching method prints after its own: layout, metric, direction, baselines.
template <class Result, class Request>
void add_common_fields(nlohmann::ordered_json& out, const Result& result, const Request& request) {
  out["shape"] = result.shape;
  out["axes"] = result.axes;
  out["metric"] = metric_kind_name(request.metric.kind);
  out["normalized"] = request.normalize;
  out["direction"] = patch_direction_name(request.direction);
  out["clean_metric"] = json_number(result.clean_metric);
  out["corrupted_metric"] = json_number(result.corrupted_metric);
}

nlohmann::ordered_json result_json(const PatchResult& result, const PatchRequest& request) {
  nlohmann::ordered_json out = {{"act", patch_sweep_name(result.sweep)}, {"method", patch_method_name(result.method)}};
  add_common_fields(out, result, request);
  return out;
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIoError, path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > max_bytes) {
    return make_error(ErrorCode::kInvalidInput, path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return text.str();
}

Status dataset_command(const Arguments& args, const HookedTransformer& model, PatchRequest request) {
  HOOKLAB_ASSIGN_OR_RETURN(std::string text, read_text_file(*args.get("dataset"), kMaxDatasetBytes));
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<PromptPair> pairs, parse_prompt_pairs_jsonl(model, text, !args.has("no-bos")));
  HOOKLAB_ASSIGN_OR_RETURN(request.metric.answer_pairs, parse_answers(args, model, request.metric.kind, false));
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].answer_pairs.empty() && request.metric.answer_pairs.empty() &&
        request.metric.kind != MetricKind::kLinear) {
      return make_error(ErrorCode::kInvalidInput,
                        "dataset line " + std::to_string(i + 1) + " has no \"answer\" and no --answer was given");
    }
  }
  HOOKLAB_ASSIGN_OR_RETURN(int samples, args.get_int("bootstrap", 1000, 1, 100000));
  HOOKLAB_ASSIGN_OR_RETURN(int seed, args.get_int("seed", 1, 0, 2147483647));
  HOOKLAB_ASSIGN_OR_RETURN(DatasetPatchResult result,
                           patch_dataset(model, request, pairs, samples, static_cast<uint64_t>(seed)));
  nlohmann::ordered_json out = result_json(result.first, request);
  out.erase("clean_metric");
  out.erase("corrupted_metric");
  out["pairs"] = result.pairs;
  out["bootstrap_samples"] = samples;
  out["values"] = json_values(result.mean);
  out["mean"] = json_values(result.mean);
  out["ci_low"] = json_values(result.ci_low);
  out["ci_high"] = json_values(result.ci_high);
  print_json(out);
  return {};
}

Status run_patch_command(const std::vector<std::string>& argv, std::optional<PatchMethod> fixed_method) {
  std::set<std::string> switches = model_switches();
  switches.insert({"normalize", "no-bos", "compare"});
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, patch_options(), switches));
  PatchMethod method = fixed_method.value_or(PatchMethod::kAtp);
  if (auto name = args.get("method")) {
    if (fixed_method) return usage_error("--method is for `hooklab attribute` (patch is always exact)");
    HOOKLAB_ASSIGN_OR_RETURN(method, parse_patch_method(*name));
    if (method == PatchMethod::kExact)
      return usage_error("--method must be atp or atp-star (exact sweeps: hooklab patch)");
  }
  HOOKLAB_ASSIGN_OR_RETURN(PatchRequest request, parse_request(args, method));
  const std::string engine = args.get("engine").value_or("fast");
  if (engine != "fast" && engine != "plain") return usage_error("--engine must be fast or plain");
  if (!args.has("dataset")) {
    for (const char* name : {"clean", "corrupted"}) HOOKLAB_RETURN_IF_ERROR(args.require(name).status());
  }
  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));
  if (args.has("dataset")) return dataset_command(args, *model, std::move(request));

  const bool bos = !args.has("no-bos");
  request.clean_tokens = model->to_tokens(*args.get("clean"), bos);
  request.corrupted_tokens = model->to_tokens(*args.get("corrupted"), bos);
  HOOKLAB_ASSIGN_OR_RETURN(request.metric.answer_pairs, parse_answers(args, *model, request.metric.kind,
                                                                      request.metric.kind != MetricKind::kLinear));
  // --compare: the estimate and the exact sweep as one session (the prompts run once).
  const bool compare = args.has("compare") && method != PatchMethod::kExact;
  if (compare) request.items = {{request.sweep, method}, {request.sweep, PatchMethod::kExact}};
  std::vector<PatchResult> results;
  if (method == PatchMethod::kExact && engine == "plain") {
    HOOKLAB_ASSIGN_OR_RETURN(PatchResult plain, patch_plain(*model, request));
    results.push_back(std::move(plain));
  } else {
    HOOKLAB_ASSIGN_OR_RETURN(results, patch_items(*model, request));
  }
  const PatchResult& result = results.front();
  nlohmann::ordered_json out = result_json(result, request);
  out["str_tokens"] = model->to_str_tokens(request.corrupted_tokens);
  out["values"] = json_values(result.values);
  if (compare) {
    const PatchResult& exact = results.back();
    const SweepAgreement agreement = compare_sweeps(result.values, exact.values);
    out["exact_values"] = json_values(exact.values);
    out["agreement"] = {{"pearson", json_number(agreement.pearson)},
                        {"spearman", json_number(agreement.spearman)},
                        {"top_k", agreement.top_k},
                        {"top_k_overlap", json_number(agreement.top_k_overlap)}};
  }
  print_json(out);
  return {};
}

// --receivers "9.9:q,10.0:q" (or "logits", the default: the final residual stream).
Result<std::vector<PathReceiver>> parse_receivers(const Arguments& args) {
  std::vector<PathReceiver> receivers;
  const std::string list = args.get("receivers").value_or("logits");
  if (list == "logits") return receivers;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    std::string_view entry = std::string_view(list).substr(start, end - start);
    start = end + 1;
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);  // "9.9:q, 10.0:q", as the lab takes it
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) continue;
    HOOKLAB_ASSIGN_OR_RETURN(PathReceiver r, parse_path_receiver(entry));
    receivers.push_back(r);
    if (receivers.size() > 4096) return usage_error("--receivers lists more than 4096 receivers");
  }
  return receivers;
}

}  // namespace

Status path_patch_command(const std::vector<std::string>& argv) {
  std::set<std::string> options = model_options();
  options.insert({"clean", "corrupted", "answer", "wrong", "metric", "position", "direction", "receivers"});
  std::set<std::string> switches = model_switches();
  switches.insert({"normalize", "no-bos"});
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, options, switches));
  PathPatchRequest request;
  if (auto metric = args.get("metric")) { HOOKLAB_ASSIGN_OR_RETURN(request.metric.kind, parse_metric_kind(*metric)); }
  HOOKLAB_ASSIGN_OR_RETURN(request.metric.position, args.get_int("position", -1, -1000000, 1000000));
  if (auto direction = args.get("direction")) {
    HOOKLAB_ASSIGN_OR_RETURN(request.direction, parse_patch_direction(*direction));
  }
  request.normalize = args.has("normalize");
  HOOKLAB_ASSIGN_OR_RETURN(request.receivers, parse_receivers(args));
  for (const char* name : {"clean", "corrupted"}) HOOKLAB_RETURN_IF_ERROR(args.require(name).status());
  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));
  const bool bos = !args.has("no-bos");
  request.clean_tokens = model->to_tokens(*args.get("clean"), bos);
  request.corrupted_tokens = model->to_tokens(*args.get("corrupted"), bos);
  HOOKLAB_ASSIGN_OR_RETURN(request.metric.answer_pairs, parse_answers(args, *model, request.metric.kind,
                                                                      request.metric.kind != MetricKind::kLinear));
  HOOKLAB_ASSIGN_OR_RETURN(PathPatchResult result, path_patch(*model, request));
  nlohmann::ordered_json receivers = nlohmann::ordered_json::array();
  for (const PathReceiver& r : result.receivers) receivers.push_back(path_receiver_label(r));
  nlohmann::ordered_json out = {{"method", "path"}, {"receivers", receivers}};
  add_common_fields(out, result, request);
  out["receiving_metric"] = json_number(result.receiving_metric);
  out["cells_computed"] = result.cells_computed;
  out["values"] = json_values(result.values);
  print_json(out);
  return {};
}

Status patch_command(const std::vector<std::string>& argv) { return run_patch_command(argv, PatchMethod::kExact); }
Status attribute_command(const std::vector<std::string>& argv) { return run_patch_command(argv, std::nullopt); }

}  // namespace hooklab::cli
