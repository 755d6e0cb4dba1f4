/**
 * Profiles a user's WGSL @compute kernel on the WebGPU runner: buffers sized from its `ridgeline:`
 * annotation, dispatched as the annotation says, timed, and placed on a (measured) roofline.
 *
 *   // ridgeline: N=1048576 dispatch=N/256,1,1 buffers=0:N,1:N
 *
 * - `dispatch=X,Y,Z`: workgroups per dispatch (formulas of dims allowed).
 * - `buffers=B:ELEMENTS,...`: element counts of the runtime-sized storage arrays at @group(0) @binding(B)
 *   (elements of the array's element type: `array<vec4<f32>>` counts vec4s). Fixed-size storage
 *   variables and uniforms are sized from their WGSL type.
 * - Uniform struct members named like a dim (any case: `k` <- K) are filled with that dim; other
 *   uniform members are 0. Storage data is filled with reproducible values in [-1, 1) (floats) or
 *   [0, 16) (integers).
 *
 * FLOPs and bytes come from the static analysis (or the annotation's `flops=` / `bytes=` formulas).
 */
import { RidgelineError, inputError } from '../errors';
import type { Device } from '../hardware/types';
import { f32ToF16Bits } from '../gpu/f16';
import { Usage, type GpuRunner, type RunResult } from '../gpu/runner';
import { parseAnnotations } from './annotations';
import { effectiveAnnotation } from './analyze';
import { evalExpr } from './ir';
import type { KernelAnalyzer } from './analyzer';
import type { KernelBinding, KernelFileReport, KernelInfo } from './types';

export interface ProfileOptions {
  /** File name for messages (and compile errors). */
  file?: string;
  /** Entry point to run; default the first @compute kernel. */
  kernel?: string;
  /** Problem dims; win over the annotation. */
  dims?: Record<string, number>;
  /** Roofs to place the result on: a measured device (`ridgeline bench`) or any Device. */
  device?: Device | null;
  /** Timed repetitions in one submission (after one warm-up run). Default 3. */
  repeats?: number;
  /** Bindings to read back after the run (for checking results). */
  readBack?: number[];
  /** Seed of the input data. */
  seed?: number;
}

export interface KernelProfile {
  kernel: string;
  workgroupSize: [number, number, number];
  dispatch: [number, number, number];
  invocations: number;
  buffers: Array<{ binding: number; name: string; bytes: number; space: string }>;
  /** Seconds per dispatch. */
  timeS: number;
  timing: RunResult['timing'];
  adapter: string;
  /** From the analysis; null when it has no estimate. */
  flops: number | null;
  bytes: number | null;
  intensity: number | null;
  achievedFlopsPerS: number | null;
  achievedBandwidthBytesPerS: number | null;
  /** Where the run sits against the roofs of `device`, when given. */
  roofline?: {
    deviceId: string;
    peakFlopsPerS: number;
    bandwidthBytesPerS: number;
    ridgeIntensity: number;
    bound: 'memory' | 'compute';
    /** min(peak, intensity x bandwidth). */
    attainableFlopsPerS: number;
    /** achievedFlopsPerS / attainableFlopsPerS. */
    fractionOfRoof: number;
  };
  /** Contents of the bindings named in `readBack`. */
  data?: Record<number, ArrayBuffer>;
  notes: string[];
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function fill(bytes: number, scalar: string | null, rand: () => number): ArrayBufferView {
  const n = Math.floor(bytes / 4);
  if (scalar === 'f16') {
    const out = new Uint16Array(Math.ceil(bytes / 2));
    for (let i = 0; i < out.length; i++) out[i] = f32ToF16Bits(rand() * 2 - 1);
    return out;
  }
  if (scalar === 'u32' || scalar === 'i32') {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 16);
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rand() * 2 - 1;
  return out;
}

/** Bytes of one binding for the run; throws a one-line input error naming what is missing. */
function bindingBytes(b: KernelBinding, sizes: Map<number, number | null>, file: string): number {
  if (b.elementBytes === null) throw inputError({ file, field: `@binding(${b.binding}) ${b.name}`, expected: 'a type whose size is known' });
  if (!b.runtimeSized) return b.elementBytes;
  const n = sizes.get(b.binding);
  if (n === undefined) throw inputError({ file, field: `@binding(${b.binding}) ${b.name}`, expected: `an element count in the annotation, e.g. // ridgeline: buffers=${b.binding}:4096` });
  if (n === null || !Number.isFinite(n) || n <= 0) throw inputError({ file, field: `buffers=${b.binding}`, expected: 'a positive element count (dims known)' });
  return Math.ceil(n) * b.elementBytes;
}

/**
 * Runs one WGSL @compute kernel of `source` on `runner`. `analyzer` supplies the static analysis
 * (workgroup size, bindings, FLOPs and bytes).
 */
export async function profileWgslKernel(runner: GpuRunner, analyzer: KernelAnalyzer, source: string, opts: ProfileOptions = {}): Promise<KernelProfile> {
  const file = opts.file ?? 'kernel.wgsl';
  const report: KernelFileReport = await analyzer.analyze(source, 'wgsl', { file, dims: opts.dims, device: opts.device ?? null });
  const errors = report.diagnostics.filter((d) => d.code === 'RL008' && d.severity === 'error');
  if (errors.length) throw inputError({ file, field: `line ${errors[0]!.line}`, expected: 'WGSL without syntax errors', got: errors[0]!.message });
  const k: KernelInfo | undefined = opts.kernel ? report.kernels.find((x) => x.name === opts.kernel) : report.kernels[0];
  if (!k) throw inputError({ file, field: opts.kernel ? `kernel ${opts.kernel}` : 'kernels', expected: opts.kernel ? `one of ${report.kernels.map((x) => x.name).join(', ') || '(none)'}` : 'a @compute entry point' });
  if (!k.workgroupSize) throw inputError({ file, field: `${k.name} @workgroup_size`, expected: 'a workgroup size that resolves to numbers' });

  // the annotation that applies to this kernel (the analysis used the same rule)
  const anns = parseAnnotations(source, []);
  const rows = report.kernels.map((x) => x.line - 1);
  const idx = report.kernels.indexOf(k);
  const ann = effectiveAnnotation(anns, k.line - 1, idx > 0 ? report.kernels[idx - 1]!.endLine - 1 : -1, Math.min(...rows));
  const env = new Map(Object.entries(report.dims));
  const launch = k.launches.find((l) => l.grid);
  if (!launch?.grid) throw inputError({ file, field: `${k.name} dispatch`, expected: 'workgroup counts: // ridgeline: dispatch=X,Y,Z (with dims known)' });
  const dispatch = launch.grid;
  const sizes = new Map<number, number | null>((ann?.buffers ?? []).map((b) => [b.binding, evalExpr(b.elements, env)]));
  const bindings = (k.bindings ?? []).filter((b) => b.group === 0);
  if ((k.bindings ?? []).some((b) => b.group !== 0)) throw inputError({ file, field: `${k.name} bindings`, expected: 'resources in @group(0) only' });
  if (bindings.some((b) => b.space === 'handle')) throw inputError({ file, field: `${k.name} bindings`, expected: 'storage and uniform buffers only (no textures or samplers)' });

  const rand = rng(opts.seed ?? 1);
  const lowerDims = new Map(Object.entries(report.dims).map(([n, v]) => [n.toLowerCase(), v]));
  const notes: string[] = [];
  const buffers: KernelProfile['buffers'] = [];
  const gpuBuffers: Array<GPUBuffer | null> = [];
  const owned: GPUBuffer[] = [];
  try {
    for (const b of bindings) {
      const bytes = bindingBytes(b, sizes, file);
      let data: ArrayBufferView;
      if (b.space === 'uniform') {
        const words = new Uint32Array(Math.ceil(Math.max(16, bytes) / 4));
        const view = new DataView(words.buffer);
        for (const m of b.members ?? []) {
          const v = lowerDims.get(m.name.toLowerCase());
          if (v === undefined) continue;
          if (m.scalar === 'f32') view.setFloat32(m.offsetBytes, v, true);
          else view.setUint32(m.offsetBytes, v >>> 0, true);
          notes.push(`uniform ${b.name}.${m.name} = ${v}`);
        }
        data = words;
      } else data = fill(bytes, b.scalar, rand);
      const usage = b.space === 'uniform' ? Usage.UNIFORM | Usage.COPY_DST : Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;
      const buf = runner.upload(`profile:${k.name}:${b.name}`, data, usage);
      owned.push(buf);
      while (gpuBuffers.length < b.binding) gpuBuffers.push(null);
      gpuBuffers[b.binding] = buf;
      buffers.push({ binding: b.binding, name: b.name, bytes, space: b.space });
    }
    const pipeline = await runner.pipeline({ name: k.name, code: source, entryPoint: k.name, file });
    const d = { pipeline, buffers: gpuBuffers, workgroups: dispatch, label: `profile:${k.name}` };
    await runner.run([d], { repeats: 1, label: `warmup:${k.name}` });
    const res = await runner.run([d], { repeats: Math.max(1, opts.repeats ?? 3), label: `profile:${k.name}` });
    if (!(res.timeS > 0)) throw new RidgelineError(`${file}: ${k.name}: the run reported no time`, { exitCode: 1, file });

    const est = k.estimate;
    const flops = est?.flops ?? null;
    const bytes = est?.bytes ?? null;
    const invocations = dispatch[0] * dispatch[1] * dispatch[2] * k.workgroupSize[0] * k.workgroupSize[1] * k.workgroupSize[2];
    const out: KernelProfile = {
      kernel: k.name,
      workgroupSize: k.workgroupSize,
      dispatch,
      invocations,
      buffers,
      timeS: res.timeS,
      timing: res.timing,
      adapter: [runner.report.vendor, runner.report.architecture, runner.report.description].filter(Boolean).join(' / '),
      flops,
      bytes,
      intensity: flops !== null && bytes ? flops / bytes : null,
      achievedFlopsPerS: flops !== null ? flops / res.timeS : null,
      achievedBandwidthBytesPerS: bytes !== null ? bytes / res.timeS : null,
      notes: [...notes, ...(est ? [] : [`no FLOP/byte estimate: ${k.estimateUnavailable ?? 'unknown'}`])],
    };
    const dev = opts.device;
    if (dev && out.intensity !== null && out.achievedFlopsPerS !== null) {
      const peak = dev.peakFlopsPerS[est!.dtype] ?? dev.peakFlopsPerS.fp32;
      if (peak && dev.memoryBandwidthBytesPerS > 0) {
        const attainable = Math.min(peak, out.intensity * dev.memoryBandwidthBytesPerS);
        out.roofline = {
          deviceId: dev.id,
          peakFlopsPerS: peak,
          bandwidthBytesPerS: dev.memoryBandwidthBytesPerS,
          ridgeIntensity: peak / dev.memoryBandwidthBytesPerS,
          bound: out.intensity < peak / dev.memoryBandwidthBytesPerS ? 'memory' : 'compute',
          attainableFlopsPerS: attainable,
          fractionOfRoof: out.achievedFlopsPerS / attainable,
        };
      }
    }
    if (opts.readBack?.length) {
      out.data = {};
      for (const bnd of opts.readBack) {
        const buf = gpuBuffers[bnd];
        const info = buffers.find((x) => x.binding === bnd);
        if (!buf || !info) throw inputError({ file, field: `readBack ${bnd}`, expected: `a binding the kernel uses (${buffers.map((x) => x.binding).join(', ')})` });
        out.data[bnd] = await runner.read(buf, info.bytes);
      }
    }
    return out;
  } finally {
    runner.release(...owned);
  }
}
