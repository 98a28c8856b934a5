// hooklab generate: TransformerLens's generate with its sampling arguments, activation
// addition (--steer with --steer-from/--steer-to) and head ablation, on the KV-cached forward.
#include <charconv>
#include <cmath>

#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/generation.h"

namespace hooklab::cli {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == separator) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

Result<int> parse_int(const std::string& text, const std::string& what) {
  int out = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr != text.data() + text.size())
    return usage_error(what + ": '" + text + "' is not an integer");
  return out;
}

Result<SteeringPositions> parse_steering_positions(const Arguments& args) {
  const std::string where = args.get("steer-positions").value_or("prompt");
  if (where == "prompt") return SteeringPositions::kPrompt;
  if (where == "all") return SteeringPositions::kAll;
  if (where == "new") return SteeringPositions::kNew;
  return usage_error("--steer-positions must be prompt, all or new");
}

// The vector: --steer-by activations (default): acts(--steer-to) - acts(--steer-from); --steer-by
// unembed: the unit direction W_U[:, --steer-to] - W_U[:, --steer-from] (--steer-from optional).
Result<std::vector<float>> parse_steering_vector(const Arguments& args, const HookedTransformer& model, HookRef hook) {
  const std::string by = args.get("steer-by").value_or("activations");
  if (by == "unembed") {
    if (!args.has("steer-to")) return usage_error("--steer-by unembed needs --steer-to (a single token)");
    return unembedding_direction(model, hook, *args.get("steer-to"), args.get("steer-from").value_or(""));
  }
  if (by != "activations") return usage_error("--steer-by must be activations or unembed");
  if (!args.has("steer-from") || !args.has("steer-to")) {
    return usage_error("--steer needs --steer-from and --steer-to (the vector is to - from)");
  }
  return activation_difference(model, hook, *args.get("steer-to"), *args.get("steer-from"));
}

// --steer HOOK:LAYER:COEF --steer-from A --steer-to B [--steer-by activations|unembed]
// [--steer-positions prompt|all|new]
Result<Steering> parse_steering(const Arguments& args, const HookedTransformer& model) {
  const std::vector<std::string> parts = split(*args.get("steer"), ':');
  if (parts.size() != 3) return usage_error("--steer takes HOOK:LAYER:COEF, e.g. resid_pre:6:10");
  HOOKLAB_ASSIGN_OR_RETURN(int layer, parse_int(parts[1], "--steer layer"));
  double coefficient = 0.0;
  auto [ptr, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), coefficient);
  if (ec != std::errc() || ptr != parts[2].data() + parts[2].size() || !std::isfinite(coefficient)) {
    return usage_error("--steer coefficient: '" + parts[2] + "' is not a number");
  }
  auto hook = resolve_hook_name(parts[0], layer, "", model.cfg().n_layers);
  if (!hook.ok()) return usage_error("--steer: " + hook.error().message);
  Steering steering;
  steering.hook = *hook;
  steering.coefficient = coefficient;
  HOOKLAB_ASSIGN_OR_RETURN(steering.positions, parse_steering_positions(args));
  HOOKLAB_ASSIGN_OR_RETURN(steering.vector, parse_steering_vector(args, model, *hook));
  return steering;
}

// --ablate-head L.H[,L.H...] with --ablation zero|mean
Result<std::vector<HeadAblation>> parse_ablations(const Arguments& args) {
  std::vector<HeadAblation> out;
  if (!args.has("ablate-head")) return out;
  const std::string kind = args.get("ablation").value_or("zero");
  if (kind != "zero" && kind != "mean") return usage_error("--ablation must be zero or mean");
  for (const std::string& item : split(*args.get("ablate-head"), ',')) {
    const std::vector<std::string> lh = split(item, '.');
    if (lh.size() != 2) return usage_error("--ablate-head takes LAYER.HEAD, e.g. 9.6, got '" + item + "'");
    HOOKLAB_ASSIGN_OR_RETURN(int layer, parse_int(lh[0], "--ablate-head layer"));
    HOOKLAB_ASSIGN_OR_RETURN(int head, parse_int(lh[1], "--ablate-head head"));
    out.push_back({layer, head, kind == "mean" ? AblationKind::kMean : AblationKind::kZero});
  }
  return out;
}

Result<GenerateOptions> parse_options(const Arguments& args, const HookedTransformer& model) {
  GenerateOptions o;
  HOOKLAB_ASSIGN_OR_RETURN(o.max_new_tokens, args.get_int("max-new-tokens", 10, 0, 1 << 20));
  HOOKLAB_ASSIGN_OR_RETURN(o.sampling.temperature, args.get_double("temperature", 1.0, 0.0, 1e6));
  HOOKLAB_ASSIGN_OR_RETURN(o.sampling.top_k, args.get_int("top-k", 0, 0, 1 << 30));
  HOOKLAB_ASSIGN_OR_RETURN(o.sampling.top_p, args.get_double("top-p", 1.0, 0.0, 1.0));
  if (o.sampling.top_p <= 0.0) return usage_error("--top-p must be in (0, 1]");
  HOOKLAB_ASSIGN_OR_RETURN(o.sampling.freq_penalty, args.get_double("freq-penalty", 0.0, 0.0, 1e6));
  HOOKLAB_ASSIGN_OR_RETURN(int seed, args.get_int("seed", 0, 0, 2147483647));
  o.seed = static_cast<uint64_t>(seed);
  o.stop_at_eos = args.has("stop-at-eos");
  if (args.has("steer")) {
    HOOKLAB_ASSIGN_OR_RETURN(Steering steering, parse_steering(args, model));
    o.steering.push_back(std::move(steering));
  } else if (args.has("steer-from") || args.has("steer-to") || args.has("steer-positions") || args.has("steer-by")) {
    return usage_error("--steer-from, --steer-to, --steer-by and --steer-positions need --steer HOOK:LAYER:COEF");
  }
  HOOKLAB_ASSIGN_OR_RETURN(o.ablations, parse_ablations(args));
  return o;
}

nlohmann::ordered_json token_json(const HookedTransformer& model, const TokenProbability& t) {
  return {{"token", t.token},
          {"str", model.tokenizer().token_text(t.token)},
          {"prob", json_number(t.prob)},
          {"sample_prob", json_number(t.sample_prob)}};
}

nlohmann::ordered_json result_json(const HookedTransformer& model, const Generator& gen, const SamplingOptions& o,
                                   uint64_t seed) {
  const std::span<const int32_t> all = gen.tokens();
  const std::span<const int32_t> prompt = all.first(static_cast<size_t>(gen.prompt_length()));
  const std::span<const int32_t> generated = all.subspan(static_cast<size_t>(gen.prompt_length()));
  nlohmann::ordered_json steps = nlohmann::ordered_json::array();
  for (const SampledToken& s : gen.steps()) {
    nlohmann::ordered_json step = token_json(model, s.chosen);
    step["top"] = nlohmann::ordered_json::array();
    for (const TokenProbability& t : s.top) step["top"].push_back(token_json(model, t));
    steps.push_back(std::move(step));
  }
  return {{"prompt_tokens", std::vector<int32_t>(prompt.begin(), prompt.end())},
          {"tokens", std::vector<int32_t>(generated.begin(), generated.end())},
          {"str_tokens", model.to_str_tokens(generated)},
          {"text", model.to_string(all)},
          {"generated_text", model.to_string(generated)},
          {"stopped_at_eos", gen.stopped_at_eos()},
          {"sampling",
           {{"temperature", o.temperature},
            {"top_k", o.top_k},
            {"top_p", o.top_p},
            {"freq_penalty", o.freq_penalty},
            {"seed", seed}}},
          {"steps", steps}};
}

}  // namespace

Status generate_command(const std::vector<std::string>& argv) {
  std::set<std::string> options = model_options();
  options.insert({"prompt", "max-new-tokens", "temperature", "top-k", "top-p", "freq-penalty", "seed", "steer",
                  "steer-from", "steer-to", "steer-by", "steer-positions", "ablate-head", "ablation"});
  std::set<std::string> switches = model_switches();
  switches.insert({"no-bos", "stop-at-eos"});
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, options, switches));
  HOOKLAB_ASSIGN_OR_RETURN(std::string prompt, args.require("prompt"));
  HOOKLAB_ASSIGN_OR_RETURN(auto model, load_model(args));
  HOOKLAB_ASSIGN_OR_RETURN(GenerateOptions o, parse_options(args, *model));
  const SamplingOptions sampling = o.sampling;
  const uint64_t seed = o.seed;
  HOOKLAB_ASSIGN_OR_RETURN(Generator gen,
                           generate(*model, model->to_tokens(prompt, !args.has("no-bos")), std::move(o)));
  print_json(result_json(*model, gen, sampling, seed));
  return {};
}

}  // namespace hooklab::cli
