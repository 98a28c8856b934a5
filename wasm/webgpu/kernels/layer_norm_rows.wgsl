// y = (x - mean(x)) / scale [* w + b], scale = sqrt(mean((x - mean)^2) + eps), one workgroup
// per row; the row's scale is written too when asked (hook_scale). LayerNormPre (after
// fold_ln) has no w, b.
struct Params {
  rows: u32, dim: u32, x_offset: u32, ldx: u32,
  y_offset: u32, ldy: u32, scale_offset: u32, has_scale: u32,
  has_affine: u32, eps: f32, _pad0: u32, _pad1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> scale_out: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;

var<workgroup> partial: array<f32, 64>;

fn workgroup_sum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * groups.x + wid.x;
  if (row >= p.rows) { return; }
  let xr = p.x_offset + row * p.ldx;
  var s = 0.0;
  for (var d = lid; d < p.dim; d += 64u) { s += x[xr + d]; }
  let mean = workgroup_sum(lid, s) / f32(p.dim);
  var s2 = 0.0;
  for (var d = lid; d < p.dim; d += 64u) {
    let c = x[xr + d] - mean;
    s2 += c * c;
  }
  let scale = sqrt(workgroup_sum(lid, s2) / f32(p.dim) + p.eps);
  if (lid == 0u && p.has_scale != 0u) { scale_out[p.scale_offset + row] = scale; }
  let yr = p.y_offset + row * p.ldy;
  for (var d = lid; d < p.dim; d += 64u) {
    var v = (x[xr + d] - mean) / scale;
    if (p.has_affine != 0u) { v = v * w[d] + b[d]; }
    y[yr + d] = v;
  }
}
