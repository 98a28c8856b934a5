// Analysis tools of the TransformerLens tutorials, computed from a run's ActivationCache:
// logit lens (accumulated_resid + apply_ln), direct logit attribution per component
// (decompose_resid) and per head (stack_head_results) with apply_ln_to_stack semantics,
// residual-stream norms, and head detectors on repeated random tokens.
//
// A logit-difference direction is the mean over (answer, wrong) pairs of
// W_U[:, answer] - W_U[:, wrong]; like the TransformerLens demos, component attributions
// exclude b_U, which is reported separately as bias_term. The cache must hold what each
// function reads (a full run_with_cache does).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hooklab/hooked_transformer.h"

namespace hooklab {

using AnswerPairs = std::vector<std::pair<int32_t, int32_t>>;

struct LogitLens {
  std::vector<std::string> labels;  // "0_pre", "0_mid", "1_pre", ..., "final_post"
  std::vector<int> positions;
  int top_k = 0;
  // Row-major [component][position]:
  std::vector<double> logit_diff;            // with answer pairs only
  std::vector<double> logit_diff_with_bias;  // + mean(b_U[answer] - b_U[wrong])
  // Row-major [component][position][k], from component @ W_U + b_U:
  std::vector<int32_t> top_tokens;
  std::vector<float> top_logits;
  std::vector<double> top_probs;
};

// accumulated_resid(layer=None, incl_mid=True, apply_ln=True) at each position: ln_final is
// re-applied to every component with its own statistics (TransformerLens >= 2.18).
Result<LogitLens> logit_lens(const HookedTransformer& model, const ActivationCache& cache,
                             std::span<const int> positions, const AnswerPairs& pairs, int top_k);

struct ComponentAttribution {
  std::vector<std::string> labels;  // "embed", "pos_embed", "0_attn_out", "0_mlp_out", ...
  std::vector<double> logit_diff;   // per component; sum + bias_term == total_logit_diff
  double bias_term = 0.0;
  double total_logit_diff = 0.0;  // the model's own logit difference at the position
};

// decompose_resid(layer=None, apply_ln=True) at one position: each component centred and
// divided by the cached ln_final scale (apply_ln_to_stack), then projected on the direction.
Result<ComponentAttribution> component_attribution(const HookedTransformer& model, const ActivationCache& cache,
                                                   int position, const AnswerPairs& pairs);

struct HeadAttribution {
  int n_layers = 0;
  int n_heads = 0;
  std::vector<double> logit_diff;  // [n_layers][n_heads]
};

// stack_head_results(layer=-1, apply_ln=True) at one position: head h's result z_h @ W_O[h]
// (no b_O), centred and divided by the cached ln_final scale, projected on the direction.
Result<HeadAttribution> head_attribution(const HookedTransformer& model, const ActivationCache& cache, int position,
                                         const AnswerPairs& pairs);

struct ResidualNorms {
  std::vector<double> per_layer;  // ||resid_post[l]|| over the whole [1, P, D] tensor (seed tutorial 1)
  int positions = 0;
  std::vector<double> per_position;  // [n_layers][P]: ||resid_post[l][p]||
};
Result<ResidualNorms> residual_norms(const HookedTransformer& model, const ActivationCache& cache);

struct HeadDetectorScores {
  int n_layers = 0;
  int n_heads = 0;
  // TransformerLens detect_head(error_measure="mul", exclude_bos=False, exclude_current_token=False):
  // sum(pattern * detection) / sum(pattern), each [n_layers][n_heads].
  std::vector<double> previous_token;
  std::vector<double> duplicate_token;
  std::vector<double> induction;
  // The TransformerLens demos' scores (Main Demo, ARENA 1.2): the mean of one attention diagonal,
  // torch.diagonal(pattern, offset=-k).mean(), k = 1 (previous token) or seq_len - 1 (induction),
  // seq_len = (P - 1) / 2 on [BOS] + seq + seq. A perfect head scores near 1, where "mul" induction
  // stops at seq_len / (2 seq_len + 1): rows of the first copy have no induction target.
  std::vector<double> previous_token_diagonal;
  std::vector<double> induction_diagonal;
};

// Mean of pattern[q, q - offset] over q (torch.diagonal(pattern, offset=-offset).mean()) of one
// head's [P, P] row-major pattern; 0 where the diagonal is empty.
double attention_diagonal_mean(const float* pattern, int64_t P, int64_t offset);

// [BOS] + seq + seq with seq_len distinct token ids from [low, high), seeded.
std::vector<int32_t> repeated_random_tokens(uint64_t seed, int seq_len, int32_t low = 1000, int32_t high = 10000,
                                            int32_t bos = Tokenizer::kEndOfText);
// The same with ids drawn from `pool` (e.g. the ids a small model was trained on).
std::vector<int32_t> repeated_random_tokens(uint64_t seed, int seq_len, std::span<const int32_t> pool,
                                            int32_t bos = Tokenizer::kEndOfText);
// The default pool [1000, 10000) clipped to a smaller vocabulary, and the model's BOS.
std::vector<int32_t> repeated_random_tokens(uint64_t seed, int seq_len, const ModelConfig& cfg);
// Runs `tokens` (typically repeated_random_tokens) and scores every head's pattern.
Result<HeadDetectorScores> detect_heads(const HookedTransformer& model, std::span<const int32_t> tokens);

}  // namespace hooklab
