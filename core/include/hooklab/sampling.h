// Choosing the next token from logits: TransformerLens's utils.sample_logits in one fixed,
// documented order, in double precision, drawn with the core's one RNG (random.h), so a
// seeded sample depends only on the logits and the seed — not on threads or backend.
//
//   temperature == 0: greedy, the argmax of the raw logits (the lowest id among ties); no
//                     penalty or filter applies and no random number is drawn (TL likewise).
//   otherwise, in TransformerLens's order:
//     1. x = logits / temperature
//     2. x[t] -= freq_penalty * (times t occurs in the context: prompt, BOS included, and
//        every token generated so far)                          (TL subtracts it after step 1)
//     3. top_k > 0: drop every x below the k-th largest (ties at the boundary are all kept)
//     4. top_p < 1: order the kept tokens by x, descending (lower id first among ties), and
//        keep token j when the softmax mass of the tokens before it is <= top_p (the first
//        is always kept). TL applies top_p only when top_k is unset; here both may be given
//        and top_p then acts on what top_k kept.
//     5. p = softmax(x) over the kept tokens
//   draw: u = SplitMix64::next_unit(); the token is the first, in id order, whose cumulative
//         p exceeds u (the last kept token if rounding leaves u above the total).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hooklab/random.h"
#include "hooklab/status.h"

namespace hooklab {

struct SamplingOptions {
  double temperature = 1.0;   // >= 0; 0 is greedy
  int top_k = 0;              // >= 0; 0 keeps every token
  double top_p = 1.0;         // in (0, 1]; 1 keeps every token
  double freq_penalty = 0.0;  // >= 0
};

// Errors name the bad option (temperature < 0, top_p outside (0, 1], ...).
Status validate_sampling(const SamplingOptions& options);

// The final sampling distribution over the vocabulary (steps 1-5; one-hot when greedy).
// Errors when a logit is not finite.
Result<std::vector<double>> sampling_distribution(std::span<const float> logits, const SamplingOptions& options,
                                                  std::span<const int32_t> context);
// Draws one token from a distribution (see the header comment).
int32_t draw_token(std::span<const double> probs, SplitMix64& rng);

struct TokenProbability {
  int32_t token = 0;
  double prob = 0.0;         // softmax of the raw logits (temperature 1, no penalty or filter)
  double sample_prob = 0.0;  // under the final sampling distribution
};

struct SampledToken {
  TokenProbability chosen;
  std::vector<TokenProbability> top;  // the most likely tokens by `prob` (lower id first among ties)
};

// One sampling step: the distribution, the draw (none when greedy) and what a user reads.
Result<SampledToken> sample_next_token(std::span<const float> logits, const SamplingOptions& options,
                                       std::span<const int32_t> context, SplitMix64& rng, int top_n = 5);

}  // namespace hooklab
