import type { GpuRunner } from '../gpu/runner';
import { Usage } from '../gpu/runner';
import quantErrorWgsl from '../../kernels/quant-error.wgsl';
import type { WeightFormat } from './formats';
import { floatConstants, needsTensorStats, NVFP4_SCALE_MAX, NVFP4_VALUE_MAX, type TensorStats } from './quantize';
import { assembleResult, measureTensorCpu, planMeasurement, type MeasureOptions, type QuantErrorResult, type TensorSums } from './measure';
import { decodeToF32, streamTensorRows, type TensorInfo } from './safetensors';

/**
 * The measured-error path on the WebGPU engine (kernels/quant-error.wgsl through the GPU runner).
 * The CPU streams and decodes each tensor in chunks of whole rows (and computes the signal sum and the
 * per-tensor statistics fp8, ternary and nvfp4 need); the GPU quantizes, dequantizes and sums squared errors
 * per group for every format; the host adds the group sums in float64.
 * Agreement with the CPU path: the GPU computes each element's error in float32 (the CPU in float64),
 * so SQNR agrees to within 0.01 dB (test/gpu/quant-error.test.ts).
 */

const WORKGROUP = 64;
/** Elements per chunk sent to the GPU (16 MiB of float32). */
const CHUNK_ELEMENTS = 1 << 22;

interface KernelParams {
  kind: number;
  group: number;
  levels: number;
  scale: number;
  maxValue: number;
  minNormal: number;
  subStep: number;
  mant: number;
}

/** Kernel parameters for one format on one tensor (null: nothing to compute, the format is exact). */
export function gpuParams(f: WeightFormat, cols: number, stats: TensorStats): KernelParams | null {
  const q = f.quantizer;
  const base = { kind: 0, group: Math.min(256, cols), levels: 0, scale: 1, maxValue: 0, minNormal: 0, subStep: 0, mant: 0 };
  switch (q.kind) {
    case 'identity':
      return null;
    case 'int':
      if (q.signedMax) return { ...base, kind: 6, group: q.groupSize === 0 ? cols : Math.min(q.groupSize, cols), levels: 2 ** (q.bits - 1) };
      if (q.groupSize === 0 || q.symmetric) return { ...base, kind: 1, group: q.groupSize === 0 ? cols : Math.min(q.groupSize, cols), levels: 2 ** (q.bits - 1) - 1 };
      return { ...base, kind: 0, group: Math.min(q.groupSize, cols), levels: 2 ** q.bits - 1 };
    case 'nf4':
      return { ...base, kind: 2, group: Math.min(q.blockSize, cols) };
    case 'mxfp4':
      return { ...base, kind: 3, group: Math.min(q.blockSize, cols) };
    case 'nvfp4':
      // The block scales round as E4M3 (roundFloat with 3 mantissa bits) in units of the tensor scale.
      return stats.absMax > 0
        ? { ...base, kind: 7, group: Math.min(q.blockSize, cols), scale: stats.absMax / (NVFP4_SCALE_MAX * NVFP4_VALUE_MAX), maxValue: NVFP4_SCALE_MAX, minNormal: 2 ** -6, subStep: 2 ** -9, mant: 3 }
        : null;
    case 'float': {
      const c = floatConstants(q);
      const scale = q.scale === 'per-tensor' && stats.absMax > 0 ? stats.absMax / c.maxValue : 1;
      return { ...base, kind: 4, scale, maxValue: c.maxValue, minNormal: 2 ** c.minNormalExp, subStep: 2 ** (c.minNormalExp - q.mantissaBits), mant: q.mantissaBits };
    }
    case 'ternary':
      return stats.meanAbs > 0 ? { ...base, kind: 5, scale: stats.meanAbs } : null;
  }
}

/** Squared-error sums of every format over one tensor, on the GPU. */
export async function measureTensorGpu(runner: GpuRunner, t: TensorInfo, formats: readonly WeightFormat[], chunkElements = CHUNK_ELEMENTS): Promise<TensorSums> {
  const cols = t.shape[t.shape.length - 1]!;
  const elemBytes = t.byteLength / Math.max(1, t.elements);
  const rowsPerChunk = Math.max(1, Math.floor(chunkElements / cols));
  const chunkBytes = rowsPerChunk * cols * elemBytes;
  const f32 = new Float32Array(rowsPerChunk * cols);
  const stats: TensorStats = { absMax: 0, meanAbs: 0 };
  if (formats.some((f) => needsTensorStats(f.quantizer))) {
    let sumAbs = 0;
    streamTensorRows(t, chunkBytes, (bytes) => {
      const n = decodeToF32(t.dtype, bytes, f32);
      for (let i = 0; i < n; i++) {
        const a = Math.abs(f32[i]!);
        sumAbs += a;
        if (a > stats.absMax) stats.absMax = a;
      }
    });
    stats.meanAbs = sumAbs / t.elements;
  }
  const params = formats.map((f) => gpuParams(f, cols, stats));
  const pipeline = await runner.pipeline({ name: 'quant-error', code: quantErrorWgsl });
  const noise = new Float64Array(formats.length);
  let signal = 0;
  // One chunk of whole rows at a time: read and decode on the CPU, then quantize on the GPU.
  const rowsTotal = t.elements / cols;
  for (let first = 0; first < rowsTotal; first += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, rowsTotal - first);
    const sub: TensorInfo = { ...t, shape: [rows, cols], elements: rows * cols, offset: t.offset + first * cols * elemBytes, byteLength: rows * cols * elemBytes };
    let n = 0;
    streamTensorRows(sub, sub.byteLength, (bytes) => {
      n = decodeToF32(t.dtype, bytes, f32);
    });
    const x = f32.subarray(0, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * x[i]!;
    signal += s;
    await runChunk(runner, pipeline, x, rows, cols, params, noise);
  }
  return { signal, noise };
}

async function runChunk(
  runner: GpuRunner,
  pipeline: GPUComputePipeline,
  data: Float32Array,
  rows: number,
  cols: number,
  params: ReadonlyArray<KernelParams | null>,
  noise: Float64Array,
): Promise<void> {
  const wBuf = runner.upload('quant-error:weights', data);
  const jobs: Array<{ k: number; err: GPUBuffer; uni: GPUBuffer; groups: number }> = [];
  try {
    const dispatches = [];
    for (let k = 0; k < params.length; k++) {
      const p = params[k];
      if (!p) continue;
      const groupsPerRow = Math.ceil(cols / p.group);
      const groups = rows * groupsPerRow;
      const err = runner.acquireBuffer('quant-error:group-errors', groups * 4, Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST);
      const uni = runner.uniforms('quant-error:params', [
        data.length,
        cols,
        p.group,
        p.kind,
        { f32: p.levels },
        { f32: p.scale },
        { f32: p.maxValue },
        { f32: p.minNormal },
        { f32: p.subStep },
        p.mant,
        groupsPerRow,
        groups,
      ]);
      jobs.push({ k, err, uni, groups });
      const wg = Math.ceil(groups / WORKGROUP);
      const x = Math.min(wg, 65535);
      dispatches.push({ pipeline, buffers: [wBuf, err, uni], workgroups: [x, Math.ceil(wg / x)] as [number, number], label: 'quant-error' });
    }
    if (dispatches.length === 0) return;
    await runner.run(dispatches, { label: 'quant-error' });
    for (const j of jobs) {
      const e = new Float32Array(await runner.read(j.err, j.groups * 4));
      let s = 0;
      for (let i = 0; i < e.length; i++) s += e[i]!;
      noise[j.k] += s;
    }
  } finally {
    runner.release(wBuf, ...jobs.flatMap((j) => [j.err, j.uni]));
  }
}

/** The whole model on the GPU, tensor by tensor. */
export async function measureModelGpu(runner: GpuRunner, path: string, opts: MeasureOptions = {}, adapter = 'webgpu'): Promise<QuantErrorResult> {
  const t0 = performance.now();
  const { model, formats, measured, skipped } = planMeasurement(path, opts);
  const sums: TensorSums[] = [];
  const notes: string[] = [];
  for (const t of measured) {
    let s = await measureTensorGpu(runner, t, formats);
    // The GPU squares each element's error in float32, which overflows (past 3.4e38) on finite weights
    // far beyond any real checkpoint's range; the CPU path works in float64. Tensors holding NaN or Inf
    // stay as they are: assembleResult reports them.
    if (Number.isFinite(s.signal) && !s.noise.every((v) => Number.isFinite(v))) {
      s = measureTensorCpu(t, formats);
      notes.push(`${t.name}: float32 overflow on the GPU: measured on the CPU`);
    }
    sums.push(s);
  }
  return assembleResult(model, formats, measured, sums, skipped, {
    engine: adapter,
    timeS: (performance.now() - t0) / 1000,
    rankBy: opts.rankBy,
    notes,
  });
}
