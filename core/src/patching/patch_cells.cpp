#include "patching/patch_cells.h"

#include "patching/sweep_layout.h"

#include <algorithm>
#include <cstring>

namespace hooklab {
namespace {}  // namespace

CellKind cell_kind(PatchSweep sweep) {
  switch (sweep) {
    case PatchSweep::kResidPre: return CellKind::kResidPre;
    case PatchSweep::kResidMid: return CellKind::kResidMid;
    case PatchSweep::kAttnOut: return CellKind::kAttnOut;
    case PatchSweep::kMlpOut: return CellKind::kMlpOut;
    case PatchSweep::kHeadOutByPos:
    case PatchSweep::kHeadOutAllPos: return CellKind::kHeadZ;
    case PatchSweep::kHeadQByPos:
    case PatchSweep::kHeadQAllPos: return CellKind::kHeadQ;
    case PatchSweep::kHeadKByPos:
    case PatchSweep::kHeadKAllPos: return CellKind::kHeadK;
    case PatchSweep::kHeadVByPos:
    case PatchSweep::kHeadVAllPos: return CellKind::kHeadV;
    case PatchSweep::kHeadPatternDestSrc: return CellKind::kPatternEntry;
    default: return CellKind::kHeadPattern;
  }
}

namespace {

// Are the patched values identical in both runs?
bool slice_equal(const PatchCell& c, const ActivationCache& recv, const ActivationCache& src, int n_heads, int d_head,
                 int positions) {
  const HookRef ref{patched_hook(c.kind), c.layer};
  const TensorView a = *recv.view(ref), b = *src.view(ref);
  switch (c.kind) {
    case CellKind::kResidPre:
    case CellKind::kResidMid:
    case CellKind::kAttnOut:
    case CellKind::kMlpOut: {
      const int64_t d = a.shape[2];
      return std::memcmp(a.data + c.pos * d, b.data + c.pos * d, sizeof(float) * d) == 0;
    }
    case CellKind::kHeadZ:
    case CellKind::kHeadQ:
    case CellKind::kHeadK:
    case CellKind::kHeadV: {
      const int first = c.pos < 0 ? 0 : c.pos, last = c.pos < 0 ? positions - 1 : c.pos;
      for (int p = first; p <= last; ++p) {
        const int64_t at = (static_cast<int64_t>(p) * n_heads + c.head) * d_head;
        if (std::memcmp(a.data + at, b.data + at, sizeof(float) * d_head) != 0) return false;
      }
      return true;
    }
    case CellKind::kHeadPattern: {
      const int first = c.pos < 0 ? 0 : c.pos, last = c.pos < 0 ? positions - 1 : c.pos;
      const int64_t at = (static_cast<int64_t>(c.head) * positions + first) * positions;
      return std::memcmp(a.data + at, b.data + at, sizeof(float) * (last - first + 1) * positions) == 0;
    }
    case CellKind::kPatternEntry: {
      const int64_t at = (static_cast<int64_t>(c.head) * positions + c.pos) * positions + c.src;
      // Bitwise on purpose, like the other cases: only identical bits may skip the cell.
      // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
      return std::memcmp(a.data + at, b.data + at, sizeof(float)) == 0;
    }
  }
  return false;
}

}  // namespace

HookPoint patched_hook(CellKind kind) {
  switch (kind) {
    case CellKind::kResidPre: return HookPoint::kResidPre;
    case CellKind::kResidMid: return HookPoint::kResidMid;
    case CellKind::kAttnOut: return HookPoint::kAttnOut;
    case CellKind::kMlpOut: return HookPoint::kMlpOut;
    case CellKind::kHeadZ: return HookPoint::kZ;
    case CellKind::kHeadQ: return HookPoint::kQ;
    case CellKind::kHeadK: return HookPoint::kK;
    case CellKind::kHeadV: return HookPoint::kV;
    case CellKind::kHeadPattern:
    case CellKind::kPatternEntry: return HookPoint::kPattern;
  }
  return HookPoint::kResidPre;
}

std::vector<PatchCell> enumerate_cells(PatchSweep sweep, int L, int H, int P, size_t base) {
  std::vector<PatchCell> cells;
  visit_cells(sweep, L, H, P, base, [&](const PatchCell& c) { cells.push_back(c); });
  return cells;
}

std::vector<PatchCell> sweep_cells(PatchSweep sweep, int L, int H, int P) {
  std::vector<PatchCell> cells;
  visit_sweep_cells(sweep, L, H, P, [&](const PatchCell& c) { cells.push_back(c); });
  return cells;
}

void plan_cell(PatchCell& c, const ActivationCache& recv, const ActivationCache& src, int L, int H, int d_head, int P,
               int metric_pos) {
  c.rows.clear();
  c.affects_metric = !slice_equal(c, recv, src, H, d_head, P);
  if (!c.affects_metric) return;
  const int first = c.pos < 0 ? 0 : c.pos;
  switch (c.kind) {
    case CellKind::kResidPre:
      c.start_layer = c.layer;
      c.p0 = c.pos;
      break;
    case CellKind::kHeadK:
    case CellKind::kHeadV:
      // A key or value at position p reaches every query at or after p.
      for (int r = first; r <= metric_pos; ++r) c.rows.push_back(r);
      break;
    default:
      if (c.pos < 0) {
        for (int r = 0; r <= metric_pos; ++r) c.rows.push_back(r);
      } else if (c.pos <= metric_pos) {
        c.rows.push_back(c.pos);
      }
      break;
  }
  if (c.kind != CellKind::kResidPre) {
    c.start_layer = c.layer + 1;
    c.p0 = c.rows.empty() ? metric_pos + 1 : c.rows.front();
  }
  // A change only at rows after the metric position, or only at the last layer away from
  // it, never reaches the metric.
  if (c.p0 > metric_pos) c.affects_metric = false;
  if (c.start_layer == L && (c.rows.empty() || c.rows.back() != metric_pos)) c.affects_metric = false;
}

}  // namespace hooklab
