import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK, blockStats, makeKernel, NF4_CODEBOOK, E2M1_VALUES, type TensorStats } from '../../engine/quant/quantize';
import { weightFormat, type Quantizer } from '../../engine/quant/formats';
import { countNonFinite, errorOf, measureModel, measureModelCpu, planMeasurement, resolveFormats } from '../../engine/quant/measure';
import { encodeSafetensorsHeader, readSafetensorsHeader, type SafetensorsDtype } from '../../engine/quant/safetensors';
import { RidgelineError } from '../../engine/errors';
import { fromF16Array, toF16Array } from '../../engine/gpu/f16';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridgeline-quant-error-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function writeModel(name: string, entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; data: Buffer }>): string {
  const { header } = encodeSafetensorsHeader(entries);
  const p = join(dir, name);
  writeFileSync(p, Buffer.concat([header, ...entries.map((e) => e.data)]));
  return p;
}

function expectInputError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RidgelineError, String(e));
    assert.equal(e.exitCode, 2);
    assert.match(e.message, re);
    assert.equal(e.message.split('\n').length, 1);
    return true;
  });
}

/** Deterministic N(0, sigma^2) samples: mulberry32 + Box-Muller. */
function gaussian(n: number, sigma: number, seed = 1): Float32Array {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = rand() || 1e-12;
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = sigma * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = sigma * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function statsOf(x: Float32Array): TensorStats {
  let m = 0;
  let s = 0;
  for (const v of x) {
    m = Math.max(m, Math.abs(v));
    s += Math.abs(v);
  }
  return { absMax: m, meanAbs: s / x.length };
}

function signal(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}

function kernelError(id: string, x: Float32Array, rows: number, cols: number): number {
  return makeKernel(weightFormat(id).quantizer)(x, rows, cols, statsOf(x));
}

test('RTN int8 per channel on Gaussian data matches the uniform-noise law step^2/12', () => {
  // A uniform quantizer with step D whose step is small against the signal leaves an error uniform on
  // [-D/2, D/2]: E[e^2] = integral of e^2 / D over [-D/2, D/2] = D^2 / 12. Per row, D = max|w| / 127, and
  // the element at max|w| is exact, so the expected noise of a row is (cols - 1) D^2 / 12.
  // SQNR = 10 log10(sum w^2 / sum noise). Tolerance 0.05 dB: the law's own error at D ~ sigma / 30 is far
  // below that, and 512 x 1024 samples put the statistical error near 0.01 dB.
  const rows = 512;
  const cols = 1024;
  const x = gaussian(rows * cols, 0.02, 7);
  let predicted = 0;
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let i = r * cols; i < (r + 1) * cols; i++) m = Math.max(m, Math.abs(x[i]!));
    const step = m / 127;
    predicted += ((cols - 1) * step * step) / 12;
  }
  const measured = errorOf(signal(x), kernelError('int8', x, rows, cols)).sqnrDb!;
  const expected = 10 * Math.log10(signal(x) / predicted);
  assert.ok(Math.abs(measured - expected) < 0.05, `int8: ${measured.toFixed(3)} dB vs ${expected.toFixed(3)} dB`);
  // Order of magnitude sanity: ~ 6.02 x 8 bits minus the absmax loading (max|w| ~ 4 sigma).
  assert.ok(measured > 38 && measured < 45, `${measured}`);
});

test('RTN int4 g128 (asymmetric) on Gaussian data matches step^2/12 with exact group endpoints', () => {
  // Per group of 128: D = (max - min) / 15; min and max are reproduced exactly, the other 126 elements
  // carry D^2/12 on average. At D ~ sigma / 3 the uniform law still holds to within a few percent of the
  // noise (the density changes little across one step): tolerance 0.25 dB.
  const rows = 256;
  const cols = 4096;
  const x = gaussian(rows * cols, 1, 11);
  let predicted = 0;
  for (let g = 0; g < x.length; g += 128) {
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = g; i < g + 128; i++) {
      mn = Math.min(mn, x[i]!);
      mx = Math.max(mx, x[i]!);
    }
    const step = (mx - mn) / 15;
    predicted += (126 * step * step) / 12;
  }
  const measured = errorOf(signal(x), kernelError('int4-g128', x, rows, cols)).sqnrDb!;
  const expected = 10 * Math.log10(signal(x) / predicted);
  assert.ok(Math.abs(measured - expected) < 0.25, `int4-g128: ${measured.toFixed(3)} dB vs ${expected.toFixed(3)} dB`);
  // Smaller groups, finer steps: g32 beats g128; more bits beat fewer.
  const g32 = errorOf(signal(x), kernelError('int4-g32', x, rows, cols)).sqnrDb!;
  const i3 = errorOf(signal(x), kernelError('int3-g128', x, rows, cols)).sqnrDb!;
  const i2 = errorOf(signal(x), kernelError('int2-g64', x, rows, cols)).sqnrDb!;
  assert.ok(g32 > measured && measured > i3 && i3 > i2, `${g32} > ${measured} > ${i3} > ${i2}`);
  // Each bit is worth about 6 dB: int4 g128 vs int3 g128 differ by 20 log10(15/7) = 6.6 dB under the law.
  assert.ok(Math.abs(measured - i3 - 20 * Math.log10(15 / 7)) < 0.5, `${measured - i3}`);
});

/** Straightforward references, element by element, for the kernels' tricks (LUTs, Veltkamp splitting). */
function nearest(values: readonly number[], t: number): number {
  let best = values[0]!;
  for (const v of values) if (Math.abs(v - t) < Math.abs(best - t)) best = v;
  return best;
}

function e4m3Values(): number[] {
  const out: number[] = [];
  for (let e = 0; e < 16; e++) {
    for (let m = 0; m < 8; m++) {
      if (e === 15 && m === 7) continue; // NaN in E4M3 (no infinities)
      const v = e === 0 ? (m / 8) * 2 ** -6 : (1 + m / 8) * 2 ** (e - 7);
      out.push(v, -v);
    }
  }
  return out;
}

function refError(q: Quantizer, x: Float32Array, rows: number, cols: number): number {
  const st = statsOf(x);
  let err = 0;
  const add = (w: number, r: number) => (err += (r - w) * (r - w));
  if (q.kind === 'float' && q.mantissaBits === 3) {
    const vals = e4m3Values();
    const scale = st.absMax / 448;
    for (const w of x) add(w, nearest(vals, w / scale) * scale);
  } else if (q.kind === 'nf4') {
    for (let g = 0; g < x.length; g += q.blockSize) {
      let m = 0;
      for (let i = g; i < g + q.blockSize; i++) m = Math.max(m, Math.abs(x[i]!));
      for (let i = g; i < g + q.blockSize; i++) add(x[i]!, nearest(NF4_CODEBOOK, x[i]! / m) * m);
    }
  } else if (q.kind === 'mxfp4') {
    const vals = E2M1_VALUES.flatMap((v) => [v, -v]);
    for (let g = 0; g < x.length; g += q.blockSize) {
      let m = 0;
      for (let i = g; i < g + q.blockSize; i++) m = Math.max(m, Math.abs(x[i]!));
      const s = 2 ** (Math.floor(Math.log2(m)) - 2);
      for (let i = g; i < g + q.blockSize; i++) add(x[i]!, nearest(vals, x[i]! / s) * s);
    }
  } else if (q.kind === 'nvfp4') {
    // Block scale: |max| / 6 in units of the tensor scale |max| / (448 x 6), the nearest E4M3 value (or 448).
    const e4m3 = e4m3Values().filter((v) => v >= 0);
    const vals = E2M1_VALUES.flatMap((v) => [v, -v]);
    const g = st.absMax / (448 * 6);
    for (let b = 0; b < x.length; b += q.blockSize) {
      let m = 0;
      for (let i = b; i < b + q.blockSize; i++) m = Math.max(m, Math.abs(x[i]!));
      const s = nearest(e4m3, m / 6 / g) * g;
      for (let i = b; i < b + q.blockSize; i++) add(x[i]!, s === 0 ? 0 : nearest(vals, x[i]! / s) * s);
    }
  } else if (q.kind === 'ternary') {
    for (const w of x) add(w, nearest([-1, 0, 1], w / st.meanAbs) * st.meanAbs);
  } else if (q.kind === 'int' && q.groupSize > 0) {
    const levels = 2 ** q.bits - 1;
    for (let r = 0; r < rows; r++) {
      for (let g = r * cols; g < (r + 1) * cols; g += q.groupSize) {
        const end = Math.min(g + q.groupSize, (r + 1) * cols);
        const grp = Array.from(x.subarray(g, end));
        const mn = Math.min(...grp);
        const s = (Math.max(...grp) - mn) / levels;
        for (const w of grp) add(w, mn + Math.min(levels, Math.max(0, Math.round((w - mn) / s))) * s);
      }
    }
  } else {
    throw new Error('no reference');
  }
  return err;
}

test('kernels agree with element-by-element references (fp8 e4m3, nf4, mxfp4, nvfp4, ternary, int groups)', () => {
  const rows = 64;
  const cols = 384; // not a multiple of 128: rows end with a shorter group
  const x = gaussian(rows * cols, 0.05, 3);
  for (const id of ['fp8', 'nf4', 'mxfp4', 'nvfp4', 'ternary', 'int4-g128', 'int3-g128', 'int2-g64', 'int4-g32']) {
    const q = weightFormat(id).quantizer;
    const got = makeKernel(q)(x, rows, cols, statsOf(x));
    const want = refError(q, x, rows, cols);
    assert.ok(Math.abs(got - want) <= 1e-9 * want, `${id}: ${got} vs ${want}`);
  }
});

test('NVFP4: two blocks worked by hand, the E4M3 block scale beating MXFP4\'s power of two, and a block whose scale underflows', () => {
  const q = weightFormat('nvfp4').quantizer;
  assert.deepEqual(q, { kind: 'nvfp4', blockSize: 16 });
  // Tensor |max| 6: tensor scale g = 6 / 2688. Block 1 (|max| 6): 6 / 6 / g = 448, exact in E4M3, scale 1:
  // 6 and 3 exact, 1.4 -> 1.5 (0.1^2), -0.2 -> 0 (0.2^2). Block 2 (|max| 0.7): 0.7 / 6 / g = 52.27, E4M3 52
  // (steps of 4 in [32, 64)), scale 52 g = 0.116071...: 0.7 -> 6 s = 0.696429, 0.35 -> 3 s = 0.348214.
  const x = new Float32Array(32);
  x.set([6, 3, 1.4, -0.2], 0);
  x.set([0.7, -0.35], 16);
  const s2 = (52 * 6) / 2688;
  const want = (1.5 - Math.fround(1.4)) ** 2 + Math.fround(0.2) ** 2 + (6 * s2 - Math.fround(0.7)) ** 2 + (3 * s2 - Math.fround(0.35)) ** 2;
  const got = makeKernel(q)(x, 1, 32, statsOf(x));
  assert.ok(Math.abs(got - want) <= 1e-12, `${got} vs ${want}`);
  // MXFP4 on block 2 takes 2^floor(log2 0.7) / 4 = 0.125: 0.7 -> 6 x 0.125 = 0.75, a 14x larger squared error there.
  const mx = makeKernel(weightFormat('mxfp4').quantizer)(x.subarray(16), 1, 16, statsOf(x.subarray(16)));
  assert.ok(mx > 10 * (got - (1.5 - Math.fround(1.4)) ** 2 - Math.fround(0.2) ** 2), `mxfp4 ${mx}`);
  // A block below E4M3's smallest subnormal (2^-9 of the tensor scale) dequantizes to zeros: its error is its energy.
  const y = new Float32Array(32);
  y[0] = 6;
  y[16] = 1e-5;
  assert.ok(Math.abs(makeKernel(q)(y, 1, 32, statsOf(y)) - Math.fround(1e-5) ** 2) < 1e-20);
  // On Gaussian weights, 16-element E4M3-scaled blocks beat MXFP4's 32-element power-of-two ones.
  const g = gaussian(64 * 256, 0.02, 9);
  const nv = makeKernel(q)(g, 64, 256, statsOf(g));
  const mxg = makeKernel(weightFormat('mxfp4').quantizer)(g, 64, 256, statsOf(g));
  assert.ok(nv < 0.8 * mxg, `nvfp4 ${nv} vs mxfp4 ${mxg}`);
});

/** ggml's reference loops (quantize_row_q4_0_ref, q5_0, q8_0), element by element: the squared error. */
function ggmlError(id: string, x: Float32Array, group: number): number {
  let err = 0;
  for (let g = 0; g < x.length; g += group) {
    const grp = x.subarray(g, g + group);
    if (id === 'q8_0') {
      let amax = 0;
      for (const v of grp) amax = Math.max(amax, Math.abs(v));
      const d = amax / 127;
      for (const v of grp) {
        const q = d === 0 ? 0 : Math.sign(v / d) * Math.round(Math.abs(v / d)); // roundf: halves away from zero
        err += (q * d - v) ** 2;
      }
    } else {
      const half = id === 'q4_0' ? 8 : 16; // Q4_0: levels 0..15 around 8; Q5_0: 0..31 around 16
      let amax = 0;
      let max = 0;
      for (const v of grp) if (Math.abs(v) > amax) [amax, max] = [Math.abs(v), v]; // the first largest magnitude
      const d = max / -half;
      const id1 = d !== 0 ? 1 / d : 0;
      for (const v of grp) {
        const xi = Math.min(2 * half - 1, Math.trunc(v * id1 + half + 0.5));
        err += ((xi - half) * d - v) ** 2;
      }
    }
  }
  return err;
}

test('GGUF quantizers agree with the reference loops of ggml (Q4_0, Q5_0, Q8_0); a Q4_0 group by hand', () => {
  const rows = 64;
  const cols = 512;
  const x = gaussian(rows * cols, 0.05, 5);
  for (const id of ['q4_0', 'q5_0', 'q8_0']) {
    const got = kernelError(id, x, rows, cols);
    const want = ggmlError(id, x, 32);
    assert.ok(Math.abs(got - want) <= 1e-9 * want, `${id}: ${got} vs ${want}`);
  }
  // [1, -0.5, 0.3, -0.1] (a group of 4 by hand): d = 1 / -8 = -0.125; 1 -> -8 d and -0.5 -> 4 d exactly; 0.3 ->
  // -2.4 rounds to -2 -> 0.25 (error 0.05); -0.1 -> 0.8 rounds to 1 -> -0.125 (error 0.025): 0.05^2 + 0.025^2.
  const g = Float32Array.from([1, -0.5, 0.3, -0.1]);
  const q40 = { kind: 'int' as const, bits: 4, groupSize: 4, symmetric: true, signedMax: true };
  assert.ok(Math.abs(makeKernel(q40)(g, 1, 4, statsOf(g)) - (0.05 ** 2 + 0.025 ** 2)) < 1e-8);
  // The level opposite the largest weight clamps at 7 d: [-1, 0.99] -> d = 0.125, 0.99 -> 7.92 -> 7 (error 0.115).
  const c = Float32Array.from([-1, 0.99]);
  assert.ok(Math.abs(makeKernel({ ...q40, groupSize: 2 })(c, 1, 2, statsOf(c)) - 0.115 ** 2) < 1e-8);
  // 16 levels a step apart beat 15 (the symmetric int4 quantizer, +-7): Q4_0 measures less error than g32 +-7.
  const sym7 = makeKernel({ kind: 'int', bits: 4, groupSize: 32, symmetric: true })(x, rows, cols, statsOf(x));
  assert.ok(kernelError('q4_0', x, rows, cols) < sym7);
});

test('shared block statistics give the same errors as each kernel scanning its own groups', () => {
  const rows = 32;
  const cols = 512;
  const x = gaussian(rows * cols, 0.03, 21);
  const blocks = { min: new Float32Array((rows * cols) / BLOCK), max: new Float32Array((rows * cols) / BLOCK) };
  blockStats(x, rows * cols, blocks);
  for (const id of ['int4-g128', 'int4-g32', 'int3-g128', 'int2-g64', 'nf4', 'mxfp4', 'int8', 'q4_0', 'q8_0', 'q4_k_m', 'q6_k']) {
    const k = makeKernel(weightFormat(id).quantizer);
    assert.equal(k(x, rows, cols, statsOf(x), blocks), k(x, rows, cols, statsOf(x), null), id);
  }
});

test('float rounding: representable values are exact, fp16/bf16 steps, saturation', () => {
  // Every E4M3 value (times a per-tensor scale of 1: the tensor max is 448) is reproduced exactly.
  const vals = Float32Array.from(e4m3Values());
  assert.equal(makeKernel(weightFormat('fp8').quantizer)(vals, 1, vals.length, statsOf(vals)), 0);
  // fp16: 1 + 2^-11 is a tie between 1 and 1 + 2^-10; 1 + 3 * 2^-12 rounds up to 1 + 2^-10.
  const fp16 = makeKernel(weightFormat('fp16').quantizer);
  const one = { absMax: 1, meanAbs: 1 };
  assert.equal(fp16(Float32Array.of(1 + 3 * 2 ** -12), 1, 1, one), (2 ** -12) ** 2);
  // fp16 subnormal step 2^-24: 3 * 2^-26 rounds to 2^-24 (error 2^-26).
  assert.equal(fp16(Float32Array.of(3 * 2 ** -26), 1, 1, one), (2 ** -26) ** 2);
  // Above 65504 fp16 saturates.
  assert.equal(fp16(Float32Array.of(70000), 1, 1, one), (70000 - 65504) ** 2);
  // bf16 keeps 8 significant bits: 1 + 2^-9 -> tie, 1 + 3 * 2^-10 -> 1 + 2^-7.
  const bf16 = makeKernel(weightFormat('bf16').quantizer);
  assert.equal(bf16(Float32Array.of(1 + 3 * 2 ** -9), 1, 1, one), (2 ** -9) ** 2);
});

test('SQNR and relative RMSE are consistent; exact formats report null SQNR, never NaN', () => {
  const e = errorOf(100, 1);
  assert.equal(e.sqnrDb, 20);
  assert.ok(Math.abs(e.relRmse - 0.1) < 1e-12);
  assert.deepEqual(errorOf(5, 0), { sqnrDb: null, relRmse: 0 });
  assert.deepEqual(errorOf(0, 0), { sqnrDb: null, relRmse: 0 });
  const x = Float32Array.of(0, 0, 0, 0);
  for (const id of ['fp8', 'int8', 'int4-g128', 'nf4', 'mxfp4', 'ternary']) {
    assert.equal(makeKernel(weightFormat(id).quantizer)(x, 1, 4, statsOf(x)), 0, id);
  }
});

/**
 * NF4 as QLoRA stores it also quantizes its 64-weight block constants (double quantization: the constants
 * less their mean, in blocks of 256, to bitsandbytes' signed 8-bit dynamic map). The measured error uses the
 * exact constants. This test simulates the second quantization to bound what that leaves out: on Gaussian
 * weights it moves the NF4 SQNR by less than 0.01 dB.
 */
test('NF4 double quantization moves the error by less than 0.01 dB (why the measured error omits it)', () => {
  // bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent i = 0..6,
  // the 2^i midpoints of linspace(0.1, 1, 2^i + 1) scaled by 10^(i-6), both signs, plus 0 and 1.
  const map: number[] = [0, 1];
  for (let i = 0; i < 7; i++) {
    const k = 2 ** i;
    for (let j = 0; j < k; j++) {
      const lo = 0.1 + (0.9 * j) / k;
      const hi = 0.1 + (0.9 * (j + 1)) / k;
      const v = 10 ** (i - 6) * ((lo + hi) / 2);
      map.push(v, -v);
    }
  }
  assert.equal(map.length, 256);
  const x = gaussian(1 << 20, 0.02, 31);
  const blocks = x.length / 64;
  const amax = new Float64Array(blocks);
  for (let b = 0; b < blocks; b++) for (let i = b * 64; i < b * 64 + 64; i++) amax[b] = Math.max(amax[b]!, Math.abs(x[i]!));
  const offset = amax.reduce((s, v) => s + v, 0) / blocks;
  const stored = new Float64Array(blocks);
  for (let g = 0; g < blocks; g += 256) {
    let m2 = 0;
    for (let b = g; b < g + 256; b++) m2 = Math.max(m2, Math.abs(amax[b]! - offset));
    for (let b = g; b < g + 256; b++) stored[b] = nearest(map, (amax[b]! - offset) / m2) * m2 + offset;
  }
  let signal = 0;
  let exact = 0;
  let double = 0;
  for (let b = 0; b < blocks; b++) {
    for (let i = b * 64; i < b * 64 + 64; i++) {
      const w = x[i]!;
      const q = nearest(NF4_CODEBOOK, w / amax[b]!); // the 4-bit code is chosen with the exact constant
      signal += w * w;
      exact += (q * amax[b]! - w) ** 2;
      double += (q * stored[b]! - w) ** 2;
    }
  }
  const db = (noise: number) => 10 * Math.log10(signal / noise);
  // the measured kernel gives the single-quantization figure
  const kernel = makeKernel(weightFormat('nf4').quantizer)(x, x.length / 64, 64, statsOf(x));
  assert.ok(Math.abs(kernel - exact) <= 1e-9 * exact);
  assert.ok(double >= exact * 0.999, 'a coarser constant does not make the error smaller');
  assert.ok(Math.abs(db(exact) - db(double)) < 0.01, `${db(exact).toFixed(4)} vs ${db(double).toFixed(4)} dB`);
});

test('countNonFinite counts NaN and Inf from the bits of F32, F16 and BF16', () => {
  const f = new Float32Array(300).fill(1.5);
  f[0] = NaN;
  f[150] = Infinity;
  f[299] = -Infinity;
  const bf = new Uint16Array(256).fill(0x3f80); // 1
  bf[1] = 0x7fc0; // NaN
  bf[2] = 0xffff; // NaN (sign set, every mantissa bit)
  bf[3] = 0x7f80; // +Inf
  bf[4] = 0x7f7f; // largest finite BF16: not counted
  const h = new Uint16Array(256).fill(0x3c00); // 1
  h[10] = 0xfc00; // -Inf
  h[11] = 0x7bff; // 65504, largest finite F16: not counted
  const p = writeModel('bits.safetensors', [
    { name: 'f', dtype: 'F32', shape: [3, 100], data: Buffer.from(f.buffer) },
    { name: 'bf', dtype: 'BF16', shape: [2, 128], data: Buffer.from(bf.buffer) },
    { name: 'h', dtype: 'F16', shape: [2, 128], data: Buffer.from(h.buffer) },
  ]);
  const [tf, tbf, th] = readSafetensorsHeader(p).tensors;
  assert.deepEqual(countNonFinite(tf!), { nan: 1, inf: 2 });
  assert.deepEqual(countNonFinite(tf!, 400), { nan: 1, inf: 2 }); // one 400-byte row per chunk
  assert.deepEqual(countNonFinite(tbf!), { nan: 2, inf: 1 });
  assert.deepEqual(countNonFinite(th!), { nan: 0, inf: 1 });
});

test('a NaN or Inf tensor is skipped with its counts by the in-process and the worker paths alike', async () => {
  // good: one row of 128 with 127, 0.25 and zeros: int8 per-row scale 1, only 0.25 is off (rounds to 0):
  // SQNR = 10 log10((127^2 + 0.25^2) / 0.25^2) = 10 log10(258065) = 54.1173 dB.
  const good = new Float32Array(128);
  good[0] = 127;
  good[1] = 0.25;
  const bad = new Uint16Array(256).fill(0x3f80);
  bad[0] = 0x7f80;
  const p = writeModel('mixed.safetensors', [
    { name: 'good.weight', dtype: 'F32', shape: [1, 128], data: Buffer.from(good.buffer) },
    { name: 'bad.weight', dtype: 'BF16', shape: [2, 128], data: Buffer.from(bad.buffer) },
  ]);
  const results = [measureModelCpu(p, { formats: ['int8', 'nf4'] }), await measureModel(p, { formats: ['int8', 'nf4'], threads: 1 }), await measureModel(p, { formats: ['int8', 'nf4'], threads: 2 })];
  assert.deepEqual(results.map((r) => r.engine), ['cpu', 'cpu', 'cpu (2 threads)']);
  for (const r of results) {
    assert.deepEqual(r.tensors.map((t) => t.name), ['good.weight']);
    assert.ok(Math.abs(r.tensors[0]!.errors.int8!.sqnrDb! - 10 * Math.log10(258065)) < 1e-9);
    assert.deepEqual(r.skipped, [{ name: 'bad.weight', shape: [2, 128], dtype: 'BF16', reason: '1 non-finite value of 256 (1 Inf): the quantization error is undefined', nonFinite: { nan: 0, inf: 1 } }]);
    assert.deepEqual(r.notes, ['bad.weight: not measured: 1 non-finite value of 256 (1 Inf)']);
    assert.equal(r.rankedBy, 'int8');
    assert.deepEqual(r.ranking, [{ name: 'good.weight', sqnrDb: r.tensors[0]!.errors.int8!.sqnrDb }]);
    assert.equal(r.summary.int8!.params, 128);
  }
});

test('past ten NaN/Inf tensors, one note counts the rest; every one is still listed under skipped', () => {
  const nan = new Float32Array(128).fill(NaN);
  const entries = Array.from({ length: 12 }, (_, i) => ({ name: `l${String(i).padStart(2, '0')}.weight`, dtype: 'F32' as const, shape: [1, 128], data: Buffer.from(nan.buffer) }));
  const good = new Float32Array(128).fill(0.5);
  const p = writeModel('many-nan.safetensors', [...entries, { name: 'z.weight', dtype: 'F32', shape: [1, 128], data: Buffer.from(good.buffer) }]);
  const r = measureModelCpu(p, { formats: ['int8'] });
  assert.equal(r.skipped.length, 12);
  assert.equal(r.notes.length, 11);
  assert.equal(r.notes[0], 'l00.weight: not measured: 128 non-finite values of 128 (128 NaN)');
  assert.equal(r.notes[10], '2 more tensor(s) with NaN or Inf values not measured; listed under "skipped"');
  // 0.5 everywhere: per-row scale 0.5 / 127, every weight is exactly 127 steps: no error.
  assert.deepEqual(r.tensors[0]!.errors.int8, { sqnrDb: null, relRmse: 0 });
});

test('planMeasurement: nothing to measure, an empty format list and --rank-by are errors before any data is read', () => {
  expectInputError(() => resolveFormats([]), /^--formats: expected at least one format/);
  const empty = writeModel('empty.safetensors', []);
  expectInputError(() => planMeasurement(empty), /empty\.safetensors: expected at least one 2-D F32, F16 or BF16 weight tensor to measure; the header lists no tensors$/);
  const many = writeModel('norms.safetensors', ['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: `${n}.norm`, dtype: 'F32' as const, shape: [2], data: Buffer.alloc(8) })));
  expectInputError(() => planMeasurement(many), /found 5 tensors, none measurable: 5 not 2-D \(a\.norm: 1-D, b\.norm: 1-D, c\.norm: 1-D and 2 more\)$/);
  const ok = writeModel('ok.safetensors', [{ name: 'w', dtype: 'F32', shape: [1, 4], data: Buffer.alloc(16) }]);
  expectInputError(() => planMeasurement(ok, { formats: ['int8'], rankBy: 'nf4' }), /--rank-by: expected one of the measured --formats \(got "nf4"\)/);
  assert.deepEqual(planMeasurement(ok).measured.map((t) => t.name), ['w']);
});

test('NVFP4 on 16-bit tensors: the tensor scale is read before the blocks, so BF16, F16 and F32 agree with the kernel', () => {
  const rows = 48;
  const cols = 160; // 10 blocks of 16 per row
  const x = gaussian(rows * cols, 0.03, 21);
  const bf = Uint16Array.from(new Uint32Array(x.buffer), (v) => v >>> 16); // truncated to bf16
  const xb = new Float32Array(Uint32Array.from(bf, (v) => v << 16).buffer);
  const h16 = toF16Array(x);
  const xh = fromF16Array(h16);
  const p = writeModel('nvfp4.safetensors', [
    { name: 'b.weight', dtype: 'BF16', shape: [rows, cols], data: Buffer.from(bf.buffer) },
    { name: 'f.weight', dtype: 'F32', shape: [rows, cols], data: Buffer.from(xb.buffer) },
    { name: 'h.weight', dtype: 'F16', shape: [rows, cols], data: Buffer.from(h16.buffer) },
  ]);
  const r = measureModelCpu(p, { formats: ['nvfp4', 'int4-g128'] });
  const want = errorOf(signal(xb), makeKernel(weightFormat('nvfp4').quantizer)(xb, rows, cols, statsOf(xb))).sqnrDb!;
  assert.ok(want > 15 && want < 25, `nvfp4 SQNR ${want} dB on Gaussian weights`);
  assert.deepEqual(r.tensors.map((t) => t.name), ['b.weight', 'f.weight', 'h.weight']);
  for (const t of r.tensors.slice(0, 2)) assert.ok(Math.abs(t.errors.nvfp4!.sqnrDb! - want) < 1e-9, `${t.name}: ${t.errors.nvfp4!.sqnrDb} vs ${want}`);
  const wantH = errorOf(signal(xh), makeKernel(weightFormat('nvfp4').quantizer)(xh, rows, cols, statsOf(xh))).sqnrDb!;
  assert.ok(Math.abs(r.tensors[2]!.errors.nvfp4!.sqnrDb! - wantH) < 1e-9, `F16: ${r.tensors[2]!.errors.nvfp4!.sqnrDb} vs ${wantH}`);
});

test('mxfp4-experts measures the routed experts only: other tensors are kept, with no error', () => {
  const x = gaussian(64 * 128, 0.02, 31);
  const p = writeModel('moe.safetensors', [
    { name: 'model.layers.0.mlp.experts.0.up_proj.weight', dtype: 'F32', shape: [64, 128], data: Buffer.from(x.buffer) },
    { name: 'model.layers.0.mlp.shared_experts.up_proj.weight', dtype: 'F32', shape: [64, 128], data: Buffer.from(x.buffer) },
    { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [64, 128], data: Buffer.from(x.buffer) },
  ]);
  const r = measureModelCpu(p, { formats: ['mxfp4', 'mxfp4-experts'] });
  const [expert, shared, attn] = r.tensors;
  assert.deepEqual(expert!.errors['mxfp4-experts'], expert!.errors.mxfp4);
  assert.ok(expert!.errors.mxfp4!.sqnrDb! > 10, 'mxfp4 rounds the expert');
  assert.deepEqual(shared!.errors['mxfp4-experts'], { sqnrDb: null, relRmse: 0 });
  assert.deepEqual(attn!.errors['mxfp4-experts'], { sqnrDb: null, relRmse: 0 });
  // Pooled: the noise of one tensor of three, at the same signal each: 10 log10(3) dB above mxfp4's.
  assert.ok(Math.abs(r.summary['mxfp4-experts']!.sqnrDb! - r.summary.mxfp4!.sqnrDb! - 10 * Math.log10(3)) < 1e-9);
  // Without an expert tensor the notes say nothing was quantized.
  const q = writeModel('dense.safetensors', [{ name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [64, 128], data: Buffer.from(x.buffer) }]);
  assert.ok(measureModelCpu(q, { formats: ['mxfp4-experts'] }).notes.some((n) => /no routed-expert tensor/.test(n)));
});
