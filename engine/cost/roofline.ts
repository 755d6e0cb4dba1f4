import type { Dtype, Op, OpClass, Phase } from '../model/types';
import type { Device } from '../hardware/types';
import { allreduceCallLatencyS, type ClassEfficiency, type CostParams } from './params';

/**
 * The roofline of one op on one device, with real-kernel effects:
 *   compute time = flops x (padded m / m) / (peak[dtype] x efficiency.compute x dtype scale)
 *                  (routed-expert GEMMs: x params.moeGemmComputeScale in the denominator, and padded m / m
 *                  is the expected padded rows of every expert's Binomial share over the real rows)
 *   memory time  = bytes / (bandwidth x efficiency.memory)
 *   time         = max + overlap x min^2 / max (max, min: of compute and memory) + launches x launch overhead
 * `bound` is `overhead` when the launch term exceeds both others, else the larger of compute and memory.
 * Communication ops (tensor-parallel all-reduce) use a ring: 2 (N-1)/N x message bytes over the
 * interconnect (at the link's all-reduce efficiency: NVLink-class or PCIe) plus a latency per collective.
 */
export type { Bound } from '../analysis';
import type { Bound } from '../analysis';

export interface PeakChoice {
  /** Dtype whose peak is used. */
  dtype: Dtype;
  flopsPerS: number;
  /** Set when the device lacks the requested dtype: what runs instead. */
  note?: string;
}

/** Where each dtype falls back to when a device has no native peak for it. */
const FALLBACK: Record<Dtype, readonly Dtype[]> = {
  fp32: ['fp32', 'tf32', 'fp16', 'bf16'],
  tf32: ['tf32', 'fp32', 'fp16', 'bf16'],
  fp16: ['fp16', 'bf16', 'fp32'],
  bf16: ['bf16', 'fp16', 'fp32'],
  fp8: ['fp8', 'fp16', 'bf16', 'fp32'],
  fp4: ['fp4', 'fp8', 'fp16', 'bf16', 'fp32'],
  int8: ['int8', 'fp16', 'bf16', 'fp32'],
  int4: ['int4', 'int8', 'fp16', 'bf16', 'fp32'],
};

/** The peak FLOP/s an op computing in `dtype` gets on `device`, falling back (and saying so) when absent. */
export function peakFor(device: Device, dtype: Dtype): PeakChoice {
  for (const d of FALLBACK[dtype]) {
    const v = device.peakFlopsPerS[d];
    if (v !== undefined && v > 0) {
      return d === dtype ? { dtype: d, flopsPerS: v } : { dtype: d, flopsPerS: v, note: `${device.id} has no native ${dtype}: ${dtype} ops run at the ${d} peak` };
    }
  }
  // Unreached for a validated device (it has one of fp32/fp16/bf16, which ends every list); take the largest.
  let best: Dtype = 'fp32';
  let v = 0;
  for (const [k, x] of Object.entries(device.peakFlopsPerS)) if ((x ?? 0) > v) { v = x!; best = k as Dtype; }
  return { dtype: best, flopsPerS: v, note: `${device.id} has no native ${dtype}: ${dtype} ops run at the ${best} peak` };
}

/**
 * The peak a GEMM or attention kernel computing at `peak` runs against: an engine that accumulates 16-bit GEMMs
 * in fp16 gets the device's fp16-accumulate rate where it lists a higher one (GeForce cards).
 */
export function matmulPeakFlopsPerS(device: Device, peak: PeakChoice, params: Pick<CostParams, 'fp16AccumulateGemm'>): number {
  if (params.fp16AccumulateGemm && peak.dtype === 'fp16') {
    const acc = device.fp16AccumulateFlopsPerS;
    if (acc !== undefined && acc > peak.flopsPerS) return acc;
  }
  return peak.flopsPerS;
}

/** m padded up to the smallest GEMM tile that covers it (multiples of the largest tile above it). */
export function paddedM(m: number, tiles: readonly number[]): number {
  if (!(m > 0)) return m;
  for (const t of tiles) if (m <= t) return t;
  const last = tiles[tiles.length - 1] ?? 1;
  return Math.ceil(m / last) * last;
}

/** ln(k!) exactly below 32, by Stirling's series above (relative error < 1e-12). */
const LOG_FACT_SMALL: number[] = (() => {
  const t = [0];
  for (let k = 1; k < 32; k++) t.push(t[k - 1]! + Math.log(k));
  return t;
})();
function logFactorial(k: number): number {
  if (k < 32) return LOG_FACT_SMALL[k]!;
  const inv = 1 / k;
  const inv2 = inv * inv;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

const paddedRowsCache = new Map<string, { tiles: readonly number[]; rows: number }>();

/**
 * Expected padded rows of a routed-expert GEMM, summed over its experts. Each of `tokens` tokens picks topK of
 * `experts` uniformly, so one expert receives X ~ Binomial(tokens, topK / experts) rows and computes
 * paddedM(X) of them (none when X = 0): the rows are never split evenly, and the experts above a tile boundary
 * pad to the next tile. Mixtral's 128-token prefill (top 2 of 8) has 32 rows per expert on average, yet an
 * expert gets more than 32 (and pads to 48 or more) with probability 0.46. The pmf is summed from its mode outwards
 * until its terms fall below 1e-13 of the mode's. Past the largest tile, with a spread of at least half of it,
 * the rows' remainders are uniform: the expectation is then the mean plus (tile - 1) / 2 rows.
 */
export function expectedPaddedRows(experts: number, topK: number, tokens: number, tiles: readonly number[]): number {
  if (!(tokens > 0)) return 0;
  if (topK >= experts) return experts * paddedM(tokens, tiles);
  const p = topK / experts;
  const mean = tokens * p;
  const sd = Math.sqrt(mean * (1 - p));
  const last = tiles[tiles.length - 1] ?? 1;
  if (sd >= last / 2 && mean - 8 * sd > last) return experts * (mean + (last - 1) / 2);
  const key = `${experts}|${topK}|${tokens}`;
  const hit = paddedRowsCache.get(key);
  if (hit !== undefined && hit.tiles === tiles) return hit.rows;
  const mode = Math.min(tokens, Math.floor((tokens + 1) * p));
  const pMode = Math.exp(logFactorial(tokens) - logFactorial(mode) - logFactorial(tokens - mode) + mode * Math.log(p) + (tokens - mode) * Math.log1p(-p));
  const odds = p / (1 - p);
  let sum = pMode * paddedM(mode, tiles);
  let pmf = pMode;
  for (let x = mode + 1; x <= tokens; x++) {
    pmf *= ((tokens - x + 1) / x) * odds;
    if (pmf < 1e-13 * pMode) break;
    sum += pmf * paddedM(x, tiles);
  }
  pmf = pMode;
  for (let x = mode - 1; x >= 1; x--) {
    pmf *= (x + 1) / ((tokens - x) * odds);
    if (pmf < 1e-13 * pMode) break;
    sum += pmf * paddedM(x, tiles);
  }
  const rows = experts * sum;
  if (paddedRowsCache.size >= 4096) paddedRowsCache.clear();
  paddedRowsCache.set(key, { tiles, rows });
  return rows;
}

export interface OpCost {
  /** Output row name: the op name, or `flash_attention` for a fused attention kernel. */
  name: string;
  phase: Phase;
  /** Layers the row covers; `layer` is set when it is one layer. */
  layers: number;
  layer?: number;
  /** The layer group of a model with several (Op.layerGroup): "window 4096", "full attention", "MoE", ... */
  layerGroup?: string;
  opClass: OpClass;
  computeDtype: Dtype;
  /** Dtype of the peak actually used. */
  peakDtype: Dtype;
  flops: number;
  bytes: number;
  /** FLOPs per byte (flops / bytes; 0 when no bytes). */
  intensity: number;
  /** The roofline ceiling at this intensity with the class efficiencies: min(peak, intensity x bandwidth). */
  attainableFlopsPerS: number;
  computeS: number;
  memoryS: number;
  overheadS: number;
  /** Time of a dequantization pass before the kernel (weights into a 16-bit buffer), when there is one. */
  dequantPassS?: number;
  timeS: number;
  bound: Bound;
  launches: number;
  /** Names of ops fused into this kernel. */
  fused?: string[];
}

/** Vendors whose GPUs the cost model gives matrix units (NVIDIA tensor cores, AMD matrix cores). */
export const MATRIX_UNIT_VENDORS: readonly string[] = ['nvidia', 'amd'];

/** True when `dtype` GEMMs run on matrix units that compute whole tiles (NVIDIA tensor cores, AMD matrix cores). */
export function matrixUnits(device: Device, dtype: Dtype): boolean {
  if (device.measured) return false;
  if (!MATRIX_UNIT_VENDORS.includes(device.vendor)) return false;
  return dtype !== 'fp32';
}

/** Context the roofline needs besides the op: the device, parameters and the tensor-parallel degree. */
export interface CostContext {
  device: Device;
  params: CostParams;
  tp: number;
  /** Per-direction link bandwidth used for all-reduce (the device's interconnect, or a stated fallback). */
  linkBytesPerS: number;
  /** Fraction of linkBytesPerS a ring all-reduce reaches (default: params.efficiency.comm.memory). */
  linkEfficiency?: number;
  /** Filled with fallback notes (deduplicated by the caller). */
  notes: Set<string>;
  /** Force GEMM tile padding on or off (default: on for matrix units, see matrixUnits). */
  padGemm?: boolean;
  /** Peaks already looked up, per dtype (filled by the cost model). */
  peaks?: Partial<Record<Dtype, PeakChoice>>;
}

/** Numeric result of one kernel, filled in place (no allocation on hot paths). */
interface KernelEval {
  flops: number;
  bytes: number;
  computeS: number;
  memoryS: number;
  overheadS: number;
  /** A serial pre-pass of the kernel (weights dequantized into a buffer first), outside the overlap. */
  dequantPassS: number;
  timeS: number;
  launches: number;
  peakEff: number;
  bwEff: number;
  peakDtype: Dtype;
  bound: Bound;
}

function newEval(): KernelEval {
  return { flops: 0, bytes: 0, computeS: 0, memoryS: 0, overheadS: 0, dequantPassS: 0, timeS: 0, launches: 0, peakEff: 0, bwEff: 0, peakDtype: 'fp16', bound: 'memory' };
}

/**
 * Rows of a GEMM row tile for weight dequantization: each thread block dequantizes the weight tile it loads,
 * once per block row, so a prefill of M rows dequantizes every weight ceil(M / 64) times. 64 rows is the
 * block height of Marlin-style W4A16 kernels (vLLM's gptq_marlin: at most 4 blocks of 16 rows per thread
 * block, larger batches loop over 64-row slices).
 */
const DEQUANT_TILE_M = 64;

/**
 * Without matrix units (Apple GPUs, a measured WebGPU device, CPUs, fp32 GEMMs anywhere) the GEMM's
 * multiply-adds and the weight dequantization share the same ALUs, and the kernels tile differently.
 * llama.cpp's Metal prompt GEMM (kernel_mul_mm: BLOCK_SIZE_M 64 weight rows x BLOCK_SIZE_N 32 tokens per
 * threadgroup) dequantizes every weight once per 32 tokens, and each dequantized weight also goes through two
 * conversions besides its scale arithmetic: the integer code to float, and the float to the 16-bit operand of
 * the multiply (its dequantize_q4_0: mask, convert, multiply-add, convert; dequantize_q8_0: convert, multiply,
 * convert). Two issue slots are 4 FLOPs of the fp32 peak, which counts a multiply-add as 2.
 */
const SIMD_DEQUANT_TILE_M = 32;
const SIMD_CONVERT_FLOPS_PER_WEIGHT = 4;
/**
 * llama.cpp takes that GEMM only above 8 rows (ne11_mm_min = 8); up to 8 its matrix-vector kernels fold the
 * scale into the dot product and dequantize each weight once, as the tensor-core path counts it.
 */
const SIMD_GEMM_MIN_ROWS = 9;
/**
 * A block-rescaling quantized GEMM (params.blockRescaleGemm) multiplies 32-wide blocks of k as integers; per output
 * element and block it converts the integer sum to float (1 flop), multiplies it by one block's scale (1) and adds
 * it, times the other block's scale, into the sum (a fused multiply-add, 2): 4 flops on the vector units (llama.cpp
 * mmq.cuh, vec_dot_q8_0_q8_1_mma: sum += C * dA * dB).
 */
const RESCALE_BLOCK_K = 32;
const BLOCK_RESCALE_FLOPS = 4;

/**
 * How a quantized GEMM of more than 8 rows on matrix units takes its weights: through a 16-bit buffer written by
 * a pass of its own (params.dequantizeToBuffer; also blockRescaleGemm on a device without int8 matrix units, where
 * llama.cpp sends such prompts to cuBLAS), as int8 blocks each rescaled (params.blockRescaleGemm), or dequantized
 * inside the kernel's main loop (the defaults).
 */
export type QuantizedGemmPath = 'buffer' | 'int8-blocks' | 'in-kernel';

export function quantizedGemmPath(params: Pick<CostParams, 'dequantizeToBuffer' | 'blockRescaleGemm'>, device: Device): QuantizedGemmPath {
  if (params.dequantizeToBuffer) return 'buffer';
  if (params.blockRescaleGemm) return device.peakFlopsPerS.int8 !== undefined ? 'int8-blocks' : 'buffer';
  return 'in-kernel';
}

/** The one evaluation every caller fills and reads before the next kernel (single-threaded, no re-entry). */
const scratch = newEval();

/**
 * The roofline of ops[i0..i1): ops[i0] launches the kernel, the rest run inside it (fusedInto). Flops and
 * bytes are summed, the roofline applied once, the launch overhead counted per launch of the host.
 */
function evalKernel(ops: readonly Op[], i0: number, i1: number, ctx: CostContext, out: KernelEval): KernelEval {
  const host = ops[i0]!;
  const params = ctx.params;
  let flops = 0;
  let bytes = 0;
  let padFlops = 0;
  let dequantTileFlops = 0;
  let launches = 0;
  let message = 0;
  // Weights dequantized into a 16-bit buffer by a kernel of their own before the GEMM (params.dequantizeToBuffer).
  let passBytes = 0;
  let passFlops = 0;
  let passLaunches = 0;
  // A quantized GEMM that dequantizes inside the kernel on matrix units (params.quantizedGemmComputeScale), and
  // whether it runs as int8 blocks (quantizedGemmPath).
  let quantizedOnUnits = false;
  let int8Blocks = false;
  // Quantized weights read by a matrix-vector kernel (up to SIMD_GEMM_MIN_ROWS rows): at
  // params.quantizedWeightMemoryScale of the bandwidth.
  let quantizedMatVec = false;
  // Only matrix units (tensor cores, AMD matrix cores) compute whole tiles; SIMD/GEMV paths do not pad.
  const tiles = params.gemmTileM;
  const onMatrixUnits = matrixUnits(ctx.device, host.computeDtype);
  const pad = ctx.padGemm ?? onMatrixUnits;
  // An 8-bit (or 4-bit) GEMM on a device without that dtype runs at a wider peak: both operands are converted
  // in the main loop, each weight tile once per row tile and each activation tile once per column tile.
  const dt = host.computeDtype;
  const convert = host.opClass === 'gemm' && (dt === 'fp8' || dt === 'fp4' || dt === 'int8' || dt === 'int4') && cachedPeak(ctx, dt).dtype !== dt;
  // A decode attention kernel without K/V sharing reloads each cached K/V head once per query head of its group;
  // params.kvReloadDramFraction of those repeats reach DRAM (the rest hit L2).
  const perHeadKv = !params.groupedDecodeAttention && host.phase === 'decode' && host.opClass === 'attention';
  const reload = params.kvReloadDramFraction;
  for (let i = i0; i < i1; i++) {
    const op = ops[i]!;
    const b = op.bytes;
    // Model FLOPs (2 per multiply-add): the dequantization of quantized weights is priced below, on the vector
    // units, but is not the model's work; counted in it, a 4-bit decode step read twice the FLOPs and MFU of 16-bit.
    flops += op.flops - (op.dequantFlops ?? 0);
    bytes += b.weights + b.actIn + b.actOut + b.kvWrite + (perHeadKv ? b.kvRead * (1 + ((op.kvGroup ?? 1) - 1) * reload) : b.kvRead);
    launches += op.launches;
    message += b.actIn > b.actOut ? b.actIn : b.actOut;
    const s = op.shape;
    const m = s.m;
    const dq = op.dequantFlops ?? 0;
    const tensorFlops = op.flops - dq;
    if (pad && op.opClass === 'gemm' && m > 0) {
      const r = op.routing;
      padFlops += r ? tensorFlops * (expectedPaddedRows(r.experts, r.topK, r.tokens, tiles) / (r.tokens * r.topK)) : tensorFlops * (paddedM(m, tiles) / m);
    } else padFlops += tensorFlops;
    // Each row tile of the GEMM dequantizes its own copy of the weight tile.
    if (dq > 0) {
      const path = onMatrixUnits && m >= SIMD_GEMM_MIN_ROWS ? quantizedGemmPath(params, ctx.device) : null;
      if (path === 'buffer') {
        // The pass reads the packed weights and writes 16-bit ones; the GEMM reads those instead.
        const w16 = s.n * s.k * op.count * op.layers * 2;
        passBytes += b.weights + w16;
        passFlops += dq;
        passLaunches += op.launches;
        bytes += w16 - b.weights;
      } else if (pad || m < SIMD_GEMM_MIN_ROWS) {
        if (m < SIMD_GEMM_MIN_ROWS) quantizedMatVec = true;
        dequantTileFlops += dq * Math.ceil(m / DEQUANT_TILE_M);
        if (path !== null) {
          quantizedOnUnits = true;
          if (path === 'int8-blocks') {
            int8Blocks = true;
            dequantTileFlops += BLOCK_RESCALE_FLOPS * m * s.n * Math.ceil(s.k / RESCALE_BLOCK_K) * op.count * op.layers;
          }
        }
      } else dequantTileFlops += (dq + SIMD_CONVERT_FLOPS_PER_WEIGHT * s.n * s.k * op.count * op.layers) * Math.ceil(m / SIMD_DEQUANT_TILE_M);
    }
    if (convert && m > 0) {
      const per = op.count * op.layers;
      dequantTileFlops += per * (s.n * s.k * Math.ceil(m / DEQUANT_TILE_M) + m * s.k * Math.ceil(s.n / DEQUANT_TILE_M));
    }
  }
  if (i1 - i0 > 1 && host.opClass === 'attention' && !params.fusedAttention) {
    // Unfused: every fused member becomes its own kernel, and the scores/probabilities go through memory:
    // QK^T writes S, softmax reads S and writes P, PV reads P: 4 passes over m x n x count per layer.
    bytes += 4 * host.shape.m * host.shape.n * host.count * host.layers * params.scoreBytesPerElement;
    // Each of those kernels computes the whole m x n score matrix and masks it afterwards (a batched GEMM, then
    // a masked softmax: HF's eager attention, ggml's mul_mat + soft_max_ext, FasterTransformer's unfused context
    // attention), where a fused kernel skips the tiles above the causal diagonal: the graph counts the causal
    // (query, key) pairs, host.flops / (2 x heads x head dim x layers) of them.
    const pairs = host.flops / (2 * host.count * host.shape.k * host.layers);
    const square = host.shape.m * host.shape.n;
    if (pairs > 0 && square > pairs) {
      flops *= square / pairs;
      padFlops *= square / pairs;
    }
    launches += (i1 - i0 - 1) * host.layers;
  }
  const cls = host.opClass;
  const eff = classEfficiency(params, cls);
  out.flops = flops;
  out.bytes = bytes;
  out.launches = launches;
  if (cls === 'comm') {
    const n = ctx.tp > 1 ? ctx.tp : 1;
    const linkBw = ctx.linkBytesPerS * (ctx.linkEfficiency ?? eff.memory);
    out.computeS = 0;
    out.memoryS = n > 1 ? ((2 * (n - 1)) / n) * message / linkBw : 0;
    out.overheadS = launches * allreduceCallLatencyS(params, n);
    out.dequantPassS = 0;
    out.timeS = out.memoryS + out.overheadS;
    out.peakEff = 0;
    out.bwEff = linkBw;
    out.peakDtype = host.computeDtype;
    out.bound = 'comm';
    return out;
  }
  // A block-rescaling GEMM runs its main loop on the int8 matrix units.
  const peak = cachedPeak(ctx, int8Blocks ? 'int8' : host.computeDtype);
  const matmul = cls === 'gemm' || cls === 'attention';
  const peakFlops = matmul && !int8Blocks ? matmulPeakFlopsPerS(ctx.device, peak, params) : peak.flopsPerS;
  const scale = matmul ? params.dtypeComputeScale[peak.dtype] ?? 1 : 1;
  const moe = host.routing !== undefined ? params.moeGemmComputeScale : 1;
  const unit = matmul && onMatrixUnits ? params.matrixUnitComputeScale : 1;
  const quant = quantizedOnUnits ? params.quantizedGemmComputeScale : 1;
  const peakEff = peakFlops * eff.compute * scale * moe * unit * quant;
  const bwEff = ctx.device.memoryBandwidthBytesPerS * eff.memory * (quantizedMatVec ? params.quantizedWeightMemoryScale : 1);
  // Dequantization runs on the vector units (CUDA cores / SIMD), not the matrix units: the fp32 peak.
  const vectorFlopsPerS = ctx.device.peakFlopsPerS.fp32 ?? peak.flopsPerS;
  const computeS = padFlops / peakEff + (dequantTileFlops > 0 ? dequantTileFlops / (vectorFlopsPerS * eff.compute) : 0);
  const memoryS = bytes / bwEff;
  const overheadS = launches * params.launchOverheadS;
  let passS = 0;
  if (passBytes > 0) {
    const ew = classEfficiency(params, 'elementwise');
    const passMemS = passBytes / (ctx.device.memoryBandwidthBytesPerS * ew.memory);
    const passComputeS = passFlops / (vectorFlopsPerS * ew.compute);
    passS = overlapTimeS(passComputeS, passMemS, params.overlap) + passLaunches * params.launchOverheadS;
    out.bytes = bytes + passBytes;
  }
  out.computeS = computeS;
  out.memoryS = memoryS;
  out.overheadS = overheadS;
  out.dequantPassS = passS;
  out.timeS = overlapTimeS(computeS, memoryS, params.overlap) + passS + overheadS;
  out.peakEff = peakEff;
  out.bwEff = bwEff;
  out.peakDtype = peak.dtype;
  out.bound = boundOf(computeS, memoryS, overheadS);
  return out;
}

/** What limits a kernel: launch overhead above both roofs, else the larger of its compute and memory times. */
function boundOf(computeS: number, memoryS: number, overheadS: number): Bound {
  return overheadS > (computeS > memoryS ? computeS : memoryS) ? 'overhead' : computeS >= memoryS ? 'compute' : 'memory';
}

/**
 * A kernel's time from its compute and memory times: max + overlap x min^2 / max. The overlap loss is largest
 * at the ridge (compute = memory) and vanishes away from it. Shared by the roofline and the decode-step lines.
 */
export function overlapTimeS(computeS: number, memoryS: number, overlap: number): number {
  return computeS > memoryS ? computeS + (overlap * memoryS * memoryS) / computeS : memoryS > 0 ? memoryS + (overlap * computeS * computeS) / memoryS : 0;
}

/** params.efficiency[cls] with named loads (a load keyed by a varying string takes the generic path). */
function classEfficiency(params: CostParams, cls: OpClass): ClassEfficiency {
  const e = params.efficiency;
  switch (cls) {
    case 'gemm':
      return e.gemm;
    case 'attention':
      return e.attention;
    case 'elementwise':
      return e.elementwise;
    case 'norm':
      return e.norm;
    default:
      return e.comm;
  }
}

/** peakFor, once per context and dtype (the hot loops evaluate thousands of kernels). */
function cachedPeak(ctx: CostContext, dtype: Dtype): PeakChoice {
  const cache = (ctx.peaks ??= {});
  let p = cache[dtype];
  if (!p) {
    p = peakFor(ctx.device, dtype);
    if (p.note) ctx.notes.add(p.note);
    cache[dtype] = p;
  }
  return p;
}

/** Index one past the kernel that starts at ops[i0] (ops fused into it follow it in the graph). */
export function kernelEnd(ops: readonly Op[], i0: number): number {
  const host = ops[i0]!;
  let i = i0 + 1;
  while (i < ops.length && ops[i]!.fusedInto === host.name && ops[i]!.layers === host.layers && ops[i]!.layer === host.layer) i++;
  return i;
}

/** Costs one kernel: `ops[0]` launches it, the rest run inside it. */
export function costKernel(ops: readonly Op[], ctx: CostContext): OpCost {
  return costRange(ops, 0, ops.length, ctx);
}

/**
 * The roofline terms of the kernel ops[i0..i1) (see kernelEnd), in a scratch object that the next call
 * overwrites: read it before costing another kernel.
 */
export function kernelTimes(ops: readonly Op[], i0: number, i1: number, ctx: CostContext): Readonly<Pick<KernelEval, 'computeS' | 'memoryS' | 'overheadS' | 'dequantPassS' | 'timeS'>> {
  return evalKernel(ops, i0, i1, ctx, scratch);
}

/** costKernel of the kernel ops[i0..i1) without copying the ops out. */
function costRange(ops: readonly Op[], i0: number, i1: number, ctx: CostContext): OpCost {
  return opCost(ops, i0, i1, ctx, evalKernel(ops, i0, i1, ctx, scratch));
}

/** The result row of kernel ops[i0..i1) from its evaluation. */
function opCost(ops: readonly Op[], i0: number, i1: number, ctx: CostContext, e: KernelEval): OpCost {
  const host = ops[i0]!;
  const fusedAttention = i1 - i0 > 1 && host.opClass === 'attention';
  const intensity = e.bytes > 0 ? e.flops / e.bytes : 0;
  const out: OpCost = {
    name: fusedAttention ? (ctx.params.fusedAttention ? 'flash_attention' : 'attention_unfused') : host.name,
    phase: host.phase,
    layers: host.layers,
    opClass: host.opClass,
    computeDtype: host.computeDtype,
    peakDtype: e.peakDtype,
    flops: e.flops,
    bytes: e.bytes,
    intensity,
    attainableFlopsPerS: host.opClass === 'comm' ? 0 : e.bytes > 0 ? Math.min(e.peakEff, intensity * e.bwEff) : e.peakEff,
    computeS: e.computeS,
    memoryS: e.memoryS,
    overheadS: e.overheadS,
    timeS: e.timeS,
    bound: e.bound,
    launches: e.launches,
  };
  if (host.layer !== undefined) out.layer = host.layer;
  if (host.layerGroup !== undefined) out.layerGroup = host.layerGroup;
  if (e.dequantPassS > 0) out.dequantPassS = e.dequantPassS;
  if (i1 - i0 > 1) {
    const fused: string[] = [];
    for (let i = i0; i < i1; i++) fused.push(ops[i]!.name);
    out.fused = fused;
  }
  return out;
}

/**
 * The context for forward passes over `sequences` sequences: the host work per pass (forwardOverheadS) then
 * includes params.sequenceOverheadS for each of them. The same context when that is zero.
 */
export function forSequences(ctx: CostContext, sequences: number): CostContext {
  const perSequenceS = ctx.params.sequenceOverheadS;
  if (!(perSequenceS > 0)) return ctx;
  return { ...ctx, params: { ...ctx.params, forwardOverheadS: ctx.params.forwardOverheadS + perSequenceS * sequences } };
}

/** The per-forward-pass host overhead as a row of its own (scheduling, sampling, synchronization). */
function hostRow(ctx: CostContext, phase: Phase): OpCost {
  const t = ctx.params.forwardOverheadS;
  return {
    name: 'host_overhead', phase, layers: 1, opClass: 'elementwise', computeDtype: 'fp32', peakDtype: 'fp32', flops: 0, bytes: 0, intensity: 0,
    attainableFlopsPerS: 0, computeS: 0, memoryS: 0, overheadS: t, timeS: t, bound: 'overhead', launches: 0,
  };
}

/** Total time of one forward pass (a graph's ops plus the host overhead), without per-op results. */
export function stepTimeS(ops: readonly Op[], ctx: CostContext): number {
  let t = ctx.params.forwardOverheadS;
  for (let i = 0; i < ops.length; ) {
    const j = kernelEnd(ops, i);
    t += evalKernel(ops, i, j, ctx, scratch).timeS;
    i = j;
  }
  return t;
}

/** Totals of a graph's ops for the batch sweep: time, time by bound, GEMM compute and memory time. */
export function stepSummary(ops: readonly Op[], ctx: CostContext): { timeS: number; byBound: Record<Bound, number>; gemmComputeS: number; gemmMemoryS: number } {
  const byBound: Record<Bound, number> = { compute: 0, memory: 0, overhead: ctx.params.forwardOverheadS, comm: 0 };
  let t = ctx.params.forwardOverheadS;
  let gc = 0;
  let gm = 0;
  for (let i = 0; i < ops.length; ) {
    const j = kernelEnd(ops, i);
    const e = evalKernel(ops, i, j, ctx, scratch);
    t += e.timeS;
    addTime(byBound, e.bound, e.timeS);
    if (ops[i]!.opClass === 'gemm') {
      gc += e.computeS;
      gm += e.memoryS;
    }
    i = j;
  }
  return { timeS: t, byBound, gemmComputeS: gc, gemmMemoryS: gm };
}

/** byBound[bound] += t, with named stores (a store keyed by a varying string is the slow, generic path). */
export function addTime(byBound: Record<Bound, number>, bound: Bound, t: number): void {
  switch (bound) {
    case 'compute':
      byBound.compute += t;
      break;
    case 'memory':
      byBound.memory += t;
      break;
    case 'overhead':
      byBound.overhead += t;
      break;
    default:
      byBound.comm += t;
  }
}

/** Groups a graph's ops into kernels (an op plus the ops fused into it, which follow it), in graph order. */
export function kernels(ops: readonly Op[]): Op[][] {
  const out: Op[][] = [];
  for (let i = 0; i < ops.length; ) {
    const j = kernelEnd(ops, i);
    out.push(ops.slice(i, j));
    i = j;
  }
  return out;
}

/** One forward pass of a multi-pass phase and how many times it counts. */
export interface WeightedPass {
  ops: readonly Op[];
  weight: number;
}

/**
 * Forward passes of one graph structure (the chunks of a chunked prefill), costed and summed kernel by kernel,
 * each pass counted `weight` times; then the host overhead of every pass in one row. The pass with the most
 * kernels (the last chunk: it also reads a cached prefix and computes the output head) gives the rows and their
 * order; every other pass's kernels must be among them (matched by position, else by name and occurrence).
 */
export function costPasses(passes: readonly WeightedPass[], ctx: CostContext): OpCost[] {
  let t = -1;
  passes.forEach((p, j) => {
    if (t < 0 || p.ops.length > passes[t]!.ops.length) t = j;
  });
  if (t < 0) return [];
  const tOps = passes[t]!.ops;
  const tStarts: number[] = [];
  const tNames: string[] = [];
  const sums: KernelEval[] = [];
  for (let i = 0; i < tOps.length; ) {
    const end = kernelEnd(tOps, i);
    tStarts.push(i);
    tNames.push(tOps[i]!.name);
    sums.push(newEval());
    i = end;
  }
  let keyed: Map<string, number> | null = null;
  let passCount = 0;
  for (const p of passes) {
    const widest = p === passes[t];
    passCount += p.weight;
    const w = p.weight;
    const ops = p.ops;
    // Usually a pass lines up with the widest one kernel for kernel (it only lacks the output head at the end);
    // where it does not (a kernel missing in between), kernels are matched by name and occurrence.
    let seen: Map<string, number> | null = null;
    for (let i = 0, k = 0; i < ops.length; k++) {
      const end = kernelEnd(ops, i);
      const name = ops[i]!.name;
      let at = k;
      if (seen || tNames[k] !== name) {
        if (!seen) {
          seen = new Map();
          for (let q = 0; q < k; q++) seen.set(tNames[q]!, (seen.get(tNames[q]!) ?? 0) + 1);
        }
        keyed ??= occurrenceIndex(tNames);
        const n = seen.get(name) ?? 0;
        seen.set(name, n + 1);
        const hit = keyed.get(`${name}#${n}`);
        if (hit === undefined) throw new Error(`costPasses: kernel ${name} #${n} is missing from the widest pass`);
        at = hit;
      }
      const e = evalKernel(ops, i, end, ctx, scratch);
      const sum = sums[at]!;
      sum.flops += w * e.flops;
      sum.bytes += w * e.bytes;
      sum.computeS += w * e.computeS;
      sum.memoryS += w * e.memoryS;
      sum.overheadS += w * e.overheadS;
      sum.dequantPassS += w * e.dequantPassS;
      sum.timeS += w * e.timeS;
      sum.launches += w * e.launches;
      if (widest) {
        // The rows' roofs, dtype and comm bound come from the pass that names them.
        sum.peakEff = e.peakEff;
        sum.bwEff = e.bwEff;
        sum.peakDtype = e.peakDtype;
        sum.bound = e.bound;
      }
      i = end;
    }
  }
  const out: OpCost[] = [];
  sums.forEach((sum, k) => {
    if (sum.bound !== 'comm') sum.bound = boundOf(sum.computeS, sum.memoryS, sum.overheadS);
    const i0 = tStarts[k]!;
    out.push(opCost(tOps, i0, kernelEnd(tOps, i0), ctx, sum));
  });
  if (ctx.params.forwardOverheadS > 0 && tOps.length > 0) {
    const h = hostRow(ctx, tOps[0]!.phase);
    h.overheadS *= passCount;
    h.timeS *= passCount;
    out.push(h);
  }
  return out;
}

/** Kernel names keyed by name and occurrence (`name#n`), to their index. */
function occurrenceIndex(names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Map<string, number>();
  names.forEach((name, k) => {
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    out.set(`${name}#${n}`, k);
  });
  return out;
}

/** Costs every kernel of one forward pass, then the host overhead row (`host_overhead`) when non-zero. */
export function costOps(ops: readonly Op[], ctx: CostContext): OpCost[] {
  const out: OpCost[] = [];
  for (let i = 0; i < ops.length; ) {
    const j = kernelEnd(ops, i);
    out.push(costRange(ops, i, j, ctx));
    i = j;
  }
  if (ctx.params.forwardOverheadS > 0 && ops.length > 0) out.push(hostRow(ctx, ops[0]!.phase));
  return out;
}
