// Tiled f32 matmul C = A * B (row-major), TILE x TILE workgroups, tiles staged in workgroup memory.
// ridgeline: M=1024 N=1024 K=1024 dispatch=N/16,M/16,1 buffers=0:M*K,1:K*N,2:M*N
const TILE: u32 = 16u;

// Uniform members named like the dims (m, n, k) are filled from them when the kernel is profiled.
struct Dims { m: u32, n: u32, k: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16, 1)
fn matmul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = gid.y;
  let col = gid.x;
  var acc = 0.0;
  for (var t = 0u; t < dims.k; t = t + TILE) {
    tileA[lid.y][lid.x] = a[row * dims.k + t + lid.x];
    tileB[lid.y][lid.x] = b[(t + lid.y) * dims.n + col];
    workgroupBarrier();
    for (var k = 0u; k < TILE; k = k + 1u) {
      acc = acc + tileA[lid.y][k] * tileB[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row < dims.m && col < dims.n) {
    c[row * dims.n + col] = acc;
  }
}
