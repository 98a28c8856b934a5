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
  int pos = -1;   // position (dest position for patterns); -1 = all positions
  int head = -1;
  int src = -1;   // source position of a pattern entry
  size_t out_index = 0;

  // Planned by plan_cell():
  bool affects_metric = true;  // false: the patch provably cannot change the metric
  int start_layer = 0;         // first layer run as a full block
  int p0 = 0;                  // first residual row that can change
  std::vector<int> rows;       // rows changed at `layer` (empty for kResidPre)
};

// Enumerates the cells of a single (non-combined) sweep; out_index follows the sweep's
// TransformerLens output layout, offset by `base`.
std::vector<PatchCell> enumerate_cells(PatchSweep sweep, int n_layers, int n_heads, int positions, size_t base);

// Every cell of a sweep, combined sweeps (block_every, *_every) included, with out_index in
// the sweep's TransformerLens output layout (the pattern part of head_by_pos_every stacked as
// [L, P, H], rearranged from [L, H, P] as TransformerLens does).
std::vector<PatchCell> sweep_cells(PatchSweep sweep, int n_layers, int n_heads, int positions);

// Fills the planned fields. A cell whose patched values equal the receiving run's (bit for
// bit) cannot change anything — e.g. positions before the prompts' first differing token.
void plan_cell(PatchCell& cell, const ActivationCache& receiving, const ActivationCache& source, int n_layers,
               int n_heads, int d_head, int positions, int metric_pos);

// The kind of cell a single sweep is made of.
CellKind cell_kind(PatchSweep sweep);
// The hook point whose activation a cell kind patches.
HookPoint patched_hook(CellKind kind);

}  // namespace hooklab
