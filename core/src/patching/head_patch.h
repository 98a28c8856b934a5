// One head's attention output after a head-level patch (head_patch.cpp).
#pragma once

#include "hooklab/config.h"
#include "patching/patch_cells.h"

namespace hooklab {

// Writes z[row, cell.head, :] (d_head floats) of the patched run at cell.layer. The rows a
// cell changes are cell.rows; every other row of z is the receiving run's.
void patched_head_z(float* z_out, const PatchCell& cell, int row, const ActivationCache& receiving,
                    const ActivationCache& source, const ModelConfig& cfg, int positions);

}  // namespace hooklab
