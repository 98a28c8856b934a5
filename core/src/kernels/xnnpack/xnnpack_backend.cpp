// Native backend: XNNPACK f32 fully-connected operators for the matrix products.
//
// prepare_matmul() unpacks each PackedMatrix once and hands it to
// xnn_create_fully_connected_nc_f32 (XNN_FLAG_TRANSPOSE_WEIGHTS: our weights are [K, N]),
// which packs its own copy; matmul() then only sets up and runs the operator on the
// pthreadpool. Products over a row range of a matrix (per-head hook_result) and the other ops
// use the reference kernels, parallelised over heads / rows where that pays.
//
// A wide matrix (the 50257-column unembedding) gets one operator per block of columns: one
// operator over all columns streams its whole 154 MB of packed weights from memory once per
// tile of rows, while a block's weights stay in L2 for all the rows.
//
// Backward (matmul_transposed, c = a . W^T): another fully-connected operator per matrix with
// input_channels = N and output_channels = K, whose kernel is W row-major [K, N] as it stands
// (no transpose flag). It is created on first use, not in prepare_matmul: XNNPACK keeps its own
// packed copy of the weights, which a user who never asks for gradients should not pay for.
// Only prepared matrices get one (prepare_matmul's contract keeps their values unchanged at
// their address). Sub-ranges of W's rows (one head's share), strided views and unprepared
// matrices take a loop over the panels instead, split over rows and columns; the other backward ops are the reference
// kernels split over rows or heads.
#include <xnnpack.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "kernels/backends.h"
#include "kernels/reference_kernels.h"

namespace hooklab {
namespace {

class XnnpackBackend final : public Backend {
 public:
  explicit XnnpackBackend(pthreadpool_t pool, int threads) : pool_(pool), threads_(threads) {}
  ~XnnpackBackend() override {
    for (auto& [key, blocks] : operators_) {
      for (const ColumnBlock& block : blocks) xnn_delete_operator(block.op);
    }
    for (auto& [key, op] : transposed_) {
      if (op != nullptr) xnn_delete_operator(op);
    }
    if (pool_ != nullptr) pthreadpool_destroy(pool_);
  }

  std::string name() const override { return "xnnpack"; }
  int threads() const override { return threads_; }

  void zero_fill(float* data, size_t n) const override {
    parallel(static_cast<int64_t>(n), kZeroFillGrainFloats, [data](int64_t begin, int64_t end) {
      std::memset(data + begin, 0, static_cast<size_t>(end - begin) * sizeof(float));
    });
  }

  Status prepare_matmul(const PackedMatrix& w, const float* bias) override {
    // Preparing again (new values at the same address) repacks: the old operators hold a copy.
    const Key key{w.storage(), bias, w.rows, w.cols};
    if (auto old = operators_.find(key); old != operators_.end()) {
      for (const ColumnBlock& block : old->second) xnn_delete_operator(block.op);
      operators_.erase(old);
    }
    drop_transposed(w);
    std::vector<float> row_major(static_cast<size_t>(w.rows * w.cols));
    unpack_matrix(row_major.data(), w);
    const int64_t width = column_block_width(w.rows, w.cols);
    std::vector<ColumnBlock> blocks;
    std::vector<float> block_weights;
    for (int64_t n0 = 0; n0 < w.cols; n0 += width) {
      const int64_t nb = std::min(width, w.cols - n0);
      const float* weights = row_major.data();
      if (nb != w.cols) {  // XNNPACK takes a contiguous [K, nb] kernel
        block_weights.resize(static_cast<size_t>(w.rows * nb));
        for (int64_t k = 0; k < w.rows; ++k) {
          std::copy_n(row_major.data() + k * w.cols + n0, nb, block_weights.data() + k * nb);
        }
        weights = block_weights.data();
      }
      xnn_operator_t op = nullptr;
      const xnn_status status = xnn_create_fully_connected_nc_f32(
          static_cast<size_t>(w.rows), static_cast<size_t>(nb), static_cast<size_t>(w.rows),
          static_cast<size_t>(w.cols), weights, bias != nullptr ? bias + n0 : nullptr,
          -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), XNN_FLAG_TRANSPOSE_WEIGHTS,
          &op);
      if (status != xnn_status_success) {
        for (const ColumnBlock& block : blocks) xnn_delete_operator(block.op);
        return make_error(status == xnn_status_out_of_memory ? ErrorCode::kOutOfMemory : ErrorCode::kUnsupported,
                          "XNNPACK could not create a " + std::to_string(w.rows) + "x" + std::to_string(nb) +
                              " fully-connected operator (status " + std::to_string(static_cast<int>(status)) + ")");
      }
      blocks.push_back({n0, op});
    }
    operators_.emplace(key, std::move(blocks));
    return {};
  }

  void matmul(const MatmulArgs& args) const override {
    const PackedMatrix& w = *args.w;
    const bool whole = args.k_begin == 0 && args.k_end == w.rows;
    auto it = whole ? operators_.find(Key{w.storage(), args.bias, w.rows, w.cols}) : operators_.end();
    if (it == operators_.end() || args.m == 0) {
      parallel_rows(args);
      return;
    }
    // XNNPACK's setup binds strides at create time; ours are contiguous rows except for
    // strided views, which take the reference path.
    if (args.lda != w.rows || args.ldc != w.cols) {
      parallel_rows(args);
      return;
    }
    std::lock_guard<std::mutex> lock(run_mutex_);  // an operator holds one setup at a time
    const std::vector<ColumnBlock>& blocks = it->second;
    if (pool_ == nullptr || static_cast<int64_t>(blocks.size()) < 4 * threads_) {
      for (const ColumnBlock& block : blocks) {
        xnn_setup_fully_connected_nc_f32(block.op, static_cast<size_t>(args.m), args.a, args.c + block.first_column,
                                         pool_);
        xnn_run_operator(block.op, pool_);
      }
      return;
    }
    // Threads take whole blocks (each block on one thread): a block is too small to split
    // across threads when there are few rows, and many blocks balance the load.
    parallel(static_cast<int64_t>(blocks.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const ColumnBlock& block = blocks[static_cast<size_t>(b)];
        xnn_setup_fully_connected_nc_f32(block.op, static_cast<size_t>(args.m), args.a, args.c + block.first_column,
                                         nullptr);
        xnn_run_operator(block.op, nullptr);
      }
    });
  }

  void layer_norm(const LayerNormArgs& args) const override {
    parallel(args.rows, 16, [&](int64_t begin, int64_t end) {
      LayerNormArgs part = args;
      part.rows = end - begin;
      part.x = args.x + begin * args.ldx;
      part.y = args.y + begin * args.ldy;
      part.scale_out = args.scale_out != nullptr ? args.scale_out + begin : nullptr;
      reference::layer_norm(part);
    });
  }

  void gelu_new(float* y, const float* x, int64_t n) const override {
    parallel(n, 4096, [&](int64_t begin, int64_t end) { reference::gelu_new(y + begin, x + begin, end - begin); });
  }

  void attention_scores(const AttentionScoresArgs& args) const override {
    parallel(args.n_heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t h = begin; h < end; ++h) reference_head_scores(args, h);
    });
  }

  void softmax_rows(float* y, const float* x, int64_t rows, int64_t n) const override {
    parallel(rows, 8, [&](int64_t begin, int64_t end) {
      reference::softmax_rows(y + begin * n, x + begin * n, end - begin, n);
    });
  }

  void attention_mix(const AttentionMixArgs& args) const override {
    parallel(args.nq, 4, [&](int64_t begin, int64_t end) {
      // pattern is [H, nq, nk]: a slice of query rows is a strided view, so run row by row.
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t h = 0; h < args.n_heads; ++h) {
          float* z = args.z + i * args.ldz + h * args.d_head;
          std::fill(z, z + args.d_head, 0.0f);
          const float* p = args.pattern + (h * args.nq + i) * args.nk;
          for (int64_t j = 0; j < args.nk; ++j) {
            if (p[j] == 0.0f) continue;
            const float* v = args.v.row(j) + h * args.d_head;
            for (int64_t d = 0; d < args.d_head; ++d) z[d] += p[j] * v[d];
          }
        }
      }
    });
  }

  void matmul_transposed(const MatmulTransposedArgs& args) const override {
    const PackedMatrix& w = *args.w;
    if (args.m <= 0 || args.k_end <= args.k_begin) return;
    // XNNPACK binds strides at create time: only whole, contiguous products use an operator.
    const bool whole = args.k_begin == 0 && args.k_end == w.rows && args.lda == w.cols && args.ldc == w.rows;
    xnn_operator_t op = whole && w.cols > 0 && prepared(w) ? transposed_operator(w) : nullptr;
    if (op == nullptr) {
      parallel_transposed(args);
      return;
    }
    std::lock_guard<std::mutex> lock(run_mutex_);  // an operator holds one setup at a time
    xnn_setup_fully_connected_nc_f32(op, static_cast<size_t>(args.m), args.a, args.c, pool_);
    xnn_run_operator(op, pool_);
  }

  void gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n) const override {
    parallel(n, 4096, [&](int64_t begin, int64_t end) {
      reference::gelu_new_backward(dx + begin, dy + begin, x + begin, end - begin);
    });
  }

  void softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n) const override {
    parallel(rows, 8, [&](int64_t begin, int64_t end) {
      reference::softmax_rows_backward(dx + begin * n, dy + begin * n, y + begin * n, end - begin, n);
    });
  }

  // Per head: d_v and dk sum over the query rows of a head, so heads (not rows) are the unit.
  void attention_mix_backward(const AttentionMixBackwardArgs& args) const override {
    parallel(args.n_heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t h = begin; h < end; ++h) {
        AttentionMixBackwardArgs one = args;
        one.n_heads = 1;
        one.d_pattern = args.d_pattern + h * args.nq * args.nk;
        one.pattern = args.pattern + h * args.nq * args.nk;
        one.d_v = args.d_v + h * args.d_head;
        one.dz = args.dz + h * args.d_head;
        one.v = args.v + h * args.d_head;
        reference::attention_mix_backward(one);
      }
    });
  }

  void attention_scores_backward(const AttentionScoresBackwardArgs& args) const override {
    parallel(args.n_heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t h = begin; h < end; ++h) {
        AttentionScoresBackwardArgs one = args;
        one.n_heads = 1;
        one.d_scores = args.d_scores + h * args.nq * args.nk;
        one.dq = args.dq + h * args.d_head;
        one.dk = args.dk + h * args.d_head;
        one.q = args.q + h * args.d_head;
        one.k = args.k + h * args.d_head;
        reference::attention_scores_backward(one);
      }
    });
  }

 private:
  // Columns per block: a block's weights (K x width f32) fit in 768 KB, a core's L2 on the
  // machines we measure with room for the rows; 256 columns beat 512 and 1024 for K = 768.
  static int64_t column_block_width(int64_t k, int64_t n) {
    constexpr int64_t kBlockFloats = 768 * 1024 / sizeof(float);
    const int64_t width = std::max<int64_t>(16, kBlockFloats / std::max<int64_t>(k, 1) / 16 * 16);
    return width >= n ? n : width;
  }

  // Whether prepare_matmul() has seen w (with any bias): only such matrices are promised to stay
  // unchanged at their address, which a cached operator (a copy of the values) relies on.
  bool prepared(const PackedMatrix& w) const {
    auto it = operators_.lower_bound(Key{w.storage(), nullptr, 0, 0});
    for (; it != operators_.end() && it->first.w == w.storage(); ++it) {
      if (it->first.rows == w.rows && it->first.cols == w.cols) return true;
    }
    return false;
  }

  // The lazily created a . W^T operator of w (nullptr if XNNPACK refuses it: the caller falls
  // back). Creation unpacks W and lets XNNPACK pack it (~0.1 s for the 50257-wide matrix), so
  // it happens once per matrix, under its own mutex so forward runs are not held up.
  xnn_operator_t transposed_operator(const PackedMatrix& w) const {
    std::lock_guard<std::mutex> lock(transposed_mutex_);
    const Key key{w.storage(), nullptr, w.rows, w.cols};
    if (auto it = transposed_.find(key); it != transposed_.end()) return it->second;
    std::vector<float> row_major(static_cast<size_t>(w.rows * w.cols));
    unpack_matrix(row_major.data(), w);
    xnn_operator_t op = nullptr;
    const xnn_status status = xnn_create_fully_connected_nc_f32(
        static_cast<size_t>(w.cols), static_cast<size_t>(w.rows), static_cast<size_t>(w.cols),
        static_cast<size_t>(w.rows), row_major.data(), nullptr, -std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::infinity(), 0, &op);
    if (status != xnn_status_success) op = nullptr;  // remembered: no retry on every call
    transposed_.emplace(key, op);
    return op;
  }

  // prepare_matmul() with new values at w's address: the transposed operator holds the old.
  void drop_transposed(const PackedMatrix& w) {
    std::lock_guard<std::mutex> lock(transposed_mutex_);
    if (auto it = transposed_.find(Key{w.storage(), nullptr, w.rows, w.cols}); it != transposed_.end()) {
      if (it->second != nullptr) xnn_delete_operator(it->second);
      transposed_.erase(it);
    }
  }

  // c = a . W^T without an operator: rows (and, for few rows, output columns) split across the
  // pool; each output is an 8-lane dot product over W's panels, which the compiler vectorises.
  void parallel_transposed(const MatmulTransposedArgs& args) const {
    const int64_t kc = args.k_end - args.k_begin;
    const int64_t column_chunks =
        args.m >= 4 * threads_ ? 1 : std::max<int64_t>(1, std::min<int64_t>(kc / 16, 4 * threads_));
    const int64_t chunk = (kc + column_chunks - 1) / column_chunks;
    parallel(args.m * column_chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t i = t / column_chunks;
        const int64_t k0 = (t % column_chunks) * chunk;
        transposed_row(args, i, k0, std::min(kc, k0 + chunk));
      }
    });
  }

  // c[i, k] for k in [k_begin, k_end) (relative to args.k_begin).
  static void transposed_row(const MatmulTransposedArgs& args, int64_t i, int64_t k_begin, int64_t k_end) {
    const PackedMatrix& w = *args.w;
    const float* a = args.a + i * args.lda;
    const int64_t full = w.cols / kPanelWidth;
    for (int64_t k = k_begin; k < k_end; ++k) {
      float lanes[kPanelWidth] = {};
      const int64_t row = (args.k_begin + k) * kPanelWidth;
      for (int64_t p = 0; p < full; ++p) {
        for (int64_t l = 0; l < kPanelWidth; ++l) {
          const int64_t at = row + p * kPanelWidth * w.rows + l;
          lanes[l] += a[p * kPanelWidth + l] * (w.is_f16() ? f16_to_f32(w.halves[at]) : w.data[at]);
        }
      }
      float acc = 0.0f;
      for (int64_t l = 0; l < kPanelWidth; ++l) acc += lanes[l];
      // The partial last panel: only the first cols % 8 entries of a exist.
      for (int64_t n = full * kPanelWidth; n < w.cols; ++n) acc += a[n] * w.at(args.k_begin + k, n);
      args.c[i * args.ldc + k] = acc;
    }
  }

  struct ColumnBlock {
    int64_t first_column;
    xnn_operator_t op;
  };

  struct Key {
    const void* w;  // PackedMatrix::storage()
    const float* bias;
    int64_t rows;
    int64_t cols;
    bool operator<(const Key& o) const { return std::tie(w, bias, rows, cols) < std::tie(o.w, o.bias, o.rows, o.cols); }
  };

  static void reference_head_scores(const AttentionScoresArgs& args, int64_t h) {
    AttentionScoresArgs one = args;
    one.n_heads = 1;
    one.q = args.q + h * args.d_head;
    one.k.prefix = args.k.prefix != nullptr ? args.k.prefix + h * args.d_head : nullptr;
    one.k.suffix = args.k.suffix != nullptr ? args.k.suffix + h * args.d_head : nullptr;
    one.scores = args.scores + h * args.nq * args.nk;
    reference::attention_scores(one);
  }

  template <class Fn>
  void parallel(int64_t n, int64_t grain, Fn&& fn) const {
    if (pool_ == nullptr || n <= grain) {
      fn(0, n);
      return;
    }
    struct Ctx {
      Fn* fn;
      int64_t n;
      int64_t chunk;
    } ctx{&fn, n, std::max<int64_t>(grain, (n + 4 * threads_ - 1) / (4 * threads_))};
    const size_t chunks = static_cast<size_t>((n + ctx.chunk - 1) / ctx.chunk);
    pthreadpool_parallelize_1d(
        pool_,
        [](void* raw, size_t i) {
          auto* c = static_cast<Ctx*>(raw);
          const int64_t begin = static_cast<int64_t>(i) * c->chunk;
          (*c->fn)(begin, std::min(c->n, begin + c->chunk));
        },
        &ctx, chunks, 0);
  }

  void parallel_rows(const MatmulArgs& args) const {
    parallel(args.m, 1, [&](int64_t begin, int64_t end) {
      MatmulArgs part = args;
      part.m = end - begin;
      part.a = args.a + begin * args.lda;
      part.c = args.c + begin * args.ldc;
      reference::matmul(part);
    });
  }

  pthreadpool_t pool_;
  int threads_;
  std::map<Key, std::vector<ColumnBlock>> operators_;
  mutable std::mutex run_mutex_;
  // a . W^T operators by weight matrix (Key.bias unused), created on first use; nullptr where
  // XNNPACK declined. Entries live until prepare_matmul() replaces the matrix or the backend dies.
  mutable std::map<Key, xnn_operator_t> transposed_;
  mutable std::mutex transposed_mutex_;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_xnnpack_backend(int threads) {
  static const xnn_status init = xnn_initialize(nullptr);
  if (init != xnn_status_success) {
    return make_error(ErrorCode::kUnsupported, "XNNPACK is not supported on this CPU");
  }
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(static_cast<size_t>(threads)) : nullptr;
  return std::unique_ptr<Backend>(std::make_unique<XnnpackBackend>(pool, threads));
}

}  // namespace hooklab
