#include "hooklab/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace hooklab {
namespace {

using nlohmann::json;

// Limits far above any GPT-2 (gpt2-xl: 48 layers, 1600 wide, 1024 context) that still stop a
// hostile config from requesting terabytes.
constexpr int64_t kMaxLayers = 256;
constexpr int64_t kMaxWidth = 1 << 15;
constexpr int64_t kMaxVocab = 1 << 22;
constexpr int64_t kMaxContext = 1 << 16;

Error config_error(std::string_view file, const std::string& what) {
  return make_error(ErrorCode::kInvalidModel, std::string(file) + ": " + what);
}

// Reads a required (or defaulted) positive integer field, accepting the first key present.
Result<int> read_int(const json& j, std::initializer_list<const char*> keys, std::string_view file, int64_t max,
                     int default_value = -1) {
  for (const char* key : keys) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer() && !it->is_number_unsigned()) {
      return config_error(file, std::string("\"") + key + "\" must be an integer");
    }
    const int64_t v = it->get<int64_t>();
    if (v <= 0) return config_error(file, std::string("\"") + key + "\" must be positive, got " + std::to_string(v));
    if (v > max) {
      return config_error(file, std::string("\"") + key + "\" = " + std::to_string(v) +
                                    " exceeds the supported maximum " + std::to_string(max));
    }
    return static_cast<int>(v);
  }
  if (default_value > 0) return default_value;
  return config_error(file, std::string("missing required field \"") + *keys.begin() + "\"");
}

// bos_token_id must name a token of the model's vocabulary: GPT-2's <|endoftext|> (50256) is
// outside a vocabulary of fewer than 50257 tokens, so such a config must name its own.
Status read_bos_token(const json& j, std::string_view file, ModelConfig& cfg) {
  // eos_token_id only names a special token; Hugging Face configs leave it stale often enough
  // (GPT-2's 50256 in a smaller model) that one outside the vocabulary is ignored, not an error.
  if (auto it = j.find("eos_token_id"); it != j.end() && it->is_number_integer()) {
    const int64_t id = it->get<int64_t>();
    if (id >= 0 && id < cfg.d_vocab) cfg.eos_token_id = static_cast<int>(id);
  }
  if (auto it = j.find("bos_token_id"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() && !it->is_number_unsigned())
      return config_error(file, "\"bos_token_id\" must be an integer");
    const int64_t id = it->get<int64_t>();
    if (id < 0 || id >= cfg.d_vocab) {
      return config_error(file, "\"bos_token_id\" = " + std::to_string(id) +
                                    " is outside the vocabulary (vocab_size = " + std::to_string(cfg.d_vocab) + ")");
    }
    cfg.bos_token_id = static_cast<int>(id);
    return {};
  }
  if (cfg.bos_token_id >= cfg.d_vocab) {
    return config_error(file, "vocab_size = " + std::to_string(cfg.d_vocab) +
                                  " has no room for GPT-2's <|endoftext|> (" + std::to_string(cfg.bos_token_id) +
                                  "): set \"bos_token_id\" to a token below " + std::to_string(cfg.d_vocab));
  }
  return {};
}

}  // namespace

int64_t ModelConfig::n_params() const {
  const int64_t attn = 4LL * d_model * n_heads * d_head;
  const int64_t mlp = 2LL * d_model * d_mlp;  // 0 when attn_only
  return n_layers * (attn + mlp);
}

int64_t ModelConfig::total_params() const {
  const int64_t per_layer = (attn_only ? 2LL : 4LL) * d_model                                     // ln_1, ln_2
                            + d_model * 3LL * d_model + 3LL * d_model                             // c_attn
                            + d_model * d_model + d_model                                         // c_proj
                            + d_model * static_cast<int64_t>(d_mlp) + d_mlp                       // c_fc
                            + (attn_only ? 0 : d_mlp * static_cast<int64_t>(d_model) + d_model);  // mlp c_proj
  return static_cast<int64_t>(d_vocab) * d_model + static_cast<int64_t>(n_ctx) * d_model + n_layers * per_layer +
         2LL * d_model;
}

Result<ModelConfig> parse_hf_gpt2_config(std::string_view json_text, std::string_view file_name) {
  const json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return config_error(file_name, "not valid JSON");
  if (!j.is_object()) return config_error(file_name, "expected a JSON object");

  if (auto it = j.find("model_type"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return config_error(file_name, "model_type must be a string (\"gpt2\")");
    const std::string& model_type = it->get_ref<const std::string&>();
    if (model_type != "gpt2") {
      return config_error(file_name, "model_type is " + quote_excerpt(model_type) +
                                         "; hooklab runs GPT-2 models (model_type \"gpt2\")");
    }
  }

  ModelConfig cfg;
  HOOKLAB_ASSIGN_OR_RETURN(cfg.n_layers, read_int(j, {"n_layer", "num_hidden_layers"}, file_name, kMaxLayers));
  HOOKLAB_ASSIGN_OR_RETURN(cfg.d_model, read_int(j, {"n_embd", "hidden_size"}, file_name, kMaxWidth));
  HOOKLAB_ASSIGN_OR_RETURN(cfg.n_heads, read_int(j, {"n_head", "num_attention_heads"}, file_name, kMaxWidth));
  HOOKLAB_ASSIGN_OR_RETURN(cfg.d_vocab, read_int(j, {"vocab_size"}, file_name, kMaxVocab));
  HOOKLAB_ASSIGN_OR_RETURN(cfg.n_ctx,
                           read_int(j, {"n_positions", "n_ctx", "max_position_embeddings"}, file_name, kMaxContext));
  HOOKLAB_ASSIGN_OR_RETURN(cfg.d_mlp, read_int(j, {"n_inner"}, file_name, 4 * kMaxWidth, 4 * cfg.d_model));
  if (cfg.d_model % cfg.n_heads != 0) {
    return config_error(file_name, "n_head = " + std::to_string(cfg.n_heads) +
                                       " does not divide n_embd = " + std::to_string(cfg.d_model));
  }
  cfg.d_head = cfg.d_model / cfg.n_heads;

  if (auto it = j.find("layer_norm_epsilon"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) return config_error(file_name, "\"layer_norm_epsilon\" must be a number");
    // Checked after the conversion to f32: 1e-60 would become 0 and 0.99999999 would become 1.
    const double value = it->get<double>();
    const float eps = value > 0.0 && value < 1.0 ? static_cast<float>(value) : 0.0f;
    if (!(eps > 0.0f && eps < 1.0f))
      return config_error(file_name, "\"layer_norm_epsilon\" must be in (0, 1) as an f32");
    cfg.eps = eps;
  }
  if (auto it = j.find("activation_function"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return config_error(file_name, "\"activation_function\" must be a string");
    const std::string& act = it->get_ref<const std::string&>();
    // gelu_pytorch_tanh is the same tanh approximation under another name.
    if (act != "gelu_new" && act != "gelu_pytorch_tanh") {
      return config_error(file_name,
                          "activation_function " + quote_excerpt(act) + " is not supported (GPT-2 uses \"gelu_new\")");
    }
  }
  auto flag = [&](const char* key, bool fallback) -> Result<bool> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) return config_error(file_name, std::string("\"") + key + "\" must be true or false");
    return it->get<bool>();
  };
  HOOKLAB_ASSIGN_OR_RETURN(bool scale_attn_weights, flag("scale_attn_weights", true));
  if (!scale_attn_weights) { return config_error(file_name, "scale_attn_weights = false is not supported"); }
  HOOKLAB_ASSIGN_OR_RETURN(cfg.scale_attn_by_inverse_layer_idx, flag("scale_attn_by_inverse_layer_idx", false));
  HOOKLAB_ASSIGN_OR_RETURN(cfg.tie_word_embeddings, flag("tie_word_embeddings", true));
  HOOKLAB_ASSIGN_OR_RETURN(cfg.attn_only, flag("attn_only", false));
  if (cfg.attn_only) cfg.d_mlp = 0;  // TL's d_mlp is None for attention-only models; n_inner is moot
  HOOKLAB_RETURN_IF_ERROR(read_bos_token(j, file_name, cfg));
  cfg.attn_scale = std::sqrt(static_cast<float>(cfg.d_head));
  return cfg;
}

}  // namespace hooklab
