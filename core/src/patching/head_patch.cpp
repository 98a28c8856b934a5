// The new attention output of one head after a q/k/v/z/pattern patch, computed from the
// cached receiving and source runs for just the rows the patch changes. This is the only
// attention work a head-level cell does at its own layer.
#include "patching/head_patch.h"

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

namespace hooklab {
namespace {

struct HeadView {
  const float* data;
  int n_heads;
  int d_head;
  // [1, P, H, Dh] tensors (q, k, v, z)
  const float* row(int p, int h) const { return data + (static_cast<int64_t>(p) * n_heads + h) * d_head; }
};

// z = sum_j weights[j] * v[j]
void mix(float* z, const float* weights, int n, const std::function<const float*(int)>& v, int d_head) {
  for (int d = 0; d < d_head; ++d) z[d] = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (weights[j] == 0.0f) continue;
    const float* vj = v(j);
    for (int d = 0; d < d_head; ++d) z[d] += weights[j] * vj[d];
  }
}

// TransformerLens's attention for one query row: scaled scores, causal mask, softmax.
void attend(float* weights, const float* q, int q_pos, int n_keys, const std::function<const float*(int)>& k,
            int d_head, float attn_scale) {
  float max = -std::numeric_limits<float>::infinity();
  for (int j = 0; j < n_keys; ++j) {
    if (j > q_pos) {
      weights[j] = -std::numeric_limits<float>::infinity();
      continue;
    }
    const float* kj = k(j);
    float dot = 0.0f;
    for (int d = 0; d < d_head; ++d) dot += q[d] * kj[d];
    weights[j] = dot / attn_scale;
    max = std::max(max, weights[j]);
  }
  float sum = 0.0f;
  for (int j = 0; j < n_keys; ++j) {
    weights[j] = j > q_pos ? 0.0f : std::exp(weights[j] - max);
    sum += weights[j];
  }
  for (int j = 0; j < n_keys; ++j) weights[j] /= sum;
}

}  // namespace

void patched_head_z(float* z_out, const PatchCell& cell, int row, const ActivationCache& recv,
                    const ActivationCache& src, const ModelConfig& cfg, int positions) {
  const int l = cell.layer, h = cell.head, H = cfg.n_heads, Dh = cfg.d_head, P = positions;
  auto view = [&](const ActivationCache& c, HookPoint p) { return HeadView{c.find({p, l}), H, Dh}; };
  const HeadView z_src = view(src, HookPoint::kZ), q_recv = view(recv, HookPoint::kQ), q_src = view(src, HookPoint::kQ);
  const HeadView k_recv = view(recv, HookPoint::kK), k_src = view(src, HookPoint::kK);
  const HeadView v_recv = view(recv, HookPoint::kV), v_src = view(src, HookPoint::kV);
  const float* pattern_recv = recv.find({HookPoint::kPattern, l});
  const float* pattern_src = src.find({HookPoint::kPattern, l});
  const float scale = cfg.attn_scale_for_layer(l);
  std::vector<float> weights(static_cast<size_t>(P));
  auto pattern_row = [&](const float* pattern) { return pattern + (static_cast<int64_t>(h) * P + row) * P; };
  auto recv_v = [&](int j) { return v_recv.row(j, h); };

  switch (cell.kind) {
    case CellKind::kHeadZ: {
      const float* s = z_src.row(row, h);
      for (int d = 0; d < Dh; ++d) z_out[d] = s[d];
      return;
    }
    case CellKind::kHeadPattern: mix(z_out, pattern_row(pattern_src), P, recv_v, Dh); return;
    case CellKind::kPatternEntry: {
      const float* r = pattern_row(pattern_recv);
      weights.assign(r, r + P);
      weights[static_cast<size_t>(cell.src)] = pattern_row(pattern_src)[cell.src];
      mix(z_out, weights.data(), P, recv_v, Dh);
      return;
    }
    case CellKind::kHeadQ:
      attend(
          weights.data(), q_src.row(row, h), row, P, [&](int j) { return k_recv.row(j, h); }, Dh, scale);
      mix(z_out, weights.data(), P, recv_v, Dh);
      return;
    case CellKind::kHeadK: {
      auto key = [&](int j) { return (cell.pos < 0 || j == cell.pos) ? k_src.row(j, h) : k_recv.row(j, h); };
      attend(weights.data(), q_recv.row(row, h), row, P, key, Dh, scale);
      mix(z_out, weights.data(), P, recv_v, Dh);
      return;
    }
    case CellKind::kHeadV: {
      auto value = [&](int j) { return (cell.pos < 0 || j == cell.pos) ? v_src.row(j, h) : v_recv.row(j, h); };
      mix(z_out, pattern_row(pattern_recv), P, value, Dh);
      return;
    }
    default: return;
  }
}

}  // namespace hooklab
