/**
 * Microbenchmarks -> measured roofs of this machine (bandwidth, peak FLOP/s per dtype, dispatch overhead),
 * the engine's kernels timed and verified against their CPU references, and the per-class efficiencies the
 * cost model uses for a measured device.
 */
import streamWgsl from '../../kernels/stream.wgsl';
import { inputError } from '../errors';
import type { Device } from '../hardware/types';
import { KERNELS, type KernelDef, type KernelResult, kernelByName, runKernel } from './kernels';
import type { AdapterReport, GpuRunner } from './runner';

export interface Roofs {
  bandwidthBytesPerS: number;
  peakFlopsPerS: { f32: number; f16?: number };
  dispatchOverheadS: number;
}

export interface BenchResult {
  adapter: { vendor: string; architecture: string; description: string; isFallback: boolean };
  roofs: Roofs;
  kernels: KernelResult[];
  /** Fractions of the measured roofs each op class reaches (keys as the cost model reads them). */
  efficiency: Record<string, number>;
  features: string[];
  timing: 'timestamp' | 'wall';
  quick: boolean;
}

export interface BenchOptions {
  /** Smaller shapes (gemm-f32 stays at 512x512x512). Default: true on software (fallback) adapters. */
  quick?: boolean;
  /** Run only this kernel (the roofs are still measured). */
  only?: string;
  /** Called after each measurement with a short label. */
  progress?: (label: string) => void;
}

/** Kernels of the default run, beyond the roofs (stream, fma). */
const DEFAULT_SET = ['gemm-f32', 'gemm-f16', 'gemv-f32', 'gemv-f16', 'q4gemv-sz16', 'softmax-f32', 'rmsnorm-f32', 'rope-f32', 'attention-f32'];

/** Seconds per dispatch of a one-invocation kernel, back to back in one submission (200 dispatches). */
export async function measureDispatchOverhead(r: GpuRunner, dispatches = 200): Promise<number> {
  const pipeline = await r.pipeline({ name: 'stream', file: 'kernels/stream.wgsl', code: streamWgsl, entryPoint: 'empty', constants: { WG: 256 } });
  const P = r.uniforms('overhead:params', [1]);
  const O = r.acquireBuffer('overhead:out', 256);
  try {
    const d = [{ pipeline, buffers: [P, null, null, O], workgroups: [1] as [number], label: 'empty' }];
    await r.run(d, { label: 'dispatch-overhead', repeats: 10 });
    const t = await r.run(d, { label: 'dispatch-overhead', repeats: dispatches });
    return t.timeS;
  } finally {
    r.release(P, O);
  }
}

function kernelList(r: GpuRunner, only?: string): KernelDef[] {
  if (only) {
    const k = kernelByName(only);
    if (!k) throw inputError({ field: '--only', expected: `a kernel name: ${KERNELS.map((d) => d.name).join(', ')}`, got: only });
    if (k.requiresF16 && !r.report.shaderF16) throw inputError({ field: '--only', expected: `a kernel this adapter supports (${only} needs shader-f16)`, got: only });
    return [k];
  }
  return DEFAULT_SET.map((n) => kernelByName(n)!).filter((k) => !k.requiresF16 || r.report.shaderF16);
}

/** Runs the roofs microbenchmarks and the kernels; every kernel is verified against its CPU reference. */
export async function runBench(r: GpuRunner, opts: BenchOptions = {}): Promise<BenchResult> {
  await r.ensureDevice();
  // A software adapter runs kernels on the CPU: the smaller shapes already fill it.
  const quick = opts.quick ?? r.report.isFallback;
  const shapeOf = (k: KernelDef) => (k.name.startsWith('gemm') ? k.shapes.bench : quick ? k.shapes.quick : k.shapes.bench);
  const note = opts.progress ?? (() => undefined);
  const list = kernelList(r, opts.only);
  const results: KernelResult[] = [];
  const roofKernels = ['stream-copy', 'stream-triad', 'fma-f32', ...(r.report.shaderF16 ? ['fma-f16'] : [])];
  const roofResults: Record<string, KernelResult> = {};
  for (const name of roofKernels) {
    const k = kernelByName(name)!;
    const res = await runKernel(r, k, shapeOf(k), { minTimeS: quick ? 0.05 : 0.2 });
    roofResults[name] = res;
    results.push(res);
    note(`${name}: ${describe(res)}`);
  }
  const dispatchOverheadS = await measureDispatchOverhead(r);
  note(`dispatch overhead: ${(dispatchOverheadS * 1e6).toFixed(1)} us`);
  for (const k of list) {
    if (roofKernels.includes(k.name)) continue;
    const res = await runKernel(r, k, shapeOf(k), { minTimeS: quick ? 0.05 : 0.2 });
    results.push(res);
    note(`${k.name}: ${describe(res)}`);
  }
  const roofs: Roofs = {
    bandwidthBytesPerS: Math.max(roofResults['stream-copy']!.bytesPerS, roofResults['stream-triad']!.bytesPerS),
    peakFlopsPerS: {
      f32: roofResults['fma-f32']!.flopsPerS,
      ...(roofResults['fma-f16'] ? { f16: roofResults['fma-f16'].flopsPerS } : {}),
    },
    dispatchOverheadS,
  };
  const rep: AdapterReport = r.report;
  return {
    adapter: { vendor: rep.vendor, architecture: rep.architecture, description: rep.description, isFallback: rep.isFallback },
    roofs,
    kernels: results,
    efficiency: efficiencies(roofs, results),
    features: rep.features,
    timing: results.every((x) => x.timing === 'timestamp') ? 'timestamp' : 'wall',
    quick,
  };
}

function describe(k: KernelResult): string {
  return `${(k.timeS * 1e3).toFixed(2)} ms, ${(k.flopsPerS / 1e9).toFixed(2)} GFLOP/s, ${(k.bytesPerS / 1e9).toFixed(2)} GB/s, ${k.verified ? 'verified' : 'NOT verified'}`;
}

/** Keeps a fraction in (0, 1] as the device validator requires. */
const frac = (x: number) => Math.min(1, Math.max(1e-4, x));

/**
 * Per-class efficiencies, keyed as engine/cost/params.ts reads them (`class.compute` / `class.memory`):
 * gemm.compute from the tiled f32 GEMM against the f32 FMA peak; gemm.memory (flat GEMM / GEMV in decode)
 * from the f32 GEMV against the stream bandwidth; attention.memory from flash-decoding attention;
 * elementwise.memory from RoPE; norm.memory from RMSNorm. Only verified kernels count.
 */
export function efficiencies(roofs: Roofs, kernels: KernelResult[]): Record<string, number> {
  const by = (n: string) => kernels.find((k) => k.name === n && k.verified);
  const out: Record<string, number> = {};
  const gemm = by('gemm-f32');
  if (gemm) out['gemm.compute'] = frac(gemm.flopsPerS / roofs.peakFlopsPerS.f32);
  const mem: Array<[string, string]> = [
    ['gemm.memory', 'gemv-f32'],
    ['attention.memory', 'attention-f32'],
    ['elementwise.memory', 'rope-f32'],
    ['norm.memory', 'rmsnorm-f32'],
  ];
  for (const [key, name] of mem) {
    const k = by(name);
    if (k) out[key] = frac(k.bytesPerS / roofs.bandwidthBytesPerS);
  }
  return out;
}

/**
 * The bench result as a Device (id `this`) for `--hardware this`. WebGPU does not expose the device's memory
 * size: `memoryBytes` is the caller's figure (system memory for a software adapter).
 */
export function toMeasuredDevice(b: BenchResult, opts: { memoryBytes: number; dateIso?: string }): Device {
  const a = b.adapter;
  const adapterName = [a.vendor, a.architecture, a.description].filter((s) => s && s !== 'unknown').join(' ') || 'WebGPU adapter';
  return {
    id: 'this',
    name: `${adapterName} (measured)`,
    vendor: a.vendor,
    memoryBytes: opts.memoryBytes,
    memoryBandwidthBytesPerS: b.roofs.bandwidthBytesPerS,
    peakFlopsPerS: {
      fp32: b.roofs.peakFlopsPerS.f32,
      ...(b.roofs.peakFlopsPerS.f16 ? { fp16: b.roofs.peakFlopsPerS.f16 } : {}),
    },
    source: `measured by ridgeline bench through WebGPU (${b.timing} timing${b.quick ? ', quick shapes' : ''}): stream copy/triad bandwidth, FMA-chain peak, back-to-back dispatch overhead`,
    measured: {
      adapter: adapterName + (a.isFallback ? ' (software fallback)' : ''),
      dispatchOverheadS: b.roofs.dispatchOverheadS,
      efficiency: b.efficiency,
      dateIso: opts.dateIso ?? new Date().toISOString(),
    },
  };
}
