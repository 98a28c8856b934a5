#include "cli_context.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace hooklab::cli {

const std::set<std::string>& model_options() {
  static const std::set<std::string> kOptions = {"model", "threads", "tokenizer", "backend", "weights"};
  return kOptions;
}

const std::set<std::string>& model_switches() {
  static const std::set<std::string> kSwitches = {"no-processing"};
  return kSwitches;
}

std::string tokenizer_dir(const Arguments& args) {
  if (auto dir = args.get("tokenizer")) return *dir;
  if (const char* env = std::getenv("HOOKLAB_TOKENIZER_DIR"); env != nullptr && *env != '\0') return env;
  return HOOKLAB_DEFAULT_TOKENIZER_DIR;
}

Result<Tokenizer> load_tokenizer(const Arguments& args) {
  const std::string dir = tokenizer_dir(args);
  HOOKLAB_ASSIGN_OR_RETURN(std::string vocab, read_text_file(dir + "/encoder.json"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string merges, read_text_file(dir + "/vocab.bpe"));
  return Tokenizer::from_gpt2_files(vocab, merges, dir + "/encoder.json");
}

Result<std::unique_ptr<HookedTransformer>> load_model(const Arguments& args) {
  HOOKLAB_ASSIGN_OR_RETURN(std::string dir, args.require("model"));
  HOOKLAB_ASSIGN_OR_RETURN(int threads, args.get_int("threads", 0, 0, 256));
  LoadOptions options;
  options.threads = threads;
  options.model_name = dir;
  options.processing =
      args.has("no-processing") ? ProcessingOptions::none() : ProcessingOptions::transformer_lens_default();
  if (auto weights = args.get("weights")) {
    if (*weights == weight_precision_name(WeightPrecision::kF16)) {
      options.weight_precision = WeightPrecision::kF16;
    } else if (*weights != weight_precision_name(WeightPrecision::kF32)) {
      return usage_error("--weights must be f32 or f16");
    }
  }
  if (auto backend = args.get("backend")) {
    if (*backend == "reference") {
      options.backend = BackendKind::kReference;
    } else if (*backend == "xnnpack") {
      options.backend = BackendKind::kXnnpack;
    } else if (*backend != "auto") {
      return usage_error("--backend must be auto, xnnpack or reference");
    }
  }
  HOOKLAB_ASSIGN_OR_RETURN(ModelFiles files, read_model_directory(dir, tokenizer_dir(args)));
  if (threads == 0) {
    // Threads pay off only for wide layers; on small models their synchronisation costs more
    // than it saves (measured: 30x slower on a loaded 2-core machine for a 128-wide model).
    auto cfg = parse_hf_gpt2_config(files.config_json, files.config_name);
    const int hardware = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    options.threads = cfg.ok() && cfg->d_model >= 512 ? std::min(hardware, 4) : 1;
  }
  return HookedTransformer::load(files, options);
}

nlohmann::ordered_json json_number(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

void print_json(const nlohmann::ordered_json& value) {
  const std::string text = value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace hooklab::cli
