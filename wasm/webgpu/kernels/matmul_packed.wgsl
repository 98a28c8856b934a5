// c[i, n] = sum_{k in [k_begin, k_begin + k_len)} a[i, k - k_begin] * W(k, n) (+ bias[n]) over one
// window of a PackedMatrix (packed_matrix.h): panel q of the window holds columns
// col_begin + 8q .. +8, and W(k, 8q + j) = w[q * 8K + k * 8 + j]. Each invocation computes a
// 4-row x 8-column tile, streaming its panel with unit stride like the CPU micro-kernel;
// k is summed in order and the bias added last, as the reference kernel does.
struct Params {
  m: u32, k_len: u32, k_begin: u32, w_rows: u32,
  a_offset: u32, lda: u32, c_offset: u32, ldc: u32,
  col_begin: u32, n_valid: u32, window_panels: u32, has_bias: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

fn store_row(row: u32, col0: u32, lo: vec4<f32>, hi: vec4<f32>) {
  if (row >= p.m) { return; }
  let out = p.c_offset + row * p.ldc + p.col_begin;
  for (var j = 0u; j < 8u; j++) {
    let col = col0 + j;
    if (col >= p.n_valid) { return; }
    var v = select(hi, lo, j < 4u)[j & 3u];
    if (p.has_bias != 0u) { v = v + bias[p.col_begin + col]; }
    c[out + col] = v;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let panel = gid.x;
  if (panel >= p.window_panels) { return; }
  let row0 = gid.y * 4u;
  // Rows past m read row m - 1 (never stored), so the loop needs no bounds checks.
  let last = p.m - 1u;
  let a0 = p.a_offset + min(row0, last) * p.lda;
  let a1 = p.a_offset + min(row0 + 1u, last) * p.lda;
  let a2 = p.a_offset + min(row0 + 2u, last) * p.lda;
  let a3 = p.a_offset + min(row0 + 3u, last) * p.lda;
  var lo0 = vec4<f32>(0.0); var hi0 = vec4<f32>(0.0);
  var lo1 = vec4<f32>(0.0); var hi1 = vec4<f32>(0.0);
  var lo2 = vec4<f32>(0.0); var hi2 = vec4<f32>(0.0);
  var lo3 = vec4<f32>(0.0); var hi3 = vec4<f32>(0.0);
  var wi = (panel * p.w_rows + p.k_begin) * 2u;
  for (var k = 0u; k < p.k_len; k++) {
    let wl = w[wi];
    let wh = w[wi + 1u];
    wi += 2u;
    let x0 = a[a0 + k]; let x1 = a[a1 + k]; let x2 = a[a2 + k]; let x3 = a[a3 + k];
    lo0 += x0 * wl; hi0 += x0 * wh;
    lo1 += x1 * wl; hi1 += x1 * wh;
    lo2 += x2 * wl; hi2 += x2 * wh;
    lo3 += x3 * wl; hi3 += x3 * wh;
  }
  let col0 = panel * 8u;
  store_row(row0, col0, lo0, hi0);
  store_row(row0 + 1u, col0, lo1, hi1);
  store_row(row0 + 2u, col0, lo2, hi2);
  store_row(row0 + 3u, col0, lo3, hi3);
}
