// How one patched cell becomes a box of the activation it patches (device_patching.cpp runs
// many cells per dispatch; each replaces its own box with the source run's values).
#pragma once

#include <array>
#include <cstdint>

#include "device/device_block.h"
#include "patching/patch_cells.h"

namespace hooklab {

// The geometry shared by all cells of one chunk (same kind, same layer): the patched hook,
// its view as [outer][rows][cols] in the chunk's runs (`positions` rows) and in the source
// run (`source_positions` rows).
struct InjectionShape {
  HookRef target;
  int64_t outer = 1, rows = 0, cols = 0;
  int64_t dst_outer_stride = 0, src_outer_stride = 0;
};
InjectionShape injection_shape(CellKind kind, int layer, const ModelConfig& cfg, int64_t positions,
                               int64_t source_positions);

// The cell's box: o0, o1, r0, r1, c0, c1 within injection_shape's extents.
std::array<uint32_t, 6> injection_box(const PatchCell& cell, const ModelConfig& cfg, int64_t positions);

// Block hooks that inject the source's activation into each cell's box right after the
// patched hook fires (q/k/v boxes land inside the fused qkv product the block reads).
class InjectingHooks final : public DeviceBlockHooks {
 public:
  InjectingHooks(DeviceBackend& device, InjectionShape shape, DeviceRows source, DeviceSpan boxes, int64_t batch)
      : device_(device), shape_(shape), source_(source), boxes_(boxes), batch_(batch) {}
  void after(HookRef ref, DeviceRows where) override;

 private:
  DeviceBackend& device_;
  InjectionShape shape_;
  DeviceRows source_;
  DeviceSpan boxes_;
  int64_t batch_;
};

}  // namespace hooklab
