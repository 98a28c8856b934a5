// The compute seam: every numeric kernel of the forward pass sits behind this small interface.
//
// Backends (kernels named by ISA and tile):
//   reference  — plain scalar loops; the oracle for every other backend and the fallback anywhere.
//   xnnpack    — native builds: XNNPACK f32 fully-connected operators for matmuls (weights
//                packed once in prepare_matmul), reference kernels for the rest.
//   wasmsimd   — WebAssembly builds: 4x8 register-tiled wasm SIMD GEMM over PackedMatrix
//                panels plus vectorised LayerNorm, GELU, softmax and attention.
// Lifecycle follows XNNPACK: create the backend, prepare_matmul() once per weight matrix at
// load, then call the kernels any number of times. Kernels never allocate on the hot path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hooklab/packed_matrix.h"
#include "hooklab/status.h"

namespace hooklab {

class ThreadPool;

// c[i, n] = sum_{k in [k_begin, k_end)} a[i, k - k_begin] * w(k, n) + bias[n]
// for i in [0, m), n in [0, w.cols). bias may be null. Rows of a / c have strides lda / ldc.
// Products over a row range of w (k_begin > 0) compute per-head outputs (hook_result).
struct MatmulArgs {
  float* c = nullptr;
  int64_t ldc = 0;
  const float* a = nullptr;
  int64_t lda = 0;
  int64_t m = 0;
  const PackedMatrix* w = nullptr;
  int64_t k_begin = 0;
  int64_t k_end = 0;
  const float* bias = nullptr;
};

// y = (x - mean(x)) / scale [* w + b], scale = sqrt(mean((x - mean)^2) + eps), row by row.
// w and b are both null (LayerNormPre, after fold_ln) or both set. scale_out may be null.
struct LayerNormArgs {
  float* y = nullptr;
  int64_t ldy = 0;
  float* scale_out = nullptr;  // [rows]
  const float* x = nullptr;
  int64_t ldx = 0;
  const float* w = nullptr;
  const float* b = nullptr;
  int64_t rows = 0;
  int64_t dim = 0;
  float eps = 1e-5f;
};

// Row j of a key/value sequence. Rows [0, split) come from `prefix`, rows [split, n) from
// `suffix`, so a patched run can attend over cached keys of unchanged positions without
// copying them. Head h of row j starts at row_ptr(j) + h * d_head.
struct SequenceRows {
  const float* prefix = nullptr;
  int64_t prefix_ld = 0;
  const float* suffix = nullptr;
  int64_t suffix_ld = 0;
  int64_t split = 0;

  const float* row(int64_t j) const {
    return j < split ? prefix + j * prefix_ld : suffix + (j - split) * suffix_ld;
  }
};

// scores[h, i, j] = dot(q[i, h], k[j, h]) / attn_scale for queries i in [0, nq) at absolute
// positions q_begin + i and keys j in [0, nk); entries with j > q_begin + i are -inf (causal
// mask, TransformerLens's IGNORE). q row i, head h is at q + i * ldq + h * d_head.
struct AttentionScoresArgs {
  float* scores = nullptr;  // [n_heads, nq, nk]
  const float* q = nullptr;
  int64_t ldq = 0;
  SequenceRows k;
  int64_t n_heads = 0;
  int64_t d_head = 0;
  int64_t nq = 0;
  int64_t nk = 0;
  int64_t q_begin = 0;
  float attn_scale = 1.0f;
};

// z[i, h, :] = sum_j pattern[h, i, j] * v[j, h, :], z row i at z + i * ldz.
struct AttentionMixArgs {
  float* z = nullptr;
  int64_t ldz = 0;
  const float* pattern = nullptr;  // [n_heads, nq, nk]
  SequenceRows v;
  int64_t n_heads = 0;
  int64_t d_head = 0;
  int64_t nq = 0;
  int64_t nk = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Kernel family, e.g. "reference", "xnnpack", "wasmsimd_4x8".
  virtual std::string name() const = 0;
  virtual int threads() const { return 1; }

  // Called once per weight matrix at load, before matmul() uses it. w.data and bias must
  // stay valid and unchanged while the backend uses them; preparing the same matrix again
  // (e.g. new values at the same address) replaces what was prepared.
  virtual Status prepare_matmul(const PackedMatrix& w, const float* bias) {
    (void)w;
    (void)bias;
    return {};
  }
  virtual void matmul(const MatmulArgs& args) const = 0;
  virtual void layer_norm(const LayerNormArgs& args) const = 0;
  // gelu_new (tanh approximation), as GPT-2 and TransformerLens use.
  virtual void gelu_new(float* y, const float* x, int64_t n) const = 0;
  virtual void attention_scores(const AttentionScoresArgs& args) const = 0;
  // Softmax over each row of length n; rows that are all -inf (or produce NaN) become 0, as
  // TransformerLens replaces NaN patterns with 0.
  virtual void softmax_rows(float* y, const float* x, int64_t rows, int64_t n) const = 0;
  virtual void attention_mix(const AttentionMixArgs& args) const = 0;
};

std::unique_ptr<Backend> make_reference_backend();

// What a build offers; kAuto picks the fastest one compiled in.
enum class BackendKind { kAuto, kReference, kXnnpack, kWasmSimd };

// threads counts the calling thread. Unavailable kinds return kUnsupported.
Result<std::unique_ptr<Backend>> make_backend(BackendKind kind, int threads);

}  // namespace hooklab
