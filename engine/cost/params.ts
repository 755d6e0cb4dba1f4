import type { Dtype, OpClass } from '../model/types';
import type { Device } from '../hardware/types';
import { inputError } from '../errors';
import defaults from './defaults.json';

/** Fractions of datasheet peak (compute) and datasheet bandwidth (memory) one op class reaches. */
export interface ClassEfficiency {
  compute: number;
  memory: number;
}

/**
 * Everything the roofline needs beyond the op and the device. Defaults live in engine/cost/defaults.json,
 * each with its source; a measured device replaces the efficiencies and the launch overhead.
 */
export interface CostParams {
  efficiency: Record<OpClass, ClassEfficiency>;
  /** Extra factor on compute efficiency of GEMM/attention when they compute in this dtype. */
  dtypeComputeScale: Partial<Record<Dtype, number>>;
  /**
   * Extra factor on the compute efficiency of routed-expert GEMMs (MoE): grouped GEMMs gather each expert's
   * tokens and run unequal per-expert tiles, and reach less of the peak than one dense GEMM of the same FLOPs.
   */
  moeGemmComputeScale: number;
  /** Seconds per kernel launch. */
  launchOverheadS: number;
  /** time = max(compute, memory) + overlap x min^2 / max: the overlap loss is largest at the ridge. */
  overlap: number;
  /** Tile heights a GEMM's m is padded up to (ascending); above the last, multiples of the last. */
  gemmTileM: number[];
  /** Seconds of host work per forward pass (scheduling, sampling, synchronization), not hidden by the GPU. */
  forwardOverheadS: number;
  /**
   * Seconds of host work per sequence in a forward pass, on top of forwardOverheadS: an engine that rebuilds
   * every sequence's inputs (block table, positions, sampling state) in Python each step waits this long per
   * sequence of the batch (vLLM's V0 engine). 0: input preparation independent of the batch (C++ runtimes,
   * vLLM V1's persistent batch).
   */
  sequenceOverheadS: number;
  /** Seconds per all-reduce call (latency term), before the per-step term. */
  allreduceLatencyS: number;
  /** Seconds each step of an all-reduce adds to its latency: a ring over N devices passes 2(N-1) steps. */
  allreduceStepLatencyS: number;
  /**
   * Fraction of the per-direction link bandwidth a ring all-reduce reaches over PCIe (no NVLink): the host's
   * root complex and memory bound it. NVLink-class links use efficiency.comm.memory.
   */
  pcieCommEfficiency: number;
  /** True: attention runs as one fused kernel (FlashAttention); false: scores go through memory. */
  fusedAttention: boolean;
  /**
   * True: a decode attention kernel loads each K/V head once for all the query heads that share it (grouped-query
   * kernels: TensorRT-LLM XQA, FlashDecoding, FlashInfer); false: every query head reloads its K/V head, so a
   * grouped-query model reads its cache heads/kvHeads times per step (masked multi-head attention kernels of
   * FasterTransformer and TensorRT-LLM before XQA, v0.8).
   */
  groupedDecodeAttention: boolean;
  /**
   * Without K/V sharing (groupedDecodeAttention false), the share of the repeated K/V reads (each query head after
   * the first of its group) that reach DRAM; the rest hit L2, as the blocks of a group run side by side. A step
   * then reads the cache 1 + (heads/kvHeads - 1) x this times. 1: every repeat from DRAM.
   */
  kvReloadDramFraction: number;
  /** Bytes per element of the materialized score/probability matrices (unfused attention). */
  scoreBytesPerElement: number;
  /**
   * Most prompt tokens of one prefill forward pass, over the whole batch: a longer prefill runs as chunks, every
   * sequence advancing by its share (at least one token), each chunk attending to the ones before it through the
   * KV cache, with its own host overhead; only the last computes the output head (llama.cpp's micro-batch,
   * n_ubatch; vLLM's max_num_batched_tokens; TensorRT-LLM's chunked context). 0: the whole prompt in one pass.
   */
  prefillChunkTokens: number;
  /**
   * True: 16-bit GEMM and attention kernels accumulate in fp16 and run at the device's fp16-accumulate peak
   * where it lists a higher one (fp16AccumulateFlopsPerS: GeForce cards). False: fp32 accumulation.
   */
  fp16AccumulateGemm: boolean;
  /** Extra factor on the compute efficiency of GEMM and attention kernels that run on matrix units (tensor cores). */
  matrixUnitComputeScale: number;
  /**
   * True: a quantized GEMM of more than 8 rows on matrix units first dequantizes its weights into a 16-bit
   * buffer, in a kernel of its own, and the GEMM reads that buffer (llama.cpp's cuBLAS path for quantized
   * prompts, before its int8 MMQ kernels became the default in mid-2024). False: dequantization inside the GEMM.
   */
  dequantizeToBuffer: boolean;
  /**
   * True: a quantized GEMM of more than 8 rows on matrix units (dequantizeToBuffer false) multiplies 32-wide blocks
   * of k as 8-bit integers on the int8 matrix units and rescales every block's partial sums on the vector units, 4
   * flops per output element and block: llama.cpp's MMQ kernels, its default for quantized prompts on NVIDIA Turing
   * and later since mid-2024. On a device without int8 matrix units (Volta) the GEMM reads its weights through a
   * 16-bit buffer, as with dequantizeToBuffer (llama.cpp's cuBLAS path there). False: the weights are dequantized to
   * 16 bits inside the GEMM's main loop (Marlin, AWQ, TensorRT-LLM).
   */
  blockRescaleGemm: boolean;
  /**
   * Extra factor on the compute efficiency of a quantized GEMM of more than 8 rows that dequantizes inside the
   * kernel on matrix units: 1 for the defaults' dequantizing GEMMs; below 1 where an engine's kernels reach less.
   */
  quantizedGemmComputeScale: number;
  /**
   * Factor on the memory efficiency of a matrix-vector product over quantized weights (up to 8 rows, the weights
   * dequantized in the kernel): the device's quantizedMemoryEfficiencyScale (llama.cpp's Metal mat-vec kernels on
   * Apple GPUs), else 1.
   */
  quantizedWeightMemoryScale: number;
  /** Where the efficiencies and overhead came from (`defaults` or the measured adapter). */
  origin: string;
}

/** Latency of one all-reduce call over tp devices: the per-call term plus one step term for each of 2(tp - 1) steps. */
export function allreduceCallLatencyS(p: Pick<CostParams, 'allreduceLatencyS' | 'allreduceStepLatencyS'>, tp: number): number {
  return tp > 1 ? p.allreduceLatencyS + 2 * (tp - 1) * p.allreduceStepLatencyS : 0;
}

export const CLASSES: readonly OpClass[] = ['gemm', 'attention', 'elementwise', 'norm', 'comm'];
/** The classes that run on the matrix units, whose dense kernels pull the clock down (computeEfficiencyScale). */
const MATRIX_CLASSES: readonly OpClass[] = ['gemm', 'attention'];

type DefaultsFile = {
  efficiency: Record<OpClass, ClassEfficiency & { source: string }>;
  dtypeComputeScale: Record<string, number | string>;
  moeGemmComputeScale: number;
  launchOverheadS: number;
  overlap: number;
  gemmTileM: number[];
  allreduceLatencyS: number;
  allreduceStepLatencyS: number;
  pcieCommEfficiency: number;
  forwardOverheadS: number;
  sequenceOverheadS: number;
  scoreBytesPerElement: number;
  kvReloadDramFraction: number;
};

function fromDefaults(): CostParams {
  const d = defaults as unknown as DefaultsFile;
  const eff = {} as Record<OpClass, ClassEfficiency>;
  for (const c of CLASSES) eff[c] = { compute: d.efficiency[c].compute, memory: d.efficiency[c].memory };
  const scale: Partial<Record<Dtype, number>> = {};
  for (const [k, v] of Object.entries(d.dtypeComputeScale)) if (typeof v === 'number') scale[k as Dtype] = v;
  return {
    efficiency: eff,
    dtypeComputeScale: scale,
    moeGemmComputeScale: d.moeGemmComputeScale,
    launchOverheadS: d.launchOverheadS,
    overlap: d.overlap,
    gemmTileM: [...d.gemmTileM],
    allreduceLatencyS: d.allreduceLatencyS,
    allreduceStepLatencyS: d.allreduceStepLatencyS,
    pcieCommEfficiency: d.pcieCommEfficiency,
    forwardOverheadS: d.forwardOverheadS,
    sequenceOverheadS: d.sequenceOverheadS,
    fusedAttention: true,
    groupedDecodeAttention: true,
    kvReloadDramFraction: d.kvReloadDramFraction,
    scoreBytesPerElement: d.scoreBytesPerElement,
    prefillChunkTokens: 0,
    fp16AccumulateGemm: false,
    matrixUnitComputeScale: 1,
    dequantizeToBuffer: false,
    blockRescaleGemm: false,
    quantizedGemmComputeScale: 1,
    quantizedWeightMemoryScale: 1,
    origin: 'defaults (engine/cost/defaults.json)',
  };
}

const DEFAULTS = fromDefaults();

/** The default parameters (a fresh copy). */
export function defaultCostParams(): CostParams {
  return cloneParams(DEFAULTS);
}

function cloneParams(p: CostParams): CostParams {
  const eff = {} as Record<OpClass, ClassEfficiency>;
  for (const c of CLASSES) eff[c] = { ...p.efficiency[c] };
  return { ...p, efficiency: eff, dtypeComputeScale: { ...p.dtypeComputeScale }, gemmTileM: [...p.gemmTileM] };
}

/**
 * Parameters for one device: defaults, then the device's measured efficiencies and dispatch overhead
 * (keys `gemm`, `attention`... set both sides; `gemm.compute` / `gemm.memory` set one), then each layer of
 * overrides in order (e.g. a serving engine profile, then explicit options). A key left undefined in a layer
 * keeps the value below it.
 */
export function costParamsFor(device: Device, ...layers: Array<Partial<CostParams> | undefined>): CostParams {
  let base = cache.get(device);
  if (!base) {
    base = freezeParams(deviceParams(device));
    cache.set(device, base);
  }
  let out: CostParams | null = null;
  for (const overrides of layers) {
    for (const [k, v] of Object.entries(overrides ?? {})) {
      if (v === undefined) continue;
      out ??= { ...base };
      (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  if (!out) return base;
  checkParams(out);
  return out;
}

/**
 * The cached parameters are shared by every analysis on the device: frozen, so that a caller that edits them
 * instead of passing an override layer fails at once rather than changing every later analysis.
 */
function freezeParams(p: CostParams): CostParams {
  for (const c of CLASSES) Object.freeze(p.efficiency[c]);
  Object.freeze(p.efficiency);
  Object.freeze(p.dtypeComputeScale);
  Object.freeze(p.gemmTileM);
  return Object.freeze(p);
}

/** Parameters per device object, computed once (they are read-only to the cost model). */
const cache = new WeakMap<Device, CostParams>();

function deviceParams(device: Device): CostParams {
  const p = cloneParams(DEFAULTS);
  const scaled: string[] = [];
  const scale = device.memoryEfficiencyScale;
  if (scale !== undefined) {
    for (const c of CLASSES) if (c !== 'comm') p.efficiency[c].memory *= scale;
    scaled.push(`memory efficiencies x ${scale}`);
  }
  const quantScale = device.quantizedMemoryEfficiencyScale;
  if (quantScale !== undefined) {
    p.quantizedWeightMemoryScale = quantScale;
    scaled.push(`memory efficiency of quantized matrix-vector products x ${quantScale}`);
  }
  const computeScale = device.computeEfficiencyScale;
  if (computeScale !== undefined) {
    for (const c of MATRIX_CLASSES) p.efficiency[c].compute *= computeScale;
    scaled.push(`GEMM and attention compute efficiencies x ${computeScale}`);
  }
  if (scaled.length) p.origin = `defaults (engine/cost/defaults.json), ${scaled.join(', ')} on ${device.id} (engine/hardware/devices.json)`;
  const m = device.measured;
  if (m) {
    // Measured efficiencies replace the datasheet-derived factors, the quantized mat-vec one included.
    p.quantizedWeightMemoryScale = 1;
    p.launchOverheadS = m.dispatchOverheadS;
    for (const [key, v] of Object.entries(m.efficiency ?? {})) {
      if (typeof v !== 'number') continue;
      const [cls, side] = key.split('.') as [OpClass, ('compute' | 'memory')?];
      if (!CLASSES.includes(cls)) continue;
      if (side === 'compute' || side === undefined) p.efficiency[cls].compute = v;
      if (side === 'memory' || side === undefined) p.efficiency[cls].memory = v;
    }
    p.origin = `measured on ${m.adapter} (${m.dateIso})`;
  }
  checkParams(p);
  return p;
}

/** A fraction in (0, 1], or [0, 1] when zero is allowed; anything else (NaN too) is a clear error. */
function fraction(field: string, v: number, zeroAllowed: boolean): void {
  if (!((zeroAllowed ? v >= 0 : v > 0) && v <= 1)) throw inputError({ field, expected: `a fraction in ${zeroAllowed ? '[' : '('}0, 1]`, got: v });
}

function checkParams(p: CostParams): void {
  for (const c of CLASSES) {
    const e = p.efficiency[c];
    for (const side of ['compute', 'memory'] as const) {
      fraction(`efficiency.${c}.${side}`, e[side], false);
    }
  }
  if (!(p.launchOverheadS >= 0)) throw inputError({ field: 'launchOverheadS', expected: 'seconds >= 0', got: p.launchOverheadS });
  if (!(p.allreduceLatencyS >= 0)) throw inputError({ field: 'allreduceLatencyS', expected: 'seconds >= 0', got: p.allreduceLatencyS });
  if (!(p.allreduceStepLatencyS >= 0)) throw inputError({ field: 'allreduceStepLatencyS', expected: 'seconds >= 0', got: p.allreduceStepLatencyS });
  if (!(p.forwardOverheadS >= 0)) throw inputError({ field: 'forwardOverheadS', expected: 'seconds >= 0', got: p.forwardOverheadS });
  if (!(p.sequenceOverheadS >= 0 && p.sequenceOverheadS <= 1)) throw inputError({ field: 'sequenceOverheadS', expected: 'seconds from 0 to 1', got: p.sequenceOverheadS });
  fraction('pcieCommEfficiency', p.pcieCommEfficiency, false);
  fraction('moeGemmComputeScale', p.moeGemmComputeScale, false);
  if (!(Number.isInteger(p.prefillChunkTokens) && p.prefillChunkTokens >= 0 && p.prefillChunkTokens <= 1e9)) throw inputError({ field: 'prefillChunkTokens', expected: 'an integer from 0 to 1000000000 (0: the whole prompt in one pass)', got: p.prefillChunkTokens });
  for (const k of ['fusedAttention', 'groupedDecodeAttention', 'fp16AccumulateGemm', 'dequantizeToBuffer', 'blockRescaleGemm'] as const) {
    if (typeof p[k] !== 'boolean') throw inputError({ field: k, expected: 'true or false', got: p[k] });
  }
  fraction('kvReloadDramFraction', p.kvReloadDramFraction, true);
  fraction('matrixUnitComputeScale', p.matrixUnitComputeScale, false);
  fraction('quantizedGemmComputeScale', p.quantizedGemmComputeScale, false);
  fraction('quantizedWeightMemoryScale', p.quantizedWeightMemoryScale, false);
  if (!(p.scoreBytesPerElement > 0)) throw inputError({ field: 'scoreBytesPerElement', expected: 'bytes > 0', got: p.scoreBytesPerElement });
  if (!(p.overlap >= 0 && p.overlap <= 1)) throw inputError({ field: 'overlap', expected: 'a number in [0, 1]', got: p.overlap });
}
