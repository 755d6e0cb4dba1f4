// RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, one workgroup of 256 invocations per row.
struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const WG = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let base = wg.x * P.dim;
  var ss = 0.0;
  for (var i = li; i < P.dim; i += WG) {
    let v = x[base + i];
    ss = fma(v, v, ss);
  }
  red[li] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      red[li] += red[li + s];
    }
    workgroupBarrier();
  }
  let inv = inverseSqrt(red[0] / f32(P.dim) + P.eps);
  for (var i = li; i < P.dim; i += WG) {
    y[base + i] = x[base + i] * inv * w[i];
  }
}
