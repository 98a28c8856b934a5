// scores[b, h, i, j] = dot(q[b, i, h], k[b, j, h]) / attn_scale for keys j <= q_begin + i, and
// -inf above the diagonal (TransformerLens's causal mask), for `batch` sequences at once.
// d is summed in order, as the reference kernel does. -inf arrives in the params: WGSL has
// no infinity literal.
struct Params {
  batch: u32, heads: u32, d_head: u32, nq: u32,
  nk: u32, q_begin: u32, q_offset: u32, ldq: u32,
  q_batch: u32, k_offset: u32, ldk: u32, k_batch: u32,
  s_offset: u32, s_batch: u32, attn_scale: f32, neg_inf: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> scores: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * groups.x + wid.x) * 64u + lid;
  if (index >= p.batch * p.heads * p.nq * p.nk) { return; }
  let j = index % p.nk;
  var t = index / p.nk;
  let i = t % p.nq;
  t = t / p.nq;
  let h = t % p.heads;
  let b = t / p.heads;
  let out = p.s_offset + b * p.s_batch + (h * p.nq + i) * p.nk + j;
  if (j > p.q_begin + i) {
    scores[out] = p.neg_inf;
    return;
  }
  let qr = p.q_offset + b * p.q_batch + i * p.ldq + h * p.d_head;
  let kr = p.k_offset + b * p.k_batch + j * p.ldk + h * p.d_head;
  var dot = 0.0;
  for (var d = 0u; d < p.d_head; d++) { dot += q[qr + d] * k[kr + d]; }
  scores[out] = dot / p.attn_scale;
}
