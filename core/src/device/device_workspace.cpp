#include "device/device_workspace.h"

#include <algorithm>

namespace hooklab {
namespace {

struct Kind {
  DeviceRows DeviceWorkspace::*member;
  int64_t ld;            // floats per row
  int64_t rows_per_seq;  // rows of one sequence (scores: H * P rows of P)
};

std::vector<Kind> kinds(const ModelConfig& cfg, int64_t p, bool use_attn_result) {
  const int64_t d = cfg.d_model, m = cfg.d_mlp, h = cfg.n_heads;
  using W = DeviceWorkspace;
  std::vector<Kind> k = {
      {&W::embed, d, p},
      {&W::pos_embed, d, p},
      {&W::resid_pre, d, p},
      {&W::ln1_scale, 1, p},
      {&W::ln1_normalized, d, p},
      {&W::qkv, 3 * d, p},
      {&W::attn_scores, p, h * p},
      {&W::pattern, p, h * p},
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
                                                  int64_t positions, bool use_attn_result) {
  DeviceWorkspace ws;
  ws.device_ = &device;
  for (const Kind& k : kinds(cfg, positions, use_attn_result)) {
    const int64_t per_seq = k.ld * k.rows_per_seq;
    HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId id, device.allocate(std::max<int64_t>(1, batch * per_seq)));
    ws.buffers_.push_back(id);
    ws.*k.member = DeviceRows{id, 0, k.ld, per_seq};
  }
  return ws;
}

int64_t DeviceWorkspace::largest_per_sequence(const ModelConfig& cfg, int64_t positions) {
  int64_t largest = 0;
  for (const Kind& k : kinds(cfg, positions, false)) largest = std::max(largest, k.ld * k.rows_per_seq);
  return largest;
}

int64_t DeviceWorkspace::total_per_sequence(const ModelConfig& cfg, int64_t positions) {
  int64_t total = 0;
  for (const Kind& k : kinds(cfg, positions, false)) total += k.ld * k.rows_per_seq;
  return total;
}

DeviceWorkspace& DeviceWorkspace::operator=(DeviceWorkspace&& other) noexcept {
  if (this == &other) return *this;
  release();
  embed = other.embed, pos_embed = other.pos_embed, resid_pre = other.resid_pre, ln1_scale = other.ln1_scale;
  ln1_normalized = other.ln1_normalized, qkv = other.qkv, attn_scores = other.attn_scores, pattern = other.pattern;
  z = other.z, result = other.result, attn_out = other.attn_out, resid_mid = other.resid_mid;
  ln2_scale = other.ln2_scale, ln2_normalized = other.ln2_normalized, mlp_pre = other.mlp_pre;
  mlp_post = other.mlp_post, mlp_out = other.mlp_out, resid_post = other.resid_post;
  ln_final_scale = other.ln_final_scale, ln_final_normalized = other.ln_final_normalized;
  device_ = other.device_;
  buffers_ = std::move(other.buffers_);
  other.device_ = nullptr;
  other.buffers_.clear();
  return *this;
}

void DeviceWorkspace::release() {
  if (device_ != nullptr) {
    for (DeviceBufferId id : buffers_) device_->release(id);
  }
  buffers_.clear();
  device_ = nullptr;
}

}  // namespace hooklab
