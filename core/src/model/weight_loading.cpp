#include "hooklab/weight_loading.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace hooklab {
namespace {

// Resolves Hugging Face key names (with or without the "transformer." prefix) and checks shapes.
class Checkpoint {
 public:
  Checkpoint(const SafetensorsFile& file, std::string prefix) : file_(file), prefix_(std::move(prefix)) {}

  Result<const TensorInfo*> require(const std::string& key, const Shape& shape, const ModelConfig& cfg) const {
    const TensorInfo* t = file_.find(prefix_ + key);
    if (t == nullptr) {
      return make_error(ErrorCode::kInvalidModel,
                        file_.file_name() + ": tensor '" + prefix_ + key + "' is missing (config.json describes " +
                            std::to_string(cfg.n_layers) + " layers of width " + std::to_string(cfg.d_model) + ")");
    }
    if (t->shape != shape) {
      return make_error(ErrorCode::kInvalidModel, file_.file_name() + ": tensor '" + t->name + "' has shape " +
                                                      shape_to_string(t->shape) + " but config.json requires " +
                                                      shape_to_string(shape));
    }
    if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16) {
      return make_error(ErrorCode::kInvalidModel, file_.file_name() + ": tensor '" + t->name + "' has dtype " +
                                                      dtype_name(t->dtype) + "; weights must be F32, F16 or BF16");
    }
    return t;
  }

  Status read_all(const TensorInfo* t, float* dst) const { return file_.read_f32(*t, 0, t->numel(), dst); }
  Status read_rows(const TensorInfo* t, int64_t row, int64_t rows, int64_t width, float* dst) const {
    return file_.read_f32(*t, row * width, rows * width, dst);
  }
  const SafetensorsFile& file() const { return file_; }

 private:
  const SafetensorsFile& file_;
  std::string prefix_;
};

struct LayerTensors {
  const TensorInfo *ln1_w, *ln1_b, *c_attn_w, *c_attn_b, *c_proj_w, *c_proj_b;
  const TensorInfo *ln2_w, *ln2_b, *c_fc_w, *c_fc_b, *mlp_proj_w, *mlp_proj_b;
};

struct CheckpointTensors {
  const TensorInfo *wte, *wpe, *ln_f_w, *ln_f_b, *unembed;  // unembed: lm_head.weight or wte (tied)
  std::vector<LayerTensors> layers;
};

// Block index of "h.{i}." keys, so a file with more layers than config.json is caught.
std::optional<int64_t> block_index(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  name.remove_prefix(prefix.size());
  if (name.substr(0, 2) != "h.") return std::nullopt;
  name.remove_prefix(2);
  int64_t i = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), i);
  if (ec != std::errc() || ptr == name.data()) return std::nullopt;
  return i;
}

// An attention-only config with a checkpoint that has MLP (or ln_2) weights is refused, as
// TransformerLens's strict load_state_dict refuses unexpected keys: ignoring them would run a
// different function from the one those weights were trained in.
Status refuse_mlp_tensors(const SafetensorsFile& file, const ModelConfig& cfg, const std::string& prefix) {
  if (!cfg.attn_only) return {};
  for (const auto& t : file.tensors()) {
    if (!block_index(t.name, prefix)) continue;
    if (t.name.find(".mlp.") != std::string::npos || t.name.find(".ln_2.") != std::string::npos) {
      return make_error(ErrorCode::kInvalidModel, file.file_name() + ": tensor '" + t.name +
                                                      "' is an MLP/ln_2 weight but config.json says attn_only: true");
    }
  }
  return {};
}

Result<CheckpointTensors> find_tensors(const SafetensorsFile& file, const ModelConfig& cfg, Checkpoint** out_ckpt,
                                       std::unique_ptr<Checkpoint>& holder) {
  std::string prefix;
  if (file.find("wte.weight") != nullptr) {
    prefix = "";
  } else if (file.find("transformer.wte.weight") != nullptr) {
    prefix = "transformer.";
  } else {
    return make_error(ErrorCode::kInvalidModel, file.file_name() +
                                                    ": no token embedding found (expected 'wte.weight' or "
                                                    "'transformer.wte.weight'); is this a GPT-2 checkpoint?");
  }
  for (const auto& t : file.tensors()) {
    if (auto i = block_index(t.name, prefix); i && *i >= cfg.n_layers) {
      return make_error(ErrorCode::kInvalidModel, file.file_name() + ": tensor '" + t.name + "' belongs to block " +
                                                      std::to_string(*i) +
                                                      " but config.json has n_layer = " + std::to_string(cfg.n_layers));
    }
  }
  HOOKLAB_RETURN_IF_ERROR(refuse_mlp_tensors(file, cfg, prefix));
  holder = std::make_unique<Checkpoint>(file, prefix);
  const Checkpoint& ck = *holder;
  *out_ckpt = holder.get();

  const int64_t d = cfg.d_model, m = cfg.d_mlp, v = cfg.d_vocab;
  CheckpointTensors t{};
  HOOKLAB_ASSIGN_OR_RETURN(t.wte, ck.require("wte.weight", {v, d}, cfg));
  HOOKLAB_ASSIGN_OR_RETURN(t.wpe, ck.require("wpe.weight", {cfg.n_ctx, d}, cfg));
  HOOKLAB_ASSIGN_OR_RETURN(t.ln_f_w, ck.require("ln_f.weight", {d}, cfg));
  HOOKLAB_ASSIGN_OR_RETURN(t.ln_f_b, ck.require("ln_f.bias", {d}, cfg));
  t.unembed = t.wte;
  if (!cfg.tie_word_embeddings) {
    const char* key = file.find("lm_head.weight") != nullptr ? "lm_head.weight" : "transformer.lm_head.weight";
    if (file.find(key) == nullptr) {
      return make_error(ErrorCode::kInvalidModel, file.file_name() +
                                                      ": tensor 'lm_head.weight' is missing (config.json says "
                                                      "tie_word_embeddings: false)");
    }
    Checkpoint bare(file, "");
    HOOKLAB_ASSIGN_OR_RETURN(t.unembed, bare.require(key, {v, d}, cfg));
  }
  for (int i = 0; i < cfg.n_layers; ++i) {
    const std::string h = "h." + std::to_string(i) + ".";
    LayerTensors l{};
    HOOKLAB_ASSIGN_OR_RETURN(l.ln1_w, ck.require(h + "ln_1.weight", {d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.ln1_b, ck.require(h + "ln_1.bias", {d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.c_attn_w, ck.require(h + "attn.c_attn.weight", {d, 3 * d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.c_attn_b, ck.require(h + "attn.c_attn.bias", {3 * d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.c_proj_w, ck.require(h + "attn.c_proj.weight", {d, d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.c_proj_b, ck.require(h + "attn.c_proj.bias", {d}, cfg));
    if (cfg.attn_only) {
      t.layers.push_back(l);
      continue;
    }
    HOOKLAB_ASSIGN_OR_RETURN(l.ln2_w, ck.require(h + "ln_2.weight", {d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.ln2_b, ck.require(h + "ln_2.bias", {d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.c_fc_w, ck.require(h + "mlp.c_fc.weight", {d, m}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.c_fc_b, ck.require(h + "mlp.c_fc.bias", {m}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.mlp_proj_w, ck.require(h + "mlp.c_proj.weight", {m, d}, cfg));
    HOOKLAB_ASSIGN_OR_RETURN(l.mlp_proj_b, ck.require(h + "mlp.c_proj.bias", {d}, cfg));
    t.layers.push_back(l);
  }
  return t;
}

// --- TransformerLens processing on row-major [rows, cols] staging matrices ------------------

// fold_ln into a reading matrix W (y = LN(x) @ W + b): b += ln_b @ W, then W *= ln_w[:, None].
void fold_layer_norm_into(float* w, float* b, int64_t rows, int64_t cols, const float* ln_w, const float* ln_b) {
  for (int64_t c = 0; c < cols; ++c) {
    float acc = 0.0f;
    for (int64_t r = 0; r < rows; ++r) acc += w[r * cols + c] * ln_b[r];
    b[c] += acc;
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] *= ln_w[r];
  }
}

// Centre each column over the input (d_model) axis: the reading weights after fold_ln.
void center_columns(float* w, int64_t rows, int64_t cols) {
  std::vector<double> mean(static_cast<size_t>(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) mean[c] += w[r * cols + c];
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] -= static_cast<float>(mean[c] / rows);
  }
}

// Centre each row over the output (d_model) axis: center_writing_weights.
void center_rows(float* w, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0.0;
    for (int64_t c = 0; c < cols; ++c) mean += w[r * cols + c];
    const float m = static_cast<float>(mean / cols);
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] -= m;
  }
}

void center_vector(float* v, int64_t n) { center_rows(v, 1, n); }

class Loader {
 public:
  Loader(const Checkpoint& ck, const ModelConfig& cfg, const ProcessingOptions& opt, ModelWeights& w,
         const LoadProgress& progress)
      : ck_(ck), cfg_(cfg), opt_(opt), w_(w), progress_(progress) {}

  Status load(const CheckpointTensors& t) {
    steps_total_ = 4 + cfg_.n_layers;
    HOOKLAB_RETURN_IF_ERROR(load_embeddings(t));
    HOOKLAB_RETURN_IF_ERROR(step());
    for (int i = 0; i < cfg_.n_layers; ++i) {
      HOOKLAB_RETURN_IF_ERROR(load_layer(t.layers[static_cast<size_t>(i)], w_.layers[static_cast<size_t>(i)]));
      HOOKLAB_RETURN_IF_ERROR(step());
    }
    HOOKLAB_RETURN_IF_ERROR(load_unembed(t));
    steps_done_ = steps_total_ - 1;
    return step();
  }

 private:
  Status step() {
    ++steps_done_;
    if (progress_ && !progress_(static_cast<double>(steps_done_) / steps_total_)) {
      return make_error(ErrorCode::kCancelled, "model loading was cancelled");
    }
    return {};
  }

  Status load_embeddings(const CheckpointTensors& t) {
    const int64_t d = cfg_.d_model;
    HOOKLAB_RETURN_IF_ERROR(load_token_embedding(t.wte));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.wpe, w_.w_pos));
    if (opt_.center_writing_weights) center_rows(w_.w_pos, cfg_.n_ctx, d);
    if (!w_.layer_norm_folded) {
      HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln_f_w, w_.ln_final_w));
      HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln_f_b, w_.ln_final_b));
    }
    return {};
  }

  // W_E, centred per row (center_writing_weights); f16 storage takes it in row blocks, so the
  // load never holds it in f32 as well.
  Status load_token_embedding(const TensorInfo* wte) {
    const int64_t d = cfg_.d_model, v = cfg_.d_vocab;
    EmbeddingTable& w_e = w_.w_e;
    if (!w_e.is_f16()) {
      HOOKLAB_RETURN_IF_ERROR(ck_.read_all(wte, w_e.data));
      if (opt_.center_writing_weights) center_rows(w_e.data, v, d);
      return {};
    }
    constexpr int64_t kBlockRows = 512;
    std::vector<float> block(static_cast<size_t>(kBlockRows * d));
    for (int64_t row = 0; row < v; row += kBlockRows) {
      const int64_t n = std::min(kBlockRows, v - row);
      HOOKLAB_RETURN_IF_ERROR(ck_.read_rows(wte, row, n, d, block.data()));
      if (opt_.center_writing_weights) center_rows(block.data(), n, d);
      if (!store_f16(w_e.halves + row * d, block.data(), n * d)) return outside_f16_range(wte);
    }
    return {};
  }

  Status load_layer(const LayerTensors& t, LayerWeights& l) {
    const int64_t d = cfg_.d_model, m = cfg_.d_mlp, qkv = 3 * d;
    std::vector<float> ln_w(static_cast<size_t>(d)), ln_b(static_cast<size_t>(d));
    staging_.resize(static_cast<size_t>(std::max(d * qkv, d * m)));
    float* s = staging_.data();

    // Attention: c_attn (reads ln_1) and c_proj (writes the residual stream).
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln1_w, ln_w.data()));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln1_b, ln_b.data()));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.c_attn_w, s));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.c_attn_b, l.b_qkv));
    if (opt_.fold_ln) {
      fold_layer_norm_into(s, l.b_qkv, d, qkv, ln_w.data(), ln_b.data());
      center_columns(s, d, qkv);
    } else {
      std::copy(ln_w.begin(), ln_w.end(), l.ln1_w);
      std::copy(ln_b.begin(), ln_b.end(), l.ln1_b);
    }
    HOOKLAB_RETURN_IF_ERROR(pack(l.w_qkv, s, t.c_attn_w));

    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.c_proj_w, s));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.c_proj_b, l.b_o));
    if (opt_.center_writing_weights) {
      center_rows(s, d, d);
      center_vector(l.b_o, d);
    }
    if (opt_.fold_value_biases) {
      // b_O += sum_h b_V[h] @ W_O[h]; then b_V = 0. Uses the (already centred) W_O.
      float* b_v = l.b_qkv + 2 * d;
      for (int64_t c = 0; c < d; ++c) {
        float acc = 0.0f;
        for (int64_t r = 0; r < d; ++r) acc += b_v[r] * s[r * d + c];
        l.b_o[c] += acc;
      }
      std::fill(b_v, b_v + d, 0.0f);
    }
    HOOKLAB_RETURN_IF_ERROR(pack(l.w_o, s, t.c_proj_w));

    if (cfg_.attn_only) return {};
    // MLP: c_fc (reads ln_2) and c_proj (writes).
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln2_w, ln_w.data()));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln2_b, ln_b.data()));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.c_fc_w, s));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.c_fc_b, l.b_in));
    if (opt_.fold_ln) {
      fold_layer_norm_into(s, l.b_in, d, m, ln_w.data(), ln_b.data());
      center_columns(s, d, m);
    } else {
      std::copy(ln_w.begin(), ln_w.end(), l.ln2_w);
      std::copy(ln_b.begin(), ln_b.end(), l.ln2_b);
    }
    HOOKLAB_RETURN_IF_ERROR(pack(l.w_in, s, t.c_fc_w));

    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.mlp_proj_w, s));
    HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.mlp_proj_b, l.b_out));
    if (opt_.center_writing_weights) {
      center_rows(s, m, d);
      center_vector(l.b_out, d);
    }
    HOOKLAB_RETURN_IF_ERROR(pack(l.w_out, s, t.mlp_proj_w));
    return {};
  }

  // W_U = unembed^T ([D, V]) streamed from the [V, D] source in row blocks: each block of 8
  // vocabulary rows is exactly one column panel of W_U. center_unembed needs the mean over
  // the vocabulary first, hence two passes over the source.
  Status load_unembed(const CheckpointTensors& t) {
    const int64_t d = cfg_.d_model, v = cfg_.d_vocab;
    std::vector<float> ln_w(static_cast<size_t>(d), 1.0f), ln_b(static_cast<size_t>(d), 0.0f);
    if (opt_.fold_ln) {
      HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln_f_w, ln_w.data()));
      HOOKLAB_RETURN_IF_ERROR(ck_.read_all(t.ln_f_b, ln_b.data()));
    }
    constexpr int64_t kBlockRows = 512;  // a multiple of the panel width
    std::vector<float> block(static_cast<size_t>(kBlockRows * d));
    std::vector<double> vocab_sum(static_cast<size_t>(d), 0.0);

    // Transforms rows [row, row + n) of the source into W_U columns (in place in `block`):
    // fold ln_final (bias into b_U, weight into W_U) and centre over d_model.
    auto transform = [&](int64_t row, int64_t n) -> Status {
      HOOKLAB_RETURN_IF_ERROR(ck_.read_rows(t.unembed, row, n, d, block.data()));
      for (int64_t r = 0; r < n; ++r) {
        float* col = block.data() + r * d;
        if (opt_.fold_ln) {
          float bias = 0.0f;
          for (int64_t k = 0; k < d; ++k) bias += col[k] * ln_b[static_cast<size_t>(k)];
          w_.b_u[row + r] = bias;
          for (int64_t k = 0; k < d; ++k) col[k] *= ln_w[static_cast<size_t>(k)];
          center_vector(col, d);
        } else {
          w_.b_u[row + r] = 0.0f;
        }
      }
      return {};
    };

    if (opt_.center_unembed) {
      for (int64_t row = 0; row < v; row += kBlockRows) {
        const int64_t n = std::min(kBlockRows, v - row);
        HOOKLAB_RETURN_IF_ERROR(transform(row, n));
        for (int64_t r = 0; r < n; ++r) {
          for (int64_t k = 0; k < d; ++k) vocab_sum[static_cast<size_t>(k)] += block[static_cast<size_t>(r * d + k)];
        }
      }
    }
    std::vector<float> transposed(static_cast<size_t>(d * kBlockRows));
    for (int64_t row = 0; row < v; row += kBlockRows) {
      const int64_t n = std::min(kBlockRows, v - row);
      HOOKLAB_RETURN_IF_ERROR(transform(row, n));
      for (int64_t k = 0; k < d; ++k) {
        const float mean = opt_.center_unembed ? static_cast<float>(vocab_sum[static_cast<size_t>(k)] / v) : 0.0f;
        for (int64_t r = 0; r < n; ++r)
          transposed[static_cast<size_t>(k * n + r)] = block[static_cast<size_t>(r * d + k)] - mean;
      }
      // `transposed` holds W_U[:, row:row+n] row-major with stride n; pack it into place.
      PackedMatrix slice = w_.w_u.column_panels(row / kPanelWidth, n);
      HOOKLAB_RETURN_IF_ERROR(pack(slice, transposed.data(), t.unembed));
    }
    if (opt_.center_unembed) center_vector(w_.b_u, v);
    return {};
  }

  // Packs processed values into place; f16 storage cannot hold a value beyond its range.
  Status pack(PackedMatrix& dst, const float* src, const TensorInfo* from) const {
    return pack_matrix(dst, src) ? Status{} : outside_f16_range(from);
  }

  Status outside_f16_range(const TensorInfo* from) const {
    return make_error(
        ErrorCode::kInvalidModel,
        ck_.file().file_name() + ": tensor '" + from->name +
            "' has a value outside the f16 range (|x| > 65504) after processing; load it with f32 weights");
  }

  const Checkpoint& ck_;
  const ModelConfig& cfg_;
  const ProcessingOptions& opt_;
  ModelWeights& w_;
  const LoadProgress& progress_;
  std::vector<float> staging_;
  int steps_total_ = 1;
  int steps_done_ = 0;
};

}  // namespace

Result<ModelWeights> load_gpt2_weights(const SafetensorsFile& file, const ModelConfig& cfg,
                                       const ProcessingOptions& processing, const LoadProgress& progress,
                                       WeightPrecision precision, const ZeroFill& zero) {
  std::unique_ptr<Checkpoint> holder;
  Checkpoint* ck = nullptr;
  HOOKLAB_ASSIGN_OR_RETURN(CheckpointTensors tensors, find_tensors(file, cfg, &ck, holder));
  HOOKLAB_ASSIGN_OR_RETURN(ModelWeights weights, ModelWeights::allocate(cfg, processing.fold_ln, precision, zero));
  Loader loader(*ck, cfg, processing, weights, progress);
  HOOKLAB_RETURN_IF_ERROR(loader.load(tensors));
  return weights;
}

}  // namespace hooklab
