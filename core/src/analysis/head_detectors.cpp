// Head detectors (TransformerLens head_detector.detect_head, error_measure "mul"): how much of
// each head's attention falls where a previous-token, duplicate-token or induction head would
// put it, on a repeated random sequence.
#include <algorithm>
#include <numeric>
#include <random>

#include "analysis/logit_direction.h"

namespace hooklab {
namespace {

// The detection patterns of head_detector.get_*_detection_pattern, [P, P] row-major.
struct DetectionPatterns {
  std::vector<float> previous, duplicate, induction;
};

DetectionPatterns detection_patterns(std::span<const int32_t> tokens) {
  const size_t P = tokens.size();
  DetectionPatterns d{std::vector<float>(P * P), std::vector<float>(P * P), std::vector<float>(P * P)};
  for (size_t q = 0; q < P; ++q) {
    if (q > 0) d.previous[q * P + q - 1] = 1.0f;
    for (size_t k = 0; k < q; ++k) {
      // Same token seen earlier: a duplicate-token head attends to it, an induction head to
      // the token after it.
      if (tokens[q] == tokens[k]) {
        d.duplicate[q * P + k] = 1.0f;
        if (k + 1 <= q) d.induction[q * P + k + 1] = 1.0f;
      }
    }
  }
  return d;
}

}  // namespace

std::vector<int32_t> repeated_random_tokens(uint64_t seed, int seq_len, std::span<const int32_t> pool_ids,
                                            int32_t bos) {
  std::vector<int32_t> pool(pool_ids.begin(), pool_ids.end());
  std::mt19937_64 rng(seed);
  const size_t n = std::min<size_t>(static_cast<size_t>(std::max(seq_len, 0)), pool.size());
  // A partial Fisher-Yates shuffle drawing straight from mt19937_64 (fully specified by the
  // standard): std::uniform_int_distribution is not, and libc++ (wasm, 32-bit size_t) and
  // libstdc++ drew different sequences from one seed, so the lab and the CLI scored different
  // tokens. The modulo bias is below 2^-50 for any pool that fits in memory.
  for (size_t i = 0; i < n; ++i) {
    const size_t pick = i + static_cast<size_t>(rng() % static_cast<uint64_t>(pool.size() - i));
    std::swap(pool[i], pool[pick]);
  }
  std::vector<int32_t> tokens = {bos};
  for (int rep = 0; rep < 2; ++rep)
    tokens.insert(tokens.end(), pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n));
  return tokens;
}

std::vector<int32_t> repeated_random_tokens(uint64_t seed, int seq_len, int32_t low, int32_t high, int32_t bos) {
  std::vector<int32_t> pool(static_cast<size_t>(std::max(high - low, 0)));
  std::iota(pool.begin(), pool.end(), low);
  return repeated_random_tokens(seed, seq_len, pool, bos);
}

std::vector<int32_t> repeated_random_tokens(uint64_t seed, int seq_len, const ModelConfig& cfg) {
  // GPT-2 keeps [1000, 10000) (ordinary word pieces); a small vocabulary keeps its top 3/4.
  const int32_t high = std::min(10000, cfg.d_vocab);
  const int32_t low = std::min(1000, high / 4);
  return repeated_random_tokens(seed, seq_len, low, high, cfg.bos_token_id);
}

double attention_diagonal_mean(const float* pattern, int64_t P, int64_t offset) {
  double sum = 0.0;
  int64_t count = 0;
  for (int64_t q = std::max<int64_t>(offset, 0); q < P && q - offset < P; ++q, ++count)
    sum += pattern[q * P + (q - offset)];
  return count ? sum / static_cast<double>(count) : 0.0;
}

Result<HeadDetectorScores> detect_heads(const HookedTransformer& model, std::span<const int32_t> tokens) {
  if (tokens.size() < 2) return make_error(ErrorCode::kInvalidInput, "head detection needs at least 2 tokens");
  HOOKLAB_ASSIGN_OR_RETURN(
      RunOutput out, model.run_with_cache(tokens, [](const std::string& n) { return n.ends_with("hook_pattern"); }));
  const DetectionPatterns det = detection_patterns(tokens);
  const int64_t P = static_cast<int64_t>(tokens.size()), H = model.cfg().n_heads;
  HeadDetectorScores scores;
  scores.n_layers = model.cfg().n_layers;
  scores.n_heads = model.cfg().n_heads;
  for (int l = 0; l < scores.n_layers; ++l) {
    const float* pattern = out.cache.find({HookPoint::kPattern, l});
    for (int64_t h = 0; h < H; ++h) {
      const float* p = pattern + h * P * P;
      double total = 0.0, prev = 0.0, dup = 0.0, ind = 0.0;
      for (int64_t i = 0; i < P * P; ++i) {
        total += p[i];
        prev += p[i] * det.previous[static_cast<size_t>(i)];
        dup += p[i] * det.duplicate[static_cast<size_t>(i)];
        ind += p[i] * det.induction[static_cast<size_t>(i)];
      }
      scores.previous_token.push_back(prev / total);
      scores.duplicate_token.push_back(dup / total);
      scores.induction.push_back(ind / total);
      scores.previous_token_diagonal.push_back(attention_diagonal_mean(p, P, 1));
      scores.induction_diagonal.push_back(attention_diagonal_mean(p, P, (P - 1) / 2 - 1));
    }
  }
  return scores;
}

}  // namespace hooklab
