// out = a + b elementwise (residual stream sums).
struct Params { n: u32, out_offset: u32, a_offset: u32, b_offset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * groups.x + wid.x) * 64u + lid;
  if (i >= p.n) { return; }
  out[p.out_offset + i] = a[p.a_offset + i] + b[p.b_offset + i];
}
