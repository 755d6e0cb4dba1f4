import type { Quantizer } from './formats';

/**
 * Quantize-dequantize kernels for the measured-error path. Each takes whole rows of a 2-D weight
 * (row = one output channel, `cols` = input features, contiguous) as float32 and returns the sum of
 * squared errors (dequantized - original) over the chunk; callers add up the signal sum(x^2) once.
 * Rounding is round-to-nearest (RTN): no calibration data, no error compensation (GPTQ/AWQ do better;
 * RTN is the baseline they improve on). Scales and zero points are kept in float64 (not rounded to
 * their stored 16/8-bit width). Group-wise formats group along a row; a row whose length is not a
 * multiple of the group size ends with a shorter group.
 */

/** Per-tensor statistics a format needs before it can round (fp8's amax scale, ternary's mean |w|). */
export interface TensorStats {
  absMax: number;
  meanAbs: number;
}

/**
 * Minimum and maximum of every aligned block of BLOCK elements of a chunk, computed once and shared by
 * the group-wise kernels (groups of 32, 64, 128 are unions of these blocks). Present only when rows
 * are a whole number of blocks (cols % BLOCK === 0); kernels scan their groups themselves otherwise.
 */
export interface BlockStats {
  min: Float32Array;
  max: Float32Array;
}
export const BLOCK = 32;

/** A prepared kernel: adds the chunk's squared error. `stats` is filled in for per-tensor formats. */
export type ErrorKernel = (x: Float32Array, rows: number, cols: number, stats: TensorStats, blocks?: BlockStats | null) => number;

/**
 * Fills `out` with the min and max of each BLOCK-element block of x (n a multiple of BLOCK) and
 * returns sum(x^2) over the chunk (the signal), in the same pass.
 */
export function blockStats(x: Float32Array, n: number, out: BlockStats): number {
  const mins = out.min;
  const maxs = out.max;
  let signal = 0;
  for (let b = 0, g = 0; g < n; b++, g += BLOCK) {
    let mn = x[g]!;
    let mx = mn;
    let s = 0;
    for (let i = g; i < g + BLOCK; i++) {
      const v = x[i]!;
      s += v * v;
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    signal += s;
    mins[b] = mn;
    maxs[b] = mx;
  }
  return signal;
}

/**
 * Decodes 16-bit weights (BF16 when `f16` is null, else F16 through its 65536-entry table) into `out`,
 * counts every bit pattern in `counts`, and when `blocks` is given (n a multiple of BLOCK) fills the
 * min and max of each block: one read of the raw chunk for everything the group-wise kernels and the
 * value histogram need. `counts` holds HIST_LANES interleaved histograms (pattern h of lane l at
 * h * HIST_LANES + l; sum the lanes for the count): consecutive weights often share a value, and
 * increments to one counter would wait on each other.
 */
export const HIST_LANES = 4;
export function decode16(u16: Uint16Array, n: number, out: Float32Array, counts: Uint32Array, f16: Float32Array | null, blocks: BlockStats | null): void {
  if (blocks) {
    decodeBlocks(u16, n, new Uint32Array(out.buffer, out.byteOffset, n), counts, f16 ?? bf16Values(), blocks.min, blocks.max);
    return;
  }
  if (f16 === null) {
    const o32 = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) o32[i] = u16[i]! << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = f16[u16[i]!]!;
  }
  histogram16(u16, n, counts);
}

// Block minima/maxima are taken on the 16-bit patterns as integers: a sign-magnitude pattern h maps to
// the order-preserving key h ^ 0x8000 (positive) or h ^ 0xffff (negative), and integer min/max
// compile to branch-free selects. The extreme keys map back to their patterns and values at the end
// of each block. (Keys put -0 below +0 and NaN above +Inf; neither changes any error: a zero extreme
// gives the same scale either way, and a NaN weight makes the error NaN with or without it.)
function decodeBlocks(u16: Uint16Array, n: number, o32: Uint32Array, counts: Uint32Array, vals: Float32Array, mins: Float32Array, maxs: Float32Array): void {
  // each weight's float32 bits copied from the table (exact, NaN payloads included)
  const bits = new Uint32Array(vals.buffer, vals.byteOffset, vals.length);
  for (let b = 0, g = 0; g < n; b++, g += BLOCK) {
    let mn = 0xffff;
    let mx = 0;
    for (let i = g; i < g + BLOCK; i += 4) {
      const h0 = u16[i]!;
      const h1 = u16[i + 1]!;
      const h2 = u16[i + 2]!;
      const h3 = u16[i + 3]!;
      counts[h0 << 2]++;
      counts[(h1 << 2) | 1]++;
      counts[(h2 << 2) | 2]++;
      counts[(h3 << 2) | 3]++;
      o32[i] = bits[h0]!;
      o32[i + 1] = bits[h1]!;
      o32[i + 2] = bits[h2]!;
      o32[i + 3] = bits[h3]!;
      const k0 = h0 ^ ((-(h0 >> 15) & 0x7fff) | 0x8000);
      const k1 = h1 ^ ((-(h1 >> 15) & 0x7fff) | 0x8000);
      const k2 = h2 ^ ((-(h2 >> 15) & 0x7fff) | 0x8000);
      const k3 = h3 ^ ((-(h3 >> 15) & 0x7fff) | 0x8000);
      mn = Math.min(mn, k0, k1, k2, k3);
      mx = Math.max(mx, k0, k1, k2, k3);
    }
    mins[b] = vals[mn ^ ((((mn >> 15) ^ 1) * 0x7fff) | 0x8000)]!;
    maxs[b] = vals[mx ^ ((((mx >> 15) ^ 1) * 0x7fff) | 0x8000)]!;
  }
}

let BF16_VALUES: Float32Array | null = null;
/** The float32 value of every BF16 bit pattern (the pattern is the top half of a float32). */
export function bf16Values(): Float32Array {
  if (BF16_VALUES) return BF16_VALUES;
  const t = new Float32Array(65536);
  const u = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) u[h] = h << 16;
  return (BF16_VALUES = t);
}

/** Counts every 16-bit pattern into HIST_LANES interleaved histograms (see decode16). */
export function histogram16(u16: Uint16Array, n: number, counts: Uint32Array): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    counts[u16[i]! << 2]++;
    counts[(u16[i + 1]! << 2) | 1]++;
    counts[(u16[i + 2]! << 2) | 2]++;
    counts[(u16[i + 3]! << 2) | 3]++;
  }
  for (; i < n; i++) counts[u16[i]! << 2]++;
}

/**
 * Formats that round each weight on its own (a fixed or per-tensor scale): their error depends only
 * on the weight's value, so for 16-bit tensors it is summed over the distinct values, each weighted by
 * how often it occurs (at most 65536 values instead of every weight).
 */
export function isElementwise(q: Quantizer): boolean {
  return q.kind === 'identity' || q.kind === 'float' || q.kind === 'ternary';
}

/** Error of an elementwise format over distinct values `vals[0..m)` occurring `counts[j]` times each. */
export type ValueKernel = (vals: Float64Array, counts: Float64Array, m: number, stats: TensorStats) => number;

export function makeValueKernel(q: Quantizer): ValueKernel {
  switch (q.kind) {
    case 'identity':
      return () => 0;
    case 'float': {
      const bias = 2 ** (q.exponentBits - 1) - 1;
      const minNormalExp = q.minNormalExp ?? 1 - bias;
      const maxValue = q.maxValue ?? (2 - 2 ** -q.mantissaBits) * 2 ** bias;
      const split = 2 ** (52 - q.mantissaBits) + 1;
      const minNormal = 2 ** minNormalExp;
      const magic = 1.5 * 2 ** 52 * 2 ** (minNormalExp - q.mantissaBits);
      const perTensor = q.scale === 'per-tensor';
      return (vals, counts, m, stats) => {
        const scale = perTensor && stats.absMax > 0 ? stats.absMax / maxValue : 1;
        return floatValueError(vals, counts, m, scale, split, minNormal, magic, maxValue);
      };
    }
    case 'ternary':
      return (vals, counts, m, stats) => (stats.meanAbs === 0 ? 0 : ternaryValueError(vals, counts, m, stats.meanAbs, 1));
    default:
      throw new Error(`format kind ${q.kind} does not round weights one by one`);
  }
}

// Same per-weight arithmetic as floatError and ternaryError, weighted by each value's count.
function floatValueError(vals: Float64Array, counts: Float64Array, m: number, scale: number, split: number, minNormal: number, magic: number, maxValue: number): number {
  const inv = 1 / scale;
  let err = 0;
  for (let j = 0; j < m; j++) {
    const v = vals[j]!;
    const t = v * inv;
    const c = t * split;
    const normal = c - (c - t);
    const sub = t + magic - magic;
    const r0 = Math.abs(t) < minNormal ? sub : normal;
    const r = Math.min(maxValue, Math.max(-maxValue, r0));
    const d = r * scale - v;
    err += counts[j]! * (d * d);
  }
  return err;
}

function ternaryValueError(vals: Float64Array, counts: Float64Array, m: number, gamma: number, one: number): number {
  const inv = one / gamma;
  let err = 0;
  for (let j = 0; j < m; j++) {
    const a = Math.abs(vals[j]!);
    const q = Math.floor(a * inv + 0.5) | 0;
    const d = ((-q) >>> 31) * gamma - a;
    err += counts[j]! * (d * d);
  }
  return err;
}

export function needsTensorStats(q: Quantizer): boolean {
  return q.kind === 'ternary' || q.kind === 'nvfp4' || (q.kind === 'float' && q.scale === 'per-tensor');
}

/** QLoRA's NF4 code values (quantiles of N(0,1) normalized to [-1, 1], with an exact zero). */
export const NF4_CODEBOOK: readonly number[] = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];

/** FP4 E2M1 magnitudes (OCP MX): 0, 0.5, 1, 1.5, 2, 3, 4, 6. */
export const E2M1_VALUES: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6];

export function makeKernel(q: Quantizer): ErrorKernel {
  switch (q.kind) {
    case 'identity':
      return () => 0;
    case 'float':
      return floatKernel(q.mantissaBits, q.exponentBits, q.maxValue, q.minNormalExp, q.scale);
    case 'int':
      return q.groupSize === 0 && !q.signedMax ? intRowSymmetricKernel(q.bits) : intGroupKernel(q.bits, q.groupSize, q.symmetric, q.signedMax === true);
    case 'nf4':
      return nf4Kernel(q.blockSize);
    case 'mxfp4':
      return mxfp4Kernel(q.blockSize);
    case 'nvfp4':
      return nvfp4Kernel(q.blockSize);
    case 'ternary':
      return ternaryKernel();
  }
}

/**
 * Floating-point rounding to `mantissaBits` (+1 implicit) significant bits, a smallest normal exponent,
 * and saturation at maxValue. Per-tensor scaled formats (fp8) first map the tensor's |max| onto maxValue.
 * Normal range: Veltkamp splitting, c = t (2^(53-p) + 1), r = c - (c - t), rounds a double to its
 * nearest p-bit value with two IEEE operations (exact in JavaScript: no fused multiply-add).
 * Subnormal range (|t| < 2^minNormalExp): adding and subtracting M = 1.5 * 2^52 * step rounds t to the
 * nearest multiple of step = 2^(minNormalExp - mantissaBits).
 */
function floatKernel(
  mantissaBits: number,
  exponentBits: number,
  maxValueIn: number | undefined,
  minNormalExpIn: number | undefined,
  scaleMode: 'none' | 'per-tensor',
): ErrorKernel {
  const bias = 2 ** (exponentBits - 1) - 1;
  const minNormalExp = minNormalExpIn ?? 1 - bias;
  const maxValue = maxValueIn ?? (2 - 2 ** -mantissaBits) * 2 ** bias;
  const split = 2 ** (52 - mantissaBits) + 1;
  const minNormal = 2 ** minNormalExp;
  const magic = 1.5 * 2 ** 52 * 2 ** (minNormalExp - mantissaBits);
  return (x, rows, cols, stats) => {
    const scale = scaleMode === 'per-tensor' && stats.absMax > 0 ? stats.absMax / maxValue : 1;
    return floatError(x, rows * cols, scale, split, minNormal, magic, maxValue);
  };
}

// The loops below are written for V8's optimizing compiler: constants arrive as parameters, selects
// choose between two computed doubles, clamps use Math.min/Math.max. (Reassigning a variable inside
// an `if`, or selecting between a double and an integer constant, made these loops 5-10x slower.)
function floatError(x: Float32Array, n: number, scale: number, split: number, minNormal: number, magic: number, maxValue: number): number {
  const inv = 1 / scale;
  let err = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const t = v * inv;
    const c = t * split;
    const normal = c - (c - t);
    const sub = t + magic - magic;
    const r0 = Math.abs(t) < minNormal ? sub : normal;
    const r = Math.min(maxValue, Math.max(-maxValue, r0));
    const d = r * scale - v;
    err += d * d;
  }
  return err;
}

/** Symmetric absmax per row (per output channel): scale = max|w| / (2^(bits-1) - 1). */
function intRowSymmetricKernel(bits: number): ErrorKernel {
  const qmax = 2 ** (bits - 1) - 1;
  return (x, rows, cols, _stats, blocks) => {
    const useBlocks = blocks && cols % BLOCK === 0;
    let err = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const amax = useBlocks ? blockAbsMax(blocks, o, cols / BLOCK) : absMax(x, o, o + cols);
      if (amax === 0) continue;
      const scale = amax / qmax;
      const inv = qmax / amax;
      for (let i = o; i < o + cols; i++) {
        const v = x[i]!;
        const d = Math.floor(v * inv + 0.5) * scale - v;
        err += d * d;
      }
    }
    return err;
  };
}

/** Min and max of the last group passed to groupMinMax (a reused pair: no allocation per group). */
const minMax = new Float64Array(2);

/**
 * Min and max of x[g..end) into minMax: from the block statistics (the group is `per` whole blocks of BLOCK)
 * when given, else by scanning the weights.
 */
function groupMinMax(x: Float32Array, g: number, end: number, blocks: BlockStats | null, per: number): void {
  let mn: number;
  let mx: number;
  if (blocks) {
    const b0 = g / BLOCK;
    mn = blocks.min[b0]!;
    mx = blocks.max[b0]!;
    for (let b = b0 + 1; b < b0 + per; b++) {
      mn = Math.min(mn, blocks.min[b]!);
      mx = Math.max(mx, blocks.max[b]!);
    }
  } else {
    mn = x[g]!;
    mx = mn;
    for (let i = g + 1; i < end; i++) {
      const v = x[i]!;
      if (v < mn) mn = v;
      else if (v > mx) mx = v;
    }
  }
  minMax[0] = mn;
  minMax[1] = mx;
}

/**
 * Group-wise integer RTN. Asymmetric: scale = (max - min) / (2^bits - 1), zero = min, so the group's
 * range maps onto 0..2^bits-1 (GPTQ/AWQ layout). Symmetric: scale = max|w| / (2^(bits-1) - 1).
 * signedMax, ggml's Q4_0 / Q5_0 rounding (quantize_row_q4_0_ref): the group's largest-magnitude weight m (signed; of
 * a +a/-a tie, the positive) sets the scale d = m / -2^(bits-1), so m itself lands on level -2^(bits-1) exactly;
 * every weight rounds to the nearest level in -2^(bits-1)..2^(bits-1) - 1 (the top one clamps), w ~ q d.
 * Worked example (4 bits, group [1, -0.5, 0.3, -0.1]): d = 1 / -8 = -0.125; 1 -> q = -8 (exact); -0.5 -> 4 (exact);
 * 0.3 -> -2.4 rounds to -2 -> 0.25 (error 0.05); -0.1 -> 0.8 rounds to 1 -> -0.125 (error 0.025).
 * groupIn 0: one group per row.
 */
function intGroupKernel(bits: number, groupIn: number, symmetric: boolean, signedMax = false): ErrorKernel {
  const levels = 2 ** bits - 1;
  const qmax = 2 ** (bits - 1) - 1;
  const lv = 2 ** (bits - 1);
  return (x, rows, cols, _stats, blocks) => {
    const group = groupIn === 0 ? cols : groupIn;
    const useBlocks = blocks && group % BLOCK === 0 && cols % group === 0;
    const per = group / BLOCK;
    let err = 0;
    for (let r = 0; r < rows; r++) {
      const rowEnd = (r + 1) * cols;
      for (let g = r * cols; g < rowEnd; g += group) {
        const end = g + group < rowEnd ? g + group : rowEnd;
        groupMinMax(x, g, end, useBlocks ? blocks : null, per);
        const mn = minMax[0]!;
        const mx = minMax[1]!;
        if (signedMax) {
          const m = mx >= -mn ? mx : mn;
          if (m === 0) continue;
          const d = m / -lv;
          const inv = -lv / m;
          for (let i = g; i < end; i++) {
            const v = x[i]!;
            const e = Math.min(qmax, Math.floor(v * inv + 0.5)) * d - v;
            err += e * e;
          }
        } else if (symmetric) {
          const amax = Math.max(-mn, mx);
          if (amax === 0) continue;
          const scale = amax / qmax;
          const inv = qmax / amax;
          for (let i = g; i < end; i++) {
            const v = x[i]!;
            const d = Math.floor(v * inv + 0.5) * scale - v;
            err += d * d;
          }
        } else {
          const range = mx - mn;
          if (range === 0) continue;
          const scale = range / levels;
          const inv = levels / range;
          for (let i = g; i < end; i++) {
            const v = x[i]!;
            // (v - mn) * inv is in [0, levels]: floor(t + 0.5) rounds to nearest.
            const q = Math.floor((v - mn) * inv + 0.5);
            const d = mn + q * scale - v;
            err += d * d;
          }
        }
      }
    }
    return err;
  };
}

/**
 * Two asymmetric group-wise integer formats in one pass, each weight loaded once: the same group size
 * (int4-g128 and int3-g128 share the group's min and range) or nested groups (int4-g32 inside
 * int2-g64). Per weight, the same arithmetic as intGroupKernel for each. Adds the two errors to
 * noise[ia] and noise[ib]. NF4 and MXFP4 pair the same way (see nf4MxErrors). Null when the two
 * cannot share a pass for rows of `cols`.
 */
export type PairKernel = (x: Float32Array, rows: number, cols: number, blocks: BlockStats | null, noise: Float64Array, ia: number, ib: number) => void;

export function makePairKernel(a: Quantizer, b: Quantizer, cols: number, withBlocks: boolean): PairKernel | null {
  if ((a.kind === 'nf4' && b.kind === 'mxfp4') || (a.kind === 'mxfp4' && b.kind === 'nf4')) {
    // NF4 blocks made of whole MXFP4 blocks (64 = 2 x 32), both scaled by block |max|.
    const nf = a.kind === 'nf4' ? a : (b as Extract<Quantizer, { kind: 'nf4' }>);
    const mx = a.kind === 'mxfp4' ? a : (b as Extract<Quantizer, { kind: 'mxfp4' }>);
    const large = nf.blockSize;
    const small = mx.blockSize;
    if (!withBlocks || large % small !== 0 || small % BLOCK !== 0 || cols % large !== 0) return null;
    const { value, mid, lo, hi } = nf4Tables();
    const lut = mxfp4Table();
    const nfFirst = a.kind === 'nf4';
    return (x, rows, _cols, blocks, noise, ia, ib) => {
      const [en, em] = nf4MxErrors(x, rows * cols, large, small, value, mid, lo, hi, lut, blocks!);
      noise[nfFirst ? ia : ib] += en;
      noise[nfFirst ? ib : ia] += em;
    };
  }
  if (a.kind !== 'int' || b.kind !== 'int' || a.symmetric || b.symmetric || a.groupSize === 0 || b.groupSize === 0) return null;
  if (a.groupSize !== b.groupSize) {
    // Nested groups (int4-g32 inside int2-g64): block statistics for both, whole groups per row.
    const small = Math.min(a.groupSize, b.groupSize);
    const large = Math.max(a.groupSize, b.groupSize);
    if (!withBlocks || large % small !== 0 || small % BLOCK !== 0 || cols % large !== 0) return null;
    const smallFirst = a.groupSize === small;
    const levelsS = 2 ** (smallFirst ? a.bits : b.bits) - 1;
    const levelsL = 2 ** (smallFirst ? b.bits : a.bits) - 1;
    return (x, rows, _cols, blocks, noise, ia, ib) => {
      const [es, el] = intNestedError(x, rows * cols, small, large, levelsS, levelsL, blocks!);
      noise[smallFirst ? ia : ib] += es;
      noise[smallFirst ? ib : ia] += el;
    };
  }
  const group = a.groupSize;
  const levelsA = 2 ** a.bits - 1;
  const levelsB = 2 ** b.bits - 1;
  return (x, rows, cols, blocks, noise, ia, ib) => {
    const bl = blocks && group % BLOCK === 0 && cols % group === 0 ? blocks : null;
    const [ea, eb] = intPairError(x, rows, cols, group, levelsA, levelsB, bl);
    noise[ia] += ea;
    noise[ib] += eb;
  };
}

const pairOut: [number, number] = [0, 0];
function intPairError(x: Float32Array, rows: number, cols: number, group: number, levelsA: number, levelsB: number, blocks: BlockStats | null): [number, number] {
  const per = group / BLOCK;
  let errA = 0;
  let errB = 0;
  for (let r = 0; r < rows; r++) {
    const rowEnd = (r + 1) * cols;
    for (let g = r * cols; g < rowEnd; g += group) {
      const end = g + group < rowEnd ? g + group : rowEnd;
      groupMinMax(x, g, end, blocks, per);
      const mn = minMax[0]!;
      const mx = minMax[1]!;
      const range = mx - mn;
      if (range === 0) continue;
      const scaleA = range / levelsA;
      const invA = levelsA / range;
      const scaleB = range / levelsB;
      const invB = levelsB / range;
      for (let i = g; i < end; i++) {
        const v = x[i]!;
        const u = v - mn;
        const da = mn + Math.floor(u * invA + 0.5) * scaleA - v;
        const db = mn + Math.floor(u * invB + 0.5) * scaleB - v;
        errA += da * da;
        errB += db * db;
      }
    }
  }
  pairOut[0] = errA;
  pairOut[1] = errB;
  return pairOut;
}

/**
 * Nested groups: `small`-element groups of one format inside `large`-element groups of the other
 * (rows a whole number of large groups). A group whose range is 0 holds one value repeated, which
 * both formats reproduce: scale 0 and a finite inverse (the range floored at 1e-300, below any
 * nonzero difference of float32 numbers) give d = min - w = 0 there, as the skip in intGroupKernel
 * does. (No select between 0 and a quotient: a double/integer select slows the loop several-fold.)
 */
function intNestedError(x: Float32Array, n: number, small: number, large: number, levelsS: number, levelsL: number, blocks: BlockStats): [number, number] {
  const mins = blocks.min;
  const maxs = blocks.max;
  const perS = small / BLOCK;
  const perL = large / BLOCK;
  let errS = 0;
  let errL = 0;
  for (let g = 0; g < n; g += large) {
    const b0 = g / BLOCK;
    let mnL = mins[b0]!;
    let mxL = maxs[b0]!;
    for (let b = b0 + 1; b < b0 + perL; b++) {
      mnL = Math.min(mnL, mins[b]!);
      mxL = Math.max(mxL, maxs[b]!);
    }
    const rangeL = mxL - mnL;
    const scaleL = rangeL / levelsL;
    const invL = levelsL / Math.max(rangeL, 1e-300);
    for (let s = g; s < g + large; s += small) {
      const c0 = s / BLOCK;
      let mn = mins[c0]!;
      let mx = maxs[c0]!;
      for (let b = c0 + 1; b < c0 + perS; b++) {
        mn = Math.min(mn, mins[b]!);
        mx = Math.max(mx, maxs[b]!);
      }
      const range = mx - mn;
      const scale = range / levelsS;
      const inv = levelsS / Math.max(range, 1e-300);
      for (let i = s; i < s + small; i++) {
        const v = x[i]!;
        const ds = mn + Math.floor((v - mn) * inv + 0.5) * scale - v;
        const dl = mnL + Math.floor((v - mnL) * invL + 0.5) * scaleL - v;
        errS += ds * ds;
        errL += dl * dl;
      }
    }
  }
  pairOut[0] = errS;
  pairOut[1] = errL;
  return pairOut;
}

/**
 * NF4: per block of `blockSize`, absmax scale; each w / absmax rounds to the nearest codebook value.
 * Nearest value through a 4096-bin table of [-1, 1] holding, for each bin, the one codebook value
 * every t in it rounds to (32 KiB). The 15 bins
 * that hold a midpoint between two codebook values (widened by 1e-9 against rounding of the bin
 * index) hold NaN instead, and those weights (under 1% of them) compare with the midpoint: the rare
 * branch is predicted, where a comparison for every weight was not.
 */
const NF4_BINS = 4096;
export function nf4Tables(): { value: Float64Array; mid: Float64Array; lo: Float64Array; hi: Float64Array } {
  const cb = NF4_CODEBOOK;
  const mids: number[] = [];
  for (let i = 0; i < 15; i++) mids.push((cb[i]! + cb[i + 1]!) / 2);
  mids.push(2);
  const value = new Float64Array(NF4_BINS + 1);
  const mid = new Float64Array(NF4_BINS + 1);
  const lo = new Float64Array(NF4_BINS + 1);
  const hi = new Float64Array(NF4_BINS + 1);
  const margin = 1e-9;
  for (let b = 0; b <= NF4_BINS; b++) {
    const edge = -1 + (2 * b) / NF4_BINS;
    const next = -1 + (2 * (b + 1)) / NF4_BINS;
    let k = 0;
    while (k < 15 && edge - margin > mids[k]!) k++;
    mid[b] = mids[k]!;
    lo[b] = cb[k]!;
    hi[b] = cb[Math.min(15, k + 1)]!;
    value[b] = mids[k]! <= next + margin ? NaN : cb[k]!;
  }
  return { value, mid, lo, hi };
}

function nf4Kernel(blockSize: number): ErrorKernel {
  const { value, mid, lo, hi } = nf4Tables();
  return (x, rows, cols, _stats, blocks) =>
    nf4Error(x, rows, cols, blockSize, value, mid, lo, hi, blocks && blockSize % BLOCK === 0 && cols % blockSize === 0 ? blocks : null);
}

function nf4Error(
  x: Float32Array,
  rows: number,
  cols: number,
  blockSize: number,
  value: Float64Array,
  mid: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  blocks: BlockStats | null,
): number {
  const per = blockSize / BLOCK;
  const half = NF4_BINS / 2;
  let err = 0;
  for (let r = 0; r < rows; r++) {
    const rowEnd = (r + 1) * cols;
    for (let g = r * cols; g < rowEnd; g += blockSize) {
      const end = g + blockSize < rowEnd ? g + blockSize : rowEnd;
      const amax = blocks ? blockAbsMax(blocks, g, per) : absMax(x, g, end);
      if (amax === 0) continue;
      const inv = 1 / amax;
      for (let i = g; i < end; i++) {
        const v = x[i]!;
        const t = v * inv;
        // (t + 1) * half is in [0, NF4_BINS]: truncation is the floor.
        const b = ((t + 1) * half) | 0;
        const q0 = value[b]!;
        const q = q0 === q0 ? q0 : t > mid[b]! ? hi[b]! : lo[b]!;
        const d = q * amax - v;
        err += d * d;
      }
    }
  }
  return err;
}

/**
 * NF4 (blocks of `large`) and MXFP4 (blocks of `small` inside them) in one pass, each weight loaded
 * once; per weight the same arithmetic as nf4Error and mxfp4Error. An all-zero block (|max| 0) has
 * zero error in both: its scale is 0 and its inverse finite (|max| floored at 1e-300), so every
 * weight rounds to 0 and d = 0, as the skips in those kernels give.
 */
function nf4MxErrors(
  x: Float32Array,
  n: number,
  large: number,
  small: number,
  value: Float64Array,
  mid: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  lut: Float64Array,
  blocks: BlockStats,
): [number, number] {
  const perL = large / BLOCK;
  const perS = small / BLOCK;
  const half = NF4_BINS / 2;
  let errN = 0;
  let errM = 0;
  for (let g = 0; g < n; g += large) {
    const amax = blockAbsMax(blocks, g, perL);
    const inv = 1 / Math.max(amax, 1e-300);
    for (let s = g; s < g + large; s += small) {
      const scale = pow2FloorLog2(blockAbsMax(blocks, s, perS)) / 4;
      const inv4 = 4 / Math.max(scale, 1e-300);
      for (let i = s; i < s + small; i++) {
        const v = x[i]!;
        const t = v * inv;
        const b = ((t + 1) * half) | 0;
        const q0 = value[b]!;
        const q = q0 === q0 ? q0 : t > mid[b]! ? hi[b]! : lo[b]!;
        const dn = q * amax - v;
        const a = Math.abs(v);
        const dm = lut[(a * inv4) | 0]! * scale - a;
        errN += dn * dn;
        errM += dm * dm;
      }
    }
  }
  pairOut[0] = errN;
  pairOut[1] = errM;
  return pairOut;
}

/**
 * MXFP4 (OCP MX v1.0): per block of 32, shared scale X = 2^(floor(log2(amax)) - emax_elem) with
 * emax_elem = 2 for E2M1; elements are w / X rounded to the nearest E2M1 value, saturating at 6.
 * |w| / X is below 8, and every rounding boundary between E2M1 values (0.25, 0.75, 1.25, 1.75, 2.5,
 * 3.5, 5) is a multiple of 0.25, so a 32-entry table indexed by floor(4 |w| / X) rounds exactly
 * (ties go up). Rounding is symmetric, so the error is computed on |w|.
 */
export function mxfp4Table(): Float64Array {
  const lut = new Float64Array(32);
  for (let i = 0; i < 32; i++) {
    const a = (i + 0.5) / 4;
    let best = 0;
    for (const v of E2M1_VALUES) if (Math.abs(v - a) < Math.abs(best - a)) best = v;
    lut[i] = best;
  }
  return lut;
}

function mxfp4Kernel(blockSize: number): ErrorKernel {
  const lut = mxfp4Table();
  return (x, rows, cols, _stats, blocks) =>
    mxfp4Error(x, rows, cols, blockSize, lut, blocks && blockSize % BLOCK === 0 && cols % blockSize === 0 ? blocks : null);
}

function mxfp4Error(x: Float32Array, rows: number, cols: number, blockSize: number, lut: Float64Array, blocks: BlockStats | null): number {
  const per = blockSize / BLOCK;
  let err = 0;
  for (let r = 0; r < rows; r++) {
    const rowEnd = (r + 1) * cols;
    for (let g = r * cols; g < rowEnd; g += blockSize) {
      const end = g + blockSize < rowEnd ? g + blockSize : rowEnd;
      const amax = blocks ? blockAbsMax(blocks, g, per) : absMax(x, g, end);
      if (amax === 0) continue;
      const scale = pow2FloorLog2(amax) / 4;
      const inv4 = 4 / scale;
      for (let i = g; i < end; i++) {
        const a = Math.abs(x[i]!);
        const d = lut[(a * inv4) | 0]! * scale - a;
        err += d * d;
      }
    }
  }
  return err;
}

/** Largest FP8 E4M3 value and largest E2M1 value: NVFP4's tensor scale maps the tensor's |max| onto their product. */
export const NVFP4_SCALE_MAX = 448;
export const NVFP4_VALUE_MAX = 6;
// E4M3 rounding (3 mantissa bits, smallest normal 2^-6, subnormal step 2^-9): floatKernel's arithmetic.
const E4M3_SPLIT = 2 ** (52 - 3) + 1;
const E4M3_MIN_NORMAL = 2 ** -6;
const E4M3_MAGIC = 1.5 * 2 ** 52 * 2 ** (-6 - 3);

/** A positive value rounded to the nearest FP8 E4M3 value, saturating at 448. */
export function roundE4M3(t: number): number {
  const c = t * E4M3_SPLIT;
  const r = t < E4M3_MIN_NORMAL ? t + E4M3_MAGIC - E4M3_MAGIC : c - (c - t);
  return Math.min(NVFP4_SCALE_MAX, r);
}

/**
 * NVFP4 (NVIDIA, Blackwell): the tensor scale g = |max of the tensor| / (448 x 6); per block of 16 the scale
 * s = E4M3(|max of the block| / 6 / g) x g; elements are w / s rounded to the nearest E2M1 value, saturating
 * at 6 (mxfp4Table: |w| / s is below 8 except where a subnormal block scale rounded far down, clamped to 6).
 * A block whose scale rounds to 0 dequantizes to zeros.
 */
function nvfp4Kernel(blockSize: number): ErrorKernel {
  const lut = mxfp4Table();
  return (x, rows, cols, stats) => (stats.absMax === 0 ? 0 : nvfp4Error(x, rows, cols, blockSize, lut, stats.absMax / (NVFP4_SCALE_MAX * NVFP4_VALUE_MAX)));
}

function nvfp4Error(x: Float32Array, rows: number, cols: number, blockSize: number, lut: Float64Array, tensorScale: number): number {
  let err = 0;
  for (let r = 0; r < rows; r++) {
    const rowEnd = (r + 1) * cols;
    for (let g = r * cols; g < rowEnd; g += blockSize) {
      const end = g + blockSize < rowEnd ? g + blockSize : rowEnd;
      const amax = absMax(x, g, end);
      if (amax === 0) continue;
      const scale = roundE4M3(amax / NVFP4_VALUE_MAX / tensorScale) * tensorScale;
      if (scale === 0) {
        for (let i = g; i < end; i++) err += x[i]! * x[i]!;
        continue;
      }
      const inv4 = 4 / scale;
      for (let i = g; i < end; i++) {
        const a = Math.abs(x[i]!);
        const k = (a * inv4) | 0;
        const d = lut[k < 31 ? k : 31]! * scale - a;
        err += d * d;
      }
    }
  }
  return err;
}

/** BitNet b1.58 absmean: gamma = mean |W| over the tensor; w -> clip(round(w / gamma), -1, 1) * gamma. */
function ternaryKernel(): ErrorKernel {
  return (x, rows, cols, stats) => (stats.meanAbs === 0 ? 0 : ternaryError(x, rows * cols, stats.meanAbs, 1));
}

function ternaryError(x: Float32Array, n: number, gamma: number, one: number): number {
  const inv = one / gamma;
  let err = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]!);
    // |q| = min(1, round(|w| / gamma)): for the integer m = round(..) >= 0, (-m) >>> 31 is 1 when m > 0.
    // Symmetric rounding, so the error is computed on |w|; integer ops keep the loop branch-free.
    const m = Math.floor(a * inv + 0.5) | 0;
    const d = ((-m) >>> 31) * gamma - a;
    err += d * d;
  }
  return err;
}

/** The constants of a float quantizer (shared with the WebGPU kernel's parameters). */
export function floatConstants(q: Extract<Quantizer, { kind: 'float' }>): { maxValue: number; minNormalExp: number } {
  const bias = 2 ** (q.exponentBits - 1) - 1;
  return {
    minNormalExp: q.minNormalExp ?? 1 - bias,
    maxValue: q.maxValue ?? (2 - 2 ** -q.mantissaBits) * 2 ** bias,
  };
}

function absMax(x: Float32Array, start: number, end: number): number {
  let amax = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(x[i]!);
    if (a > amax) amax = a;
  }
  return amax;
}

/** max |w| over `per` blocks starting at element g, from the blocks' min and max. */
function blockAbsMax(blocks: BlockStats, g: number, per: number): number {
  const b0 = g / BLOCK;
  let amax = 0;
  for (let b = b0; b < b0 + per; b++) amax = Math.max(amax, -blocks.min[b]!, blocks.max[b]!);
  return amax;
}

const f64 = new Float64Array(1);
const f64Hi = new Uint32Array(f64.buffer, 4, 1);
const f64Lo = new Uint32Array(f64.buffer, 0, 1);

/** 2^floor(log2(a)) for a normal positive double: keep the exponent bits, clear the mantissa (exact). */
export function pow2FloorLog2(a: number): number {
  f64[0] = a;
  f64Hi[0] = f64Hi[0]! & 0x7ff00000;
  f64Lo[0] = 0;
  return f64[0]!;
}
