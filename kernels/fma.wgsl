alias T = f32;
// Peak arithmetic: four independent chains of vec4 fused multiply-adds per invocation (16 lanes, so the
// chains do not stall on each other). x <- x * 0.75 + 0.25 contracts towards 1, so values stay finite in
// f16 and rounding errors do not pile up (each chain stays within 4 ulp of the exact iterate).
// FLOPs = invocations x iters x 4 chains x 4 lanes x 2.
struct Params {
  iters: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<T>>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = T(gid.x % 64u) * T(0.0078125);
  var x0 = vec4<T>(s, s + T(0.25), s + T(0.5), s + T(0.75));
  var x1 = x0 + vec4<T>(T(0.125));
  var x2 = x0 + vec4<T>(T(0.0625));
  var x3 = x0 + vec4<T>(T(0.1875));
  let m = vec4<T>(T(0.75));
  let c = vec4<T>(T(0.25));
  for (var i = 0u; i < P.iters; i++) {
    x0 = fma(x0, m, c);
    x1 = fma(x1, m, c);
    x2 = fma(x2, m, c);
    x3 = fma(x3, m, c);
  }
  out[gid.x] = x0 + x1 + x2 + x3;
}
