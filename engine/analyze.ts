import type { AnalysisResult, Bound, OpResult, PhaseResult } from './analysis';
import type { Dtype, ModelSpec, MoeMlpSpec, Op, Workload } from './model/types';
import type { Device } from './hardware/types';
import { activationFormat, buildGraph, computedPromptTokens, expectedExpertsTouched, tpSplit } from './model/graph';
import { planMemory, type MemoryOptions } from './memory/index';
import { allreduceCallLatencyS, costParamsFor, type CostParams } from './cost/params';
import { addTime, costOps, forSequences, MATRIX_UNIT_VENDORS, matmulPeakFlopsPerS, matrixUnits, peakFor, quantizedGemmPath, stepSummary, stepTimeS, type CostContext, type OpCost } from './cost/roofline';
import { CONTEXT_STEP, DecodeGraphs, contextAffine, interpolable } from './cost/decode';
import { StepLine } from './cost/step';
import { prefillCosts as costPrefill } from './cost/prefill';
import { inputError } from './errors';
import { servingEngine } from './cost/engines';
import { kvBytesPerToken } from './memory/kvCache';
import { defaultKvFormatId, kvFormat } from './memory/kvFormats';
import { defaultActivations, weightFormat, type WeightFormat } from './quant/formats';
import { evidenceFor } from './cost/evidence';
import { publishedQuantWarning } from './model/parse';
import { engineFormatWarnings } from './cost/engineFormats';

/**
 * ModelSpec + Workload + Device -> AnalysisResult (the CLI's JSON, what panels render).
 *
 * - prefill: the whole prompt for the whole batch (time to first token).
 * - decode: one step at the mid-point of generation, contextTokens = prompt + floor(generate / 2);
 *   tokensPerS = batch / step time. The curve gives the step over context.
 * - e2e: prefill (which emits the first token) plus generate - 1 decode steps at contexts prompt ..
 *   prompt + generate - 2. A decode step's FLOPs and bytes are affine in the context for a fixed batch,
 *   so the sum is (steps) x (first + last) / 2, checked against the mid-point (and summed over the curve
 *   when an op changes bound inside the range).
 * - batchSweep: decode throughput against batch at the mid-point context.
 */
export interface AnalyzeOptions {
  /** Serving engine profile id (engine/cost/engines.json): its cost parameters replace the defaults'. */
  servingEngine?: string;
  /** Cost-model overrides (efficiencies, launch overhead, fusedAttention...), over the engine profile's. */
  params?: Partial<CostParams>;
  /** Memory planner options (block size, utilization...). */
  memory?: MemoryOptions;
  /** Compute the batch sweep and the decode curve (default true). */
  sweeps?: boolean;
  /** Points on the decode curve (default 16). */
  curvePoints?: number;
  /** Batches of the sweep (default powers of two 1..1024 and the workload's batch). */
  sweepBatches?: number[];
}

/**
 * Vendors the cost model knows: nvidia and amd GEMMs run on matrix units (cost/roofline.ts matrixUnits), apple and
 * generic (CPU) ones on SIMD units. A user device naming another vendor, or none (`custom`), gets the SIMD pricing
 * and a warning that says so.
 */
const KNOWN_VENDORS = [...MATRIX_UNIT_VENDORS, 'apple', 'generic'];

/**
 * The formats a workload runs in from the ids a user wrote (CLI options, editor settings, panel controls): each
 * normalized (int4 is int4-g128, FP8 is fp8, float16 is fp16); an empty one is the model's dtype, and empty
 * activations follow the weights where the device computes their format natively (defaultActivations). A bad
 * id is an input error naming `fields` (the option or setting it came from).
 */
export function resolveFormats(
  spec: ModelSpec,
  device: Device,
  ids: { weights?: string; activations?: string; kv?: string },
  fields: { weights: string; activations: string; kv: string } = { weights: '--weights', activations: '--activations', kv: '--kv' },
  engineId?: string,
): Pick<Workload, 'weights' | 'activations' | 'kv'> {
  const wf = weightFormat(ids.weights || spec.dtype, fields.weights);
  const engine = engineId ? servingEngine(engineId) : undefined;
  const quantizedActivations = engine?.quantizedActivations;
  return {
    weights: wf.id,
    activations: ids.activations ? activationFormat(ids.activations, fields.activations).dtype : defaultActivations(wf, device, spec.dtype, quantizedActivations),
    kv: kvFormat(ids.kv || engine?.kvCache || defaultKvFormatId(spec.dtype), fields.kv).id,
  };
}

/** Interconnect assumed when tp > 1 and the device lists none: PCIe Gen4 x16, per direction. */
const FALLBACK_LINK = { kind: 'PCIe Gen4 x16 (assumed: the device lists no interconnect)', bandwidthBytesPerS: 32e9 };

export function analyze(spec: ModelSpec, workload: Workload, device: Device, opts: AnalyzeOptions = {}): AnalysisResult {
  checkWorkload(workload);
  tpSplit(spec, workload.tp);
  const engine = opts.servingEngine === undefined ? null : servingEngine(opts.servingEngine);
  const params = costParamsFor(device, engine?.params, opts.params);
  const warnings: string[] = [...spec.warnings];
  const wf = weightFormat(workload.weights);
  const published = publishedQuantWarning(spec, wf.id);
  if (published) warnings.push(published);
  warnings.push(...engineFormatWarnings(spec, workload, opts.servingEngine, { fusedAttention: params.fusedAttention }));
  warnings.push(...fp4Warnings(workload, wf, device));
  if (wf.scope === 'experts' && spec.params.experts === 0) {
    warnings.push(`${wf.id} quantizes routed experts only, and ${spec.name} has none: every weight stays ${spec.dtype}`);
  }
  const notes = new Set<string>();
  let link: { kind: string; bandwidthBytesPerS: number } | null = device.interconnect ?? null;
  const ic = device.interconnect;
  if (ic?.groupSize !== undefined && ic.beyondGroup && workload.tp > ic.groupSize) {
    // The fast link joins only groupSize devices: a wider ring crosses slower hops and runs at the slowest.
    link = { kind: `${ic.beyondGroup.kind} (a ring of ${workload.tp} spans more than ${ic.groupSize} devices)`, bandwidthBytesPerS: ic.beyondGroup.bandwidthBytesPerS };
  }
  if (workload.tp > 1 && !link) {
    link = FALLBACK_LINK;
    warnings.push(`${device.id} lists no interconnect: tensor-parallel all-reduce assumed over ${FALLBACK_LINK.kind}`);
  }
  if (!device.measured && !KNOWN_VENDORS.includes(device.vendor)) {
    warnings.push(`${device.id}: vendor "${device.vendor}" is none of ${KNOWN_VENDORS.join(', ')}: its GEMMs are priced as SIMD kernels, without tensor-core or matrix-core tiles (set "vendor": "nvidia" or "amd" for a GPU that has them)`);
  }
  const linkUsed = link ?? FALLBACK_LINK;
  const linkEfficiency = (kind: string) => (isPcie(kind) ? params.pcieCommEfficiency : params.efficiency.comm.memory);
  const ctx: CostContext = { device, params, tp: workload.tp, linkBytesPerS: linkUsed.bandwidthBytesPerS, linkEfficiency: linkEfficiency(linkUsed.kind), notes };

  const P = workload.promptTokens;
  const G = workload.generateTokens;
  const B = workload.batch;
  // Every forward pass of the workload (each prefill chunk advances every sequence) holds the whole batch.
  const ctxB = forSequences(ctx, B);

  // Prefill.
  const prefillCosts = costPrefill(spec, workload, ctxB);
  const prefillTotals = totals(prefillCosts);

  // Decode: the reported step, the e2e integral, the curve and the batch sweep.
  const cMid = P + Math.floor(G / 2);
  const cNext = cMid + CONTEXT_STEP;
  // The reported step, built directly. Without windowed layers a second graph further along the context
  // fixes every kernel's line (StepLine): the e2e integral and the curve then build no graph per point.
  const decodeOpsMid = buildGraph(spec, workload, 'decode', cMid).ops;
  const decodeCosts = costOps(decodeOpsMid, ctxB);
  const decodeTotals = totals(decodeCosts);
  let decodeOpsNext: Op[] | null = null;
  const nextOps = () => (decodeOpsNext = buildGraph(spec, workload, 'decode', cNext).ops);
  const line = contextAffine(spec) ? StepLine.fitCosts(decodeCosts, cMid, nextOps, cNext, ctxB, !interpolable(spec)) : null;
  // Graphs at other batches (the sweep) or at every context (windowed models), made on first use.
  let graphs: DecodeGraphs | null = null;
  const decodeGraphs = (): DecodeGraphs => (graphs ??= new DecodeGraphs(spec, workload, cMid, decodeOpsNext ? [decodeOpsMid, decodeOpsNext] : undefined));
  const stepAt = line ? (c: number) => line.timeS(c) : (c: number) => stepTime(decodeGraphs().at(B, c, true), ctxB);

  const steps = Math.max(0, G - 1);
  let decodeSumS = 0;
  if (steps > 0) {
    const cFirst = P;
    const cLast = P + steps - 1;
    const t0 = steps === 1 ? decodeTotals.timeS : stepAt(cFirst);
    const t1 = steps === 1 ? t0 : stepAt(cLast);
    const cm = Math.round((cFirst + cLast) / 2);
    const tm = stepAt(cm);
    decodeSumS = (steps * (t0 + t1)) / 2;
    const onChord = steps > 2 ? t0 + ((t1 - t0) * (cm - cFirst)) / (cLast - cFirst) : tm;
    if (steps > 2 && Math.abs(tm - onChord) > 1e-9 * tm) {
      // Not affine over the range (an op changes bound): Simpson's rule over 64 panels.
      decodeSumS = simpson(stepAt, cFirst, cLast, 64) * (steps / Math.max(1, cLast - cFirst)) ;
      if (cLast === cFirst) decodeSumS = steps * t0;
    }
  }
  const e2eTimeS = prefillTotals.timeS + decodeSumS;

  // Memory (the memory planner; per device).
  // A chunked prefill (cost parameters) also sizes the activations of the largest forward pass, unless the
  // memory options say otherwise.
  const memoryOpts = params.prefillChunkTokens > 0 && opts.memory?.prefillChunkTokens === undefined ? { ...opts.memory, prefillChunkTokens: params.prefillChunkTokens } : opts.memory;
  const plan = planMemory(spec, workload, device, memoryOpts);
  warnings.push(...plan.warnings);
  if (!plan.fits) warnings.push(`does not fit: ${fmtGiB(plan.totalBytes)} needed per device, ${fmtGiB(plan.usableBytes)} usable (${Math.round(plan.utilization * 100)}% of ${fmtGiB(plan.deviceBytes)}) on ${device.id}`);

  // Phase results.
  const mainDtype = mainComputeDtype(decodeCosts);
  const dtypePeak = peakFor(device, mainDtype);
  // MFU and the ridge use the rate the engine's GEMMs run at (fp16 accumulation on GeForce: twice the listed fp16).
  const peak = { dtype: dtypePeak.dtype, flopsPerS: matmulPeakFlopsPerS(device, dtypePeak, params) };
  const devices = workload.tp;
  // The prefill's energy per token is over the prompt tokens it computes (a cached prefix costs it nothing).
  const prefill = phaseResult(prefillTotals, device, peak.flopsPerS, B * computedPromptTokens(workload), devices);
  const decodePhase = phaseResult(decodeTotals, device, peak.flopsPerS, B, devices);

  const doSweeps = opts.sweeps !== false;
  const curve = doSweeps ? decodeCurve(stepAt, B, P, G, spec, opts.curvePoints ?? 16) : { contextTokens: [], timeS: [], tokensPerS: [] };
  const moe = moeMlpOf(spec);
  const sweep = doSweeps
    ? batchSweep(moe, workload, decodeGraphs(), cMid, opts.sweepBatches, ctx, plan.kv.maxBatch)
    : { contextTokens: cMid, batch: [], stepTimeS: [], tokensPerS: [], bound: [], fits: [], ridgeBatch: null, plateauEndBatch: B, maxBatchFits: plan.kv.maxBatch, expertsRead: moe ? [] : null, expertsPerLayer: moe?.numExperts ?? null };

  for (const n of notes) warnings.push(n);

  const ops: OpResult[] = prefillCosts.concat(decodeCosts);

  const a = spec.attention;
  // What the engine's settings changed here: its tensor-core settings only where the model's GEMMs run on matrix
  // units (not on Apple or CPU devices, nor in fp32), fp16 accumulation only where it raised a GEMM's rate.
  const units = matrixUnits(device, mainDtype);
  const quantizedPath = units ? quantizedGemmPath(params, device) : 'in-kernel';
  const acc = device.fp16AccumulateFlopsPerS;
  const accumulated = params.fp16AccumulateGemm && acc !== undefined && acc > (device.peakFlopsPerS.fp16 ?? 0) &&
    ops.some((o) => (o.opClass === 'gemm' || o.opClass === 'attention') && o.peakDtype === 'fp16');
  return {
    model: {
      name: spec.name,
      modelType: spec.modelType,
      params: spec.params,
      attention: { kind: a.kind, heads: a.heads, kvHeads: a.kvHeads, headDim: a.headDim },
      layers: spec.numLayers,
      hiddenSize: spec.hiddenSize,
      vocabSize: spec.vocabSize,
      maxPositionEmbeddings: spec.maxPositionEmbeddings,
      dtype: spec.dtype,
    },
    hardware: {
      id: device.id,
      name: device.name,
      memoryBandwidthBytesPerS: device.memoryBandwidthBytesPerS,
      peakFlopsPerS: peak.flopsPerS,
      peakDtype: peak.dtype,
      ridgeIntensity: peak.flopsPerS / device.memoryBandwidthBytesPerS,
      measured: device.measured !== undefined,
    },
    workload: { ...workload },
    kvCache: { bytesPerToken: kvBytesPerToken(spec, workload.kv), format: workload.kv },
    memory: {
      weightsBytes: plan.weightsBytes,
      kvCacheBytes: plan.kvCacheBytes,
      activationsBytes: plan.activationsBytes,
      overheadBytes: plan.overheadBytes,
      totalBytes: plan.totalBytes,
      deviceBytes: plan.deviceBytes,
      usableBytes: plan.usableBytes,
      utilization: plan.utilization,
      fits: plan.fits,
    },
    prefill,
    decode: {
      flops: decodePhase.flops,
      bytes: decodePhase.bytes,
      timeS: decodePhase.timeS,
      bound: decodePhase.bound,
      mfu: decodePhase.mfu,
      mbu: decodePhase.mbu,
      timeByBoundS: decodePhase.timeByBoundS,
      energyJPerTokenEstimate: decodePhase.energyJPerTokenEstimate,
      tokensPerS: B / decodePhase.timeS,
      contextTokens: cMid,
      curve,
    },
    e2e: {
      timeS: e2eTimeS,
      outputTokensPerS: (B * G) / e2eTimeS,
      decodeSteps: steps,
      decodeTimeS: decodeSumS,
    },
    batchSweep: sweep,
    costModel: {
      origin: params.origin,
      servingEngine: engine ? { id: engine.id, name: engine.name } : null,
      forwardOverheadS: params.forwardOverheadS,
      sequenceOverheadS: params.sequenceOverheadS,
      fusedAttention: params.fusedAttention,
      groupedDecodeAttention: params.groupedDecodeAttention,
      kvReloadDramFraction: params.kvReloadDramFraction,
      launchOverheadS: params.launchOverheadS,
      overlap: params.overlap,
      efficiency: { ...params.efficiency },
      moeGemmComputeScale: params.moeGemmComputeScale,
      prefillChunkTokens: params.prefillChunkTokens,
      fp16AccumulateGemm: accumulated,
      matrixUnitComputeScale: units ? params.matrixUnitComputeScale : 1,
      scoreBytesPerElement: params.scoreBytesPerElement,
      // What the quantized prompt GEMMs do on this device.
      dequantizeToBuffer: quantizedPath === 'buffer',
      blockRescaleGemm: quantizedPath === 'int8-blocks',
      quantizedGemmComputeScale: units && quantizedPath !== 'buffer' ? params.quantizedGemmComputeScale : 1,
      interconnect: link ? {
        kind: link.kind,
        bandwidthBytesPerS: link.bandwidthBytesPerS,
        allreduceEfficiency: linkEfficiency(link.kind),
        allreduceLatencyS: allreduceCallLatencyS(params, workload.tp),
      } : null,
    },
    evidence: evidenceFor(device, engine?.id ?? null),
    ops,
    warnings,
  };
}

/**
 * FP4 activations are one operand of an FP4 (NVFP4, W4A4) GEMM: with other weights they are priced as 16-bit, and
 * on a device without FP4 tensor cores (before Blackwell) no engine runs that GEMM.
 */
function fp4Warnings(workload: Workload, wf: WeightFormat, device: Device): string[] {
  if (activationFormat(workload.activations).dtype !== 'fp4') return [];
  if (wf.computeDtype !== 'fp4') {
    return [`fp4 activations feed only an FP4 GEMM with nvfp4 weights: with ${wf.id} weights the GEMMs run in 16-bit and the activations are priced as 16-bit`];
  }
  if (!((device.peakFlopsPerS.fp4 ?? 0) > 0)) {
    return [`${device.id} has no FP4 tensor cores: NVFP4 W4A4 runs on Blackwell (B200, B300, RTX 50); here it is priced at the ${peakFor(device, 'fp4').dtype} peak with conversions, which no engine does (leave the activations to their default for nvfp4's weight-only path)`];
  }
  return [];
}

/** True when an interconnect's kind names PCIe (its all-reduce runs at params.pcieCommEfficiency). */
export function isPcie(kind: string): boolean {
  return /\bpcie\b/i.test(kind);
}

function checkWorkload(w: Workload): void {
  const int = (v: number, field: string, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) throw inputError({ field, expected: `an integer from ${min} to ${max}`, got: v });
  };
  int(w.batch, '--batch', 1, 1 << 20);
  int(w.promptTokens, '--prompt', 1, 1 << 24);
  int(w.generateTokens, '--generate', 1, 1 << 24);
  int(w.tp, '--tp', 1, 1024);
  if (w.cachedPromptTokens !== undefined && w.cachedPromptTokens !== 0) {
    const c = w.cachedPromptTokens;
    if (!Number.isSafeInteger(c) || c < 0 || c >= w.promptTokens) {
      throw inputError({ field: '--cached-prompt', expected: `an integer from 0 to ${w.promptTokens - 1}: fewer than the ${w.promptTokens} prompt tokens (the last one is always computed)`, got: c });
    }
  }
}

function stepTime(ops: Op[], ctx: CostContext): number {
  return stepTimeS(ops, ctx);
}

function simpson(f: (x: number) => number, a: number, b: number, panels: number): number {
  if (b <= a) return 0;
  const n = panels % 2 === 0 ? panels : panels + 1;
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

interface Totals {
  flops: number;
  bytes: number;
  timeS: number;
  byBound: Record<Bound, number>;
}

function totals(costs: readonly OpCost[]): Totals {
  const byBound: Record<Bound, number> = { compute: 0, memory: 0, overhead: 0, comm: 0 };
  let flops = 0;
  let bytes = 0;
  let timeS = 0;
  for (const c of costs) {
    flops += c.flops;
    // Device memory traffic only: an all-reduce's message crosses the interconnect, not the DRAM the MBU is of.
    if (c.opClass !== 'comm') bytes += c.bytes;
    timeS += c.timeS;
    addTime(byBound, c.bound, c.timeS);
  }
  return { flops, bytes, timeS, byBound };
}

function dominant(byBound: Record<Bound, number>): Bound {
  let best: Bound = 'memory';
  let v = -1;
  for (const k of ['compute', 'memory', 'overhead', 'comm'] as const) {
    if (byBound[k] > v) {
      v = byBound[k];
      best = k;
    }
  }
  return best;
}

function phaseResult(t: Totals, device: Device, peakFlopsPerS: number, tokens: number, devices: number): PhaseResult {
  return {
    flops: t.flops,
    bytes: t.bytes,
    timeS: t.timeS,
    bound: dominant(t.byBound),
    mfu: t.flops / (t.timeS * peakFlopsPerS),
    mbu: t.bytes / (t.timeS * device.memoryBandwidthBytesPerS),
    timeByBoundS: t.byBound,
    energyJPerTokenEstimate: device.tdpWatts ? (device.tdpWatts * devices * t.timeS) / tokens : null,
  };
}

/** The dtype of the GEMM with the most FLOPs: the peak MFU is measured against. */
function mainComputeDtype(costs: readonly OpCost[]): Dtype {
  let best: OpCost | null = null;
  for (const c of costs) if (c.opClass === 'gemm' && (!best || c.flops > best.flops)) best = c;
  return best ? best.computeDtype : 'fp16';
}

function decodeCurve(stepAt: (context: number) => number, B: number, P: number, G: number, spec: ModelSpec, points: number) {
  // From the prompt to the larger of the generation's end and the model's context window.
  const lo = P;
  const hi = Math.max(P + G, spec.maxPositionEmbeddings ?? 0);
  const n = Math.max(2, Math.min(256, Math.floor(points)));
  const contextTokens: number[] = [];
  const timeS: number[] = [];
  const tokensPerS: number[] = [];
  for (let i = 0; i < n; i++) contextTokens.push(Math.round(lo + ((hi - lo) * i) / (n - 1)));
  // A decode step is affine in the context while no op changes bound: two ends and the middle decide it.
  const tLo = stepAt(lo);
  const tHi = stepAt(hi);
  const cMid = contextTokens[n >> 1]!;
  const tMid = stepAt(cMid);
  const slope = hi > lo ? (tHi - tLo) / (hi - lo) : 0;
  const affine = Math.abs(tLo + slope * (cMid - lo) - tMid) <= 1e-9 * tMid;
  for (const c of contextTokens) {
    const t = affine ? tLo + slope * (c - lo) : stepAt(c);
    timeS.push(t);
    tokensPerS.push(B / t);
  }
  return { contextTokens, timeS, tokensPerS };
}

/** Batches of the default sweep (the workload's own batch is added). */
const DEFAULT_SWEEP_BATCHES: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

function batchSweep(moe: MoeMlpSpec | null, w: Workload, graphs: DecodeGraphs, c: number, batches: number[] | undefined, ctx: CostContext, maxBatchFits: number) {
  const given = batches ?? DEFAULT_SWEEP_BATCHES;
  const valid: number[] = [];
  for (const b of given) if (Number.isSafeInteger(b) && b >= 1) valid.push(b);
  if (!batches && !valid.includes(w.batch)) valid.push(w.batch);
  valid.sort((a, b) => a - b);
  // Distinct, ascending.
  const list: number[] = [];
  for (const b of valid) if (list.length === 0 || list[list.length - 1] !== b) list.push(b);
  const stepTimeS: number[] = [];
  const tokensPerS: number[] = [];
  const bound: Bound[] = [];
  const fits: boolean[] = [];
  let ridgeBatch: number | null = null;
  let plateauEndBatch = list[0] ?? 1;
  for (const b of list) {
    // The step's bound by time share; the ridge crossing is where the GEMMs (weight-reading ops) turn
    // compute bound: batch turns GEMV into GEMM. Attention reads the KV cache per sequence and can keep the
    // whole step memory bound past it ('Mind the Memory Gap: Unveiling GPU Bottlenecks in Large-Batch LLM Inference').
    const t = stepSummary(graphs.at(b, c, true), forSequences(ctx, b));
    const bd: Bound = dominant(t.byBound);
    stepTimeS.push(t.timeS);
    tokensPerS.push(b / t.timeS);
    bound.push(bd);
    fits.push(b <= maxBatchFits);
    if (t.gemmComputeS >= t.gemmMemoryS && ridgeBatch === null) ridgeBatch = b;
    if (t.timeS <= 1.1 * stepTimeS[0]!) plateauEndBatch = b;
  }
  // MoE: each sequence of a decode step routes its token to topK experts, so the experts read grow with batch.
  const expertsRead = moe ? list.map((b) => expectedExpertsTouched(moe.numExperts, moe.topK, b)) : null;
  return { contextTokens: c, batch: list, stepTimeS, tokensPerS, bound, fits, ridgeBatch, plateauEndBatch, maxBatchFits, expertsRead, expertsPerLayer: moe ? moe.numExperts : null };
}

/** The routed-expert MLP of the model's MoE layers (the first MoE layer group); null for dense models. */
function moeMlpOf(spec: ModelSpec): MoeMlpSpec | null {
  for (const g of spec.layerGroups) if (g.mlp.kind === 'moe') return g.mlp;
  return null;
}

function fmtGiB(b: number): string {
  return `${(b / 2 ** 30).toFixed(1)} GiB`;
}
