// out[i, :] = W_E[tokens[i], :] for the tokens whose rows lie in this window of W_E
// ([row_begin, row_end)); the embedding is split into windows that each fit one binding.
struct Params {
  count: u32, cols: u32, out_offset: u32, out_ld: u32,
  row_begin: u32, row_end: u32, tokens_offset: u32, _pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> tokens: array<u32>;
@group(0) @binding(3) var<storage, read> table: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * groups.x + wid.x) * 64u + lid;
  if (index >= p.count * p.cols) { return; }
  let d = index % p.cols;
  let i = index / p.cols;
  let token = tokens[p.tokens_offset + i];
  if (token < p.row_begin || token >= p.row_end) { return; }
  out[p.out_offset + i * p.out_ld + d] = table[(token - p.row_begin) * p.cols + d];
}
