// The cells of a patching sweep as the fast engine sees them: what is patched where, and
// which part of the network that patch can reach.
//
// A patch at layer l can change nothing before layer l and, under causal attention, nothing
// before its first changed position p0; and only positions up to the metric position matter.
// Every cell therefore reduces to: "at layer l, these rows Q of the residual stream take new
// values" (computed cheaply from the cached runs), followed by full blocks l+1.. on the rows
// [p0, metric_pos] — or, for resid_pre, full blocks from l itself.
#pragma once

#include <cstdint>
#include <vector>

#include "hooklab/activation_cache.h"
#include "hooklab/patching.h"
#include "patching/sweep_layout.h"

namespace hooklab {

enum class CellKind {
  kResidPre,      // resid_pre[l][pos]
  kResidMid,      // resid_mid[l][pos]
  kAttnOut,       // attn_out[l][pos]
  kMlpOut,        // mlp_out[l][pos]
  kHeadZ,         // z[l][pos or all, head]
  kHeadQ,         // q[l][pos or all, head]
  kHeadK,         // k[l][pos or all, head]
  kHeadV,         // v[l][pos or all, head]
  kHeadPattern,   // pattern[l][head, dest or all, :]
  kPatternEntry,  // pattern[l][head, dest, src]
};

struct PatchCell {
  CellKind kind = CellKind::kResidPre;
  int layer = 0;
  int pos = -1;  // position (dest position for patterns); -1 = all positions
  int head = -1;
  int src = -1;  // source position of a pattern entry
  size_t out_index = 0;
  size_t item = 0;  // which of the request's items (results) the cell belongs to

  // Planned by plan_cell():
  bool affects_metric = true;  // false: the patch provably cannot change the metric
  int start_layer = 0;         // first layer run as a full block
  int p0 = 0;                  // first residual row that can change
  std::vector<int> rows;       // rows changed at `layer` (empty for kResidPre)
};

// The kind of cell a single sweep is made of.
CellKind cell_kind(PatchSweep sweep);

// Visits the cells of a single (non-combined) sweep in order; out_index follows the sweep's
// TransformerLens output layout, offset by `base`. (A visitor, not a vector: a dest x src
// pattern sweep of GPT-2 at 64 tokens has 590k cells that an estimate reads once.)
template <class Fn>
void visit_cells(PatchSweep sweep, int L, int H, int P, size_t base, Fn&& fn) {
  PatchCell c;
  c.kind = cell_kind(sweep);
  auto add = [&](int layer, int pos, int head, int src) {
    c.layer = layer, c.pos = pos, c.head = head, c.src = src;
    fn(c);
    ++c.out_index;
  };
  c.out_index = base;
  switch (sweep) {
    case PatchSweep::kResidPre:
    case PatchSweep::kResidMid:
    case PatchSweep::kAttnOut:
    case PatchSweep::kMlpOut:  // [L, P]
      for (int l = 0; l < L; ++l)
        for (int p = 0; p < P; ++p) add(l, p, -1, -1);
      break;
    case PatchSweep::kHeadOutByPos:
    case PatchSweep::kHeadQByPos:
    case PatchSweep::kHeadKByPos:
    case PatchSweep::kHeadVByPos:  // [L, P, H]
      for (int l = 0; l < L; ++l)
        for (int p = 0; p < P; ++p)
          for (int h = 0; h < H; ++h) add(l, p, h, -1);
      break;
    case PatchSweep::kHeadPatternByPos:  // [L, H, P]
      for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h)
          for (int d = 0; d < P; ++d) add(l, d, h, -1);
      break;
    case PatchSweep::kHeadPatternDestSrc:  // [L, H, P, P]
      for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h)
          for (int d = 0; d < P; ++d)
            for (int s = 0; s < P; ++s) add(l, d, h, s);
      break;
    default:  // [L, H], all positions
      for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) add(l, -1, h, -1);
      break;
  }
}

// Visits every cell of a sweep, combined sweeps (block_every, *_every) included, with
// out_index in the sweep's TransformerLens output layout (the pattern part of
// head_by_pos_every stacked as [L, P, H], rearranged from [L, H, P] as TransformerLens does).
template <class Fn>
void visit_sweep_cells(PatchSweep sweep, int L, int H, int P, Fn&& fn) {
  size_t base = 0;
  for (PatchSweep part : component_sweeps(sweep)) {
    const bool rearrange = sweep == PatchSweep::kHeadByPosEvery && part == PatchSweep::kHeadPatternByPos;
    size_t count = 0;
    visit_cells(part, L, H, P, base, [&](const PatchCell& c) {
      ++count;
      if (!rearrange) return fn(c);
      PatchCell moved = c;
      moved.out_index = base + (static_cast<size_t>(c.layer) * P + c.pos) * H + c.head;
      fn(moved);
    });
    base += count;
  }
}

std::vector<PatchCell> enumerate_cells(PatchSweep sweep, int n_layers, int n_heads, int positions, size_t base);
std::vector<PatchCell> sweep_cells(PatchSweep sweep, int n_layers, int n_heads, int positions);

// Fills the planned fields. A cell whose patched values equal the receiving run's (bit for
// bit) cannot change anything — e.g. positions before the prompts' first differing token.
void plan_cell(PatchCell& cell, const ActivationCache& receiving, const ActivationCache& source, int n_layers,
               int n_heads, int d_head, int positions, int metric_pos);

// The hook point whose activation a cell kind patches.
HookPoint patched_hook(CellKind kind);

}  // namespace hooklab
