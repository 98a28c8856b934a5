// Generation as a resumable job: Model.startGenerate(tokens, options) -> Generator, whose
// step() produces one token, so the worker streams tokens and can stop between them.
#include <emscripten/bind.h>

#include <cmath>

#include "device/device_generation.h"
#include "hooklab/generation.h"
#include "js_values.h"
#include "run_values.h"
#include "wasm_generator.h"
#include "wasm_model.h"

namespace hooklab::wasm {
namespace {

constexpr int kMaxSteering = 16;           // steering vectors in one generation
constexpr double kMaxMagnitude = 1e6;      // temperature, freq_penalty, |coefficient|
constexpr double kMaxSeed = 2147483647;    // as the CLI's --seed
constexpr size_t kMaxPromptChars = 65536;  // a steering prompt (it must also fit n_ctx tokens)

Error bad(const std::string& message) { return make_error(ErrorCode::kInvalidArgument, message); }

std::string format_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// object[key] as a number in [lo, hi] (a whole number when `integer`), or `fallback` when absent.
Result<double> number_option(const val& object, const char* key, const std::string& what, double fallback, double lo,
                             double hi, bool integer) {
  if (!has(object, key)) return fallback;
  const val v = object[key];
  if (v.typeOf().as<std::string>() != "number") return bad(what + " must be a number");
  const double x = v.as<double>();
  if (!std::isfinite(x) || x < lo || x > hi || (integer && x != std::floor(x))) {
    return bad(what + " must be " + (integer ? "an integer" : "a number") + " in [" + format_number(lo) + ", " +
               format_number(hi) + "], got " + format_number(x));
  }
  return x;
}

Result<std::string> string_option(const val& object, const char* key, const std::string& what) {
  if (!has(object, key) || object[key].typeOf().as<std::string>() != "string") return bad(what + " must be a string");
  std::string text = object[key].as<std::string>();
  if (text.size() > kMaxPromptChars)
    return bad(what + " is longer than " + std::to_string(kMaxPromptChars) + " characters");
  return text;
}

// JavaScript arrays of option objects: at most `limit` items.
Result<int> array_length(const val& object, const char* key, const std::string& what, int limit) {
  if (!has(object, key)) return 0;
  const val array = object[key];
  if (!array.isArray()) return bad(what + " must be an array");
  const int n = array["length"].as<int>();
  if (n > limit) return bad(what + " has " + std::to_string(n) + " items; at most " + std::to_string(limit));
  return n;
}

Result<SteeringPositions> steering_positions(const val& spec) {
  if (!has(spec, "positions")) return SteeringPositions::kPrompt;  // activation addition's choice
  const std::string where =
      spec["positions"].typeOf().as<std::string>() == "string" ? spec["positions"].as<std::string>() : "";
  if (where == "prompt") return SteeringPositions::kPrompt;
  if (where == "all") return SteeringPositions::kAll;
  if (where == "new") return SteeringPositions::kNew;
  return bad("steering positions must be \"prompt\", \"all\" or \"new\"");
}

// The steering vector of a spec: its vector, or from + to (activation addition; with by:
// "unembed", the unit direction W_U[:, to] - W_U[:, from], from optional).
Result<std::vector<float>> steering_vector(const HookedTransformer& model, HookRef hook, const val& spec) {
  if (has(spec, "vector")) return float_vector(spec["vector"]);  // the core checks its width
  const std::string by = has(spec, "by") && spec["by"].typeOf().as<std::string>() == "string"
                             ? spec["by"].as<std::string>()
                             : "activations";
  if (by == "unembed") {
    HOOKLAB_ASSIGN_OR_RETURN(std::string to,
                             string_option(spec, "to", "steering to (the token whose unembedding is added)"));
    std::string from;
    if (has(spec, "from")) {
      HOOKLAB_ASSIGN_OR_RETURN(from, string_option(spec, "from", "steering from (the token subtracted)"));
    }
    return unembedding_direction(model, hook, to, from);
  }
  if (by != "activations") return bad("steering by must be \"activations\" or \"unembed\"");
  HOOKLAB_ASSIGN_OR_RETURN(std::string from, string_option(spec, "from", "steering from (the prompt subtracted)"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string to, string_option(spec, "to", "steering to (the prompt added)"));
  return activation_difference(model, hook, to, from);
}

// {hook, layer, coefficient, positions?, and what steering_vector reads}.
Result<Steering> parse_steering(const HookedTransformer& model, const val& spec) {
  const ModelConfig& cfg = model.cfg();
  HOOKLAB_ASSIGN_OR_RETURN(std::string name, string_option(spec, "hook", "steering hook"));
  HOOKLAB_ASSIGN_OR_RETURN(double layer, number_option(spec, "layer", "steering layer", 0, 0, cfg.n_layers - 1, true));
  HOOKLAB_ASSIGN_OR_RETURN(HookRef hook, resolve_hook_name(name, static_cast<int>(layer), "", cfg.n_layers));
  Steering steering;
  steering.hook = hook;
  HOOKLAB_ASSIGN_OR_RETURN(steering.coefficient, number_option(spec, "coefficient", "steering coefficient", 1.0,
                                                               -kMaxMagnitude, kMaxMagnitude, false));
  HOOKLAB_ASSIGN_OR_RETURN(steering.positions, steering_positions(spec));
  HOOKLAB_ASSIGN_OR_RETURN(steering.vector, steering_vector(model, hook, spec));
  return steering;
}

// {layer, head, kind: "zero" | "mean"}.
Result<HeadAblation> parse_ablation(const ModelConfig& cfg, const val& spec) {
  HeadAblation a;
  HOOKLAB_ASSIGN_OR_RETURN(double layer,
                           number_option(spec, "layer", "ablated head's layer", -1, 0, cfg.n_layers - 1, true));
  HOOKLAB_ASSIGN_OR_RETURN(double head,
                           number_option(spec, "head", "ablated head's index", -1, 0, cfg.n_heads - 1, true));
  if (layer < 0 || head < 0) return bad("an ablated head needs a layer and a head");
  a.layer = static_cast<int>(layer);
  a.head = static_cast<int>(head);
  const std::string kind = has(spec, "kind") && spec["kind"].typeOf().as<std::string>() == "string"
                               ? spec["kind"].as<std::string>()
                               : "zero";
  if (kind != "zero" && kind != "mean") return bad("a head ablation's kind must be \"zero\" or \"mean\"");
  a.kind = kind == "mean" ? AblationKind::kMean : AblationKind::kZero;
  return a;
}

Status parse_sampling(const val& o, int64_t prompt_length, const ModelConfig& cfg, GenerateOptions& out) {
  const double room = static_cast<double>(std::max<int64_t>(cfg.n_ctx - prompt_length, 0));
  HOOKLAB_ASSIGN_OR_RETURN(double max_new,
                           number_option(o, "maxNewTokens",
                                         "maxNewTokens (n_ctx " + std::to_string(cfg.n_ctx) + " - the prompt's " +
                                             std::to_string(prompt_length) + " tokens)",
                                         10, 0, room, true));
  out.max_new_tokens = static_cast<int>(max_new);
  HOOKLAB_ASSIGN_OR_RETURN(out.sampling.temperature,
                           number_option(o, "temperature", "temperature", 1.0, 0, kMaxMagnitude, false));
  HOOKLAB_ASSIGN_OR_RETURN(double top_k, number_option(o, "topK", "topK", 0, 0, cfg.d_vocab, true));
  out.sampling.top_k = static_cast<int>(top_k);
  HOOKLAB_ASSIGN_OR_RETURN(out.sampling.top_p, number_option(o, "topP", "topP", 1.0, 0, 1, false));
  if (out.sampling.top_p <= 0) return bad("topP must be in (0, 1], got 0");
  HOOKLAB_ASSIGN_OR_RETURN(out.sampling.freq_penalty,
                           number_option(o, "freqPenalty", "freqPenalty", 0, 0, kMaxMagnitude, false));
  HOOKLAB_ASSIGN_OR_RETURN(double seed, number_option(o, "seed", "seed", 0, 0, kMaxSeed, true));
  out.seed = static_cast<uint64_t>(seed);
  if (has(o, "stopAtEos")) {
    if (!o["stopAtEos"].isTrue() && !o["stopAtEos"].isFalse()) return bad("stopAtEos must be true or false");
    out.stop_at_eos = o["stopAtEos"].isTrue();
  }
  return {};
}

}  // namespace

Result<GenerateOptions> parse_generate_options(const HookedTransformer& model, int64_t prompt_length, const val& o,
                                               std::vector<std::shared_ptr<std::vector<float>>>& hook_data) {
  const ModelConfig& cfg = model.cfg();
  GenerateOptions out;
  HOOKLAB_RETURN_IF_ERROR(parse_sampling(o, prompt_length, cfg, out));
  HOOKLAB_ASSIGN_OR_RETURN(int n_steering, array_length(o, "steering", "steering", kMaxSteering));
  for (int i = 0; i < n_steering; ++i) {
    HOOKLAB_ASSIGN_OR_RETURN(Steering s, parse_steering(model, o["steering"][i]));
    out.steering.push_back(std::move(s));
  }
  HOOKLAB_ASSIGN_OR_RETURN(int n_ablations, array_length(o, "ablateHeads", "ablateHeads", cfg.n_layers * cfg.n_heads));
  for (int i = 0; i < n_ablations; ++i) {
    HOOKLAB_ASSIGN_OR_RETURN(HeadAblation a, parse_ablation(cfg, o["ablateHeads"][i]));
    out.ablations.push_back(a);
  }
  HOOKLAB_ASSIGN_OR_RETURN(int n_hooks, array_length(o, "hooks", "hooks", 1024));
  for (int i = 0; i < n_hooks; ++i) {
    HOOKLAB_ASSIGN_OR_RETURN(ForwardHook hook, parse_hook(o["hooks"][i], hook_data));
    out.hooks.push_back(std::move(hook));
  }
  return out;
}

namespace {

val token_value(const HookedTransformer& model, const TokenProbability& t) {
  val out = val::object();
  out.set("token", t.token);
  out.set("str", model.tokenizer().token_text(t.token));
  out.set("prob", t.prob);
  out.set("sampleProb", t.sample_prob);
  return out;
}

}  // namespace

WasmGenerator::WasmGenerator(const HookedTransformer& model, Generator generator,
                             std::vector<std::shared_ptr<std::vector<float>>> hook_data)
    : model_(&model), host_(std::move(generator)), hook_data_(std::move(hook_data)) {}

WasmGenerator::WasmGenerator(const HookedTransformer& model, std::unique_ptr<DeviceGeneration> device)
    : model_(&model), device_(std::move(device)) {}

WasmGenerator::~WasmGenerator() = default;

const Generator& WasmGenerator::generator() const { return device_ ? device_->generator() : *host_; }

val WasmGenerator::begin_step() {
  if (device_ && !device_->done()) {
    if (Status encoded = device_->begin_step(); !encoded.ok()) return error_value(encoded.error());
  }
  val out = val::object();
  out.set("ok", true);
  return out;
}

val WasmGenerator::step() {
  val out = val::object();
  if (generator().done()) {
    out.set("done", true);
    return out;
  }
  auto sampled = device_ ? device_->finish_step() : host_->step();
  if (!sampled.ok()) return error_value(sampled.error());
  const HookedTransformer& model = *model_;
  val step = token_value(model, sampled->chosen);
  val top = val::array();
  for (const TokenProbability& t : sampled->top) top.call<void>("push", token_value(model, t));
  step.set("top", top);
  out.set("done", generator().done());
  out.set("step", step);
  return out;
}

val WasmGenerator::tokens() const {
  const std::span<const int32_t> all = generator().tokens();
  return int32_copy(std::vector<int32_t>(all.begin(), all.end()));
}

WasmGenerator* WasmModel::start_generate(const val& tokens_value, const val& options) const {
  std::vector<int32_t> prompt = int32_vector(tokens_value);
  std::vector<std::shared_ptr<std::vector<float>>> hook_data;
  auto parsed = parse_generate_options(*model_, static_cast<int64_t>(prompt.size()), options, hook_data);
  if (!parsed.ok()) return set_last_error(parsed.error());
  auto generator = Generator::start(*model_, std::move(prompt), std::move(parsed).value());
  if (!generator.ok()) return set_last_error(generator.error());
  return new WasmGenerator(*model_, std::move(generator).value(), std::move(hook_data));
}

}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_generation) {
  using namespace emscripten;
  using hooklab::wasm::WasmGenerator;
  class_<WasmGenerator>("Generator")
      .function("beginStep", &WasmGenerator::begin_step)
      .function("step", &WasmGenerator::step)
      .function("done", &WasmGenerator::done)
      .function("tokens", &WasmGenerator::tokens)
      .function("promptLength", &WasmGenerator::prompt_length)
      .function("stoppedAtEos", &WasmGenerator::stopped_at_eos);
}
