// Numerically stable softmax over the last axis: y = exp(x - max(x)) / sum(exp(x - max(x))).
// One workgroup of 256 invocations per row: a max reduction, then a sum reduction, then the write.
struct Params {
  rows: u32,
  cols: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let base = wg.x * P.cols;
  var m = -3.0e38;
  for (var i = li; i < P.cols; i += WG) {
    m = max(m, x[base + i]);
  }
  red[li] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      red[li] = max(red[li], red[li + s]);
    }
    workgroupBarrier();
  }
  let rowMax = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var i = li; i < P.cols; i += WG) {
    sum += exp(x[base + i] - rowMax);
  }
  red[li] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      red[li] += red[li + s];
    }
    workgroupBarrier();
  }
  let inv = 1.0 / red[0];
  for (var i = li; i < P.cols; i += WG) {
    y[base + i] = exp(x[base + i] - rowMax) * inv;
  }
}
