// The compute seam: every numeric kernel of the forward pass sits behind this small interface.
//
// Backends (kernels named by ISA and tile):
//   reference  — plain scalar loops; the oracle for every other backend and the fallback anywhere.
//   xnnpack    — native builds: XNNPACK f32 fully-connected operators for matmuls (weights
//                packed once in prepare_matmul), reference kernels for the rest.
//   wasmsimd   — WebAssembly builds: register-tiled wasm SIMD GEMM over PackedMatrix panels
//                (4x8, 5x8, 6x8 loadsplat and 4x8 splat, chosen at run time) plus vectorised
//                LayerNorm, GELU, softmax and attention.
// Lifecycle follows XNNPACK: create the backend, prepare_matmul() once per weight matrix at
// load, then call the kernels any number of times. Kernels never allocate on the hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

  const float* row(int64_t j) const { return j < split ? prefix + j * prefix_ld : suffix + (j - split) * suffix_ld; }
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

// The backward pass's product with the transpose of a packed weight (the gradient of a
// matmul's input; no weight gradients are ever formed):
//   c[i, k - k_begin] = sum_{n < w.cols} a[i, n] * w(k, n)   for k in [k_begin, k_end), i < m.
// a is a gradient [m, w.cols] with row stride lda; c rows have stride ldc. A row range of w
// (k_begin > 0) gives one head's share (d hook_z from d hook_result, per head).
struct MatmulTransposedArgs {
  float* c = nullptr;
  int64_t ldc = 0;
  const float* a = nullptr;
  int64_t lda = 0;
  int64_t m = 0;
  const PackedMatrix* w = nullptr;
  int64_t k_begin = 0;
  int64_t k_end = 0;
};

// Backward of attention_mix: from dz and the forward's pattern and values,
//   d_pattern[h, i, j] = dot(dz[i, h], v[j, h])   for every j < nk, masked or not (TransformerLens's
//                                                  hook_pattern_grad is not zero above the diagonal)
//   d_v[j, h] = sum_i pattern[h, i, j] * dz[i, h]  (overwritten)
struct AttentionMixBackwardArgs {
  float* d_pattern = nullptr;  // [n_heads, nq, nk]
  float* d_v = nullptr;        // row j, head h at d_v + j * ld_dv + h * d_head
  int64_t ld_dv = 0;
  const float* dz = nullptr;  // row i, head h at dz + i * ld_dz + h * d_head
  int64_t ld_dz = 0;
  const float* pattern = nullptr;  // [n_heads, nq, nk]
  const float* v = nullptr;
  int64_t ldv = 0;
  int64_t n_heads = 0;
  int64_t d_head = 0;
  int64_t nq = 0;
  int64_t nk = 0;
};

// Backward of attention_scores (scores = q.k / attn_scale, causal): from d_scores,
//   dq[i, h] = sum_j d_scores[h, i, j] * k[j, h] / attn_scale   (overwritten)
//   dk[j, h] = sum_i d_scores[h, i, j] * q[i, h] / attn_scale   (overwritten)
// Entries above the diagonal are ignored (the mask cuts their gradient).
struct AttentionScoresBackwardArgs {
  float* dq = nullptr;
  int64_t ld_dq = 0;
  float* dk = nullptr;
  int64_t ld_dk = 0;
  const float* d_scores = nullptr;  // [n_heads, nq, nk]
  const float* q = nullptr;
  int64_t ldq = 0;
  const float* k = nullptr;
  int64_t ldk = 0;
  int64_t n_heads = 0;
  int64_t d_head = 0;
  int64_t nq = 0;
  int64_t nk = 0;
  int64_t q_begin = 0;
  float attn_scale = 1.0f;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Kernel family, e.g. "reference", "xnnpack", "wasmsimd_4x8_loadsplat".
  virtual std::string name() const = 0;
  virtual int threads() const { return 1; }
  // Writes n zeros from data, on every thread the backend has (see ZeroFill in tensor.h: the
  // model's weights are zeroed with it, where first touches of fresh pages are the cost).
  virtual void zero_fill(float* data, size_t n) const;

  // Called once per weight matrix at load, before matmul() uses it. w.data and bias must
  // stay valid and unchanged while the backend uses them; preparing the same matrix again
  // (e.g. new values at the same address) replaces what was prepared.
  virtual Status prepare_matmul(const PackedMatrix& w, const float* bias) {
    (void)w;
    (void)bias;
    return {};
  }
  virtual void matmul(const MatmulArgs& args) const = 0;
  // The GEMM micro-kernels matmul() can run with, e.g. "4x8_loadsplat", the selected one first;
  // empty where the backend has one fixed kernel. Which is fastest depends on the CPU, so the
  // caller may time them on the user's machine and select one; every one gives the same values.
  virtual std::vector<std::string> gemm_kernels() const { return {}; }
  // Makes matmul() use one of gemm_kernels(); kInvalidArgument for any other name.
  virtual Status select_gemm_kernel(const std::string& kernel);
  virtual void layer_norm(const LayerNormArgs& args) const = 0;
  // gelu_new (tanh approximation), as GPT-2 and TransformerLens use.
  virtual void gelu_new(float* y, const float* x, int64_t n) const = 0;
  virtual void attention_scores(const AttentionScoresArgs& args) const = 0;
  // Softmax over each row of length n; rows that are all -inf (or produce NaN) become 0, as
  // TransformerLens replaces NaN patterns with 0.
  virtual void softmax_rows(float* y, const float* x, int64_t rows, int64_t n) const = 0;
  virtual void attention_mix(const AttentionMixArgs& args) const = 0;

  // --- backward pass (gradients of activations; see core/src/model/backward.cpp) ---
  // Defaults are the reference kernels; optimised backends override what they accelerate.
  virtual void matmul_transposed(const MatmulTransposedArgs& args) const;
  // dx = dy * gelu_new'(x).
  virtual void gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n) const;
  // Softmax backward, row by row: dx = y * (dy - sum(y * dy)), y the forward's output.
  virtual void softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n) const;
  virtual void attention_mix_backward(const AttentionMixBackwardArgs& args) const;
  virtual void attention_scores_backward(const AttentionScoresBackwardArgs& args) const;
};

std::unique_ptr<Backend> make_reference_backend();

// What a build offers; kAuto picks the fastest one compiled in.
enum class BackendKind { kAuto, kReference, kXnnpack, kWasmSimd };

// threads counts the calling thread. Unavailable kinds return kUnsupported.
Result<std::unique_ptr<Backend>> make_backend(BackendKind kind, int threads);

}  // namespace hooklab
