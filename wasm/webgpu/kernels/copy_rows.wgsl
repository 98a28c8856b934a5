// dst[b][r][c] = src[b][r][c]: strided row copies (q/k/v out of the fused product, positional
// embeddings, one receiving run broadcast to a batch of cells with src_batch = 0).
struct Params {
  batch: u32, rows: u32, cols: u32, dst_offset: u32,
  dst_ld: u32, dst_batch: u32, src_offset: u32, src_ld: u32,
  src_batch: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * groups.x + wid.x) * 64u + lid;
  if (index >= p.batch * p.rows * p.cols) { return; }
  let c = index % p.cols;
  let r = (index / p.cols) % p.rows;
  let b = index / (p.cols * p.rows);
  dst[p.dst_offset + b * p.dst_batch + r * p.dst_ld + c] = src[p.src_offset + b * p.src_batch + r * p.src_ld + c];
}
