// Device buffers owned together and released together when their owner goes (move-only), so
// the workspace and the KV cache need no hand-written move or destructor.
#pragma once

#include <utility>
#include <vector>

#include "hooklab/device_backend.h"

namespace hooklab {

class OwnedDeviceBuffers {
 public:
  OwnedDeviceBuffers() = default;
  explicit OwnedDeviceBuffers(DeviceBackend& device) : device_(&device) {}
  OwnedDeviceBuffers(OwnedDeviceBuffers&& other) noexcept
      : device_(std::exchange(other.device_, nullptr)), ids_(std::exchange(other.ids_, {})) {}
  OwnedDeviceBuffers& operator=(OwnedDeviceBuffers&& other) noexcept {
    if (this != &other) {
      release();
      device_ = std::exchange(other.device_, nullptr);
      ids_ = std::exchange(other.ids_, {});
    }
    return *this;
  }
  ~OwnedDeviceBuffers() { release(); }

  Result<DeviceBufferId> allocate(int64_t floats) {
    HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId id, device_->allocate(floats));
    ids_.push_back(id);
    return id;
  }
  DeviceBufferId operator[](size_t i) const { return ids_[i]; }

 private:
  void release() {
    if (device_ != nullptr) {
      for (DeviceBufferId id : ids_) device_->release(id);
    }
    ids_.clear();
  }
  DeviceBackend* device_ = nullptr;
  std::vector<DeviceBufferId> ids_;
};

}  // namespace hooklab
