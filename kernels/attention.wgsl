// Flash-decoding attention for one query token per head: out[h] = softmax(q[h] . K[g]^T * scale) V[g],
// g = h / (heads / kvHeads) (grouped-query attention). The KV length is split in chunks of <= 256 keys.
// Pass `split` (workgroup: chunk s of head h) computes the chunk's max m_s, sum l_s = sum exp(score - m_s)
// and unnormalised output o_s = sum exp(score - m_s) v. Pass `merge` combines the chunks with the
// log-sum-exp rule: M = max m_s, out = sum o_s e^(m_s - M) / sum l_s e^(m_s - M).
struct Params {
  heads: u32,
  kvHeads: u32,
  dim: u32,     // head dimension, <= 256
  len: u32,     // KV length
  chunk: u32,   // keys per split, <= 256
  splits: u32,
  scale: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;            // [heads][dim]
@group(0) @binding(2) var<storage, read> K: array<f32>;            // [kvHeads][len][dim]
@group(0) @binding(3) var<storage, read> V: array<f32>;            // [kvHeads][len][dim]
@group(0) @binding(4) var<storage, read_write> partO: array<f32>;  // [heads][splits][dim]
@group(0) @binding(5) var<storage, read_write> partML: array<f32>; // [heads][splits][2]
@group(0) @binding(6) var<storage, read_write> out: array<f32>;    // [heads][dim]

const WG = 64u;
var<workgroup> qs: array<f32, 256>;
var<workgroup> sc: array<f32, 256>;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn split(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let s = wg.x;
  let h = wg.y;
  let g = h / (P.heads / P.kvHeads);
  let t0 = s * P.chunk;
  let n = min(P.chunk, P.len - t0);
  for (var j = li; j < P.dim; j += WG) {
    qs[j] = q[h * P.dim + j];
  }
  workgroupBarrier();
  let kvBase = (g * P.len + t0) * P.dim;
  var m = -3.0e38;
  for (var t = li; t < n; t += WG) {
    var d = 0.0;
    let kb = kvBase + t * P.dim;
    for (var j = 0u; j < P.dim; j++) {
      d = fma(qs[j], K[kb + j], d);
    }
    d *= P.scale;
    sc[t] = d;
    m = max(m, d);
  }
  red[li] = m;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (li < st) {
      red[li] = max(red[li], red[li + st]);
    }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier();
  var l = 0.0;
  for (var t = li; t < n; t += WG) {
    let p = exp(sc[t] - mx);
    sc[t] = p;
    l += p;
  }
  red[li] = l;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (li < st) {
      red[li] += red[li + st];
    }
    workgroupBarrier();
  }
  let base = (h * P.splits + s);
  for (var j = li; j < P.dim; j += WG) {
    var o = 0.0;
    for (var t = 0u; t < n; t++) {
      o = fma(sc[t], V[kvBase + t * P.dim + j], o);
    }
    partO[base * P.dim + j] = o;
  }
  if (li == 0u) {
    partML[base * 2u] = mx;
    partML[base * 2u + 1u] = red[0];
  }
}

@compute @workgroup_size(64)
fn merge(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let h = wg.x;
  var M = -3.0e38;
  for (var s = 0u; s < P.splits; s++) {
    M = max(M, partML[(h * P.splits + s) * 2u]);
  }
  var L = 0.0;
  for (var s = 0u; s < P.splits; s++) {
    let b = (h * P.splits + s) * 2u;
    L += partML[b + 1u] * exp(partML[b] - M);
  }
  for (var j = li; j < P.dim; j += WG) {
    var o = 0.0;
    for (var s = 0u; s < P.splits; s++) {
      let b = h * P.splits + s;
      o += partO[b * P.dim + j] * exp(partML[b * 2u] - M);
    }
    out[h * P.dim + j] = o / L;
  }
}
