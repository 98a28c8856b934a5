#include "device/device_weights.h"

namespace hooklab {
namespace {

// A vector that exists only before fold_ln (LayerNorm weights): none when the host has none.
Result<DeviceBufferId> optional_vector(DeviceBackend& device, const float* host, int64_t count) {
  if (host == nullptr) return kNoDeviceBuffer;
  return device.upload_vector(host, count);
}

}  // namespace

Result<DeviceWeights> DeviceWeights::upload(DeviceBackend& device, const ModelConfig& cfg, const ModelWeights& host) {
  DeviceWeights w;
  w.device_ = &device;  // from here on, whatever was uploaded is released on failure
  const int64_t D = cfg.d_model;
  HOOKLAB_ASSIGN_OR_RETURN(w.w_e, device.upload_table(host.w_e));
  HOOKLAB_ASSIGN_OR_RETURN(w.w_pos, device.upload_vector(host.w_pos, static_cast<int64_t>(cfg.n_ctx) * D));
  for (const LayerWeights& lw : host.layers) {
    DeviceLayerWeights& dl = w.layers.emplace_back();
    HOOKLAB_ASSIGN_OR_RETURN(dl.ln1_w, optional_vector(device, lw.ln1_w, D));
    HOOKLAB_ASSIGN_OR_RETURN(dl.ln1_b, optional_vector(device, lw.ln1_b, D));
    HOOKLAB_ASSIGN_OR_RETURN(dl.w_qkv, device.upload_matrix(lw.w_qkv, lw.b_qkv));
    HOOKLAB_ASSIGN_OR_RETURN(dl.w_o, device.upload_matrix(lw.w_o, lw.b_o));
    HOOKLAB_ASSIGN_OR_RETURN(dl.b_o, device.upload_vector(lw.b_o, D));
    if (cfg.attn_only) continue;  // no LayerNorm 2 and no MLP
    HOOKLAB_ASSIGN_OR_RETURN(dl.ln2_w, optional_vector(device, lw.ln2_w, D));
    HOOKLAB_ASSIGN_OR_RETURN(dl.ln2_b, optional_vector(device, lw.ln2_b, D));
    HOOKLAB_ASSIGN_OR_RETURN(dl.w_in, device.upload_matrix(lw.w_in, lw.b_in));
    HOOKLAB_ASSIGN_OR_RETURN(dl.w_out, device.upload_matrix(lw.w_out, lw.b_out));
  }
  HOOKLAB_ASSIGN_OR_RETURN(w.ln_final_w, optional_vector(device, host.ln_final_w, D));
  HOOKLAB_ASSIGN_OR_RETURN(w.ln_final_b, optional_vector(device, host.ln_final_b, D));
  HOOKLAB_ASSIGN_OR_RETURN(w.w_u, device.upload_matrix(host.w_u, host.b_u));
  return w;
}

DeviceWeights& DeviceWeights::operator=(DeviceWeights&& other) noexcept {
  if (this == &other) return *this;
  release();
  w_e = std::move(other.w_e);
  w_pos = other.w_pos;
  layers = std::move(other.layers);
  ln_final_w = other.ln_final_w;
  ln_final_b = other.ln_final_b;
  w_u = std::move(other.w_u);
  device_ = other.device_;
  other.device_ = nullptr;
  other.layers.clear();
  return *this;
}

void DeviceWeights::release() {
  if (device_ == nullptr) return;
  DeviceBackend& d = *device_;
  auto drop = [&d](DeviceBufferId& id) {
    if (id != kNoDeviceBuffer) d.release(id);
    id = kNoDeviceBuffer;
  };
  d.release(w_e);
  drop(w_pos);
  for (DeviceLayerWeights& l : layers) {
    drop(l.ln1_w), drop(l.ln1_b), drop(l.b_o), drop(l.ln2_w), drop(l.ln2_b);
    d.release(l.w_qkv), d.release(l.w_o), d.release(l.w_in), d.release(l.w_out);
  }
  layers.clear();
  drop(ln_final_w), drop(ln_final_b);
  d.release(w_u);
  device_ = nullptr;
}

}  // namespace hooklab
