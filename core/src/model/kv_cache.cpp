#include "hooklab/kv_cache.h"

#include <cstring>

namespace hooklab {

Result<KvCache> KvCache::allocate(const ModelConfig& cfg) {
  if (cfg.n_layers <= 0 || cfg.n_ctx <= 0 || cfg.d_model <= 0) {
    return make_error(ErrorCode::kInvalidArgument, "cannot allocate a KV cache for an empty model");
  }
  KvCache kv;
  kv.n_layers_ = cfg.n_layers;
  kv.d_model_ = cfg.d_model;
  kv.n_ctx_ = cfg.n_ctx;
  const int64_t floats = int64_t{2} * cfg.n_layers * cfg.n_ctx * cfg.d_model;
  HOOKLAB_ASSIGN_OR_RETURN(kv.storage_, FloatBuffer::allocate(static_cast<size_t>(floats)));
  return kv;
}

bool KvCache::fits(const ModelConfig& cfg) const {
  return storage_.data() != nullptr && n_layers_ == cfg.n_layers && d_model_ == cfg.d_model && n_ctx_ == cfg.n_ctx;
}

void KvCache::store(int layer, int64_t first_row, const float* k, int64_t ld_k, const float* v, int64_t ld_v,
                    int64_t rows) {
  float* keys = storage_.data() + offset(layer, 0) + first_row * d_model_;
  float* values = storage_.data() + offset(layer, 1) + first_row * d_model_;
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(keys + r * d_model_, k + r * ld_k, sizeof(float) * static_cast<size_t>(d_model_));
    std::memcpy(values + r * d_model_, v + r * ld_v, sizeof(float) * static_cast<size_t>(d_model_));
  }
}

SequenceRows KvCache::keys(int layer, int64_t rows) const {
  const float* k = storage_.data() + offset(layer, 0);
  return SequenceRows{k, d_model_, k, d_model_, rows};
}

SequenceRows KvCache::values(int layer, int64_t rows) const {
  const float* v = storage_.data() + offset(layer, 1);
  return SequenceRows{v, d_model_, v, d_model_, rows};
}

}  // namespace hooklab
