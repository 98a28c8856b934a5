// Reference kernels: the plainest correct loops, kept as the oracle every other backend is
// checked against (tests/kernels) and as the fallback on any platform.
#include "kernels/reference_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hooklab::reference {

void matmul(const MatmulArgs& args) {
  const PackedMatrix& w = *args.w;
  for (int64_t i = 0; i < args.m; ++i) {
    const float* a = args.a + i * args.lda;
    float* c = args.c + i * args.ldc;
    for (int64_t n = 0; n < w.cols; ++n) {
      float acc = 0.0f;
      for (int64_t k = args.k_begin; k < args.k_end; ++k) acc += a[k - args.k_begin] * w.at(k, n);
      c[n] = args.bias != nullptr ? acc + args.bias[n] : acc;
    }
  }
}

void layer_norm(const LayerNormArgs& args) {
  for (int64_t r = 0; r < args.rows; ++r) {
    const float* x = args.x + r * args.ldx;
    float* y = args.y + r * args.ldy;
    float mean = 0.0f;
    for (int64_t d = 0; d < args.dim; ++d) mean += x[d];
    mean /= static_cast<float>(args.dim);
    float var = 0.0f;
    for (int64_t d = 0; d < args.dim; ++d) var += (x[d] - mean) * (x[d] - mean);
    var /= static_cast<float>(args.dim);
    const float scale = std::sqrt(var + args.eps);
    if (args.scale_out != nullptr) args.scale_out[r] = scale;
    for (int64_t d = 0; d < args.dim; ++d) {
      float v = (x[d] - mean) / scale;
      if (args.w != nullptr) v = v * args.w[d] + args.b[d];
      y[d] = v;
    }
  }
}

void gelu_new(float* y, const float* x, int64_t n) {
  const float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

void attention_scores(const AttentionScoresArgs& args) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t h = 0; h < args.n_heads; ++h) {
    for (int64_t i = 0; i < args.nq; ++i) {
      const float* q = args.q + i * args.ldq + h * args.d_head;
      float* row = args.scores + (h * args.nq + i) * args.nk;
      const int64_t pos = args.q_begin + i;
      for (int64_t j = 0; j < args.nk; ++j) {
        if (j > pos) {
          row[j] = neg_inf;
          continue;
        }
        const float* k = args.k.row(j) + h * args.d_head;
        float dot = 0.0f;
        for (int64_t d = 0; d < args.d_head; ++d) dot += q[d] * k[d];
        row[j] = dot / args.attn_scale;
      }
    }
  }
}

void softmax_rows(float* y, const float* x, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * n;
    float* out = y + r * n;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) max = in[j] > max ? in[j] : max;
    if (!std::isfinite(max)) {
      // All -inf (or a +inf/NaN score): torch gives NaN, which TransformerLens maps to 0.
      for (int64_t j = 0; j < n; ++j) out[j] = 0.0f;
      continue;
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      out[j] = std::exp(in[j] - max);
      sum += out[j];
    }
    for (int64_t j = 0; j < n; ++j) out[j] /= sum;
  }
}

void attention_mix(const AttentionMixArgs& args) {
  for (int64_t i = 0; i < args.nq; ++i) {
    for (int64_t h = 0; h < args.n_heads; ++h) {
      float* z = args.z + i * args.ldz + h * args.d_head;
      for (int64_t d = 0; d < args.d_head; ++d) z[d] = 0.0f;
      const float* p = args.pattern + (h * args.nq + i) * args.nk;
      for (int64_t j = 0; j < args.nk; ++j) {
        if (p[j] == 0.0f) continue;
        const float* v = args.v.row(j) + h * args.d_head;
        for (int64_t d = 0; d < args.d_head; ++d) z[d] += p[j] * v[d];
      }
    }
  }
}

void matmul_transposed(const MatmulTransposedArgs& args) {
  const PackedMatrix& w = *args.w;
  for (int64_t i = 0; i < args.m; ++i) {
    const float* a = args.a + i * args.lda;
    float* c = args.c + i * args.ldc;
    for (int64_t k = args.k_begin; k < args.k_end; ++k) {
      float acc = 0.0f;
      for (int64_t n = 0; n < w.cols; ++n) acc += a[n] * w.at(k, n);
      c[k - args.k_begin] = acc;
    }
  }
}

void gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n) {
  // gelu(x) = 0.5 x (1 + tanh(u)), u = c (x + 0.044715 x^3):
  // gelu'(x) = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) c (1 + 3 * 0.044715 x^2).
  const float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float t = std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v));
    const float derivative =
        0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v);
    dx[i] = dy[i] * derivative;
  }
}

void softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * n;
    const float* dyr = dy + r * n;
    float* dxr = dx + r * n;
    float dot = 0.0f;
    for (int64_t j = 0; j < n; ++j) dot += yr[j] * dyr[j];
    for (int64_t j = 0; j < n; ++j) dxr[j] = yr[j] * (dyr[j] - dot);
  }
}

void attention_mix_backward(const AttentionMixBackwardArgs& args) {
  const int64_t dh = args.d_head;
  for (int64_t j = 0; j < args.nk; ++j) {
    for (int64_t h = 0; h < args.n_heads; ++h) {
      float* dv = args.d_v + j * args.ld_dv + h * dh;
      for (int64_t d = 0; d < dh; ++d) dv[d] = 0.0f;
    }
  }
  for (int64_t h = 0; h < args.n_heads; ++h) {
    for (int64_t i = 0; i < args.nq; ++i) {
      const float* dz = args.dz + i * args.ld_dz + h * dh;
      const float* p = args.pattern + (h * args.nq + i) * args.nk;
      float* dp = args.d_pattern + (h * args.nq + i) * args.nk;
      for (int64_t j = 0; j < args.nk; ++j) {
        const float* v = args.v + j * args.ldv + h * dh;
        float dot = 0.0f;
        for (int64_t d = 0; d < dh; ++d) dot += dz[d] * v[d];
        dp[j] = dot;
        if (p[j] == 0.0f) continue;
        float* dv = args.d_v + j * args.ld_dv + h * dh;
        for (int64_t d = 0; d < dh; ++d) dv[d] += p[j] * dz[d];
      }
    }
  }
}

void attention_scores_backward(const AttentionScoresBackwardArgs& args) {
  const int64_t dh = args.d_head;
  for (int64_t i = 0; i < args.nq; ++i) {
    for (int64_t d = 0; d < args.n_heads * dh; ++d) args.dq[i * args.ld_dq + d] = 0.0f;
  }
  for (int64_t j = 0; j < args.nk; ++j) {
    for (int64_t d = 0; d < args.n_heads * dh; ++d) args.dk[j * args.ld_dk + d] = 0.0f;
  }
  const float inv_scale = 1.0f / args.attn_scale;
  for (int64_t h = 0; h < args.n_heads; ++h) {
    for (int64_t i = 0; i < args.nq; ++i) {
      const float* ds = args.d_scores + (h * args.nq + i) * args.nk;
      const float* q = args.q + i * args.ldq + h * dh;
      float* dq = args.dq + i * args.ld_dq + h * dh;
      const int64_t last = std::min(args.nk - 1, args.q_begin + i);
      for (int64_t j = 0; j <= last; ++j) {
        const float g = ds[j] * inv_scale;
        if (g == 0.0f) continue;
        const float* k = args.k + j * args.ldk + h * dh;
        float* dk = args.dk + j * args.ld_dk + h * dh;
        for (int64_t d = 0; d < dh; ++d) {
          dq[d] += g * k[d];
          dk[d] += g * q[d];
        }
      }
    }
  }
}

namespace {

class ReferenceBackend final : public Backend {
 public:
  std::string name() const override { return "reference"; }
  void matmul(const MatmulArgs& args) const override { reference::matmul(args); }
  void layer_norm(const LayerNormArgs& args) const override { reference::layer_norm(args); }
  void gelu_new(float* y, const float* x, int64_t n) const override { reference::gelu_new(y, x, n); }
  void attention_scores(const AttentionScoresArgs& args) const override { reference::attention_scores(args); }
  void softmax_rows(float* y, const float* x, int64_t rows, int64_t n) const override {
    reference::softmax_rows(y, x, rows, n);
  }
  void attention_mix(const AttentionMixArgs& args) const override { reference::attention_mix(args); }
};

}  // namespace
}  // namespace hooklab::reference

namespace hooklab {

// The Backend's default backward kernels: the reference loops.
void Backend::matmul_transposed(const MatmulTransposedArgs& args) const { reference::matmul_transposed(args); }
void Backend::gelu_new_backward(float* dx, const float* dy, const float* x, int64_t n) const {
  reference::gelu_new_backward(dx, dy, x, n);
}
void Backend::softmax_rows_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n) const {
  reference::softmax_rows_backward(dx, dy, y, rows, n);
}
void Backend::attention_mix_backward(const AttentionMixBackwardArgs& args) const {
  reference::attention_mix_backward(args);
}
void Backend::attention_scores_backward(const AttentionScoresBackwardArgs& args) const {
  reference::attention_scores_backward(args);
}

// One thread: backends with a pool spread it over their threads.
void Backend::zero_fill(float* data, size_t n) const { std::fill(data, data + n, 0.0f); }

// Backends with one fixed GEMM kernel offer no choice.
Status Backend::select_gemm_kernel(const std::string& kernel) {
  return make_error(ErrorCode::kInvalidArgument, "backend " + name() + " has no GEMM kernel named '" + kernel + "'");
}

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<reference::ReferenceBackend>(); }

}  // namespace hooklab
