/**
 * The engine's WGSL kernels: one descriptor per kernel (workgroup configuration, dispatch from shape,
 * uniforms, FLOPs and bytes per shape) and a CPU reference each, plus `runKernel`, which verifies a kernel
 * against its reference and times it. Shapes travel in uniforms; the pipeline cache key holds only the
 * kernel, entry point and workgroup configuration.
 */
import attentionWgsl from '../../kernels/attention.wgsl';
import fmaWgsl from '../../kernels/fma.wgsl';
import gemmWgsl from '../../kernels/gemm.wgsl';
import gemvWgsl from '../../kernels/gemv.wgsl';
import q4gemvWgsl from '../../kernels/q4gemv.wgsl';
import rmsnormWgsl from '../../kernels/rmsnorm.wgsl';
import ropeWgsl from '../../kernels/rope.wgsl';
import softmaxWgsl from '../../kernels/softmax.wgsl';
import streamWgsl from '../../kernels/stream.wgsl';
import { inputError } from '../errors';
import { f16round, fromF16Array, toF16Array } from './f16';
import type { Dispatch, GpuRunner, KernelSource } from './runner';

export type KernelDtype = 'f32' | 'f16';
export type Shape = Record<string, number>;
/** Op class for the cost model's efficiencies (`Device.measured.efficiency` keys). */
export type OpClass = 'gemm' | 'gemv' | 'attention' | 'elementwise' | 'bandwidth' | 'compute';

/** Buffers and dispatches of one prepared kernel instance. */
export interface Prepared {
  dispatches: Dispatch[];
  /** Buffer holding the result and how to read it. */
  output: GPUBuffer;
  outputCount: number;
  outputDtype: KernelDtype;
  /** CPU reference of the result (computed lazily: large shapes are timed without it). */
  reference(): Float32Array;
  /** Every buffer the instance took from the pool (released by runKernel). */
  buffers: GPUBuffer[];
}

export interface KernelDef {
  /** `<op>-<dtype>` or a variant, e.g. `gemm-f32`, `q4gemv-sz16`. */
  name: string;
  op: string;
  dtype: KernelDtype;
  opClass: OpClass;
  summary: string;
  requiresF16?: boolean;
  /** Shape keys, for `--only NAME` checks and messages. */
  shapeKeys: readonly string[];
  /** Default (bench), quick (SwiftShader-friendly) and test (not multiples of the tiles) shapes. */
  shapes: { bench: Shape; quick: Shape; test: Shape };
  flops(s: Shape): number;
  /** Compulsory DRAM traffic: every input read once, every output written once. */
  bytes(s: Shape): number;
  /** Largest |gpu - cpu| allowed for this shape (stated per kernel below). */
  tolerance(s: Shape, maxAbsRef: number): number;
  prepare(r: GpuRunner, s: Shape, rng: () => number): Promise<Prepared>;
}

export interface KernelResult {
  name: string;
  dtype: KernelDtype;
  shape: Shape;
  timeS: number;
  flopsPerS: number;
  bytesPerS: number;
  verified: boolean;
  maxAbsError: number;
  tolerance: number;
  timing: 'timestamp' | 'wall';
  repeats: number;
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function rng(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randArray(n: number, r: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** Rounds values in place to what the GPU sees for the dtype. */
function asDtype(a: Float32Array, dtype: KernelDtype): Float32Array {
  if (dtype === 'f16') for (let i = 0; i < a.length; i++) a[i] = f16round(a[i]!);
  return a;
}

function uploadTyped(r: GpuRunner, label: string, a: Float32Array, dtype: KernelDtype): GPUBuffer {
  return r.upload(label, dtype === 'f16' ? toF16Array(a) : a);
}

/** Kernel text for a dtype: f16 swaps the leading `alias T = f32;` line for an f16 one (line numbers kept). */
export function withDtype(code: string, dtype: KernelDtype): string {
  if (dtype === 'f32') return code;
  if (!code.startsWith('alias T = f32;')) throw new Error('kernel has no dtype alias');
  return 'enable f16; alias T = f16;' + code.slice('alias T = f32;'.length);
}

function src(name: string, code: string, entryPoint: string, dtype: KernelDtype = 'f32', constants?: Record<string, number>): KernelSource {
  return { name: dtype === 'f32' ? name : `${name}-${dtype}`, file: `kernels/${name}.wgsl`, code: withDtype(code, dtype), entryPoint, constants };
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** Splits a grid of `n` workgroups over x and y within the per-dimension limit. */
function grid(n: number, max = 65535): [number, number] {
  if (n <= max) return [n, 1];
  const y = ceilDiv(n, max);
  return [ceilDiv(n, y), y];
}

// ------------------------------------------------------------------ stream (bandwidth)

function streamDef(kind: 'copy' | 'triad'): KernelDef {
  const arrays = kind === 'copy' ? 2 : 3;
  return {
    name: `stream-${kind}`,
    op: 'stream',
    dtype: 'f32',
    opClass: 'bandwidth',
    summary: kind === 'copy' ? 'out = a (bandwidth)' : 'out = a + s*b (bandwidth)',
    shapeKeys: ['n'],
    shapes: { bench: { n: 16 << 20 }, quick: { n: 4 << 20 }, test: { n: 100_003 } },
    flops: (s) => (kind === 'copy' ? 0 : 2 * s.n!),
    bytes: (s) => arrays * 4 * s.n!,
    // Copy is exact; triad is one fused or two rounded f32 operations on values in [-1, 1]: 2 ulp of 2.
    tolerance: () => (kind === 'copy' ? 0 : 5e-7),
    async prepare(r, s, g) {
      const n = ceilDiv(s.n!, 4) * 4; // whole vec4s
      const a = randArray(n, g);
      const b = randArray(n, g);
      const sc = 0.75;
      const P = r.uniforms(`stream-${kind}:params`, [n / 4, { f32: sc }]);
      const A = r.upload(`stream-${kind}:a`, a);
      const B = kind === 'triad' ? r.upload(`stream-${kind}:b`, b) : null;
      const O = r.acquireBuffer(`stream-${kind}:out`, n * 4);
      const pipeline = await r.pipeline(src('stream', streamWgsl, kind, 'f32', { WG: 256 }));
      const wgs = Math.min(ceilDiv(n / 4, 256), 4096);
      return {
        dispatches: [{ pipeline, buffers: [P, A, B, O], workgroups: [wgs], label: `stream-${kind}` }],
        output: O,
        outputCount: n,
        outputDtype: 'f32',
        reference: () => (kind === 'copy' ? a.slice() : a.map((v, i) => Math.fround(v + Math.fround(sc * b[i]!)))),
        buffers: [P, A, ...(B ? [B] : []), O],
      };
    },
  };
}

// ------------------------------------------------------------------ FMA chains (peak FLOP/s)

function fmaDef(dtype: KernelDtype): KernelDef {
  const round = dtype === 'f16' ? f16round : Math.fround;
  return {
    name: `fma-${dtype}`,
    op: 'fma',
    dtype,
    opClass: 'compute',
    summary: 'chains of vec4 FMAs (peak FLOP/s)',
    requiresF16: dtype === 'f16',
    shapeKeys: ['threads', 'iters'],
    // The test shape stops before the chains converge (0.75^24 ~ 1e-3), so every step shows in the result.
    shapes: { bench: { threads: 32768, iters: 2048 }, quick: { threads: 16384, iters: 1024 }, test: { threads: 1000, iters: 24 } },
    flops: (s) => s.threads! * s.iters! * 4 * 4 * 2,
    bytes: (s) => s.threads! * 16 * (dtype === 'f16' ? 0.5 : 1),
    // Each chain contracts by 0.75 per step, so a rounding difference (fused or not) of 1 ulp stays below
    // ulp / (1 - 0.75) = 4 ulp; the sum of 4 chains near 4: 16 ulp(1) + ulp(4) = 2.4e-6 (f32), 0.02 (f16).
    tolerance: () => (dtype === 'f16' ? 0.02 : 5e-6),
    async prepare(r, s) {
      const threads = ceilDiv(s.threads!, 256) * 256;
      const P = r.uniforms('fma:params', [s.iters!]);
      const O = r.acquireBuffer(`fma-${dtype}:out`, threads * 16);
      const pipeline = await r.pipeline(src('fma', fmaWgsl, 'main', dtype, { WG: 256 }));
      return {
        dispatches: [{ pipeline, buffers: [P, O], workgroups: grid(threads / 256), label: `fma-${dtype}` }],
        output: O,
        outputCount: threads * 4,
        outputDtype: dtype,
        reference: () => {
          const out = new Float32Array(threads * 4);
          const m = 0.75;
          const c = 0.25;
          // Invocation t depends only on t % 64: compute those 64 results once.
          const distinct: number[][] = [];
          for (let t = 0; t < Math.min(64, threads); t++) {
            const sv = round(t * 0.0078125);
            const base = [sv, round(sv + 0.25), round(sv + 0.5), round(sv + 0.75)];
            const offs = [0, 0.125, 0.0625, 0.1875];
            const sum = [0, 0, 0, 0];
            for (const off of offs) {
              for (let l = 0; l < 4; l++) {
                let x = round(base[l]! + off);
                for (let i = 0; i < s.iters!; i++) x = round(x * m + c);
                sum[l] = round(sum[l]! + x);
              }
            }
            distinct.push(sum);
          }
          for (let t = 0; t < threads; t++) out.set(distinct[t % 64]!, t * 4);
          return out;
        },
        buffers: [P, O],
      };
    },
  };
}

// ------------------------------------------------------------------ GEMM

function gemmRef(a: Float32Array, b: Float32Array, M: number, N: number, K: number): Float32Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const av = a[i * K + k]!;
      const row = k * N;
      const o = i * N;
      for (let j = 0; j < N; j++) c[o + j] += av * b[row + j]!;
    }
  }
  return Float32Array.from(c);
}

/**
 * GEMM variants: `auto` (the name `gemm-<dtype>`) picks workgroup-memory tiling on hardware adapters and the
 * register-tiled kernel on software (fallback) adapters, where workgroup memory is ordinary memory and each
 * barrier costs a thread switch; `wg` and `regtile` force one; `naive` is the baseline.
 */
type GemmVariant = 'auto' | 'wg' | 'regtile' | 'naive';

function gemmEntry(variant: GemmVariant, r: GpuRunner): 'main' | 'regtile' | 'naive' {
  if (variant === 'naive') return 'naive';
  if (variant === 'regtile') return 'regtile';
  if (variant === 'wg') return 'main';
  return r.report.isFallback ? 'regtile' : 'main';
}

function gemmDef(dtype: KernelDtype, variant: GemmVariant = 'auto'): KernelDef {
  return {
    name: variant === 'auto' ? `gemm-${dtype}` : `gemm-${variant}-${dtype}`,
    op: 'gemm',
    dtype,
    opClass: 'gemm',
    summary: {
      auto: 'tiled GEMM, 64x64 workgroup tile, 4x4 register tile (workgroup memory on hardware adapters)',
      wg: 'tiled GEMM: 64x64 tile, 4x4 register tile, K step 16 through workgroup memory',
      regtile: 'register-tiled GEMM: 64x64 tile, 4x4 register tile, operands from storage',
      naive: 'naive GEMM: one invocation per output (baseline)',
    }[variant],
    requiresF16: dtype === 'f16',
    shapeKeys: ['m', 'n', 'k'],
    shapes: { bench: { m: 512, n: 512, k: 512 }, quick: { m: 512, n: 512, k: 512 }, test: { m: 67, n: 131, k: 45 } },
    flops: (s) => 2 * s.m! * s.n! * s.k!,
    bytes: (s) => (s.m! * s.k! + s.k! * s.n! + s.m! * s.n!) * (dtype === 'f16' ? 2 : 4),
    // Inputs in [-1, 1], f32 accumulation of k products: error grows like k * eps(f32) in the worst case;
    // f16 output rounding adds |c| * 2^-11.
    tolerance: (s, maxRef) => (dtype === 'f16' ? maxRef * 2 ** -10 + s.k! * 2e-6 : s.k! * 4e-7 + 1e-6),
    async prepare(r, s, g) {
      const { m: M, n: N, k: K } = s as { m: number; n: number; k: number };
      const a = asDtype(randArray(M * K, g), dtype);
      const b = asDtype(randArray(K * N, g), dtype);
      const P = r.uniforms('gemm:params', [M, N, K]);
      const A = uploadTyped(r, 'gemm:a', a, dtype);
      const B = uploadTyped(r, 'gemm:b', b, dtype);
      const C = r.acquireBuffer('gemm:c', M * N * (dtype === 'f16' ? 2 : 4));
      const entry = gemmEntry(variant, r);
      const pipeline = await r.pipeline(src('gemm', gemmWgsl, entry, dtype));
      const workgroups: [number, number] = entry === 'naive' ? [ceilDiv(N, 16), ceilDiv(M, 16)] : [ceilDiv(N, 64), ceilDiv(M, 64)];
      return {
        dispatches: [{ pipeline, buffers: [P, A, B, C], workgroups, label: `gemm-${dtype}` }],
        output: C,
        outputCount: M * N,
        outputDtype: dtype,
        reference: () => gemmRef(a, b, M, N, K),
        buffers: [P, A, B, C],
      };
    },
  };
}

// ------------------------------------------------------------------ GEMV (split-K)

/** Split count so that the grid has enough workgroups for the device while each split keeps >= 256 k. */
export function gemvSplits(N: number, K: number): number {
  const rowBlocks = ceilDiv(N, 4);
  return Math.max(1, Math.min(ceilDiv(256, rowBlocks), ceilDiv(K, 256), 64));
}

/** `auto` (`gemv-<dtype>`): split-K on hardware adapters, one invocation per row on software ones. */
function gemvDef(dtype: KernelDtype, variant: 'auto' | 'splitk' = 'auto'): KernelDef {
  return {
    name: variant === 'auto' ? `gemv-${dtype}` : `gemv-${variant}-${dtype}`,
    op: 'gemv',
    dtype,
    opClass: 'gemv',
    summary: 'decode GEMV y = W x: split over K with a reduce pass (one invocation per row on software adapters)',
    requiresF16: dtype === 'f16',
    shapeKeys: ['n', 'k'],
    shapes: { bench: { n: 4096, k: 4096 }, quick: { n: 2048, k: 2048 }, test: { n: 1003, k: 771 } },
    flops: (s) => 2 * s.n! * s.k!,
    bytes: (s) => (s.n! * s.k! + s.k!) * (dtype === 'f16' ? 2 : 4) + s.n! * 4,
    // f32 accumulation of k products of values in [-1, 1]: k * eps(f32) bound.
    tolerance: (s) => s.k! * 4e-7 + 1e-6,
    async prepare(r, s, g) {
      const { n: N, k: K } = s as { n: number; k: number };
      const w = asDtype(randArray(N * K, g), dtype);
      const x = asDtype(randArray(K, g), dtype);
      const splits = gemvSplits(N, K);
      const chunk = ceilDiv(K, splits);
      const P = r.uniforms('gemv:params', [N, K, splits, chunk]);
      const W = uploadTyped(r, 'gemv:w', w, dtype);
      const X = uploadTyped(r, 'gemv:x', x, dtype);
      const part = r.acquireBuffer('gemv:partial', splits * N * 4);
      const Y = r.acquireBuffer('gemv:y', N * 4);
      // Software (fallback) adapters: one invocation per row (see kernels/gemv.wgsl `rows`).
      const dispatches: Dispatch[] = r.report.isFallback && variant === 'auto'
        ? [
            {
              pipeline: await r.pipeline(src('gemv', gemvWgsl, K % 4 === 0 ? 'rows4' : 'rows', dtype)),
              buffers: [P, W, X, null, Y],
              workgroups: [ceilDiv(N, 64)],
              label: `gemv-${dtype}:${K % 4 === 0 ? 'rows4' : 'rows'}`,
            },
          ]
        : [
            { pipeline: await r.pipeline(src('gemv', gemvWgsl, 'partial', dtype)), buffers: [P, W, X, part, null], workgroups: [ceilDiv(N, 4), splits], label: `gemv-${dtype}:partial` },
            { pipeline: await r.pipeline(src('gemv', gemvWgsl, 'reduce', dtype)), buffers: [P, null, null, part, Y], workgroups: [ceilDiv(N, 64)], label: `gemv-${dtype}:reduce` },
          ];
      return {
        dispatches,
        output: Y,
        outputCount: N,
        outputDtype: 'f32',
        reference: () => {
          const y = new Float32Array(N);
          for (let n = 0; n < N; n++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += w[n * K + k]! * x[k]!;
            y[n] = acc;
          }
          return y;
        },
        buffers: [P, W, X, part, Y],
      };
    },
  };
}

// ------------------------------------------------------------------ int4 dequantize-GEMV (group 128)

export const Q4_GROUP = 128;

/** Packs 4-bit codes (k increasing) 8 per u32, code j in bits 4j..4j+3. `k` must be a multiple of 8. */
export function packInt4(codes: Uint8Array): Uint32Array {
  const out = new Uint32Array(codes.length / 8);
  for (let i = 0; i < out.length; i++) {
    let w = 0;
    for (let j = 0; j < 8; j++) w |= (codes[i * 8 + j]! & 15) << (4 * j);
    out[i] = w >>> 0;
  }
  return out;
}

function q4Def(scaleKind: 'sz16' | 'sz32'): KernelDef {
  return {
    name: `q4gemv-${scaleKind}`,
    op: 'q4gemv',
    dtype: 'f32',
    opClass: 'gemv',
    summary: `int4 dequantize-GEMV, group 128, ${scaleKind === 'sz16' ? 'fp16' : 'fp32'} scale+zero, f32 activations`,
    shapeKeys: ['n', 'k'],
    shapes: { bench: { n: 4096, k: 4096 }, quick: { n: 2048, k: 2048 }, test: { n: 1003, k: 776 } },
    flops: (s) => 2 * s.n! * s.k!,
    // 4 bits per weight + per group scale and zero (2x16 or 2x32 bits), x read once, y written once.
    bytes: (s) => s.n! * (s.k! / 2 + ceilDiv(s.k!, Q4_GROUP) * (scaleKind === 'sz16' ? 4 : 8)) + s.k! * 4 + s.n! * 4,
    // Products of dequantized weights (|w| <= 15 * 0.02) and x in [-1, 1], f32 accumulation over k.
    tolerance: (s) => s.k! * 1e-6 + 1e-5,
    async prepare(r, s, g) {
      const N = s.n!;
      const K = s.k!;
      if (K % 8 !== 0) throw inputError({ field: 'shape.k', expected: 'a multiple of 8 for int4 packing', got: K });
      const groups = ceilDiv(K, Q4_GROUP);
      const codes = new Uint8Array(N * K);
      for (let i = 0; i < codes.length; i++) codes[i] = Math.floor(g() * 16);
      const scale = new Float32Array(N * groups);
      const zero = new Float32Array(N * groups);
      for (let i = 0; i < scale.length; i++) {
        scale[i] = f16round(0.005 + 0.02 * g());
        zero[i] = f16round(4 + 8 * g());
      }
      const x = randArray(K, g);
      const P = r.uniforms('q4gemv:params', [N, K, groups]);
      const Wq = r.upload('q4gemv:wq', packInt4(codes));
      const X = r.upload('q4gemv:x', x);
      const Y = r.acquireBuffer('q4gemv:y', N * 4);
      let bufs: Array<GPUBuffer | null>;
      let extra: GPUBuffer[];
      if (scaleKind === 'sz16') {
        const h = toF16Array(new Float32Array(Array.from({ length: 2 * scale.length }, (_, i) => (i % 2 ? zero : scale)[i >> 1]!)));
        const SZ = r.upload('q4gemv:scale-zero', new Uint32Array(h.buffer));
        bufs = [P, Wq, X, Y, SZ];
        extra = [SZ];
      } else {
        const S = r.upload('q4gemv:scale', scale);
        const Z = r.upload('q4gemv:zero', zero);
        bufs = [P, Wq, X, Y, null, S, Z];
        extra = [S, Z];
      }
      const pipeline = await r.pipeline(src('q4gemv', q4gemvWgsl, `main_${scaleKind}`));
      return {
        dispatches: [{ pipeline, buffers: bufs, workgroups: [ceilDiv(N, 4)], label: `q4gemv-${scaleKind}` }],
        output: Y,
        outputCount: N,
        outputDtype: 'f32',
        reference: () => {
          const y = new Float32Array(N);
          for (let n = 0; n < N; n++) {
            let acc = 0;
            for (let k = 0; k < K; k++) {
              const gi = n * groups + Math.floor(k / Q4_GROUP);
              acc += (codes[n * K + k]! - zero[gi]!) * scale[gi]! * x[k]!;
            }
            y[n] = acc;
          }
          return y;
        },
        buffers: [P, Wq, X, Y, ...extra],
      };
    },
  };
}

// ------------------------------------------------------------------ softmax, RMSNorm, RoPE

const softmaxDef: KernelDef = {
  name: 'softmax-f32',
  op: 'softmax',
  dtype: 'f32',
  opClass: 'elementwise',
  summary: 'numerically stable softmax over rows',
  shapeKeys: ['rows', 'cols'],
  shapes: { bench: { rows: 512, cols: 4096 }, quick: { rows: 128, cols: 4096 }, test: { rows: 37, cols: 1000 } },
  flops: (s) => 5 * s.rows! * s.cols!,
  bytes: (s) => 2 * 4 * s.rows! * s.cols!,
  // Outputs are probabilities <= 1; exp with relative error ~2^-21 on WGSL f32 plus a sum over cols.
  tolerance: () => 1e-6,
  async prepare(r, s, g) {
    const R = s.rows!;
    const Cn = s.cols!;
    // Large logits (up to +-40) test stability: exp(40) overflows nothing only after subtracting the max.
    const x = randArray(R * Cn, g, -40, 40);
    const P = r.uniforms('softmax:params', [R, Cn]);
    const X = r.upload('softmax:x', x);
    const Y = r.acquireBuffer('softmax:y', R * Cn * 4);
    const pipeline = await r.pipeline(src('softmax', softmaxWgsl, 'main'));
    return {
      dispatches: [{ pipeline, buffers: [P, X, Y], workgroups: [R], label: 'softmax' }],
      output: Y,
      outputCount: R * Cn,
      outputDtype: 'f32',
      reference: () => {
        const y = new Float32Array(R * Cn);
        for (let i = 0; i < R; i++) {
          let m = -Infinity;
          for (let j = 0; j < Cn; j++) m = Math.max(m, x[i * Cn + j]!);
          let sum = 0;
          for (let j = 0; j < Cn; j++) sum += Math.exp(x[i * Cn + j]! - m);
          for (let j = 0; j < Cn; j++) y[i * Cn + j] = Math.exp(x[i * Cn + j]! - m) / sum;
        }
        return y;
      },
      buffers: [P, X, Y],
    };
  },
};

const rmsnormDef: KernelDef = {
  name: 'rmsnorm-f32',
  op: 'rmsnorm',
  dtype: 'f32',
  opClass: 'elementwise',
  summary: 'RMSNorm y = x / sqrt(mean(x^2) + eps) * w',
  shapeKeys: ['rows', 'dim'],
  shapes: { bench: { rows: 512, dim: 4096 }, quick: { rows: 128, dim: 4096 }, test: { rows: 37, dim: 1000 } },
  flops: (s) => 4 * s.rows! * s.dim!,
  bytes: (s) => 4 * (2 * s.rows! * s.dim! + s.dim!),
  // |y| <= ~4 (x, w in [-1, 1] over rms ~0.58); relative error of inverseSqrt (2 ulp) and the sum.
  tolerance: () => 1e-5,
  async prepare(r, s, g) {
    const R = s.rows!;
    const D = s.dim!;
    const eps = 1e-5;
    const x = randArray(R * D, g);
    const w = randArray(D, g);
    const P = r.uniforms('rmsnorm:params', [R, D, { f32: eps }]);
    const X = r.upload('rmsnorm:x', x);
    const Wb = r.upload('rmsnorm:w', w);
    const Y = r.acquireBuffer('rmsnorm:y', R * D * 4);
    const pipeline = await r.pipeline(src('rmsnorm', rmsnormWgsl, 'main'));
    return {
      dispatches: [{ pipeline, buffers: [P, X, Wb, Y], workgroups: [R], label: 'rmsnorm' }],
      output: Y,
      outputCount: R * D,
      outputDtype: 'f32',
      reference: () => {
        const y = new Float32Array(R * D);
        for (let i = 0; i < R; i++) {
          let ss = 0;
          for (let j = 0; j < D; j++) ss += x[i * D + j]! ** 2;
          const inv = 1 / Math.sqrt(ss / D + eps);
          for (let j = 0; j < D; j++) y[i * D + j] = x[i * D + j]! * inv * w[j]!;
        }
        return y;
      },
      buffers: [P, X, Wb, Y],
    };
  },
};

const ropeDef: KernelDef = {
  name: 'rope-f32',
  op: 'rope',
  dtype: 'f32',
  opClass: 'elementwise',
  summary: 'rotary position embedding (rotate-half), theta 10000',
  shapeKeys: ['tokens', 'heads', 'dim', 'pos0'],
  shapes: {
    bench: { tokens: 512, heads: 32, dim: 128, pos0: 0 },
    quick: { tokens: 128, heads: 32, dim: 128, pos0: 0 },
    test: { tokens: 37, heads: 5, dim: 66, pos0: 1000 },
  },
  flops: (s) => 6 * s.tokens! * s.heads! * (s.dim! / 2),
  bytes: (s) => 2 * 4 * s.tokens! * s.heads! * s.dim!,
  // The f32 angle pos * inv_freq carries an absolute error of up to ulp(pos) ~ pos * 2^-24 rad before
  // reduction; with pos <= 1100 and |x| <= 1 that is < 1e-4, plus 2^-11 for WGSL cos/sin on [-pi, pi].
  tolerance: (s) => (s.pos0! + s.tokens!) * 2 ** -22 + 2 ** -10,
  async prepare(r, s, g) {
    const { tokens: T, heads: H, dim: D, pos0 } = s as { tokens: number; heads: number; dim: number; pos0: number };
    if (D % 2 !== 0) throw inputError({ field: 'shape.dim', expected: 'an even head dimension', got: D });
    const theta = 10000;
    const x = randArray(T * H * D, g);
    const P = r.uniforms('rope:params', [T, H, D, pos0, { f32: theta }]);
    const X = r.upload('rope:x', x);
    const Y = r.acquireBuffer('rope:y', T * H * D * 4);
    const pipeline = await r.pipeline(src('rope', ropeWgsl, 'main'));
    const total = T * H * (D / 2);
    return {
      dispatches: [{ pipeline, buffers: [P, X, Y], workgroups: grid(ceilDiv(total, 64)), label: 'rope' }],
      output: Y,
      outputCount: T * H * D,
      outputDtype: 'f32',
      reference: () => {
        const y = new Float32Array(T * H * D);
        const half = D / 2;
        for (let t = 0; t < T; t++) {
          for (let h = 0; h < H; h++) {
            const base = (t * H + h) * D;
            for (let i = 0; i < half; i++) {
              const a = (pos0 + t) * theta ** ((-2 * i) / D);
              const c = Math.cos(a);
              const sn = Math.sin(a);
              y[base + i] = x[base + i]! * c - x[base + i + half]! * sn;
              y[base + i + half] = x[base + i + half]! * c + x[base + i]! * sn;
            }
          }
        }
        return y;
      },
      buffers: [P, X, Y],
    };
  },
};

// ------------------------------------------------------------------ flash-decoding attention

export const ATTENTION_CHUNK = 256;

const attentionDef: KernelDef = {
  name: 'attention-f32',
  op: 'attention',
  dtype: 'f32',
  opClass: 'attention',
  summary: 'flash-decoding attention: one query per head, KV split in chunks, log-sum-exp merge (GQA)',
  shapeKeys: ['heads', 'kvHeads', 'dim', 'len'],
  shapes: {
    bench: { heads: 32, kvHeads: 8, dim: 128, len: 4096 },
    quick: { heads: 32, kvHeads: 8, dim: 128, len: 1024 },
    test: { heads: 12, kvHeads: 4, dim: 72, len: 1000 },
  },
  flops: (s) => 4 * s.heads! * s.len! * s.dim!,
  bytes: (s) => 4 * (2 * s.kvHeads! * s.len! * s.dim! + 2 * s.heads! * s.dim!),
  // Output is a convex combination of V rows in [-1, 1]; f32 dot products of length dim and sums over len.
  tolerance: () => 2e-5,
  async prepare(r, s, g) {
    const { heads: H, kvHeads: KVH, dim: D, len: L } = s as { heads: number; kvHeads: number; dim: number; len: number };
    if (H % KVH !== 0) throw inputError({ field: 'shape.heads', expected: `a multiple of kvHeads (${KVH})`, got: H });
    if (D > 256) throw inputError({ field: 'shape.dim', expected: 'a head dimension <= 256', got: D });
    const chunk = ATTENTION_CHUNK;
    const splits = ceilDiv(L, chunk);
    const scale = 1 / Math.sqrt(D);
    const q = randArray(H * D, g);
    const k = randArray(KVH * L * D, g);
    const v = randArray(KVH * L * D, g);
    const P = r.uniforms('attention:params', [H, KVH, D, L, chunk, splits, { f32: scale }]);
    const Q = r.upload('attention:q', q);
    const Kb = r.upload('attention:k', k);
    const Vb = r.upload('attention:v', v);
    const PO = r.acquireBuffer('attention:partial-o', H * splits * D * 4);
    const PML = r.acquireBuffer('attention:partial-ml', H * splits * 2 * 4);
    const O = r.acquireBuffer('attention:out', H * D * 4);
    const p1 = await r.pipeline(src('attention', attentionWgsl, 'split'));
    const p2 = await r.pipeline(src('attention', attentionWgsl, 'merge'));
    return {
      dispatches: [
        { pipeline: p1, buffers: [P, Q, Kb, Vb, PO, PML, null], workgroups: [splits, H], label: 'attention:split' },
        { pipeline: p2, buffers: [P, null, null, null, PO, PML, O], workgroups: [H], label: 'attention:merge' },
      ],
      output: O,
      outputCount: H * D,
      outputDtype: 'f32',
      reference: () => {
        const out = new Float32Array(H * D);
        const sc = new Float64Array(L);
        for (let h = 0; h < H; h++) {
          const gi = Math.floor(h / (H / KVH));
          let m = -Infinity;
          for (let t = 0; t < L; t++) {
            let d = 0;
            for (let j = 0; j < D; j++) d += q[h * D + j]! * k[(gi * L + t) * D + j]!;
            sc[t] = d * scale;
            m = Math.max(m, sc[t]!);
          }
          let sum = 0;
          for (let t = 0; t < L; t++) sum += (sc[t] = Math.exp(sc[t]! - m));
          for (let j = 0; j < D; j++) {
            let o = 0;
            for (let t = 0; t < L; t++) o += sc[t]! * v[(gi * L + t) * D + j]!;
            out[h * D + j] = o / sum;
          }
        }
        return out;
      },
      buffers: [P, Q, Kb, Vb, PO, PML, O],
    };
  },
};

// ------------------------------------------------------------------ registry and harness

/** Every kernel, in the order `ridgeline bench` runs them. */
export const KERNELS: readonly KernelDef[] = [
  streamDef('copy'),
  streamDef('triad'),
  fmaDef('f32'),
  fmaDef('f16'),
  gemmDef('f32'),
  gemmDef('f16'),
  gemmDef('f32', 'wg'),
  gemmDef('f32', 'regtile'),
  gemmDef('f32', 'naive'),
  gemvDef('f32'),
  gemvDef('f16'),
  gemvDef('f32', 'splitk'),
  q4Def('sz16'),
  q4Def('sz32'),
  softmaxDef,
  rmsnormDef,
  ropeDef,
  attentionDef,
];

export function kernelByName(name: string): KernelDef | undefined {
  return KERNELS.find((k) => k.name === name);
}

export interface RunKernelOptions {
  /** Compare with the CPU reference (default true). */
  verify?: boolean;
  /** Keep repeating until a timing covers at least this long (default 0.05 s), up to maxRepeats. */
  minTimeS?: number;
  maxRepeats?: number;
  seed?: number;
}

/**
 * Prepares a kernel on `shape`, runs it once and compares it with its CPU reference, then times it
 * (repeated in one submission until `minTimeS` is covered). Releases its buffers to the pool.
 */
export async function runKernel(r: GpuRunner, def: KernelDef, shape: Shape, opts: RunKernelOptions = {}): Promise<KernelResult> {
  await r.ensureDevice();
  if (def.requiresF16 && !r.report.shaderF16) {
    throw inputError({ field: def.name, expected: 'an adapter with shader-f16 (this one has none)' });
  }
  const prepared = await def.prepare(r, shape, rng(opts.seed ?? 42));
  try {
    const first = await r.run(prepared.dispatches, { label: def.name });
    let maxAbsError = 0;
    let verified = false;
    let tol = 0;
    if (opts.verify ?? true) {
      const bytes = prepared.outputCount * (prepared.outputDtype === 'f16' ? 2 : 4);
      const raw = await r.read(prepared.output, bytes);
      const got = prepared.outputDtype === 'f16' ? fromF16Array(new Uint16Array(raw)) : new Float32Array(raw);
      const want = prepared.reference();
      let maxRef = 0;
      for (let i = 0; i < want.length; i++) {
        const e = Math.abs(got[i]! - want[i]!);
        // NaN compares false: count it as an infinite error.
        maxAbsError = Number.isNaN(e) ? Infinity : Math.max(maxAbsError, e);
        maxRef = Math.max(maxRef, Math.abs(want[i]!));
      }
      tol = def.tolerance(shape, maxRef);
      verified = maxAbsError <= tol;
    }
    const minTimeS = opts.minTimeS ?? 0.05;
    const maxRepeats = opts.maxRepeats ?? 100;
    const repeats = Math.max(1, Math.min(maxRepeats, Math.ceil(minTimeS / Math.max(first.timeS, 1e-6))));
    const timed = repeats > 1 || first.timing === 'wall' ? await r.run(prepared.dispatches, { label: def.name, repeats }) : first;
    const flops = def.flops(shape);
    const bytes = def.bytes(shape);
    return {
      name: def.name,
      dtype: def.dtype,
      shape,
      timeS: timed.timeS,
      flopsPerS: flops / timed.timeS,
      bytesPerS: bytes / timed.timeS,
      verified,
      maxAbsError: Number.isFinite(maxAbsError) ? maxAbsError : Number.MAX_VALUE,
      tolerance: tol,
      timing: timed.timing,
      repeats: timed === first ? 1 : repeats,
    };
  } finally {
    r.release(...prepared.buffers);
  }
}
