// z[b, i, h, :] = sum_j pattern[b, h, i, j] * v[b, j, h, :] for `batch` sequences; keys with
// zero weight are skipped (as the reference kernel does) and j is summed in order.
struct Params {
  batch: u32, heads: u32, d_head: u32, nq: u32,
  nk: u32, z_offset: u32, ldz: u32, z_batch: u32,
  p_offset: u32, p_batch: u32, v_offset: u32, ldv: u32,
  v_batch: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(2) var<storage, read> pattern: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * groups.x + wid.x) * 64u + lid;
  if (index >= p.batch * p.nq * p.heads * p.d_head) { return; }
  let d = index % p.d_head;
  var t = index / p.d_head;
  let h = t % p.heads;
  t = t / p.heads;
  let i = t % p.nq;
  let b = t / p.nq;
  let pr = p.p_offset + b * p.p_batch + (h * p.nq + i) * p.nk;
  let vc = p.v_offset + b * p.v_batch + h * p.d_head + d;
  var acc = 0.0;
  for (var j = 0u; j < p.nk; j++) {
    let weight = pattern[pr + j];
    if (weight != 0.0) { acc += weight * v[vc + j * p.ldv]; }
  }
  z[p.z_offset + b * p.z_batch + i * p.ldz + h * p.d_head + d] = acc;
}
