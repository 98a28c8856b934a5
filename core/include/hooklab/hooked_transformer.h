// HookedTransformer: a GPT-2 with every TransformerLens hook point, its tokenizer and a
// compute backend. The C++ counterpart of transformer_lens.HookedTransformer (v2).
//
//   auto model = HookedTransformer::load(files, {}).value();        // processed like from_pretrained
//   auto tokens = model->to_tokens("The capital of France is");     // BOS prepended
//   auto out = model->run_with_cache(tokens).value();               // logits [1,P,V] + 208 activations
//   TensorView pattern = out.cache.get("pattern", 0).value();       // [1,H,P,P]
//
// A model is immutable after load; run() allocates its own workspace, so concurrent runs on
// one model are safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hooklab/activation_cache.h"
#include "hooklab/backend.h"
#include "hooklab/byte_source.h"
#include "hooklab/config.h"
#include "hooklab/hooks.h"
#include "hooklab/kv_cache.h"
#include "hooklab/metrics.h"
#include "hooklab/tokenizer.h"
#include "hooklab/weight_loading.h"
#include "hooklab/weights.h"

namespace hooklab {

// The files of a Hugging Face GPT-2 model directory.
struct ModelFiles {
  std::string config_json;
  std::string config_name = "config.json";    // for error messages
  std::shared_ptr<const ByteSource> weights;  // model.safetensors
  // The tokenizer, chosen by read_model_directory: the directory's tokenizer.json, else its
  // vocab.json + merges.txt, else GPT-2's encoder.json + vocab.bpe (own_tokenizer false).
  std::string tokenizer_json;
  std::string vocab_json;
  std::string merges;
  bool own_tokenizer = false;             // vocab_json + merges are the model's own, not GPT-2's
  std::string vocab_name = "vocab.json";  // the tokenizer file (for error messages and reports)
  // A tokenizer already built from those files (several models share GPT-2's): when set,
  // the files are not read again.
  std::shared_ptr<const Tokenizer> tokenizer;
};

// Reads config.json and model.safetensors from a directory, and its tokenizer: tokenizer.json
// when present, else vocab.json + merges.txt, else GPT-2's encoder.json + vocab.bpe from
// `tokenizer_dir` (e.g. models/tokenizer).
Result<ModelFiles> read_model_directory(const std::string& dir, const std::string& tokenizer_dir);

// The tokenizer `files` name (files.tokenizer when set), without reading the weights; a model's
// own tokenizer must not have more tokens than config.json's vocab_size.
Result<std::shared_ptr<const Tokenizer>> load_model_tokenizer(const ModelFiles& files);

struct LoadOptions {
  ProcessingOptions processing = ProcessingOptions::transformer_lens_default();
  BackendKind backend = BackendKind::kAuto;
  int threads = 1;
  LoadProgress progress;
  std::string model_name;
  // A GEMM micro-kernel of the backend (Backend::gemm_kernels(), e.g. the pick of
  // tune_gemm_kernel on this machine); empty keeps the backend's default.
  std::string gemm_kernel;
  // kF16 keeps W_QKV, W_O, W_in, W_out, W_U and W_E as f16 (the processed weights rounded to
  // nearest even): about half the memory, at the cost of that rounding in every product.
  WeightPrecision weight_precision = WeightPrecision::kF32;
};

// A cache handed out while the forward runs instead of held in RunOutput::cache. For a
// caller that copies the cache elsewhere anyway (the lab's engine moves it out of wasm memory),
// holding it as well would add its whole size to the peak: 110 MB for GPT-2 small's 208 hooks
// at 128 positions. `begin` gets the plan (the entries and offsets RunOutput::cache would have,
// arena unallocated); `write` gets each entry's final value, after every forward hook on it.
struct CacheSink {
  std::function<Status(const ActivationCache& plan)> begin;
  std::function<Status(const ActivationCache::Entry& entry, const float* data)> write;
};

struct RunOptions {
  std::vector<ForwardHook> hooks;
  // run_with_cache's names_filter: which activations to cache (nullptr: cache nothing).
  std::function<bool(const std::string&)> cache_filter;
  // With cache_filter and no grad_metric: stream the cache to this sink; RunOutput::cache
  // stays empty. (The backward pass reads the held cache, so gradient runs ignore it.)
  std::optional<CacheSink> cache_sink;
  // TransformerLens's use_attn_result: fire blocks.L.attn.hook_result [B,P,H,D].
  bool use_attn_result = false;
  bool return_logits = true;
  const std::atomic<bool>* cancel = nullptr;

  // --- gradients: TransformerLens's run_with_cache(incl_bwd=True) and dir="bwd" hooks ---
  // When set, the forward is followed by the backward pass of this scalar metric of the logits
  // (backward.cpp). Forward hooks stay active; zero/replace hooks cut the gradient of what
  // they overwrite, read/add hooks pass it unchanged.
  std::optional<Metric> grad_metric;
  // Which gradients to keep, by hook name (without "_grad"); nullptr keeps none.
  std::function<bool(const std::string&)> grad_filter;
  // Hooks on the gradient at a hook point (d metric / d activation): they read or edit it in
  // place before it flows further back, and the kept gradient is the edited one.
  std::vector<ForwardHook> backward_hooks;
};

struct RunOutput {
  Tensor logits;  // [1, P, d_vocab] (empty when return_logits is false)
  ActivationCache cache;
  // With grad_metric: the metric's value and the kept gradients, named "<hook name>_grad".
  double metric = 0.0;
  ActivationCache grads{"_grad"};
};

class HookedTransformer {
 public:
  static Result<std::unique_ptr<HookedTransformer>> load(const ModelFiles& files, const LoadOptions& options);
  // The bytes load() will allocate for the processed weights of the model `config_json`
  // describes (an error for a config load() would refuse): known from config.json alone, so a
  // caller can refuse a model too large for its memory before reading or downloading weights.
  static Result<int64_t> weights_bytes(std::string_view config_json, std::string_view config_name,
                                       const ProcessingOptions& processing,
                                       WeightPrecision precision = WeightPrecision::kF32);

  const ModelConfig& cfg() const { return cfg_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ModelWeights& weights() const { return weights_; }
  const Backend& backend() const { return *backend_; }
  const ProcessingOptions& processing() const { return processing_; }

  // --- tokens (TransformerLens names) ---
  std::vector<int32_t> to_tokens(std::string_view text, bool prepend_bos = true) const;
  std::vector<std::string> to_str_tokens(std::string_view text, bool prepend_bos = true) const;
  std::vector<std::string> to_str_tokens(std::span<const int32_t> tokens) const;
  std::string to_string(std::span<const int32_t> tokens) const;
  // Errors unless `text` is exactly one token (no BOS), naming the tokens it splits into.
  Result<int32_t> to_single_token(std::string_view text) const;
  enum class TokenSearch { kFirst, kLast };
  Result<int> get_token_position(int32_t token, std::span<const int32_t> tokens,
                                 TokenSearch mode = TokenSearch::kFirst) const;
  // Checks that tokens are non-empty, within the vocabulary and at most n_ctx long.
  Status validate_tokens(std::span<const int32_t> tokens) const;

  // --- runs ---
  Result<RunOutput> run(std::span<const int32_t> tokens, const RunOptions& options) const;
  Result<RunOutput> run_with_cache(std::span<const int32_t> tokens,
                                   std::function<bool(const std::string&)> names_filter = nullptr,
                                   bool use_attn_result = false) const;
  Result<RunOutput> run_with_hooks(std::span<const int32_t> tokens, std::vector<ForwardHook> hooks) const;
  // One step of an incremental forward (TransformerLens's forward with past_kv_cache): runs
  // `new_tokens` at positions kv.length().. against the cached keys and values and appends
  // theirs. Logits, hooks and the cache cover the new positions only ([1, n, ...]);
  // attn_scores and pattern are [1, H, n, kv.length() + n]. Past n_ctx it is an error, and a
  // failed step leaves kv as it was. Gradients need a full forward (run()).
  Result<RunOutput> run_with_kv_cache(std::span<const int32_t> new_tokens, KvCache& kv,
                                      const RunOptions& options) const;
  // run_with_cache(..., incl_bwd=True): activations and the gradients of `metric` at every hook
  // point that names_filter keeps (both caches), e.g. out.grads.get("blocks.0.attn.hook_z_grad").
  Result<RunOutput> run_with_cache_and_grads(std::span<const int32_t> tokens, const Metric& metric,
                                             std::function<bool(const std::string&)> names_filter = nullptr,
                                             bool use_attn_result = false) const;

 private:
  HookedTransformer() = default;
  ModelConfig cfg_;
  ProcessingOptions processing_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  ModelWeights weights_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace hooklab
