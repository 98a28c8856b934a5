#include "device/device_patch_injection.h"

namespace hooklab {

InjectionShape injection_shape(CellKind kind, int layer, const ModelConfig& cfg, int64_t positions,
                               int64_t source_positions) {
  InjectionShape s;
  s.target = {patched_hook(kind), layer};
  s.rows = positions;
  if (kind == CellKind::kHeadPattern || kind == CellKind::kPatternEntry) {
    // pattern [H, P, P]: heads outermost, query rows, key columns.
    s.outer = cfg.n_heads;
    s.cols = positions;
    s.dst_outer_stride = positions * positions;
    s.src_outer_stride = source_positions * source_positions;
  } else {
    s.cols = cfg.d_model;  // [P, D] rows; head slices are column ranges h * Dh ...
  }
  return s;
}

std::array<uint32_t, 6> injection_box(const PatchCell& c, const ModelConfig& cfg, int64_t positions) {
  const auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
  const int64_t r0 = c.pos < 0 ? 0 : c.pos, r1 = c.pos < 0 ? positions : c.pos + 1;
  switch (c.kind) {
    case CellKind::kResidPre:
    case CellKind::kResidMid:
    case CellKind::kAttnOut:
    case CellKind::kMlpOut: return {0, 1, u(r0), u(r1), 0, u(cfg.d_model)};
    case CellKind::kHeadZ:
    case CellKind::kHeadQ:
    case CellKind::kHeadK:
    case CellKind::kHeadV: return {0, 1, u(r0), u(r1), u(c.head * cfg.d_head), u((c.head + 1) * cfg.d_head)};
    case CellKind::kHeadPattern: return {u(c.head), u(c.head + 1), u(r0), u(r1), 0, u(positions)};
    case CellKind::kPatternEntry: return {u(c.head), u(c.head + 1), u(r0), u(r1), u(c.src), u(c.src + 1)};
  }
  return {0, 0, 0, 0, 0, 0};
}

void InjectingHooks::after(HookRef ref, DeviceRows where) {
  if (!(ref == shape_.target)) return;
  device_.replace_boxes({where, shape_.dst_outer_stride, source_, shape_.src_outer_stride, boxes_, batch_, shape_.outer,
                         shape_.rows, shape_.cols});
}

}  // namespace hooklab
