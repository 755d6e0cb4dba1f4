// Quantization error of one weight format over a chunk of whole rows (row = output channel, `cols`
// contiguous inputs). One invocation per group of `group` elements inside a row (a row ends with a
// shorter group when cols is not a multiple): it finds the group's scale, quantizes and dequantizes
// every element, and writes the group's sum of squared errors. The host adds the groups up in f64.
// Same rounding rules as the CPU path (engine/quant/quantize.ts):
//   kind 0  integer, asymmetric per group: scale = (max - min) / levels, q = floor((w - min) / scale + 0.5)
//   kind 1  integer, symmetric per group (a row for per-channel): scale = max|w| / qmax, q = floor(w / scale + 0.5)
//   kind 2  NF4: absmax per group, nearest of the 16 NormalFloat values
//   kind 3  MXFP4: scale 2^(floor(log2 max|w|) - 2), nearest E2M1 value (|w| / scale < 8, table by quarters)
//   kind 4  float with `mant` mantissa bits, per-tensor `scale`, smallest normal 2^minExp, saturating at maxValue
//   kind 5  ternary: gamma = `scale` (mean |w| of the tensor), q = min(1, floor(|w| / gamma + 0.5))
//   kind 6  integer, ggml's Q4_0/Q5_0/Q6_K: m = the group's largest-magnitude weight (signed; a tie takes the positive),
//           d = m / -levels, q = min(levels - 1, floor(w / d + 0.5)); levels = 2^(bits-1)
//   kind 7  NVFP4: block scale s = E4M3(max|w| / 6 / `scale`) x `scale` (roundFloat with E4M3's constants; `scale`
//           is the tensor's), nearest E2M1 value as kind 3 (index clamped at 31); a block whose s is 0 reads zeros

struct Params {
  n: u32,          // elements in the chunk (rows x cols)
  cols: u32,
  group: u32,      // elements per group (<= cols)
  kind: u32,
  levels: f32,     // kind 0: 2^bits - 1; kind 1: 2^(bits-1) - 1; kind 6: 2^(bits-1)
  scale: f32,      // kinds 4, 5 and 7: the per-tensor scale
  maxValue: f32,   // kinds 4 and 7
  minNormal: f32,  // kinds 4 and 7: 2^minExp
  subStep: f32,    // kinds 4 and 7: 2^(minExp - mant)
  mant: u32,       // kinds 4 and 7
  groupsPerRow: u32,
  groups: u32,
}

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> err: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

const NF4 = array<f32, 16>(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0);

// E2M1 magnitude nearest to (i + 0.5) / 4, for i = floor(4 |w| / scale) in 0..31.
const E2M1_BY_QUARTER = array<f32, 32>(
  0.0, 0.5, 0.5, 1.0, 1.0, 1.5, 1.5, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0,
  4.0, 4.0, 4.0, 4.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0);

// Round |t| to `mant` mantissa bits (round half to even on the bit pattern), or to multiples of
// subStep below the smallest normal, saturating at maxValue.
fn roundFloat(t: f32) -> f32 {
  let a = abs(t);
  var r: f32;
  if (a < p.minNormal) {
    r = round(a / p.subStep) * p.subStep;
  } else {
    let shift = 23u - p.mant;
    let bits = bitcast<u32>(a);
    let half = (1u << (shift - 1u)) - 1u;
    let rounded = (bits + half + ((bits >> shift) & 1u)) & ~((1u << shift) - 1u);
    r = min(bitcast<f32>(rounded), p.maxValue);
  }
  return select(r, -r, t < 0.0);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * nwg.x * 64u;
  if (g >= p.groups) {
    return;
  }
  let row = g / p.groupsPerRow;
  let start = row * p.cols + (g % p.groupsPerRow) * p.group;
  let end = min(start + p.group, (row + 1u) * p.cols);
  var mn = w[start];
  var mx = w[start];
  var amax = 0.0;
  for (var i = start; i < end; i++) {
    let v = w[i];
    mn = min(mn, v);
    mx = max(mx, v);
    amax = max(amax, abs(v));
  }
  var e = 0.0;
  switch p.kind {
    case 0u: {
      let range = mx - mn;
      if (range > 0.0) {
        let s = range / p.levels;
        let inv = p.levels / range;
        for (var i = start; i < end; i++) {
          let v = w[i];
          let d = mn + floor((v - mn) * inv + 0.5) * s - v;
          e += d * d;
        }
      }
    }
    case 1u: {
      if (amax > 0.0) {
        let s = amax / p.levels;
        let inv = p.levels / amax;
        for (var i = start; i < end; i++) {
          let v = w[i];
          let d = floor(v * inv + 0.5) * s - v;
          e += d * d;
        }
      }
    }
    case 6u: {
      let m = select(mn, mx, mx >= -mn);
      if (m != 0.0) {
        let d = m / -p.levels;
        let inv = -p.levels / m;
        for (var i = start; i < end; i++) {
          let v = w[i];
          let dq = min(p.levels - 1.0, floor(v * inv + 0.5)) * d - v;
          e += dq * dq;
        }
      }
    }
    case 2u: {
      if (amax > 0.0) {
        let inv = 1.0 / amax;
        for (var i = start; i < end; i++) {
          let v = w[i];
          let t = v * inv;
          var best = NF4[0];
          for (var k = 1u; k < 16u; k++) {
            if (abs(NF4[k] - t) < abs(best - t)) {
              best = NF4[k];
            }
          }
          let d = best * amax - v;
          e += d * d;
        }
      }
    }
    case 3u: {
      if (amax > 0.0) {
        // floor(log2(amax)) from the exponent bits: exact, unlike a log2 approximation.
        let ex = i32((bitcast<u32>(amax) >> 23u) & 0xffu) - 127;
        let s = exp2(f32(ex - 2));
        let inv4 = 4.0 / s;
        for (var i = start; i < end; i++) {
          let a = abs(w[i]);
          let d = E2M1_BY_QUARTER[min(u32(a * inv4), 31u)] * s - a;
          e += d * d;
        }
      }
    }
    case 7u: {
      if (amax > 0.0) {
        let s = roundFloat(amax / 6.0 / p.scale) * p.scale;
        if (s > 0.0) {
          let inv4 = 4.0 / s;
          for (var i = start; i < end; i++) {
            let a = abs(w[i]);
            let d = E2M1_BY_QUARTER[min(u32(a * inv4), 31u)] * s - a;
            e += d * d;
          }
        } else {
          for (var i = start; i < end; i++) {
            e += w[i] * w[i];
          }
        }
      }
    }
    case 4u: {
      let inv = 1.0 / p.scale;
      for (var i = start; i < end; i++) {
        let v = w[i];
        let d = roundFloat(v * inv) * p.scale - v;
        e += d * d;
      }
    }
    case 5u: {
      let inv = 1.0 / p.scale;
      for (var i = start; i < end; i++) {
        let a = abs(w[i]);
        let d = min(1.0, floor(a * inv + 0.5)) * p.scale - a;
        e += d * d;
      }
    }
    default: {}
  }
  err[g] = e;
}
