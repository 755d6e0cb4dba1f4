// Rotary position embedding (rotate-half layout): x[T][H][D] -> y, position of token t = pos0 + t.
// For i < D/2: angle = pos * theta^(-2i/D); (x_i, x_{i+D/2}) -> (x_i cos - x_{i+D/2} sin, x_{i+D/2} cos + x_i sin).
// The angle is reduced to [-pi, pi] before cos/sin, whose accuracy WGSL only bounds on that range.
struct Params {
  tokens: u32,
  heads: u32,
  dim: u32,
  pos0: u32,
  theta: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const TWO_PI = 6.283185307179586;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let half = P.dim / 2u;
  let idx = gid.x + gid.y * nwg.x * 64u;
  if (idx >= P.tokens * P.heads * half) {
    return;
  }
  let i = idx % half;
  let th = idx / half; // token * heads + head
  let t = th / P.heads;
  let base = th * P.dim;
  let invFreq = pow(P.theta, -2.0 * f32(i) / f32(P.dim));
  let turns = f32(P.pos0 + t) * invFreq / TWO_PI;
  let a = (turns - round(turns)) * TWO_PI;
  let c = cos(a);
  let s = sin(a);
  let x0 = x[base + i];
  let x1 = x[base + i + half];
  y[base + i] = x0 * c - x1 * s;
  y[base + i + half] = x1 * c + x0 * s;
}
