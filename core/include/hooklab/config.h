// Model hyper-parameters, read from a Hugging Face GPT-2 `config.json` and named as
// TransformerLens's HookedTransformerConfig names them (n_layers, d_model, d_head, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hooklab/status.h"

namespace hooklab {

struct ModelConfig {
  int n_layers = 0;
  int d_model = 0;
  int n_heads = 0;
  int d_head = 0;   // d_model / n_heads
  int d_mlp = 0;    // n_inner, or 4 * d_model when null
  int d_vocab = 0;  // vocab_size
  int n_ctx = 0;    // n_positions
  float eps = 1e-5f;
  float attn_scale = 1.0f;  // sqrt(d_head); scores are divided by it (and by layer+1, below)
  // GPT-2 variants trained with scale_attn_by_inverse_layer_idx divide layer l's scores by
  // (l + 1) as well (Hugging Face semantics; TransformerLens supports it the same way).
  bool scale_attn_by_inverse_layer_idx = false;
  std::string act_fn = "gelu_new";
  // Hugging Face ties the unembedding to wte unless config.json says otherwise; a separate
  // lm_head.weight is then ignored, as transformers ignores it.
  bool tie_word_embeddings = true;
  // TransformerLens's attn_only: blocks have attention only (no ln2, no MLP), so
  // resid_post = resid_pre + attn_out and d_mlp is 0. Hugging Face's GPT-2 has no such key.
  bool attn_only = false;
  // The token prepended as BOS: GPT-2's <|endoftext|> (50256) unless config.json's
  // bos_token_id names another, as a model with vocab_size <= 50256 must.
  int bos_token_id = 50256;
  // config.json's eos_token_id when it names a token of the vocabulary, else -1. A model's own
  // tokenizer cuts the bos and eos tokens' text out of prompts as those tokens.
  int eos_token_id = -1;
  std::string model_name;  // free text shown to users (directory or hub id)

  // TransformerLens's n_params: weight matrices of the blocks only (84,934,656 for gpt2).
  int64_t n_params() const;
  // Every parameter of the Hugging Face checkpoint (124,439,808 for gpt2).
  int64_t total_params() const;
  float attn_scale_for_layer(int layer) const {
    return scale_attn_by_inverse_layer_idx ? attn_scale * static_cast<float>(layer + 1) : attn_scale;
  }
};

// Parses config.json text; `file_name` is used in error messages. Rejects configurations this
// core cannot run (non-GPT-2 model types, unknown activations, n_head not dividing n_embd)
// and absurd sizes that would only end in an allocation failure.
Result<ModelConfig> parse_hf_gpt2_config(std::string_view json_text, std::string_view file_name);

}  // namespace hooklab
