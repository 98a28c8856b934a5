#include "hooklab/weights.h"

#include <functional>

namespace hooklab {
namespace {

constexpr int64_t kAlignFloats = 16;  // 64 bytes

int64_t aligned(int64_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

// One row of the carving table: where the pointer goes and how many floats it needs.
struct Slot {
  std::function<void(float*)> bind;
  int64_t floats;
};

void add_vector(std::vector<Slot>& slots, float** field, int64_t n) {
  slots.push_back({[field](float* p) { *field = p; }, round_up_to_panel(n)});
}

void add_table(std::vector<Slot>& slots, EmbeddingTable* t, int64_t rows, int64_t cols, WeightPrecision precision) {
  t->rows = rows;
  t->cols = cols;
  if (precision == WeightPrecision::kF16) {
    slots.push_back({[t](float* p) { t->halves = reinterpret_cast<uint16_t*>(p); }, (rows * cols + 1) / 2});
  } else {
    slots.push_back({[t](float* p) { t->data = p; }, rows * cols});
  }
}

void add_matrix(std::vector<Slot>& slots, PackedMatrix* m, int64_t rows, int64_t cols, WeightPrecision precision) {
  m->rows = rows;
  m->cols = cols;
  if (precision == WeightPrecision::kF16) {
    // Two f16 values per float slot of the one buffer.
    slots.push_back({[m](float* p) { m->halves = reinterpret_cast<uint16_t*>(p); }, (m->storage_elements() + 1) / 2});
  } else {
    slots.push_back({[m](float* p) { m->data = p; }, m->storage_elements()});
  }
}

// The carving table of cfg's weights: every tensor's pointer field in `w` and its size. One
// table for both the size computation and the carving.
std::vector<Slot> carving_table(ModelWeights& w, const ModelConfig& cfg) {
  const WeightPrecision precision = w.precision;
  w.layers.resize(static_cast<size_t>(cfg.n_layers));
  const int64_t d = cfg.d_model, attn = static_cast<int64_t>(cfg.n_heads) * cfg.d_head;
  std::vector<Slot> slots;
  add_table(slots, &w.w_e, cfg.d_vocab, d, precision);
  add_vector(slots, &w.w_pos, static_cast<int64_t>(cfg.n_ctx) * d);
  for (LayerWeights& l : w.layers) {
    if (!w.layer_norm_folded) {
      add_vector(slots, &l.ln1_w, d);
      add_vector(slots, &l.ln1_b, d);
    }
    add_matrix(slots, &l.w_qkv, d, 3 * attn, precision);
    add_vector(slots, &l.b_qkv, 3 * attn);
    add_matrix(slots, &l.w_o, attn, d, precision);
    add_vector(slots, &l.b_o, d);
    if (cfg.attn_only) continue;  // no ln2 and no MLP: their pointers stay null
    if (!w.layer_norm_folded) {
      add_vector(slots, &l.ln2_w, d);
      add_vector(slots, &l.ln2_b, d);
    }
    add_matrix(slots, &l.w_in, d, cfg.d_mlp, precision);
    add_vector(slots, &l.b_in, cfg.d_mlp);
    add_matrix(slots, &l.w_out, cfg.d_mlp, d, precision);
    add_vector(slots, &l.b_out, d);
  }
  if (!w.layer_norm_folded) {
    add_vector(slots, &w.ln_final_w, d);
    add_vector(slots, &w.ln_final_b, d);
  }
  add_matrix(slots, &w.w_u, d, cfg.d_vocab, precision);
  add_vector(slots, &w.b_u, cfg.d_vocab);
  return slots;
}

int64_t total_floats(const std::vector<Slot>& slots) {
  int64_t total = 0;
  for (const Slot& s : slots) total += aligned(s.floats);
  return total;
}

}  // namespace

void EmbeddingTable::read_rows(int64_t first, int64_t count, float* out) const {
  read_f32_or_f16(out, data, halves, first * cols, count * cols);
}

int64_t ModelWeights::storage_bytes(const ModelConfig& cfg, bool layer_norm_folded, WeightPrecision precision) {
  ModelWeights scratch;
  scratch.layer_norm_folded = layer_norm_folded;
  scratch.precision = precision;
  return total_floats(carving_table(scratch, cfg)) * static_cast<int64_t>(sizeof(float));
}

Result<ModelWeights> ModelWeights::allocate(const ModelConfig& cfg, bool layer_norm_folded, WeightPrecision precision,
                                            const ZeroFill& zero) {
  ModelWeights w;
  w.layer_norm_folded = layer_norm_folded;
  w.precision = precision;
  const std::vector<Slot> slots = carving_table(w, cfg);
  HOOKLAB_ASSIGN_OR_RETURN(w.storage, FloatBuffer::allocate(static_cast<size_t>(total_floats(slots)), zero));
  float* cursor = w.storage.data();
  for (const Slot& s : slots) {
    s.bind(cursor);
    cursor += aligned(s.floats);
  }
  return w;
}

}  // namespace hooklab
