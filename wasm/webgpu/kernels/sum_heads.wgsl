// attn_out[i, :] = b_O + sum_h result[i, h, :] (hook_result's per-head outputs summed in head
// order, as forward.cpp does).
struct Params {
  rows: u32, heads: u32, dim: u32, out_offset: u32,
  out_ld: u32, result_offset: u32, _pad0: u32, _pad1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> result: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * groups.x + wid.x) * 64u + lid;
  if (index >= p.rows * p.dim) { return; }
  let d = index % p.dim;
  let i = index / p.dim;
  var acc = bias[d];
  for (var h = 0u; h < p.heads; h++) { acc += result[p.result_offset + (i * p.heads + h) * p.dim + d]; }
  out[p.out_offset + i * p.out_ld + d] = acc;
}
