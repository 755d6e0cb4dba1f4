// int4 dequantize-GEMV: y[N] = dequant(Wq)[N,K] x[K]. Weights are 4-bit unsigned codes, 8 per u32 (code j of
// a word in bits 4j..4j+3, k increasing), groups of 128 along K, each with a scale and a zero point:
// w = (q - zero) * scale. Two layouts for scale and zero: `main_sz16` reads one u32 per group holding
// pack2x16float(scale, zero) (fp16 scale+zero: 4 + 32/128 = 4.25 bits per weight), `main_sz32` reads f32
// arrays. 4 rows per workgroup; 64 invocations stride over words. K must be a multiple of 8 (the host pads).
struct Params {
  N: u32,
  K: u32,
  groups: u32, // ceil(K / 128)
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Wq: array<u32>;       // [N][K/8]
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [K]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [N]
@group(0) @binding(4) var<storage, read> sz16: array<u32>;     // [N][groups] pack2x16float(scale, zero)
@group(0) @binding(5) var<storage, read> scale32: array<f32>;  // [N][groups]
@group(0) @binding(6) var<storage, read> zero32: array<f32>;   // [N][groups]

const ROWS = 4u;
const WG = 64u;
var<workgroup> red: array<f32, 256>;

fn dot8(word: u32, xb: u32) -> vec2<f32> {
  // Returns (sum q_j x_j, sum x_j) for the 8 codes of `word` against x[xb .. xb + 8].
  var qx = 0.0;
  var sx = 0.0;
  for (var j = 0u; j < 8u; j++) {
    let q = f32((word >> (4u * j)) & 15u);
    let xv = x[xb + j];
    qx = fma(q, xv, qx);
    sx += xv;
  }
  return vec2<f32>(qx, sx);
}

fn finish(li: u32, row0: u32, nrows: u32, acc: array<f32, 4>) {
  for (var r = 0u; r < ROWS; r++) {
    red[r * WG + li] = acc[r];
  }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      for (var r = 0u; r < ROWS; r++) {
        red[r * WG + li] += red[r * WG + li + s];
      }
    }
    workgroupBarrier();
  }
  if (li < nrows) {
    y[row0 + li] = red[li * WG];
  }
}

@compute @workgroup_size(64)
fn main_sz16(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.x * ROWS;
  let nrows = min(ROWS, P.N - row0);
  let words = P.K / 8u;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var w = li; w < words; w += WG) {
    let g = w / 16u; // 16 words = 128 codes per group
    for (var r = 0u; r < nrows; r++) {
      let row = row0 + r;
      let d = dot8(Wq[row * words + w], w * 8u);
      let sz = unpack2x16float(sz16[row * P.groups + g]);
      acc[r] += sz.x * (d.x - sz.y * d.y);
    }
  }
  finish(li, row0, nrows, acc);
}

@compute @workgroup_size(64)
fn main_sz32(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.x * ROWS;
  let nrows = min(ROWS, P.N - row0);
  let words = P.K / 8u;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var w = li; w < words; w += WG) {
    let g = w / 16u;
    for (var r = 0u; r < nrows; r++) {
      let row = row0 + r;
      let d = dot8(Wq[row * words + w], w * 8u);
      let i = row * P.groups + g;
      acc[r] += scale32[i] * (d.x - zero32[i] * d.y);
    }
  }
  finish(li, row0, nrows, acc);
}
