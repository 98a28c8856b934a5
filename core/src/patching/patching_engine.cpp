// The fast patching engine: the numbers of transformer_lens.patching at a fraction of the work.
//
// Reuse instead of recompute (see patch_cells.h): each cell starts from the cached receiving
// run at its own layer, recomputes only rows [p0, metric_pos] — attending over the cached
// keys/values of the earlier positions — and only the metric position in the last layer.
// Cells are sorted by starting layer and run in chunks whose rows are stacked into one matrix,
// so every matrix product serves many cells at once. Only the logits the metric reads are
// computed: two unembedding columns for a logit difference, a full row only for
// probabilities and ranks. patch_plain() is the oracle these results are tested against.
#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "hooklab/patching.h"
#include "patching/head_patch.h"
#include "patching/patch_cells.h"
#include "patching/patch_estimator.h"
#include "patching/sweep_layout.h"

namespace hooklab {
namespace {

constexpr int64_t kMaxChunkRows = 1024;  // rows stacked into one product (bounds memory)
constexpr size_t kMaxChunkCells = 256;   // cells per step (bounds the time between progress reports)
constexpr int64_t kLogitBatch = 64;      // cells per full-vocabulary logits product

struct Buffers {
  FloatBuffer storage;
  float *resid, *ln, *scale, *qkv, *z, *attn, *mid, *ln2, *pre, *post, *mlp, *scores, *pattern;

  static Result<Buffers> allocate(const ModelConfig& cfg, int64_t rows, int64_t max_cell_rows, int64_t keys) {
    const int64_t D = cfg.d_model, M = cfg.d_mlp, H = cfg.n_heads;
    Buffers b{};
    struct Part {
      float** p;
      int64_t n;
    } parts[] = {{&b.resid, rows * D},
                 {&b.ln, rows * D},
                 {&b.scale, rows},
                 {&b.qkv, rows * 3 * D},
                 {&b.z, rows * D},
                 {&b.attn, rows * D},
                 {&b.mid, rows * D},
                 {&b.ln2, rows * D},
                 {&b.pre, rows * M},
                 {&b.post, rows * M},
                 {&b.mlp, rows * D},
                 {&b.scores, H * max_cell_rows * keys},
                 {&b.pattern, H * max_cell_rows * keys}};
    int64_t total = 0;
    for (const Part& part : parts) total += (part.n + 15) / 16 * 16;
    HOOKLAB_ASSIGN_OR_RETURN(b.storage, FloatBuffer::allocate(static_cast<size_t>(total)));
    float* cursor = b.storage.data();
    for (const Part& part : parts) {
      *part.p = cursor;
      cursor += (part.n + 15) / 16 * 16;
    }
    return b;
  }
};

class Engine {
 public:
  Engine(const HookedTransformer& model, const ActivationCache& recv, const ActivationCache& src, int positions,
         int metric_pos)
      : cfg_(model.cfg()),
        w_(model.weights()),
        be_(model.backend()),
        recv_(recv),
        src_(src),
        P_(positions),
        pos_m_(metric_pos) {}

  // Runs cells [begin, end) (sorted by start layer); writes each cell's final residual at the
  // metric position into final_rows (one row of d_model per cell).
  Status run_chunk(const std::vector<PatchCell*>& cells, float* final_rows) {
    const int64_t D = cfg_.d_model;
    std::vector<int64_t> offset(cells.size() + 1, 0);
    int64_t max_cell_rows = 1;
    for (size_t i = 0; i < cells.size(); ++i) {
      const int64_t n = pos_m_ - cells[i]->p0 + 1;
      offset[i + 1] = offset[i] + n;
      max_cell_rows = std::max(max_cell_rows, n);
    }
    HOOKLAB_ASSIGN_OR_RETURN(Buffers b,
                             Buffers::allocate(cfg_, std::max<int64_t>(offset.back(), 1), max_cell_rows, pos_m_ + 1));
    b_ = &b;
    for (int j = 0; j < cfg_.n_layers; ++j) {
      // Cells whose patch sits at this layer: set their rows of the residual stream.
      HOOKLAB_RETURN_IF_ERROR(apply_layer_patches(cells, offset, j, final_rows));
      size_t active = 0;
      while (active < cells.size() && cells[active]->start_layer <= j) ++active;
      if (active == 0) continue;
      if (j + 1 < cfg_.n_layers) {
        full_block(cells, offset, active, j);
      } else {
        last_block(cells, offset, active, j, final_rows);
      }
    }
    (void)D;
    return {};
  }

 private:
  const float* recv(HookPoint p, int l) const { return recv_.find({p, l}); }
  const float* src(HookPoint p, int l) const { return src_.find({p, l}); }

  void layer_norm(float* y, float* scale, const float* x, int64_t rows, const float* w, const float* bias) const {
    be_.layer_norm({y, cfg_.d_model, scale, x, cfg_.d_model, w, bias, rows, cfg_.d_model, cfg_.eps});
  }

  // mid -> post = mid + MLP(LN2(mid)) for `rows` contiguous rows of the chunk buffers.
  void mlp(const LayerWeights& lw, const float* mid, float* post_out, int64_t rows) {
    const int64_t D = cfg_.d_model, M = cfg_.d_mlp;
    Buffers& b = *b_;
    layer_norm(b.ln2, b.scale, mid, rows, lw.ln2_w, lw.ln2_b);
    be_.matmul({b.pre, M, b.ln2, D, rows, &lw.w_in, 0, D, lw.b_in});
    be_.gelu_new(b.post, b.pre, rows * M);
    be_.matmul({b.mlp, D, b.post, M, rows, &lw.w_out, 0, M, lw.b_out});
    for (int64_t i = 0; i < rows * D; ++i) post_out[i] = mid[i] + b.mlp[i];
  }

  // A row of a cell still to be computed at this layer.
  struct PendingRow {
    size_t cell;
    int row;
  };

  // Head cells: z rows with the patched head, then attn_out = z @ W_O + b_O in one product (b.attn).
  void patched_heads_attn_out(const std::vector<PatchCell*>& cells, const std::vector<PendingRow>& head_rows, int j) {
    const int64_t D = cfg_.d_model, Dh = cfg_.d_head, n = static_cast<int64_t>(head_rows.size());
    Buffers& b = *b_;
    for (int64_t k = 0; k < n; ++k) {
      const PatchCell& c = *cells[head_rows[k].cell];
      float* z = b.z + k * D;
      std::memcpy(z, recv(HookPoint::kZ, j) + head_rows[k].row * D, sizeof(float) * D);
      patched_head_z(z + c.head * Dh, c, head_rows[k].row, recv_, src_, cfg_, P_);
    }
    const LayerWeights& lw = w_.layers[static_cast<size_t>(j)];
    be_.matmul({b.attn, D, b.z, D, n, &lw.w_o, 0, D, lw.b_o});
  }

  Status apply_layer_patches(const std::vector<PatchCell*>& cells, const std::vector<int64_t>& offset, int j,
                             float* final_rows) {
    const int64_t D = cfg_.d_model;
    Buffers& b = *b_;
    const LayerWeights& lw = w_.layers[static_cast<size_t>(j)];
    // Rows that need attn_out from patched z (head cells) and rows that need the MLP.
    std::vector<PendingRow> head_rows, mlp_rows;
    for (size_t i = 0; i < cells.size(); ++i) {
      const PatchCell& c = *cells[i];
      if (c.layer != j) continue;
      float* rows = b.resid + offset[i] * D;
      const int64_t n = pos_m_ - c.p0 + 1;
      if (c.kind == CellKind::kResidPre) {
        std::memcpy(rows, recv(HookPoint::kResidPre, j) + c.p0 * D, sizeof(float) * n * D);
        std::memcpy(rows, src(HookPoint::kResidPre, j) + c.p0 * D, sizeof(float) * D);
        continue;
      }
      std::memcpy(rows, recv(HookPoint::kResidPost, j) + c.p0 * D, sizeof(float) * n * D);
      for (int r : c.rows) {
        switch (c.kind) {
          case CellKind::kMlpOut: {
            float* out = rows + (r - c.p0) * D;
            const float* mid = recv(HookPoint::kResidMid, j) + r * D;
            const float* m = src(HookPoint::kMlpOut, j) + r * D;
            for (int64_t d = 0; d < D; ++d) out[d] = mid[d] + m[d];
            break;
          }
          case CellKind::kResidMid:
          case CellKind::kAttnOut: mlp_rows.push_back({i, r}); break;
          default: head_rows.push_back({i, r}); break;
        }
      }
    }
    if (!head_rows.empty()) patched_heads_attn_out(cells, head_rows, j);
    // Everything that goes through the MLP: head rows first, then resid_mid / attn_out rows.
    std::vector<PendingRow> through_mlp = head_rows;
    through_mlp.insert(through_mlp.end(), mlp_rows.begin(), mlp_rows.end());
    if (!through_mlp.empty()) {
      const int64_t n = static_cast<int64_t>(through_mlp.size());
      for (int64_t k = 0; k < n; ++k) {
        const PatchCell& c = *cells[through_mlp[k].cell];
        const int r = through_mlp[k].row;
        float* mid = b.mid + k * D;
        const float* pre = recv(HookPoint::kResidPre, j) + r * D;
        if (k < static_cast<int64_t>(head_rows.size())) {
          for (int64_t d = 0; d < D; ++d) mid[d] = pre[d] + b.attn[k * D + d];
        } else if (c.kind == CellKind::kAttnOut) {
          const float* a = src(HookPoint::kAttnOut, j) + r * D;
          for (int64_t d = 0; d < D; ++d) mid[d] = pre[d] + a[d];
        } else {
          std::memcpy(mid, src(HookPoint::kResidMid, j) + r * D, sizeof(float) * D);
        }
      }
      mlp(lw, b.mid, b.mid, n);  // post written over mid, row by row it is the same row
      for (int64_t k = 0; k < n; ++k) {
        const size_t i = through_mlp[k].cell;
        std::memcpy(b.resid + (offset[i] + through_mlp[k].row - cells[i]->p0) * D, b.mid + k * D, sizeof(float) * D);
      }
    }
    // Patched at the last layer: the residual at the metric position is final.
    if (j + 1 == cfg_.n_layers) {
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i]->layer != j || cells[i]->kind == CellKind::kResidPre) continue;
        std::memcpy(final_rows + i * D, b.resid + (offset[i + 1] - 1) * D, sizeof(float) * D);
      }
    }
    return {};
  }

  // Attention of one cell at layer j: queries rows [q_first, pos_m] of the cell, keys
  // [0, p0) from the receiving run's cache and [p0, pos_m] from the cell's own rows.
  void attend(const PatchCell& c, int64_t row0, int j, int q_first, float* z_out) {
    const int64_t D = cfg_.d_model, H = cfg_.n_heads, Dh = cfg_.d_head;
    Buffers& b = *b_;
    const int64_t nq = pos_m_ - q_first + 1, nk = pos_m_ + 1;
    const float* cell_qkv = b.qkv + row0 * 3 * D;
    const SequenceRows keys{recv(HookPoint::kK, j), D, cell_qkv + D, 3 * D, c.p0};
    const SequenceRows values{recv(HookPoint::kV, j), D, cell_qkv + 2 * D, 3 * D, c.p0};
    const float* q = cell_qkv + (q_first - c.p0) * 3 * D;
    be_.attention_scores({b.scores, q, 3 * D, keys, H, Dh, nq, nk, q_first, cfg_.attn_scale_for_layer(j)});
    be_.softmax_rows(b.pattern, b.scores, H * nq, nk);
    be_.attention_mix({z_out, D, b.pattern, values, H, Dh, nq, nk});
  }

  void full_block(const std::vector<PatchCell*>& cells, const std::vector<int64_t>& offset, size_t active, int j) {
    const int64_t D = cfg_.d_model, rows = offset[active];
    Buffers& b = *b_;
    const LayerWeights& lw = w_.layers[static_cast<size_t>(j)];
    layer_norm(b.ln, b.scale, b.resid, rows, lw.ln1_w, lw.ln1_b);
    be_.matmul({b.qkv, 3 * D, b.ln, D, rows, &lw.w_qkv, 0, D, lw.b_qkv});
    for (size_t i = 0; i < active; ++i) attend(*cells[i], offset[i], j, cells[i]->p0, b.z + offset[i] * D);
    be_.matmul({b.attn, D, b.z, D, rows, &lw.w_o, 0, D, lw.b_o});
    for (int64_t k = 0; k < rows * D; ++k) b.mid[k] = b.resid[k] + b.attn[k];
    mlp(lw, b.mid, b.resid, rows);
  }

  // The last block: keys and values for every row, everything else for the metric row only.
  void last_block(const std::vector<PatchCell*>& cells, const std::vector<int64_t>& offset, size_t active, int j,
                  float* final_rows) {
    const int64_t D = cfg_.d_model, rows = offset[active], n = static_cast<int64_t>(active);
    Buffers& b = *b_;
    const LayerWeights& lw = w_.layers[static_cast<size_t>(j)];
    layer_norm(b.ln, b.scale, b.resid, rows, lw.ln1_w, lw.ln1_b);
    be_.matmul({b.qkv, 3 * D, b.ln, D, rows, &lw.w_qkv, 0, D, lw.b_qkv});
    for (size_t i = 0; i < active; ++i) attend(*cells[i], offset[i], j, pos_m_, b.z + static_cast<int64_t>(i) * D);
    be_.matmul({b.attn, D, b.z, D, n, &lw.w_o, 0, D, lw.b_o});
    for (int64_t i = 0; i < n; ++i) {
      const float* resid = b.resid + (offset[static_cast<size_t>(i) + 1] - 1) * D;
      for (int64_t d = 0; d < D; ++d) b.mid[i * D + d] = resid[d] + b.attn[i * D + d];
    }
    mlp(lw, b.mid, final_rows, n);
  }

  const ModelConfig& cfg_;
  const ModelWeights& w_;
  const Backend& be_;
  const ActivationCache& recv_;
  const ActivationCache& src_;
  int P_;
  int pos_m_;
  Buffers* b_ = nullptr;
};

// Metric values of the patched runs from their final residuals at the metric position.
Status evaluate_final_rows(const HookedTransformer& model, const PatchMetric& metric, const float* final_rows,
                           int64_t n, double* out) {
  const ModelConfig& cfg = model.cfg();
  const ModelWeights& w = model.weights();
  const int64_t D = cfg.d_model, V = cfg.d_vocab;
  HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer normalized, FloatBuffer::allocate(static_cast<size_t>(n * D)));
  model.backend().layer_norm({normalized.data(), D, nullptr, final_rows, D, w.ln_final_w, w.ln_final_b, n, D, cfg.eps});
  if (metric.kind == MetricKind::kLogitDiff) {
    // Only the answer and wrong columns of W_U: a logit difference reads two logits.
    std::vector<float> column(static_cast<size_t>(D));
    std::map<int32_t, std::vector<double>> logits;
    for (const auto& [a, wrong] : metric.answer_pairs) {
      for (int32_t t : {a, wrong}) {
        if (logits.count(t)) continue;
        read_column(column.data(), w.w_u, t);
        std::vector<double>& l = logits[t];
        l.resize(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
          float dot = 0.0f;
          for (int64_t d = 0; d < D; ++d) dot += normalized.data()[i * D + d] * column[static_cast<size_t>(d)];
          l[static_cast<size_t>(i)] = static_cast<double>(dot + w.b_u[t]);
        }
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0.0;
      for (const auto& [a, wrong] : metric.answer_pairs)
        sum += logits[a][static_cast<size_t>(i)] - logits[wrong][static_cast<size_t>(i)];
      out[i] = sum / static_cast<double>(metric.answer_pairs.size());
    }
    return {};
  }
  HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer logits,
                           FloatBuffer::allocate(static_cast<size_t>(std::min(n, kLogitBatch) * V)));
  for (int64_t first = 0; first < n; first += kLogitBatch) {
    const int64_t m = std::min(kLogitBatch, n - first);
    model.backend().matmul({logits.data(), V, normalized.data() + first * D, D, m, &w.w_u, 0, D, w.b_u});
    for (int64_t i = 0; i < m; ++i) out[first + i] = evaluate_metric_row(metric, logits.data() + i * V, V);
  }
  return {};
}

}  // namespace

struct PatchJob::State {
  const HookedTransformer* model = nullptr;
  PatchRequest request;
  std::vector<PatchItem> items;
  std::shared_ptr<const BaselineRuns> runs;
  std::vector<PatchResult> results;  // one per item
  bool estimated = false;            // the estimated items are filled by the first step
  CellPlan plan;                     // plan.work sorted by start layer
  size_t done = 0;
  std::unique_ptr<Engine> engine;

  Status estimate_items();
  Status run_next_chunk();
};

PatchJob::PatchJob() = default;
PatchJob::~PatchJob() = default;

Result<std::unique_ptr<PatchJob>> PatchJob::start(const HookedTransformer& model, PatchRequest request) {
  HOOKLAB_RETURN_IF_ERROR(validate_patch_request(model, request));
  std::unique_ptr<PatchJob> job(new PatchJob());
  job->state_ = std::make_unique<State>();
  State& s = *job->state_;
  s.model = &model;
  s.request = std::move(request);
  s.request.progress = nullptr;
  s.items = request_items(s.request);
  const ModelConfig& cfg = model.cfg();
  HOOKLAB_ASSIGN_OR_RETURN(s.runs, run_baselines(model, s.request, s.items));
  const BaselineRuns& runs = *s.runs;
  for (const PatchItem& item : s.items) {
    s.results.push_back(result_skeleton(item, cfg, runs.positions, runs.receiving_metric, runs.clean_metric(),
                                        runs.corrupted_metric()));
  }
  s.plan = plan_exact_cells(s.items, runs.receiving.cache, runs.source.cache, cfg, runs.positions, runs.metric_pos);
  std::stable_sort(s.plan.work.begin(), s.plan.work.end(),
                   [](const PatchCell* a, const PatchCell* b) { return a->start_layer < b->start_layer; });
  for (size_t i = 0; i < s.items.size(); ++i) {
    if (s.items[i].method == PatchMethod::kExact) s.results[i].cells_computed = s.plan.work_per_item[i];
  }
  s.engine = std::make_unique<Engine>(model, runs.receiving.cache, runs.source.cache, runs.positions, runs.metric_pos);
  return job;
}

Status PatchJob::State::estimate_items() {
  if (!has_estimate(items)) return {};
  const PatchEstimator estimator(model->cfg(), runs);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].method == PatchMethod::kExact) continue;
    HOOKLAB_ASSIGN_OR_RETURN(results[i], estimator.estimate(items[i]));
  }
  return {};
}

// The next chunk of exact cells, of any items, stacked through the products together.
Status PatchJob::State::run_next_chunk() {
  const std::vector<PatchCell*>& work = plan.work;
  const int metric_pos = runs->metric_pos;
  size_t end = done;
  int64_t rows = 0;
  while (end < work.size() && end - done < kMaxChunkCells &&
         (end == done || rows + (metric_pos - work[end]->p0 + 1) <= kMaxChunkRows)) {
    rows += metric_pos - work[end]->p0 + 1;
    ++end;
  }
  const std::vector<PatchCell*> chunk(work.begin() + static_cast<std::ptrdiff_t>(done),
                                      work.begin() + static_cast<std::ptrdiff_t>(end));
  const int64_t n = static_cast<int64_t>(chunk.size());
  HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer final_rows,
                           FloatBuffer::allocate(static_cast<size_t>(n * model->cfg().d_model)));
  HOOKLAB_RETURN_IF_ERROR(engine->run_chunk(chunk, final_rows.data()));
  std::vector<double> metric_values(static_cast<size_t>(n), 0.0);
  HOOKLAB_RETURN_IF_ERROR(evaluate_final_rows(*model, request.metric, final_rows.data(), n, metric_values.data()));
  for (int64_t i = 0; i < n; ++i) {
    const PatchCell& cell = *chunk[static_cast<size_t>(i)];
    results[cell.item].values[cell.out_index] = metric_values[static_cast<size_t>(i)];
  }
  done = end;
  return {};
}

Result<bool> PatchJob::step() {
  State& s = *state_;
  if (!s.estimated) {
    HOOKLAB_RETURN_IF_ERROR(s.estimate_items());
    s.estimated = true;
  } else if (s.done < s.plan.work.size()) {
    HOOKLAB_RETURN_IF_ERROR(s.run_next_chunk());
  }
  return s.done == s.plan.work.size();
}

double PatchJob::progress() const {
  const State& s = *state_;
  return s.plan.work.empty() ? (s.estimated ? 1.0 : 0.0)
                             : static_cast<double>(s.done) / static_cast<double>(s.plan.work.size());
}

std::vector<PatchResult> PatchJob::take_results() {
  std::vector<PatchResult> results = std::move(state_->results);
  if (state_->request.normalize) {
    for (PatchResult& result : results) normalize_result(result);
  }
  return results;
}

PatchResult PatchJob::take_result() { return std::move(take_results().front()); }

Result<std::vector<PatchResult>> patch_items(const HookedTransformer& model, const PatchRequest& request) {
  HOOKLAB_ASSIGN_OR_RETURN(std::unique_ptr<PatchJob> job, PatchJob::start(model, request));
  for (;;) {
    HOOKLAB_ASSIGN_OR_RETURN(bool done, job->step());
    if (request.progress && !request.progress(job->progress())) {
      return make_error(ErrorCode::kCancelled, "the patching sweep was cancelled");
    }
    if (done) break;
  }
  return job->take_results();
}

Result<PatchResult> patch(const HookedTransformer& model, const PatchRequest& request) {
  HOOKLAB_ASSIGN_OR_RETURN(std::vector<PatchResult> results, patch_items(model, request));
  return std::move(results.front());
}

}  // namespace hooklab
