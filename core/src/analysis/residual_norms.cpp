// Residual-stream norms per layer (seed tutorial 1: cache["resid_post", l].norm()).
#include <cmath>

#include "analysis/logit_direction.h"

namespace hooklab {

Result<ResidualNorms> residual_norms(const HookedTransformer& model, const ActivationCache& cache) {
  const int64_t D = model.cfg().d_model;
  ResidualNorms out;
  for (int l = 0; l < model.cfg().n_layers; ++l) {
    HOOKLAB_ASSIGN_OR_RETURN(TensorView r, cached(cache, {HookPoint::kResidPost, l}));
    out.positions = static_cast<int>(r.shape[1]);
    double total = 0.0;
    for (int64_t p = 0; p < out.positions; ++p) {
      double sq = 0.0;
      for (int64_t d = 0; d < D; ++d) sq += static_cast<double>(r.data[p * D + d]) * r.data[p * D + d];
      out.per_position.push_back(std::sqrt(sq));
      total += sq;
    }
    out.per_layer.push_back(std::sqrt(total));
  }
  return out;
}

}  // namespace hooklab
