// Stream bandwidth kernels: copy (out = a) and triad (out = a + s * b), vec4<f32>, grid-stride loops.
// Bytes moved: copy 2 x 16 B per vec4, triad 3 x 16 B per vec4.
struct Params {
  n4: u32,     // number of vec4 elements
  s: f32,      // triad scalar
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < P.n4; i += stride) {
    out[i] = a[i];
  }
}

@compute @workgroup_size(WG)
fn triad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < P.n4; i += stride) {
    out[i] = a[i] + P.s * b[i];
  }
}

// One tiny workgroup that writes one value: measures the cost of a dispatch, not of work.
@compute @workgroup_size(1)
fn empty(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x == 0u) {
    out[0] = vec4<f32>(f32(P.n4));
  }
}
