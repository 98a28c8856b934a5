#include "device/device_workspace.h"

#include <algorithm>

namespace hooklab {
namespace {

struct Kind {
  DeviceRows DeviceWorkspace::*member;
  int64_t ld;            // floats per row
  int64_t rows_per_seq;  // rows of one sequence (scores: H * P rows of `keys`)
};

std::vector<Kind> kinds(const ModelConfig& cfg, int64_t p, int64_t keys, bool use_attn_result) {
  const int64_t d = cfg.d_model, m = cfg.d_mlp, h = cfg.n_heads;
  using W = DeviceWorkspace;
  std::vector<Kind> k = {
      {&W::embed, d, p},
      {&W::pos_embed, d, p},
      {&W::resid_pre, d, p},
      {&W::ln1_scale, 1, p},
      {&W::ln1_normalized, d, p},
      {&W::qkv, 3 * d, p},
      {&W::attn_scores, keys, h * p},
      {&W::pattern, keys, h * p},
      {&W::z, d, p},
      {&W::attn_out, d, p},
      {&W::resid_post, d, p},
      {&W::ln_final_scale, 1, p},
      {&W::ln_final_normalized, d, p},
  };
  if (!cfg.attn_only) {  // an attention-only block has no resid_mid, LayerNorm 2 or MLP
    k.insert(k.end(), {{&W::resid_mid, d, p},
                       {&W::ln2_scale, 1, p},
                       {&W::ln2_normalized, d, p},
                       {&W::mlp_pre, m, p},
                       {&W::mlp_post, m, p},
                       {&W::mlp_out, d, p}});
  }
  if (use_attn_result) k.push_back({&W::result, h * d, p});
  return k;
}

}  // namespace

Result<DeviceWorkspace> DeviceWorkspace::allocate(DeviceBackend& device, const ModelConfig& cfg, int64_t batch,
                                                  int64_t positions, bool use_attn_result, int64_t keys) {
  DeviceWorkspace ws;
  ws.buffers_ = OwnedDeviceBuffers(device);
  for (const Kind& k : kinds(cfg, positions, keys > 0 ? keys : positions, use_attn_result)) {
    const int64_t per_seq = k.ld * k.rows_per_seq;
    HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId id, ws.buffers_.allocate(std::max<int64_t>(1, batch * per_seq)));
    ws.*k.member = DeviceRows{id, 0, k.ld, per_seq};
  }
  return ws;
}

int64_t DeviceWorkspace::largest_per_sequence(const ModelConfig& cfg, int64_t positions) {
  int64_t largest = 0;
  for (const Kind& k : kinds(cfg, positions, positions, false)) largest = std::max(largest, k.ld * k.rows_per_seq);
  return largest;
}

int64_t DeviceWorkspace::total_per_sequence(const ModelConfig& cfg, int64_t positions) {
  int64_t total = 0;
  for (const Kind& k : kinds(cfg, positions, positions, false)) total += k.ld * k.rows_per_seq;
  return total;
}

}  // namespace hooklab
