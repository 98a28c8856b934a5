#include "analysis/logit_direction.h"

namespace hooklab {

std::vector<double> logit_diff_direction(const HookedTransformer& model, const AnswerPairs& pairs) {
  const int64_t D = model.cfg().d_model;
  std::vector<double> dir(static_cast<size_t>(D), 0.0);
  std::vector<float> a(static_cast<size_t>(D)), w(static_cast<size_t>(D));
  for (const auto& [answer, wrong] : pairs) {
    read_column(a.data(), model.weights().w_u, answer);
    read_column(w.data(), model.weights().w_u, wrong);
    for (int64_t d = 0; d < D; ++d) dir[static_cast<size_t>(d)] += (static_cast<double>(a[d]) - w[d]) / pairs.size();
  }
  return dir;
}

double logit_diff_bias(const HookedTransformer& model, const AnswerPairs& pairs) {
  double sum = 0.0;
  for (const auto& [answer, wrong] : pairs)
    sum += static_cast<double>(model.weights().b_u[answer]) - model.weights().b_u[wrong];
  return pairs.empty() ? 0.0 : sum / static_cast<double>(pairs.size());
}

Status check_pairs(const HookedTransformer& model, const AnswerPairs& pairs) {
  for (const auto& [answer, wrong] : pairs) {
    for (int32_t t : {answer, wrong}) {
      if (t < 0 || t >= model.cfg().d_vocab) {
        return make_error(ErrorCode::kInvalidInput, "token id " + std::to_string(t) + " is outside the vocabulary");
      }
    }
  }
  return {};
}

Status check_position(const HookedTransformer& model, int position, int positions) {
  (void)model;
  if (position < 0 || position >= positions) {
    return make_error(ErrorCode::kInvalidInput, "position " + std::to_string(position) + " is out of range for " +
                                                    std::to_string(positions) + " tokens");
  }
  return {};
}

Result<TensorView> cached(const ActivationCache& cache, HookRef ref) {
  if (auto v = cache.view(ref)) return *v;
  return make_error(ErrorCode::kInvalidArgument, "this analysis needs " + hook_name(ref) + " in the cache");
}

double dot(const float* a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < b.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace hooklab
