// The model's processed weights on the device, uploaded once per session. Mirrors
// weights.h's ModelWeights: same names, vectors as buffers, matrices as DeviceMatrix windows.
#pragma once

#include <vector>

#include "hooklab/config.h"
#include "hooklab/device_backend.h"
#include "hooklab/weights.h"

namespace hooklab {

struct DeviceLayerWeights {
  DeviceBufferId ln1_w = kNoDeviceBuffer, ln1_b = kNoDeviceBuffer;  // none after fold_ln
  DeviceMatrix w_qkv;                                               // with b_qkv
  DeviceMatrix w_o;                                                 // with b_o
  DeviceBufferId b_o = kNoDeviceBuffer;                             // b_o again, for hook_result's head sum
  DeviceBufferId ln2_w = kNoDeviceBuffer, ln2_b = kNoDeviceBuffer;
  DeviceMatrix w_in;   // with b_in
  DeviceMatrix w_out;  // with b_out
};

class DeviceWeights {
 public:
  static Result<DeviceWeights> upload(DeviceBackend& device, const ModelConfig& cfg, const ModelWeights& host);
  DeviceWeights() = default;
  DeviceWeights(DeviceWeights&& other) noexcept { *this = std::move(other); }
  DeviceWeights& operator=(DeviceWeights&& other) noexcept;
  ~DeviceWeights() { release(); }

  DeviceTable w_e;
  DeviceBufferId w_pos = kNoDeviceBuffer;
  std::vector<DeviceLayerWeights> layers;
  DeviceBufferId ln_final_w = kNoDeviceBuffer, ln_final_b = kNoDeviceBuffer;
  DeviceMatrix w_u;  // with b_u

 private:
  void release();
  DeviceBackend* device_ = nullptr;
};

}  // namespace hooklab
