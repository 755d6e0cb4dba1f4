import type { AttentionKind, Phase, Workload, ParamBreakdown } from './model/types';
import type { MemoryPlan } from './memory/plan';
import type { Evidence } from './cost/evidence';

/**
 * The one result of `ridgeline analyze`: the CLI's JSON output and what panels render.
 * Fields follow DESIGN.md's CLI contract (camelCase; bytes in bytes, times in seconds).
 */
export interface OpResult {
  name: string;
  phase: Phase;
  layer?: number;
  layers: number;
  /**
   * Which layer group the row belongs to, for a model with several ("window 4096" / "full attention" for
   * Gemma 2, "dense MLP" / "MoE" for DeepSeek); absent otherwise.
   */
  layerGroup?: string;
  flops: number;
  bytes: number;
  /** FLOPs per byte. */
  intensity: number;
  bound: Bound;
  timeS: number;
  /** Op class (`gemm`, `attention`, `elementwise`, `norm`, `comm`). */
  opClass: string;
  /** Dtype the op computes in, and the dtype whose peak was used (they differ when the device lacks it). */
  computeDtype: string;
  peakDtype: string;
  /** Roofline ceiling at this op's intensity with the class efficiencies (FLOP/s). */
  attainableFlopsPerS: number;
  /** The three time terms: compute (padded FLOPs / effective peak), memory (bytes / effective bandwidth), launches. */
  computeS: number;
  memoryS: number;
  overheadS: number;
  /** A separate pass that dequantizes the weights into a 16-bit buffer before the GEMM (cost parameter dequantizeToBuffer). */
  dequantPassS?: number;
  launches: number;
  /** Ops that run inside this kernel (fused attention). */
  fused?: string[];
}

/** `comm`: time spent in tensor-parallel all-reduce over the interconnect. */
export type Bound = 'compute' | 'memory' | 'overhead' | 'comm';

export interface PhaseResult {
  flops: number;
  bytes: number;
  timeS: number;
  bound: Bound;
  /** Model FLOPs utilization: flops / (timeS x dense peak of the phase's main dtype), per device. */
  mfu: number;
  /** Memory bandwidth utilization: bytes / (timeS x datasheet bandwidth), per device. */
  mbu: number;
  /** Time by bound: where the phase's seconds go. */
  timeByBoundS: Record<Bound, number>;
  /** Estimated energy (TDP x time x devices), joules per token of the phase. Labelled an estimate. */
  energyJPerTokenEstimate: number | null;
}

/** Decode step time and throughput over context (the static batch). */
export interface DecodeCurve {
  contextTokens: number[];
  timeS: number[];
  tokensPerS: number[];
}

/** Decode throughput against batch at the mid-point context: the memory-bound plateau and where it ends. */
export interface BatchSweep {
  contextTokens: number;
  batch: number[];
  stepTimeS: number[];
  tokensPerS: number[];
  bound: Bound[];
  /** KV cache + weights fit in device memory at this batch (full context). */
  fits: boolean[];
  /**
   * First batch at which the decode GEMMs turn compute bound (the ridge crossing: batch turns GEMV into GEMM);
   * null when none in the sweep. Attention over the KV cache may keep the whole step memory bound past it.
   */
  ridgeBatch: number | null;
  /** Largest batch whose step time stays within 10% of batch 1's (the memory-bound plateau). */
  plateauEndBatch: number;
  /** Largest batch that fits in memory (from the memory planner). */
  maxBatchFits: number;
  /**
   * MoE models: routed experts read per MoE layer in one decode step at each batch (expected count under
   * uniform top-k routing, of `expertsPerLayer`); the step grows with it until every expert is read.
   * null for dense models; empty, as `batch`, when the sweeps are off.
   */
  expertsRead: number[] | null;
  /** Routed experts per MoE layer; null for dense models. */
  expertsPerLayer: number | null;
}

export interface AnalysisResult {
  model: {
    name: string;
    modelType: string;
    params: ParamBreakdown;
    attention: { kind: AttentionKind; heads: number; kvHeads: number; headDim: number };
    layers: number;
    hiddenSize: number;
    vocabSize: number;
    maxPositionEmbeddings: number | null;
    dtype: string;
  };
  hardware: {
    id: string;
    name: string;
    memoryBandwidthBytesPerS: number;
    /** Dense peak of the main compute dtype, and which dtype that is. */
    peakFlopsPerS: number;
    peakDtype: string;
    /** Ridge point (FLOP/byte) of that peak: peak / bandwidth. */
    ridgeIntensity: number;
    measured: boolean;
  };
  workload: Workload;
  kvCache: { bytesPerToken: number; format: string };
  /** Per device, from the memory planner (its contract fields). */
  /** Per device. `fits`: totalBytes within usableBytes = deviceBytes x utilization (the share an engine may take, 0.9). */
  memory: Pick<MemoryPlan, 'weightsBytes' | 'kvCacheBytes' | 'activationsBytes' | 'overheadBytes' | 'totalBytes' | 'deviceBytes' | 'usableBytes' | 'utilization' | 'fits'>;
  prefill: PhaseResult;
  decode: PhaseResult & {
    tokensPerS: number;
    /** Context (tokens in the cache) of the step reported: prompt + generate/2. */
    contextTokens: number;
    curve: DecodeCurve;
  };
  e2e: {
    timeS: number;
    outputTokensPerS: number;
    /** Decode steps after the first token (which prefill emits): generate - 1. */
    decodeSteps: number;
    decodeTimeS: number;
  };
  batchSweep: BatchSweep;
  /** Cost-model settings used: where efficiencies came from, attention fusion, tensor parallel link. */
  costModel: {
    origin: string;
    /** The serving engine profile applied (engine/cost/engines.json), null for the defaults. */
    servingEngine: { id: string; name: string } | null;
    /** Seconds of host work per forward pass the GPU waits for. */
    forwardOverheadS: number;
    /** Seconds of host work per sequence of the batch in each forward pass, on top of forwardOverheadS. */
    sequenceOverheadS: number;
    fusedAttention: boolean;
    /** Decode attention loads each K/V head once per group of query heads (false: once per query head). */
    groupedDecodeAttention: boolean;
    /** Share of the per-query-head K/V reloads that reach DRAM when decode attention does not share K/V heads. */
    kvReloadDramFraction: number;
    launchOverheadS: number;
    overlap: number;
    efficiency: Record<string, { compute: number; memory: number }>;
    /** Factor on the gemm compute efficiency for routed-expert (MoE) GEMMs. */
    moeGemmComputeScale: number;
    /** Prompt tokens per prefill pass (chunked prefill); 0: the whole prompt in one pass. */
    prefillChunkTokens: number;
    /** 16-bit GEMMs ran at the device's fp16-accumulate peak, where it lists one above its fp16 peak (GeForce cards). */
    fp16AccumulateGemm: boolean;
    /** Factor on the compute efficiency of GEMM and attention kernels on matrix units (tensor cores); 1 where the GEMMs do not run on them. */
    matrixUnitComputeScale: number;
    /** Bytes per score and probability of unfused attention. */
    scoreBytesPerElement: number;
    /**
     * Quantized prompt GEMMs dequantize their weights into a 16-bit buffer in a pass of their own (also where
     * blockRescaleGemm is set and the device has no int8 matrix units): the cost model's quantizedGemmPath.
     */
    dequantizeToBuffer: boolean;
    /** Quantized prompt GEMMs multiply 32-wide blocks as int8 and rescale each block's sums (llama.cpp's MMQ), on this device. */
    blockRescaleGemm: boolean;
    /** Factor on the compute efficiency of quantized prompt GEMMs that dequantize inside the kernel on matrix units; 1 where none does. */
    quantizedGemmComputeScale: number;
    /**
     * The device's link (the assumed PCIe link at tp > 1 when it lists none), the fraction of it an all-reduce
     * reaches and the latency of one all-reduce call at this tp (0 at tp 1).
     */
    interconnect: { kind: string; bandwidthBytesPerS: number; allreduceEfficiency: number; allreduceLatencyS: number } | null;
  };
  /**
   * The published measurements of real engines behind this prediction: validation-table rows on this device,
   * and those run with this serving engine profile (engine/cost/validation.json; `ridgeline validate`).
   */
  evidence: Evidence;
  ops: OpResult[];
  warnings: string[];
}
