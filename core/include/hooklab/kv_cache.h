// The key/value cache of an incremental forward pass (TransformerLens's past_kv_cache).
//
// Each layer keeps the keys and values (hook_k and hook_v as the hooks left them) of every
// position already run, in a fixed budget of n_ctx rows allocated once. A step runs only the
// new positions: they continue from the cache's length and attend over the cached rows plus
// their own, so the logits equal those of a full forward over the whole sequence.
//
//   auto kv = KvCache::allocate(model->cfg()).value();
//   auto first = model->run_with_kv_cache(prompt, kv, {}).value();     // logits [1, P, V]
//   auto next = model->run_with_kv_cache({{token}}, kv, {}).value();  // logits [1, 1, V]
#pragma once

#include <cstdint>

#include "hooklab/backend.h"
#include "hooklab/config.h"
#include "hooklab/tensor.h"

namespace hooklab {

class KvCache {
 public:
  KvCache() = default;
  // n_layers x {keys, values} x n_ctx x d_model floats, allocated once.
  static Result<KvCache> allocate(const ModelConfig& cfg);

  int64_t length() const { return length_; }   // positions cached so far
  int64_t capacity() const { return n_ctx_; }  // n_ctx
  void clear() { length_ = 0; }                // keeps the allocation
  // Forgets every position from `rows` on (rows <= length()), e.g. to undo a step.
  void truncate(int64_t rows) { length_ = rows < length_ ? rows : length_; }
  // True when this cache was allocated for a model of cfg's shape.
  bool fits(const ModelConfig& cfg) const;

  // --- used by the forward pass ---
  // Copies `rows` new key and value rows of `layer` into cache rows [first_row, first_row + rows).
  void store(int layer, int64_t first_row, const float* k, int64_t ld_k, const float* v, int64_t ld_v, int64_t rows);
  SequenceRows keys(int layer, int64_t rows) const;
  SequenceRows values(int layer, int64_t rows) const;
  // Makes the rows a successful step wrote part of the cache; a failed step leaves it unchanged.
  void advance(int64_t rows) { length_ += rows; }

 private:
  // Offset of layer's keys (which = 0) or values (which = 1) in storage_.
  int64_t offset(int layer, int which) const { return (int64_t{2} * layer + which) * n_ctx_ * d_model_; }
  FloatBuffer storage_;
  int n_layers_ = 0;
  int64_t d_model_ = 0;
  int64_t n_ctx_ = 0;
  int64_t length_ = 0;
};

}  // namespace hooklab
