import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RidgelineError, inputError } from '../errors';
import { weightFormat, type WeightFormat } from './formats';
import {
  BLOCK,
  bf16Values,
  blockStats,
  decode16,
  HIST_LANES,
  histogram16,
  isElementwise,
  makeKernel,
  makePairKernel,
  makeValueKernel,
  needsTensorStats,
  type BlockStats,
  type ErrorKernel,
  type PairKernel,
  type TensorStats,
  type ValueKernel,
} from './quantize';
import { DECODED_DTYPES, decodeToF32, f16Table, openSafetensors, streamTensorRows, type SafetensorsModel, type TensorInfo } from './safetensors';
import { simdBuffers, simdKernels, simdPairJob, simdSingleJob, type SimdJob } from './simd';

/**
 * Measured quantization error on real weights: for each 2-D weight of a safetensors model, every
 * requested format is applied (quantize, dequantize) and compared with the original.
 *   SQNR (dB) = 10 log10( sum w^2 / sum (q(w) - w)^2 )
 *   relRmse   = sqrt( sum (q(w) - w)^2 / sum w^2 )  (= 10^(-SQNR/20))
 * Tensors stream through in chunks of whole rows (a fixed buffer, never a whole tensor or file);
 * formats with a per-tensor scale (fp8, ternary, nvfp4's tensor scale) need the tensor's |max| / mean |w|: 16-bit
 * tensors count them during the pass, and read the |max| ahead of it only for nvfp4, whose blocks need it.
 */

/** Formats measured when none are named: the generic ones below 16 bits (not the GGUF types or nvfp4). */
export const DEFAULT_ERROR_FORMATS = ['fp8', 'fp8-e5m2', 'int8', 'int4-g128', 'int4-g32', 'nf4', 'mxfp4', 'int3-g128', 'int2-g64', 'ternary'] as const;

export interface FormatError {
  /** null when the format reproduces the tensor exactly (no error to compare against). */
  sqnrDb: number | null;
  relRmse: number;
}

export type TensorRole = 'linear' | 'embedding' | 'lmHead';

export interface TensorError {
  name: string;
  shape: number[];
  dtype: string;
  params: number;
  role: TensorRole;
  errors: Record<string, FormatError>;
}

export interface SkippedTensor {
  name: string;
  shape: number[];
  dtype: string;
  reason: string;
  /** For a tensor skipped because it holds NaN or infinite values: how many of each. */
  nonFinite?: { nan: number; inf: number };
}

export interface QuantErrorResult {
  path: string;
  files: string[];
  formats: string[];
  /** Engine that computed the errors: `cpu`, or `webgpu (<adapter>)`. */
  engine: string;
  tensors: TensorError[];
  skipped: SkippedTensor[];
  /** Over all measured linear tensors: SQNR from the summed signal and summed noise. */
  summary: Record<string, FormatError & { params: number }>;
  /** Linear tensors from most to least sensitive (lowest SQNR first) under `rankedBy`. */
  ranking: Array<{ name: string; sqnrDb: number | null }>;
  rankedBy: string;
  bytesRead: number;
  timeS: number;
  notes: string[];
}

export function tensorRole(name: string): TensorRole {
  const n = name.toLowerCase();
  if (/(^|\.)(lm_head|output|embed_out)(\.weight)?$/.test(n)) return 'lmHead';
  if (/(embed_tokens|word_embeddings|wte|wpe|tok_embeddings|embeddings?)(\.weight)?$/.test(n)) return 'embedding';
  return 'linear';
}

export function errorOf(signal: number, noise: number): FormatError {
  if (noise === 0) return { sqnrDb: null, relRmse: 0 };
  if (signal === 0) return { sqnrDb: null, relRmse: 0 };
  return { sqnrDb: 10 * Math.log10(signal / noise), relRmse: Math.sqrt(noise / signal) };
}

export interface MeasureOptions {
  formats?: readonly string[];
  /** Bytes per streamed chunk (default 4 MiB of raw tensor data). */
  chunkBytes?: number;
  /** Format that orders the sensitivity ranking (default int4-g128 when measured, else the first). */
  rankBy?: string;
  /** Worker threads (default: the machine's available parallelism; 1 = in this thread). */
  threads?: number;
  /** Worker script to use instead of the one next to this module (the benchmark runs the bundled one). */
  workerScript?: string;
}

/** Accumulated sums for one tensor: signal sum(w^2) and one noise sum per format. */
export interface TensorSums {
  signal: number;
  noise: Float64Array;
}

/** Streams one tensor and applies every kernel: the CPU reference for the measured error. */
/** Raw bytes per streamed chunk (whole rows; at least one row). */
export const DEFAULT_CHUNK_BYTES = 4 << 20;

/**
 * Buffers reused from tensor to tensor within a thread (raw chunk, float32 chunk, block statistics), so
 * memory stays at one chunk's worth instead of growing with garbage between collections.
 */
const scratch = { raw: new Uint8Array(0), f32: new Float32Array(0), bmin: new Float32Array(0), bmax: new Float32Array(0) };
function scratchFor(rawBytes: number, elements: number): typeof scratch {
  if (scratch.raw.byteLength < rawBytes) scratch.raw = new Uint8Array(rawBytes);
  if (scratch.f32.length < elements) {
    scratch.f32 = new Float32Array(elements);
    scratch.bmin = new Float32Array(Math.ceil(elements / BLOCK));
    scratch.bmax = new Float32Array(Math.ceil(elements / BLOCK));
  }
  return scratch;
}

export function measureTensorCpu(t: TensorInfo, formats: readonly WeightFormat[], chunkBytes = DEFAULT_CHUNK_BYTES, kernels?: ErrorKernel[]): TensorSums {
  const ks = kernels ?? formats.map((f) => makeKernel(f.quantizer));
  if (t.dtype === 'BF16' || t.dtype === 'F16') return measureTensor16(t, formats, chunkBytes, ks);
  const cols = t.shape[t.shape.length - 1]!;
  const perTensor = formats.some((f) => needsTensorStats(f.quantizer));
  const elemBytes = t.byteLength / Math.max(1, t.elements);
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / (cols * elemBytes)));
  const buf = scratchFor(rowsPerChunk * cols * elemBytes, rowsPerChunk * cols);
  const f32 = buf.f32;
  const stats: TensorStats = { absMax: 0, meanAbs: 0 };
  if (perTensor) {
    let amax = 0;
    let sumAbs = 0;
    const onChunk = (bytes: Uint8Array) => {
      const n = decodeToF32(t.dtype, bytes, f32);
      let s = 0;
      for (let i = 0; i < n; i++) {
        const a = Math.abs(f32[i]!);
        s += a;
        if (a > amax) amax = a;
      }
      sumAbs += s;
    };
    streamTensorRows(t, chunkBytes, onChunk, buf.raw);
    stats.absMax = amax;
    stats.meanAbs = t.elements > 0 ? sumAbs / t.elements : 0;
  }
  const noise = new Float64Array(ks.length);
  let signal = 0;
  // Block minima/maxima shared by the group-wise formats (rows a whole number of blocks only).
  const groupWise = formats.some((f) => ['int', 'nf4', 'mxfp4'].includes(f.quantizer.kind));
  const blocks: BlockStats | null = groupWise && cols % BLOCK === 0 ? { min: buf.bmin, max: buf.bmax } : null;
  streamTensorRows(t, chunkBytes, (bytes, _first, rows) => {
    const n = decodeToF32(t.dtype, bytes, f32);
    const x = n === f32.length ? f32 : f32.subarray(0, n);
    if (blocks) {
      signal += blockStats(x, n, blocks);
    } else {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i]! * x[i]!;
      signal += s;
    }
    for (let k = 0; k < ks.length; k++) noise[k] += ks[k]!(x, rows, cols, stats, blocks);
  }, buf.raw);
  return { signal, noise };
}

/** Decoded elements per piece of a 16-bit chunk (128 KiB as float32: fits a core's L2 cache). */
const PIECE_ELEMENTS = 32768;
const counts16 = new Uint32Array(65536 * HIST_LANES);
const histVals = new Float64Array(65536);
const histCounts = new Float64Array(65536);
const valueKernels = new WeakMap<object, ValueKernel>();
function valueKernel(f: WeightFormat): ValueKernel {
  let k = valueKernels.get(f.quantizer);
  if (!k) valueKernels.set(f.quantizer, (k = makeValueKernel(f.quantizer)));
  return k;
}

/**
 * 16-bit tensors (BF16, F16) in one pass: every chunk is decoded once, with the block minima/maxima
 * and a count of each of the 65536 bit patterns. Group-wise kernels run on the decoded chunk; the
 * signal, the per-tensor statistics and the error of every elementwise format (fp8, ternary, ...) come
 * from the counts afterwards, so they need neither a second read of the tensor nor a pass per weight.
 */
function measureTensor16(t: TensorInfo, formats: readonly WeightFormat[], chunkBytes: number, ks: ErrorKernel[]): TensorSums {
  const cols = t.shape[t.shape.length - 1]!;
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / (cols * 2)));
  const groupIdx: number[] = [];
  const elemIdx: number[] = [];
  formats.forEach((f, k) => (isElementwise(f.quantizer) ? elemIdx : groupIdx).push(k));
  // Each read chunk is decoded and measured a few rows at a time, so the decoded rows stay in the
  // core's cache while every group-wise kernel passes over them.
  const rowsPerPiece = Math.max(1, Math.min(rowsPerChunk, Math.floor(PIECE_ELEMENTS / cols)));
  const buf = scratchFor(rowsPerChunk * cols * 2, groupIdx.length > 0 ? rowsPerPiece * cols : 0);
  // With block statistics, the group-wise formats that have a WebAssembly SIMD kernel run on pieces decoded
  // straight into its memory; the others read the same pieces.
  const simd = groupIdx.length > 0 && cols % BLOCK === 0 ? simdKernels() : null;
  const sb = simd ? simdBuffers(simd, rowsPerChunk * cols * 2, rowsPerPiece * cols) : null;
  const f32 = sb ? sb.x : buf.f32;
  const counts = sb ? sb.counts : counts16;
  counts.fill(0);
  const lut = t.dtype === 'F16' ? f16Table() : null;
  const noise = new Float64Array(ks.length);
  const blocks: BlockStats | null = groupIdx.length > 0 && cols % BLOCK === 0 ? (sb ? { min: sb.min, max: sb.max } : { min: buf.bmin, max: buf.bmax }) : null;
  const stats: TensorStats = { absMax: 0, meanAbs: 0 };
  // A group-wise format scaled by the whole tensor (NVFP4's fp32 tensor scale) needs its |max| before the first
  // group: one read of the bits ahead of the pass (16-bit magnitudes order as their bits without the sign).
  if (groupIdx.some((k) => needsTensorStats(formats[k]!.quantizer))) {
    let top = 0;
    streamTensorRows(t, chunkBytes, (bytes) => {
      const all = bytes.byteLength >> 1;
      const u16 = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, all) : new Uint16Array(bytes.slice().buffer);
      for (let i = 0; i < all; i++) {
        const mag = u16[i]! & 0x7fff;
        if (mag > top) top = mag;
      }
    }, sb ? sb.raw : buf.raw);
    stats.absMax = (lut ?? bf16Values())[top]!;
  }
  // Formats that can share a pass (same group, same rounding) run as pairs; the rest one by one.
  const pairs: Array<{ kernel: PairKernel; a: number; b: number }> = [];
  const singles: number[] = [];
  const jobs: Array<{ job: SimdJob; a: number; b: number }> = [];
  const left = [...groupIdx];
  while (left.length > 0) {
    const a = left.shift()!;
    const pair = (b: number) => makePairKernel(formats[a]!.quantizer, formats[b]!.quantizer, cols, blocks !== null);
    const j = left.findIndex((b) => pair(b) !== null);
    if (j < 0) {
      const job = simd ? simdSingleJob(formats[a]!.quantizer, cols) : null;
      if (job) jobs.push({ job, a, b: a });
      else singles.push(a);
    } else {
      const b = left.splice(j, 1)[0]!;
      const job = simd ? simdPairJob(formats[a]!.quantizer, formats[b]!.quantizer, cols) : null;
      if (job) jobs.push({ job, a, b });
      else pairs.push({ kernel: pair(b)!, a, b });
    }
  }
  streamTensorRows(
    t,
    chunkBytes,
    (bytes, _first, rows) => {
      const all = bytes.byteLength >> 1;
      const u16 = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, all) : new Uint16Array(bytes.slice().buffer);
      if (groupIdx.length === 0) return histogram16(u16, all, counts);
      for (let r = 0; r < rows; r += rowsPerPiece) {
        const pieceRows = Math.min(rowsPerPiece, rows - r);
        const n = pieceRows * cols;
        if (sb && lut === null && u16.buffer === simd!.memory.buffer) {
          // BF16 in the module's memory: decode, block statistics and histogram there
          const src = u16.byteOffset + 2 * r * cols;
          simd!.decodeBf16(src, n, sb.x.byteOffset, sb.min.byteOffset, sb.max.byteOffset);
          simd!.hist16(src, n, sb.counts.byteOffset);
        } else decode16(u16.subarray(r * cols, r * cols + n), n, f32, counts, lut, blocks);
        const x = n === f32.length ? f32 : f32.subarray(0, n);
        for (const k of singles) noise[k] += ks[k]!(x, pieceRows, cols, stats, blocks);
        for (const p of pairs) p.kernel(x, pieceRows, cols, blocks, noise, p.a, p.b);
        for (const j of jobs) j.job(simd!, sb!, n, pieceRows, noise, j.a, j.b);
      }
    },
    sb ? sb.raw : buf.raw,
  );
  // Distinct values, their counts, and the sums over the tensor.
  const vals = histVals;
  const cnt = histCounts;
  const dec = lut ?? bf16Values();
  let m = 0;
  let signal = 0;
  let sumAbs = 0;
  let amax = 0;
  for (let h = 0; h < 65536; h++) {
    const c = counts[h * HIST_LANES]! + counts[h * HIST_LANES + 1]! + counts[h * HIST_LANES + 2]! + counts[h * HIST_LANES + 3]!;
    if (c === 0) continue;
    const v = dec[h]!;
    const a = Math.abs(v);
    vals[m] = v;
    cnt[m] = c;
    m++;
    signal += c * (v * v);
    sumAbs += c * a;
    if (a > amax) amax = a;
  }
  stats.absMax = amax;
  stats.meanAbs = t.elements > 0 ? sumAbs / t.elements : 0;
  for (const k of elemIdx) noise[k] = valueKernel(formats[k]!)(vals, cnt, m, stats);
  return { signal, noise };
}

/** Which tensors are measured, and why the others are not. */
export function selectTensors(model: SafetensorsModel): { measured: TensorInfo[]; skipped: SkippedTensor[] } {
  const measured: TensorInfo[] = [];
  const skipped: SkippedTensor[] = [];
  for (const t of model.tensors) {
    const base = { name: t.name, shape: t.shape, dtype: t.dtype };
    if (t.shape.length !== 2) skipped.push({ ...base, reason: `${t.shape.length}-D: only 2-D weights are quantized` });
    else if (!DECODED_DTYPES.includes(t.dtype)) skipped.push({ ...base, reason: `dtype ${t.dtype}: only F32, F16 and BF16 are decoded` });
    else if (t.elements === 0) skipped.push({ ...base, reason: 'empty' });
    else measured.push(t);
  }
  return { measured, skipped };
}

/**
 * NaN and infinite values of a tensor, counted from the raw bits (exponent all ones: NaN when the
 * mantissa is non-zero, else an infinity). Used only for tensors whose sums came out non-finite.
 */
export function countNonFinite(t: TensorInfo, chunkBytes = DEFAULT_CHUNK_BYTES): { nan: number; inf: number } {
  let nan = 0;
  let inf = 0;
  if (t.dtype === 'F32') {
    streamTensorRows(t, chunkBytes, (bytes) => {
      const u = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2) : new Uint32Array(bytes.slice().buffer);
      for (let i = 0; i < u.length; i++) {
        const v = u[i]!;
        if ((v & 0x7f800000) === 0x7f800000) v & 0x007fffff ? nan++ : inf++;
      }
    });
  } else if (t.dtype === 'F16' || t.dtype === 'BF16') {
    const exp = t.dtype === 'F16' ? 0x7c00 : 0x7f80;
    const mant = t.dtype === 'F16' ? 0x03ff : 0x007f;
    streamTensorRows(t, chunkBytes, (bytes) => {
      const u = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1) : new Uint16Array(bytes.slice().buffer);
      for (let i = 0; i < u.length; i++) {
        const v = u[i]!;
        if ((v & exp) === exp) v & mant ? nan++ : inf++;
      }
    });
  }
  return { nan, inf };
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1 NaN and 2 Inf" */
function nonFiniteText(c: { nan: number; inf: number }): string {
  return [c.nan ? `${c.nan} NaN` : '', c.inf ? `${c.inf} Inf` : ''].filter(Boolean).join(' and ');
}

/**
 * The error for a model with nothing to measure: names what the file holds instead, grouped by why
 * each tensor is not measured (a few names per group).
 */
function nothingToMeasure(model: SafetensorsModel, skipped: readonly SkippedTensor[]): RidgelineError {
  const expected = 'at least one 2-D F32, F16 or BF16 weight tensor to measure';
  if (skipped.length === 0) return inputError({ file: model.path, expected: `${expected}; the header lists no tensors` });
  const groups = new Map<string, string[]>();
  for (const t of skipped) {
    const key = t.nonFinite
      ? 'with NaN or Inf values'
      : t.shape.length !== 2
        ? 'not 2-D'
        : !(DECODED_DTYPES as readonly string[]).includes(t.dtype)
          ? `of dtype ${t.dtype}`
          : 'empty';
    const label = t.nonFinite ? `${t.name} has ${nonFiniteText(t.nonFinite)}` : t.shape.length !== 2 ? `${t.name}: ${t.shape.length}-D` : t.name;
    groups.set(key, [...(groups.get(key) ?? []), label]);
  }
  const parts = [...groups].map(([key, names]) => {
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
    return `${names.length} ${key} (${shown})`;
  });
  return inputError({ file: model.path, expected: `${expected}; found ${plural(skipped.length, 'tensor')}, none measurable: ${parts.join(', ')}` });
}

/** The format that orders the ranking: `--rank-by` when given (it must be measured), else int4-g128 when measured, else the first. */
function rankFormat(ids: readonly string[], rankBy?: string): string {
  const id = rankBy !== undefined ? weightFormat(rankBy, '--rank-by').id : ids.includes('int4-g128') ? 'int4-g128' : ids[0]!;
  if (!ids.includes(id)) throw weightFormatNotMeasured(id);
  return id;
}

export interface MeasurePlan {
  model: SafetensorsModel;
  formats: WeightFormat[];
  measured: TensorInfo[];
  skipped: SkippedTensor[];
}

/**
 * Everything checked before any tensor data is read (shared by every engine): the file, the formats,
 * `--rank-by`, and that at least one tensor can be measured.
 */
export function planMeasurement(path: string, opts: MeasureOptions = {}): MeasurePlan {
  const model = openSafetensors(path);
  const formats = resolveFormats(opts.formats);
  rankFormat(formats.map((f) => f.id), opts.rankBy);
  const { measured, skipped } = selectTensors(model);
  if (measured.length === 0) throw nothingToMeasure(model, skipped);
  return { model, formats, measured, skipped };
}

/** Resolves `--formats a,b` (ids or aliases) into catalog formats, with a clear error naming the bad one. */
export function resolveFormats(ids?: readonly string[]): WeightFormat[] {
  if (ids && ids.length === 0) throw inputError({ field: '--formats', expected: 'at least one format, e.g. int4,fp8' });
  const list = ids ?? DEFAULT_ERROR_FORMATS;
  const out: WeightFormat[] = [];
  for (const id of list) {
    const f = weightFormat(id, '--formats');
    if (!out.includes(f)) out.push(f);
  }
  return out;
}

/** Tensors with NaN or Inf named one note each; past this many, one note counts the rest. */
const MAX_NON_FINITE_NOTES = 10;

/** Builds the result object from per-tensor sums (shared by the CPU and GPU paths). */
export function assembleResult(
  model: SafetensorsModel,
  formats: readonly WeightFormat[],
  measured: readonly TensorInfo[],
  sums: readonly TensorSums[],
  skipped: SkippedTensor[],
  extra: { engine: string; timeS: number; rankBy?: string; notes?: string[] },
): QuantErrorResult {
  const ids = formats.map((f) => f.id);
  const notes = [...(extra.notes ?? [])];
  // Where the measured rounding departs from the format's own (llama.cpp's k-quants), say how.
  for (const f of formats) if (f.quantizerNote) notes.push(`${f.id}: ${f.quantizerNote}`);
  // A tensor holding NaN or Inf has no defined error: it moves to `skipped` with its counts, and the
  // rest of the model is still reported. The sums give it away at no cost (any NaN or Inf makes the
  // signal sum non-finite; finite float32 weights cannot overflow the float64 sums).
  const kept: number[] = [];
  let nonFinite = 0;
  skipped = [...skipped];
  measured.forEach((t, i) => {
    const s = sums[i]!;
    if (Number.isFinite(s.signal) && s.noise.every((v) => Number.isFinite(v))) return void kept.push(i);
    const c = countNonFinite(t);
    if (c.nan + c.inf === 0) {
      throw new RidgelineError(`${t.name}: the measured error is not finite although every weight is (an internal error in the ${extra.engine} engine)`, { exitCode: 1 });
    }
    const what = `${plural(c.nan + c.inf, 'non-finite value')} of ${t.elements} (${nonFiniteText(c)})`;
    skipped.push({ name: t.name, shape: t.shape, dtype: t.dtype, reason: `${what}: the quantization error is undefined`, nonFinite: c });
    if (++nonFinite <= MAX_NON_FINITE_NOTES) notes.push(`${t.name}: not measured: ${what}`);
  });
  if (nonFinite > MAX_NON_FINITE_NOTES) notes.push(`${nonFinite - MAX_NON_FINITE_NOTES} more tensor(s) with NaN or Inf values not measured; listed under "skipped"`);
  if (kept.length === 0) throw nothingToMeasure(model, skipped);
  if (kept.length < measured.length) {
    measured = kept.map((i) => measured[i]!);
    sums = kept.map((i) => sums[i]!);
  }
  // A format of scope `experts` leaves every tensor but the routed experts' in the model's dtype: no error there.
  const expertsOnly = formats.map((f) => f.scope === 'experts');
  if (expertsOnly.some(Boolean)) {
    sums = sums.map((s, i) => (isRoutedExpert(measured[i]!.name) ? s : { signal: s.signal, noise: s.noise.map((v, k) => (expertsOnly[k] ? 0 : v)) }));
    if (!measured.some((t) => isRoutedExpert(t.name))) {
      notes.push(`${ids.filter((_, k) => expertsOnly[k]).join(', ')}: no routed-expert tensor (\`.experts.\` in its name) among the 2-D tensors measured, so nothing is quantized (3-D expert tensors, as gpt-oss stores them, are not measured)`);
    }
  }
  const tensors: TensorError[] = measured.map((t, i) => {
    const errors: Record<string, FormatError> = {};
    ids.forEach((id, k) => (errors[id] = errorOf(sums[i]!.signal, sums[i]!.noise[k]!)));
    return { name: t.name, shape: t.shape, dtype: t.dtype, params: t.elements, role: tensorRole(t.name), errors };
  });
  const summary: QuantErrorResult['summary'] = {};
  ids.forEach((id, k) => {
    let sig = 0;
    let noi = 0;
    let params = 0;
    measured.forEach((t, i) => {
      if (tensors[i]!.role !== 'linear') return;
      sig += sums[i]!.signal;
      noi += sums[i]!.noise[k]!;
      params += t.elements;
    });
    summary[id] = { ...errorOf(sig, noi), params };
  });
  const rankedBy = rankFormat(ids, extra.rankBy);
  const ranking = tensors
    .filter((t) => t.role === 'linear')
    .map((t) => ({ name: t.name, sqnrDb: t.errors[rankedBy]!.sqnrDb }))
    .sort((a, b) => (a.sqnrDb ?? Infinity) - (b.sqnrDb ?? Infinity));
  return {
    path: model.path,
    files: model.files.map((f) => f.path),
    formats: ids,
    engine: extra.engine,
    tensors,
    skipped,
    summary,
    ranking,
    rankedBy,
    bytesRead: measured.reduce((a, t) => a + t.byteLength, 0),
    timeS: extra.timeS,
    notes,
  };
}

/** A routed expert's weight by its name (`...mlp.experts.3.up_proj.weight`; not `shared_experts`). */
export function isRoutedExpert(name: string): boolean {
  return /\.experts\./.test(name);
}

function weightFormatNotMeasured(id: string): Error {
  return inputError({ field: '--rank-by', expected: 'one of the measured --formats', got: id });
}

/** CPU path: the whole model, tensor by tensor. */
export function measureModelCpu(path: string, opts: MeasureOptions = {}): QuantErrorResult {
  const t0 = performance.now();
  const { model, formats, measured, skipped } = planMeasurement(path, opts);
  const kernels = formats.map((f) => makeKernel(f.quantizer));
  const sums = measured.map((t) => measureTensorCpu(t, formats, opts.chunkBytes, kernels));
  return assembleResult(model, formats, measured, sums, skipped, {
    engine: 'cpu',
    timeS: (performance.now() - t0) / 1000,
    rankBy: opts.rankBy,
  });
}

/** The worker script next to this module: the bundle's dist/quant-worker.js, or worker.ts under tsx. */
function workerScript(): string | null {
  const candidates = __filename.endsWith('.ts') ? [join(__dirname, 'worker.ts')] : [join(__dirname, 'quant-worker.js')];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/**
 * CPU path over worker threads: tensors go to the workers largest first, one at a time, so every core
 * streams and quantizes its own tensor (memory per worker: one chunk). Same kernels and sums as the
 * in-process path; with one thread, or without the worker script, it runs in this thread.
 */
export async function measureModel(path: string, opts: MeasureOptions = {}): Promise<QuantErrorResult> {
  const t0 = performance.now();
  const { model, formats, measured, skipped } = planMeasurement(path, opts);
  const script = opts.workerScript ?? workerScript();
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), measured.length));
  const notes: string[] = [];
  let sums: TensorSums[];
  if (threads <= 1 || !script) {
    if (!script && threads > 1) notes.push('worker script not found next to the bundle: measured in one thread');
    const kernels = formats.map((f) => makeKernel(f.quantizer));
    sums = measured.map((t) => measureTensorCpu(t, formats, opts.chunkBytes, kernels));
  } else {
    sums = await runWorkers(script, threads, measured, formats.map((f) => f.id), opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  }
  return assembleResult(model, formats, measured, sums, skipped, {
    engine: threads > 1 && script ? `cpu (${threads} threads)` : 'cpu',
    timeS: (performance.now() - t0) / 1000,
    rankBy: opts.rankBy,
    notes,
  });
}

function runWorkers(script: string, threads: number, tensors: readonly TensorInfo[], formats: string[], chunkBytes: number): Promise<TensorSums[]> {
  const order = tensors.map((_, i) => i).sort((a, b) => tensors[b]!.byteLength - tensors[a]!.byteLength);
  const out: TensorSums[] = new Array(tensors.length);
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    let next = 0;
    let done = 0;
    let failed = false;
    const finish = (err?: Error) => {
      if (failed) return;
      if (err) failed = true;
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve(out);
    };
    const feed = (w: Worker) => {
      if (next >= order.length) return;
      const index = order[next++]!;
      w.postMessage({ index, tensor: tensors[index], formats, chunkBytes });
    };
    for (let k = 0; k < threads; k++) {
      // From source (tests, benchmarks under tsx) the worker registers tsx's require hook itself:
      // loader hooks given to the parent with --import do not reach worker threads on Node 20.
      const w = script.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { eval: true })
        : new Worker(script);
      workers.push(w);
      w.on('message', (m: { index: number; signal?: number; noise?: number[]; error?: string; exitCode?: number }) => {
        if (m.error !== undefined) return finish(new RidgelineError(m.error, { exitCode: m.exitCode ?? 1 }));
        out[m.index] = { signal: m.signal!, noise: Float64Array.from(m.noise!) };
        if (++done === tensors.length) return finish();
        feed(w);
      });
      w.on('error', (e) => finish(e instanceof Error ? e : new Error(String(e))));
      feed(w);
    }
  });
}
