#include "hooklab/hooked_transformer.h"

#include <filesystem>

#include "model/forward.h"

namespace hooklab {
namespace {

bool file_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

std::string quoted_tokens(const Tokenizer& tok, std::span<const int32_t> ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ", ";
    s += "'" + tok.token_text(ids[i]) + "'";
  }
  return s + "]";
}

// The tokenizer ModelFiles names; a model's own must fit its embedding (a smaller tokenizer is
// fine: Hugging Face models often pad vocab_size).
Result<std::shared_ptr<const Tokenizer>> build_tokenizer(const ModelFiles& files, const ModelConfig& cfg) {
  if (files.tokenizer != nullptr) return files.tokenizer;
  std::vector<int32_t> special_ids = {cfg.bos_token_id};
  if (cfg.eos_token_id >= 0) special_ids.push_back(cfg.eos_token_id);
  Result<Tokenizer> built =
      !files.tokenizer_json.empty()
          ? Tokenizer::from_hf_tokenizer_json(files.tokenizer_json, files.vocab_name, special_ids)
      : files.own_tokenizer
          ? Tokenizer::from_hf_vocab_merges(files.vocab_json, files.merges, files.vocab_name, special_ids)
          : Tokenizer::from_gpt2_files(files.vocab_json, files.merges, files.vocab_name);
  if (!built.ok()) return built.error();
  if (files.own_tokenizer && built->vocab_size() > cfg.d_vocab) {
    return make_error(ErrorCode::kInvalidModel,
                      files.vocab_name + ": the tokenizer has " + std::to_string(built->vocab_size()) +
                          " tokens, more than the model's vocab_size " + std::to_string(cfg.d_vocab));
  }
  return std::make_shared<const Tokenizer>(std::move(built).value());
}

}  // namespace

Result<ModelFiles> read_model_directory(const std::string& dir, const std::string& tokenizer_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::is_directory(root, ec)) {
    return make_error(ErrorCode::kIoError, dir +
                                               ": not a directory (expected a Hugging Face model directory with "
                                               "config.json and model.safetensors)");
  }
  ModelFiles files;
  const fs::path config = root / "config.json";
  if (!file_exists(config)) return make_error(ErrorCode::kInvalidModel, config.string() + ": missing");
  HOOKLAB_ASSIGN_OR_RETURN(files.config_json, read_text_file(config.string()));
  files.config_name = config.string();

  const fs::path weights = root / "model.safetensors";
  if (!file_exists(weights)) {
    const bool has_bin = file_exists(root / "pytorch_model.bin");
    return make_error(ErrorCode::kInvalidModel,
                      weights.string() + ": missing" +
                          (has_bin ? " (only pytorch_model.bin is present; hooklab reads the safetensors file, which "
                                     "the Hugging Face hub serves for GPT-2 models)"
                                   : ""));
  }
  HOOKLAB_ASSIGN_OR_RETURN(files.weights, open_file_source(weights.string()));

  if (const fs::path tokenizer_json = root / "tokenizer.json"; file_exists(tokenizer_json)) {
    HOOKLAB_ASSIGN_OR_RETURN(files.tokenizer_json, read_text_file(tokenizer_json.string()));
    files.vocab_name = tokenizer_json.string();
    files.own_tokenizer = true;
    return files;
  }
  fs::path vocab = root / "vocab.json", merges = root / "merges.txt";
  if (file_exists(vocab) != file_exists(merges)) {
    const bool has_vocab = file_exists(vocab);
    return make_error(ErrorCode::kInvalidModel, (has_vocab ? vocab : merges).string() + " without " +
                                                    (has_vocab ? "merges.txt" : "vocab.json") +
                                                    ": a model's own tokenizer needs both (or its tokenizer.json)");
  }
  files.own_tokenizer = file_exists(vocab);
  if (!files.own_tokenizer) {
    vocab = fs::path(tokenizer_dir) / "encoder.json";
    merges = fs::path(tokenizer_dir) / "vocab.bpe";
  }
  HOOKLAB_ASSIGN_OR_RETURN(files.vocab_json, read_text_file(vocab.string()));
  HOOKLAB_ASSIGN_OR_RETURN(files.merges, read_text_file(merges.string()));
  files.vocab_name = vocab.string();
  return files;
}

Result<std::shared_ptr<const Tokenizer>> load_model_tokenizer(const ModelFiles& files) {
  HOOKLAB_ASSIGN_OR_RETURN(ModelConfig cfg, parse_hf_gpt2_config(files.config_json, files.config_name));
  return build_tokenizer(files, cfg);
}

Result<std::unique_ptr<HookedTransformer>> HookedTransformer::load(const ModelFiles& files,
                                                                   const LoadOptions& options) {
  if (files.weights == nullptr) return make_error(ErrorCode::kInvalidArgument, "no model.safetensors given");
  std::unique_ptr<HookedTransformer> model(new HookedTransformer());
  HOOKLAB_ASSIGN_OR_RETURN(model->cfg_, parse_hf_gpt2_config(files.config_json, files.config_name));
  model->cfg_.model_name = options.model_name;
  // The weights' header is checked before the tokenizer is built: refusing a malformed file
  // then costs microseconds, not the tokenizer's build.
  HOOKLAB_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(files.weights));
  HOOKLAB_ASSIGN_OR_RETURN(model->tokenizer_, build_tokenizer(files, model->cfg_));
  model->processing_ = options.processing;
  // The backend first: a kernel it does not have is refused before the weights are read.
  HOOKLAB_ASSIGN_OR_RETURN(model->backend_, make_backend(options.backend, options.threads));
  if (!options.gemm_kernel.empty()) HOOKLAB_RETURN_IF_ERROR(model->backend_->select_gemm_kernel(options.gemm_kernel));
  const Backend* backend = model->backend_.get();
  const ZeroFill zero_on_backend_threads = [backend](float* data, size_t n) { backend->zero_fill(data, n); };
  HOOKLAB_ASSIGN_OR_RETURN(model->weights_, load_gpt2_weights(file, model->cfg_, options.processing, options.progress,
                                                              options.weight_precision, zero_on_backend_threads));

  const ModelWeights& w = model->weights_;
  for (const LayerWeights& l : w.layers) {
    HOOKLAB_RETURN_IF_ERROR(model->backend_->prepare_matmul(l.w_qkv, l.b_qkv));
    HOOKLAB_RETURN_IF_ERROR(model->backend_->prepare_matmul(l.w_o, l.b_o));
    if (model->cfg_.attn_only) continue;
    HOOKLAB_RETURN_IF_ERROR(model->backend_->prepare_matmul(l.w_in, l.b_in));
    HOOKLAB_RETURN_IF_ERROR(model->backend_->prepare_matmul(l.w_out, l.b_out));
  }
  HOOKLAB_RETURN_IF_ERROR(model->backend_->prepare_matmul(w.w_u, w.b_u));
  return model;
}

Result<int64_t> HookedTransformer::weights_bytes(std::string_view config_json, std::string_view config_name,
                                                 const ProcessingOptions& processing, WeightPrecision precision) {
  HOOKLAB_ASSIGN_OR_RETURN(ModelConfig cfg, parse_hf_gpt2_config(config_json, config_name));
  return ModelWeights::storage_bytes(cfg, processing.fold_ln, precision);
}

std::vector<int32_t> HookedTransformer::to_tokens(std::string_view text, bool prepend_bos) const {
  std::vector<int32_t> ids;
  if (prepend_bos) ids.push_back(cfg_.bos_token_id);
  const std::vector<int32_t> body = tokenizer_->encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::vector<std::string> HookedTransformer::to_str_tokens(std::string_view text, bool prepend_bos) const {
  return to_str_tokens(to_tokens(text, prepend_bos));
}

std::vector<std::string> HookedTransformer::to_str_tokens(std::span<const int32_t> tokens) const {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (int32_t t : tokens) out.push_back(tokenizer_->token_text(t));
  return out;
}

std::string HookedTransformer::to_string(std::span<const int32_t> tokens) const { return tokenizer_->decode(tokens); }

Result<int32_t> HookedTransformer::to_single_token(std::string_view text) const {
  const std::vector<int32_t> ids = tokenizer_->encode(text);
  if (ids.size() != 1) {
    std::string msg =
        "'" + std::string(text) + "' is not a single token: it is " + std::to_string(ids.size()) + " tokens";
    if (!ids.empty()) msg += " " + quoted_tokens(*tokenizer_, ids);
    return make_error(ErrorCode::kInvalidInput, msg);
  }
  if (ids[0] >= cfg_.d_vocab) {  // GPT-2's tokenizer on a model with a smaller vocabulary
    return make_error(ErrorCode::kInvalidInput, "'" + std::string(text) + "' is token " + std::to_string(ids[0]) +
                                                    ", outside the model's vocabulary (ids 0.." +
                                                    std::to_string(cfg_.d_vocab - 1) + ")");
  }
  return ids[0];
}

Result<int> HookedTransformer::get_token_position(int32_t token, std::span<const int32_t> tokens,
                                                  TokenSearch mode) const {
  int found = -1;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] != token) continue;
    found = static_cast<int>(i);
    if (mode == TokenSearch::kFirst) break;
  }
  if (found < 0) {
    return make_error(ErrorCode::kInvalidInput, "token '" + tokenizer_->token_text(token) + "' (" +
                                                    std::to_string(token) + ") does not occur in the input");
  }
  return found;
}

Status HookedTransformer::validate_tokens(std::span<const int32_t> tokens) const {
  if (tokens.empty()) return make_error(ErrorCode::kInvalidInput, "the input has no tokens");
  if (static_cast<int64_t>(tokens.size()) > cfg_.n_ctx) {
    return make_error(ErrorCode::kInvalidInput, "the input is " + std::to_string(tokens.size()) +
                                                    " tokens but the model's context (n_ctx) is " +
                                                    std::to_string(cfg_.n_ctx) + " tokens");
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= cfg_.d_vocab) {
      // A model with fewer tokens than GPT-2's tokenizer meets this with ordinary text.
      const std::string text = tokenizer_ != nullptr && tokenizer_->is_valid_id(tokens[i])
                                   ? " '" + tokenizer_->token_text(tokens[i]) + "'"
                                   : "";
      return make_error(ErrorCode::kInvalidInput,
                        "token" + text + " (id " + std::to_string(tokens[i]) + ") at position " + std::to_string(i) +
                            " is outside the model's vocabulary (ids 0.." + std::to_string(cfg_.d_vocab - 1) + ")");
    }
  }
  return {};
}

Result<RunOutput> HookedTransformer::run(std::span<const int32_t> tokens, const RunOptions& options) const {
  HOOKLAB_RETURN_IF_ERROR(validate_tokens(tokens));
  return hooked_forward(cfg_, weights_, *backend_, tokens, options);
}

Result<RunOutput> HookedTransformer::run_with_kv_cache(std::span<const int32_t> new_tokens, KvCache& kv,
                                                       const RunOptions& options) const {
  if (!kv.fits(cfg_)) return make_error(ErrorCode::kInvalidArgument, "the KV cache was not allocated for this model");
  const int64_t total = kv.length() + static_cast<int64_t>(new_tokens.size());
  if (total > cfg_.n_ctx) {
    return make_error(ErrorCode::kInvalidInput,
                      "the KV cache holds " + std::to_string(kv.length()) + " positions and " +
                          std::to_string(new_tokens.size()) + " more make " + std::to_string(total) +
                          ", past the model's context (n_ctx = " + std::to_string(cfg_.n_ctx) + ")");
  }
  HOOKLAB_RETURN_IF_ERROR(validate_tokens(new_tokens));
  return hooked_forward(cfg_, weights_, *backend_, new_tokens, options, &kv);
}

Result<RunOutput> HookedTransformer::run_with_cache(std::span<const int32_t> tokens,
                                                    std::function<bool(const std::string&)> names_filter,
                                                    bool use_attn_result) const {
  RunOptions options;
  options.cache_filter = names_filter ? std::move(names_filter) : [](const std::string&) { return true; };
  options.use_attn_result = use_attn_result;
  return run(tokens, options);
}

Result<RunOutput> HookedTransformer::run_with_cache_and_grads(std::span<const int32_t> tokens, const Metric& metric,
                                                              std::function<bool(const std::string&)> names_filter,
                                                              bool use_attn_result) const {
  RunOptions options;
  options.cache_filter = names_filter ? names_filter : [](const std::string&) { return true; };
  options.grad_filter = names_filter ? std::move(names_filter) : [](const std::string&) { return true; };
  options.use_attn_result = use_attn_result;
  options.grad_metric = metric;
  return run(tokens, options);
}

Result<RunOutput> HookedTransformer::run_with_hooks(std::span<const int32_t> tokens,
                                                    std::vector<ForwardHook> hooks) const {
  RunOptions options;
  options.hooks = std::move(hooks);
  return run(tokens, options);
}

}  // namespace hooklab
