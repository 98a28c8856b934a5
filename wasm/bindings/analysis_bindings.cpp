// Analysis tools for the lab's "inside the model" views, on the prepared prompt's cache.
#include "hooklab/analysis.h"
#include "js_values.h"
#include "wasm_model.h"

namespace hooklab::wasm {
namespace {

AnswerPairs pairs_from(const val& pairs) {
  AnswerPairs out;
  const int n = pairs.isUndefined() || pairs.isNull() ? 0 : pairs["length"].as<int>();
  for (int i = 0; i < n; ++i) out.push_back({pairs[i][0].as<int32_t>(), pairs[i][1].as<int32_t>()});
  return out;
}

val floats(const std::vector<float>& v) { return float32_copy(v.data(), v.size()); }

}  // namespace

Result<const RunOutput*> WasmModel::prepared(const std::vector<int32_t>& tokens) {
  if (!prepared_ || tokens != prepared_tokens_) {
    prepared_.reset();
    HOOKLAB_ASSIGN_OR_RETURN(RunOutput out, model_->run_with_cache(tokens));
    prepared_ = std::move(out);
    prepared_tokens_ = tokens;
  }
  return &*prepared_;
}

val WasmModel::logit_lens(const val& tokens, const val& positions, const val& pairs, int k) {
  auto run = prepared(int32_vector(tokens));
  if (!run.ok()) return error_value(run.error());
  const std::vector<int> pos = int_vector(positions);
  auto lens = hooklab::logit_lens(*model_, (*run)->cache, pos, pairs_from(pairs), k);
  if (!lens.ok()) return error_value(lens.error());
  val out = val::object();
  out.set("labels", string_array(lens->labels));
  out.set("positions", int32_copy(std::vector<int32_t>(lens->positions.begin(), lens->positions.end())));
  out.set("topK", lens->top_k);
  out.set("logitDiff", float64_copy(lens->logit_diff));
  out.set("logitDiffWithBias", float64_copy(lens->logit_diff_with_bias));
  out.set("topTokens", int32_copy(lens->top_tokens));
  out.set("topLogits", floats(lens->top_logits));
  out.set("topProbs", float64_copy(lens->top_probs));
  return out;
}

val WasmModel::component_attribution(const val& tokens, int position, const val& pairs) {
  auto run = prepared(int32_vector(tokens));
  if (!run.ok()) return error_value(run.error());
  auto a = hooklab::component_attribution(*model_, (*run)->cache, position, pairs_from(pairs));
  if (!a.ok()) return error_value(a.error());
  val out = val::object();
  out.set("labels", string_array(a->labels));
  out.set("logitDiff", float64_copy(a->logit_diff));
  out.set("biasTerm", a->bias_term);
  out.set("totalLogitDiff", a->total_logit_diff);
  return out;
}

val WasmModel::head_attribution(const val& tokens, int position, const val& pairs) {
  auto run = prepared(int32_vector(tokens));
  if (!run.ok()) return error_value(run.error());
  auto a = hooklab::head_attribution(*model_, (*run)->cache, position, pairs_from(pairs));
  if (!a.ok()) return error_value(a.error());
  val out = val::object();
  out.set("shape", shape_value({a->n_layers, a->n_heads}));
  out.set("logitDiff", float64_copy(a->logit_diff));
  return out;
}

val WasmModel::residual_norms(const val& tokens) {
  auto run = prepared(int32_vector(tokens));
  if (!run.ok()) return error_value(run.error());
  auto n = hooklab::residual_norms(*model_, (*run)->cache);
  if (!n.ok()) return error_value(n.error());
  val out = val::object();
  out.set("perLayer", float64_copy(n->per_layer));
  out.set("perPosition", float64_copy(n->per_position));
  out.set("positions", n->positions);
  return out;
}

val WasmModel::detect_heads(int seq_len, double seed, const val& pool) const {
  const int max_len = (model_->cfg().n_ctx - 1) / 2;
  if (seq_len < 1 || seq_len > max_len) {
    return error_value(make_error(ErrorCode::kInvalidInput, "sequence length " + std::to_string(seq_len) +
                                                                " must be in [1, " + std::to_string(max_len) +
                                                                "] for n_ctx " + std::to_string(model_->cfg().n_ctx)));
  }
  const std::vector<int32_t> ids = pool.isUndefined() || pool.isNull() ? std::vector<int32_t>{} : int32_vector(pool);
  for (int32_t id : ids) {
    if (id < 0 || id >= model_->cfg().d_vocab) {
      return error_value(make_error(ErrorCode::kInvalidInput,
                                    "token id " + std::to_string(id) + " in the pool is outside the vocabulary"));
    }
  }
  if (!ids.empty() && static_cast<int>(ids.size()) < seq_len) {
    return error_value(make_error(ErrorCode::kInvalidInput, "the token pool has fewer ids than the sequence length"));
  }
  const hooklab::ModelConfig& cfg = model_->cfg();
  const std::vector<int32_t> tokens =
      ids.empty() ? repeated_random_tokens(static_cast<uint64_t>(seed), seq_len, cfg)
                  : repeated_random_tokens(static_cast<uint64_t>(seed), seq_len, ids, cfg.bos_token_id);
  auto s = hooklab::detect_heads(*model_, tokens);
  if (!s.ok()) return error_value(s.error());
  val out = val::object();
  out.set("tokens", int32_copy(tokens));
  out.set("shape", shape_value({s->n_layers, s->n_heads}));
  out.set("previousToken", float64_copy(s->previous_token));
  out.set("duplicateToken", float64_copy(s->duplicate_token));
  out.set("induction", float64_copy(s->induction));
  out.set("previousTokenDiagonal", float64_copy(s->previous_token_diagonal));
  out.set("inductionDiagonal", float64_copy(s->induction_diagonal));
  return out;
}

}  // namespace hooklab::wasm
