alias T = f32;
// GEMV for decode: y[N] = W[N,K] x[K], W row-major (one output feature per row), split over K.
// Pass `partial`: workgroup (row block of 4, split s) reduces K range [s*chunk, (s+1)*chunk) for 4 rows;
// 64 invocations stride over k so each reads consecutive words of each row. Pass `reduce` sums the splits.
// Accumulates in f32 for f32 and f16 weights.
struct Params {
  N: u32,
  K: u32,
  splits: u32,
  chunk: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> W: array<T>;
@group(0) @binding(2) var<storage, read> x: array<T>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>; // [splits][N]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const ROWS = 4u;
const WG = 64u;
var<workgroup> red: array<f32, 256>; // [ROWS][WG]

@compute @workgroup_size(64)
fn partial(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.x * ROWS;
  let split = wg.y;
  let k0 = split * P.chunk;
  let k1 = min(P.K, k0 + P.chunk);
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  let nrows = min(ROWS, P.N - row0);
  for (var k = k0 + li; k < k1; k += WG) {
    let xv = f32(x[k]);
    for (var r = 0u; r < nrows; r++) {
      acc[r] = fma(f32(W[(row0 + r) * P.K + k]), xv, acc[r]);
    }
  }
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
    part[split * P.N + row0 + li] = red[li * WG];
  }
}

@compute @workgroup_size(64)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= P.N) {
    return;
  }
  var s = 0.0;
  for (var i = 0u; i < P.splits; i++) {
    s += part[i * P.N + n];
  }
  y[n] = s;
}

// One invocation per row, no workgroup memory or barriers: each invocation streams its own row. Faster
// on CPU-based software adapters (SwiftShader), where a barrier costs a thread switch and each invocation's
// sequential reads are served by the cache. Writes y directly (no split, no reduce pass).
@compute @workgroup_size(64)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= P.N) {
    return;
  }
  let base = n * P.K;
  var acc0 = 0.0;
  var acc1 = 0.0;
  var acc2 = 0.0;
  var acc3 = 0.0;
  let k4 = P.K & ~3u;
  for (var k = 0u; k < k4; k += 4u) {
    acc0 = fma(f32(W[base + k]), f32(x[k]), acc0);
    acc1 = fma(f32(W[base + k + 1u]), f32(x[k + 1u]), acc1);
    acc2 = fma(f32(W[base + k + 2u]), f32(x[k + 2u]), acc2);
    acc3 = fma(f32(W[base + k + 3u]), f32(x[k + 3u]), acc3);
  }
  for (var k = k4; k < P.K; k++) {
    acc0 = fma(f32(W[base + k]), f32(x[k]), acc0);
  }
  y[n] = (acc0 + acc1) + (acc2 + acc3);
}

// `rows` for K a multiple of 4: W and x read as vec4 (a quarter of the loads). Bindings as `rows`, the same
// buffers viewed as vec4.
@group(0) @binding(1) var<storage, read> W4: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<T>>;

@compute @workgroup_size(64)
fn rows4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= P.N) {
    return;
  }
  let kv = P.K / 4u;
  let base = n * kv;
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < kv; k++) {
    acc = fma(vec4<f32>(W4[base + k]), vec4<f32>(x4[k]), acc);
  }
  y[n] = (acc.x + acc.y) + (acc.z + acc.w);
}
