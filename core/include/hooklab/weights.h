// The processed weights of a GPT-2, in TransformerLens's naming, carved from one buffer.
//
// Like llm.c's ParameterTensors, every tensor is a named pointer into a single allocation,
// sized once from the config; the order and sizes live in one table (weights.cpp) that drives
// both the size computation and the carving. Large matrices are PackedMatrix panels (the
// layout every CPU kernel reads); vectors and the embedding tables are plain row-major.
//
// Shapes: D = d_model, H = n_heads, Dh = d_head, M = d_mlp, V = d_vocab, C = n_ctx.
// The attention weights keep Hugging Face's fused layout: W_QKV's columns are
// [W_Q | W_K | W_V], head h of each occupying columns h*Dh..(h+1)*Dh, i.e. TransformerLens's
// W_Q[h] = W_QKV[:, h*Dh:(h+1)*Dh]; W_O's rows are TL's W_O[h] stacked: W_O[h] = rows h*Dh...
#pragma once

#include <vector>

#include "hooklab/config.h"
#include "hooklab/packed_matrix.h"
#include "hooklab/tensor.h"

namespace hooklab {

// A row-major table [rows, cols] (the token embedding W_E), read a row at a time: f32, or f16 when
// the model is loaded with f16 weights (exactly one of data / halves is set).
struct EmbeddingTable {
  float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  uint16_t* halves = nullptr;

  bool is_f16() const { return halves != nullptr; }
  // Rows [first, first + count) as f32, row-major, into out.
  void read_rows(int64_t first, int64_t count, float* out) const;
};

struct LayerWeights {
  float* ln1_w = nullptr;  // (D) — only when LayerNorm is not folded
  float* ln1_b = nullptr;  // (D)
  PackedMatrix w_qkv;      // (D, 3*H*Dh)
  float* b_qkv = nullptr;  // (3*H*Dh): b_Q | b_K | b_V (b_V = 0 after fold_value_biases)
  PackedMatrix w_o;        // (H*Dh, D)
  float* b_o = nullptr;    // (D)
  float* ln2_w = nullptr;  // (D)
  float* ln2_b = nullptr;  // (D)
  PackedMatrix w_in;       // (D, M)
  float* b_in = nullptr;   // (M)
  PackedMatrix w_out;      // (M, D)
  float* b_out = nullptr;  // (D)
};

struct ModelWeights {
  FloatBuffer storage;     // owns every tensor below
  EmbeddingTable w_e;      // (V, D): token embedding W_E
  float* w_pos = nullptr;  // (C, D) row-major: positional embedding W_pos
  std::vector<LayerWeights> layers;
  float* ln_final_w = nullptr;     // (D) — only when LayerNorm is not folded
  float* ln_final_b = nullptr;     // (D)
  PackedMatrix w_u;                // (D, V): unembedding W_U
  float* b_u = nullptr;            // (V) b_U
  bool layer_norm_folded = false;  // true: LayerNormPre (centre and scale only)
  // The storage of the PackedMatrix weights (W_QKV, W_O, W_in, W_out, W_U) and of W_E; W_pos,
  // biases and LayerNorm vectors are always f32.
  WeightPrecision precision = WeightPrecision::kF32;

  // Allocates zeroed storage for cfg (zeroed by `zero`, see ZeroFill) and carves it. Bias
  // vectors are padded to whole panels with zeros so kernels can load them 8 at a time.
  static Result<ModelWeights> allocate(const ModelConfig& cfg, bool layer_norm_folded,
                                       WeightPrecision precision = WeightPrecision::kF32, const ZeroFill& zero = {});
  // What allocate() would take, in bytes, without allocating: a model too large for the memory
  // at hand is refused before anything is read.
  static int64_t storage_bytes(const ModelConfig& cfg, bool layer_norm_folded,
                               WeightPrecision precision = WeightPrecision::kF32);
  size_t bytes() const { return storage.size() * sizeof(float); }
};

}  // namespace hooklab
