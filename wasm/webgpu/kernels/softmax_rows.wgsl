// Softmax over each row of n, one workgroup per row. A row whose maximum is not finite (all
// -inf, or +inf/NaN) becomes 0, as TransformerLens maps NaN patterns to 0; -inf entries
// contribute exactly 0. Finiteness is tested on the bits: WGSL has no isinf/isnan and
// compilers may assume floats are finite.
struct Params { rows: u32, n: u32, y_offset: u32, x_offset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

var<workgroup> partial: array<f32, 64>;

fn is_finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * groups.x + wid.x;
  if (row >= p.rows) { return; }
  let xr = p.x_offset + row * p.n;
  let yr = p.y_offset + row * p.n;
  // Row maximum over finite entries; any +inf/NaN makes the whole row 0.
  var m = -3.4028234663852886e38;
  var bad = 0.0;
  var any_finite = 0.0;
  for (var j = lid; j < p.n; j += 64u) {
    let v = x[xr + j];
    if (is_finite(v)) {
      m = max(m, v);
      any_finite = 1.0;
    } else if (bitcast<u32>(v) != 0xff800000u) {
      bad = 1.0;
    }
  }
  partial[lid] = m;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] = max(partial[lid], partial[lid + stride]); }
    workgroupBarrier();
  }
  let row_max = partial[0];
  workgroupBarrier();
  // 4 * (some +inf/NaN) + (some finite entry), maximised over the workgroup.
  partial[lid] = bad * 4.0 + any_finite;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] = max(partial[lid], partial[lid + stride]); }
    workgroupBarrier();
  }
  let flags = partial[0];
  workgroupBarrier();
  let zero_row = flags >= 4.0 || flags < 0.5;
  var s = 0.0;
  for (var j = lid; j < p.n; j += 64u) {
    let v = x[xr + j];
    if (is_finite(v)) { s += exp(v - row_max); }
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  for (var j = lid; j < p.n; j += 64u) {
    let v = x[xr + j];
    var out = 0.0;
    if (!zero_row && is_finite(v)) { out = exp(v - row_max) / total; }
    y[yr + j] = out;
  }
}
