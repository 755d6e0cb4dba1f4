alias T = f32;
// Tiled GEMM C[M,N] = A[M,K] * B[K,N], row-major. A 16x16 workgroup computes a 64x64 tile of C: each
// invocation holds a 4x4 register tile (rows ly + 16 i, columns lx + 16 j, so neighbours touch neighbouring
// words). K advances in steps of 16 through workgroup memory (A stored transposed). Accumulates in f32 for
// both f32 and f16 inputs. Edges (M, N, K not multiples of the tile) are zero-padded on load and masked on
// store.
struct Params {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<T>;
@group(0) @binding(2) var<storage, read> B: array<T>;
@group(0) @binding(3) var<storage, read_write> C: array<T>;

const BM = 64u;
const BN = 64u;
const BK = 16u;

var<workgroup> As: array<T, 1024>; // [BK][BM]
var<workgroup> Bs: array<T, 1024>; // [BK][BN]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  var acc: array<array<f32, 4>, 4>;
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      acc[i][j] = 0.0;
    }
  }
  for (var k0 = 0u; k0 < P.K; k0 += BK) {
    for (var t = 0u; t < 4u; t++) {
      let e = li + t * 256u;
      // A tile: consecutive invocations read consecutive k of one row.
      let ar = e / BK;
      let ak = e % BK;
      let gr = row0 + ar;
      let gk = k0 + ak;
      var av = T(0.0);
      if (gr < P.M && gk < P.K) {
        av = A[gr * P.K + gk];
      }
      As[ak * BM + ar] = av;
      // B tile: consecutive invocations read consecutive columns of one row.
      let bk = e / BN;
      let bc = e % BN;
      let gbk = k0 + bk;
      let gc = col0 + bc;
      var bv = T(0.0);
      if (gbk < P.K && gc < P.N) {
        bv = B[gbk * P.N + gc];
      }
      Bs[bk * BN + bc] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = f32(As[kk * BM + lid.y + 16u * i]);
        b[i] = f32(Bs[kk * BN + lid.x + 16u * i]);
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x + 16u * j;
      if (r < P.M && c < P.N) {
        C[r * P.N + c] = T(acc[i][j]);
      }
    }
  }
}

// Naive GEMM (one invocation per output, no reuse): the baseline the tiled kernel is measured against.
@compute @workgroup_size(16, 16)
fn naive(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y;
  let c = gid.x;
  if (r >= P.M || c >= P.N) {
    return;
  }
  var acc = 0.0;
  for (var k = 0u; k < P.K; k++) {
    acc = fma(f32(A[r * P.K + k]), f32(B[k * P.N + c]), acc);
  }
  C[r * P.N + c] = T(acc);
}

// Register-tiled GEMM without workgroup memory: the same 64x64 workgroup tile and 4x4 register tile per
// invocation, operands read straight from storage (each loaded value feeds 4 FMAs). Faster where workgroup
// memory is ordinary cached memory and barriers are costly (CPU-based software adapters such as SwiftShader).
// Out-of-range rows and columns read the last valid row/column (no branches in the loop) and are not stored.
@compute @workgroup_size(16, 16)
fn regtile(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * BM + lid.y;
  let col0 = wg.x * BN + lid.x;
  // Written out by hand with vec4 accumulators: private arrays indexed in loops end up in memory on
  // software adapters.
  let a0 = min(row0, P.M - 1u) * P.K;
  let a1 = min(row0 + 16u, P.M - 1u) * P.K;
  let a2 = min(row0 + 32u, P.M - 1u) * P.K;
  let a3 = min(row0 + 48u, P.M - 1u) * P.K;
  let c0 = min(col0, P.N - 1u);
  let c1 = min(col0 + 16u, P.N - 1u);
  let c2 = min(col0 + 32u, P.N - 1u);
  let c3 = min(col0 + 48u, P.N - 1u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < P.K; k++) {
    let bk = k * P.N;
    let b = vec4<f32>(f32(B[bk + c0]), f32(B[bk + c1]), f32(B[bk + c2]), f32(B[bk + c3]));
    acc0 = fma(vec4<f32>(f32(A[a0 + k])), b, acc0);
    acc1 = fma(vec4<f32>(f32(A[a1 + k])), b, acc1);
    acc2 = fma(vec4<f32>(f32(A[a2 + k])), b, acc2);
    acc3 = fma(vec4<f32>(f32(A[a3 + k])), b, acc3);
  }
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + 16u * j;
      if (r < P.M && c < P.N) {
        C[r * P.N + c] = T(accs[i][j]);
      }
    }
  }
}
