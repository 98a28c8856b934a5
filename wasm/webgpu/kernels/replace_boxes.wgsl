// Activation patching, many cells at once: cell b of the batch replaces its own box of the
// activation ([outer][rows][cols] view) with the same box of the source run's activation.
// boxes[6b ..] = o0, o1, r0, r1, c0, c1; invocations cover the extents and write inside the box.
struct Params {
  batch: u32, outer: u32, rows: u32, cols: u32,
  dst_offset: u32, dst_batch: u32, dst_outer: u32, dst_ld: u32,
  src_offset: u32, src_outer: u32, src_ld: u32, boxes_offset: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> boxes: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * groups.x + wid.x) * 64u + lid;
  if (index >= p.batch * p.outer * p.rows * p.cols) { return; }
  let c = index % p.cols;
  var t = index / p.cols;
  let r = t % p.rows;
  t = t / p.rows;
  let o = t % p.outer;
  let b = t / p.outer;
  let box = p.boxes_offset + b * 6u;
  if (o < boxes[box] || o >= boxes[box + 1u] || r < boxes[box + 2u] || r >= boxes[box + 3u] ||
      c < boxes[box + 4u] || c >= boxes[box + 5u]) {
    return;
  }
  dst[p.dst_offset + b * p.dst_batch + o * p.dst_outer + r * p.dst_ld + c] =
      src[p.src_offset + o * p.src_outer + r * p.src_ld + c];
}
