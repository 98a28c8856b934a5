// dst[r, j] = src[r, columns[j]]: the few logits a logit difference reads, per patched cell,
// so a chunk reads back a handful of floats per cell instead of whole vocabulary rows.
struct Params { rows: u32, n_columns: u32, dst_offset: u32, src_offset: u32, src_ld: u32, columns_offset: u32, _pad0: u32, _pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> columns: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * groups.x + wid.x) * 64u + lid;
  if (index >= p.rows * p.n_columns) { return; }
  let j = index % p.n_columns;
  let r = index / p.n_columns;
  dst[p.dst_offset + index] = src[p.src_offset + r * p.src_ld + columns[p.columns_offset + j]];
}
