import type { ModelSpec, Workload } from '../model/types';
import type { Device } from '../hardware/types';
import { inputError } from '../errors';
import { lmHeadBitsPerWeight, lmHeadFormatParams, moreBitsExtraBytes, weightFormat } from '../quant/formats';
import { computedPromptTokens, tpReplicatedParams, tpSplit } from '../model/graph';
import { expertMatrixParams } from '../model/params';
import { kvFormat, withGrouping, type KvFormat } from './kvFormats';
import { kvLayout, kvUse, kvBytes, fixedKvBytes, bytesPerTokenOf, evicts, DEFAULT_POLICY, type KvPolicy, type KvLayout, type KvGroupUse } from './kvCache';
import { evictionWarnings } from './eviction';
import defaults from './runtime-defaults.json';

/**
 * Memory plan: will this model fit on this device at this batch and context, and how far can it go.
 *
 * usable = device memory x utilization (default 0.9, vLLM's gpu_memory_utilization).
 * total  = weights + KV cache (workload) + peak activations + runtime overhead, all per device under tp.
 * KV budget = usable - weights - activations - overhead: what a paged engine hands to KV blocks.
 */
export interface MemoryOptions {
  /** Paged allocator block size in tokens (default 16, vLLM's default). 1 = exact sizes. */
  blockTokens?: number;
  /** Fraction of device memory the runtime may use (default 0.9). */
  utilization?: number;
  /** Runtime overhead in bytes (default: CUDA context + graphs/workspaces, see runtime-defaults.json). */
  overheadBytes?: number;
  /**
   * Most tokens in one prefill forward pass (chunked prefill), default 8192 (DEFAULT_PREFILL_CHUNK_TOKENS);
   * a smaller whole prompt x batch is planned as one pass. Infinity = never chunk.
   */
  prefillChunkTokens?: number;
  /** Context each sequence reaches; default promptTokens + generateTokens. */
  contextTokens?: number;
  /** Prompt prefix shared by all `workload.batch` sequences, stored once (default 0). */
  prefixTokens?: number;
  /** Sliding window imposed on every layer, in tokens. */
  windowTokens?: number;
  /** Attention sinks (StreamingLLM) kept at the start of the sequence. */
  sinkTokens?: number;
  /** Recent tokens kept with sinks / heavy hitters. */
  recentTokens?: number;
  /** H2O heavy-hitter budget in tokens. */
  heavyHitterTokens?: number;
  /** H2O heavy-hitter budget as a fraction (0..1] of the context. */
  heavyHitterFraction?: number;
  /** Group size / residual length of grouped (KIVI-style) KV formats. */
  kvGroupSize?: number;
  kvResidualTokens?: number;
}

export interface OverheadItem {
  id: string;
  bytes: number;
  source: string;
}

export interface MemoryPlan {
  // --- the analyze contract's memory.* fields; every byte figure is per device ---
  weightsBytes: number;
  kvCacheBytes: number;
  activationsBytes: number;
  overheadBytes: number;
  totalBytes: number;
  deviceBytes: number;
  fits: boolean;
  // --- beyond the contract ---
  usableBytes: number;
  utilization: number;
  tp: number;
  /** Context each sequence reaches and the sequences held (the workload's batch). */
  contextTokens: number;
  sequences: number;
  weights: {
    format: string;
    bitsPerWeight: number;
    /** Parameters stored in the format vs kept at 16 bits (embeddings, lm_head, norms when the format keeps them). */
    quantizedParams: number;
    highPrecisionParams: number;
    /** All devices together. */
    totalBytes: number;
  };
  kv: {
    format: string;
    label: string;
    bitsPerElement: number;
    /** Long-context bytes per token, whole model, one device (tp=1: the model's bytes per token). */
    bytesPerToken: number;
    /** Long-context bytes per token of the whole model (all devices). */
    bytesPerTokenAllDevices: number;
    blockTokens: number;
    /** One block of `blockTokens` tokens over every layer, one device. */
    blockBytes: number;
    blocks: number;
    bytesPerSequence: number;
    sharedBytes: number;
    groups: KvGroupUse[];
    /** Memory left for KV blocks after weights, activations and overhead. Negative = does not fit at all. */
    budgetBytes: number;
    budgetTokens: number;
    budgetBlocks: number;
    /** Most sequences of `contextTokens` that fit. */
    maxBatch: number;
    /** Longest context `sequences` sequences can reach; null = not bounded by memory (every layer capped). */
    maxContextTokens: number | null;
  };
  activations: {
    /** Tokens in the largest forward pass planned (prefill chunk, or decode batch). */
    chunkTokens: number;
    bytesPerElement: number;
    /** Stage whose live tensors are largest. */
    peakStage: 'attention' | 'mlp' | 'logits';
  };
  overhead: OverheadItem[];
  sources: { utilization: string; activations: string };
  warnings: string[];
}

/** Search ceiling for max context (tokens): past this, memory is reported as not bounding context. */
export const MAX_CONTEXT_SEARCH_TOKENS = 1 << 30;

export const DEFAULT_UTILIZATION = defaults.utilization.fraction;
export const DEFAULT_PREFILL_CHUNK_TOKENS = defaults.prefillChunk.tokens;
export const DEFAULT_OVERHEAD: readonly OverheadItem[] = defaults.overhead;
export const DEFAULT_OVERHEAD_BYTES = defaults.overhead.reduce((s, o) => s + o.bytes, 0);

export function planMemory(spec: ModelSpec, workload: Workload, device: Device, opts: MemoryOptions = {}): MemoryPlan {
  checkWorkload(workload);
  const tp = workload.tp;
  // Tensor parallel must divide the attention heads (and the KV heads, or be a multiple of them).
  tpSplit(spec, tp);
  const warnings: string[] = [];
  const utilization = opts.utilization ?? DEFAULT_UTILIZATION;
  if (!Number.isFinite(utilization) || utilization <= 0 || utilization > 1) {
    throw inputError({ field: '--utilization', expected: 'a fraction in (0, 1]', got: utilization });
  }
  if (!Number.isFinite(device.memoryBytes) || device.memoryBytes <= 0) {
    throw inputError({ field: `hardware ${device.id}: memoryBytes`, expected: 'a positive number of bytes', got: device.memoryBytes });
  }
  const contextTokens = opts.contextTokens ?? workload.promptTokens + workload.generateTokens;
  checkInt('--context', contextTokens, 1, MAX_CONTEXT_SEARCH_TOKENS);
  if (spec.maxPositionEmbeddings !== null && contextTokens > spec.maxPositionEmbeddings) {
    warnings.push(
      `context ${contextTokens} tokens exceeds the model's max_position_embeddings (${spec.maxPositionEmbeddings}); quality past it is not what the model was trained for`,
    );
  }

  // --- weights ---
  const wf = weightFormat(workload.weights);
  const p = spec.params;
  const keep = new Set(wf.keepsHighPrecision);
  const highBytesPerParam = 2; // tensors a quantized format keeps are served in 16-bit
  // The output matrix in a format of its own (llama.cpp's Q6_K; tied embeddings: the shared table).
  const headParams = lmHeadFormatParams(wf, p);
  let high = 0;
  if (keep.has('embeddings')) high += p.embeddings + p.positionEmbeddings - (p.lmHead > 0 ? 0 : headParams);
  if (keep.has('lmHead')) high += p.lmHead - (p.lmHead > 0 ? headParams : 0);
  if (keep.has('norms')) high += p.norms;
  // A format of scope `experts` (gpt-oss's MXFP4) quantizes the routed experts only; the rest stays 16-bit.
  const expertsOnly = wf.scope === 'experts';
  if (expertsOnly) high = p.total - expertMatrixParams(spec) - headParams;
  const quantized = p.total - high - headParams;
  const weightsAll =
    (quantized * wf.bitsPerWeight) / 8 +
    high * highBytesPerParam +
    (headParams * lmHeadBitsPerWeight(wf, highBytesPerParam * 8, spec)) / 8 +
    moreBitsExtraBytes(spec, wf);
  // Tensor parallel splits the projections and the vocab (embedding and lm_head); norms are replicated, and so
  // are the tensors tpReplicatedParams names (MLA's latent projections, the router, K/V heads fewer than tp).
  const normBytes = keep.has('norms') ? p.norms * highBytesPerParam : (p.norms * wf.bitsPerWeight) / 8;
  const repl = tpReplicatedParams(spec, tp);
  // The replicated tensors (router, MLA latents, K/V heads) are none of them routed experts.
  const replBitsPerParam = expertsOnly ? highBytesPerParam * 8 : wf.bitsPerWeight;
  const replBytes = (repl.total * replBitsPerParam) / 8;
  const weightsBytes = tp === 1 ? weightsAll : (weightsAll - normBytes - replBytes) / tp + normBytes + (repl.perDevice * replBitsPerParam) / 8;

  // --- KV cache ---
  const f = withGrouping(kvFormat(workload.kv), { groupSize: opts.kvGroupSize, residualTokens: opts.kvResidualTokens });
  const policy = policyFrom(opts);
  const layout = kvLayout(spec, tp);
  warnings.push(...layout.warnings);
  const prefixTokens = opts.prefixTokens ?? 0;
  checkInt('--prefix', prefixTokens, 0, MAX_CONTEXT_SEARCH_TOKENS);
  if (prefixTokens > contextTokens) {
    throw inputError({ field: '--prefix', expected: `a shared prefix no longer than the context (${contextTokens} tokens)`, got: prefixTokens });
  }
  const use = kvUse(layout, f, { sequences: workload.batch, contextTokens, prefixTokens }, policy);
  warnings.push(...evictionWarnings(policy, f));

  // --- activations ---
  const act = peakActivations(spec, workload, tp, opts.prefillChunkTokens);

  // --- overhead ---
  const overhead: OverheadItem[] =
    opts.overheadBytes !== undefined ? [{ id: 'configured', bytes: opts.overheadBytes, source: 'set by the caller' }] : DEFAULT_OVERHEAD.map((o) => ({ ...o }));
  const overheadBytes = overhead.reduce((s, o) => s + o.bytes, 0);
  if (!Number.isFinite(overheadBytes) || overheadBytes < 0) {
    throw inputError({ field: '--overhead', expected: 'a non-negative number of bytes', got: overheadBytes });
  }

  const deviceBytes = device.memoryBytes;
  const usableBytes = deviceBytes * utilization;
  const totalBytes = weightsBytes + use.bytes + act.bytes + overheadBytes;
  const budgetBytes = usableBytes - weightsBytes - act.bytes - overheadBytes;
  const perTokenDevice = bytesPerTokenOf(layout, f);
  const blockBytes = perTokenDevice * policy.blockTokens;
  const budgetBlocks = budgetBytes > 0 ? Math.floor(budgetBytes / blockBytes) : 0;

  const maxBatch = maxSequences(layout, f, policy, contextTokens, prefixTokens, budgetBytes);
  const maxContextTokens = maxContext(layout, f, policy, workload.batch, prefixTokens, budgetBytes);
  if (budgetBytes < 0) warnings.push(`weights, activations and overhead alone exceed ${pct(utilization)} of ${device.name}'s memory`);

  return {
    weightsBytes,
    kvCacheBytes: use.bytes,
    activationsBytes: act.bytes,
    overheadBytes,
    totalBytes,
    deviceBytes,
    fits: totalBytes <= usableBytes,
    usableBytes,
    utilization,
    tp,
    contextTokens,
    sequences: workload.batch,
    weights: { format: wf.id, bitsPerWeight: wf.bitsPerWeight, quantizedParams: quantized + headParams, highPrecisionParams: high, totalBytes: weightsAll },
    kv: {
      format: f.id,
      label: f.label,
      bitsPerElement: f.bitsPerElement,
      bytesPerToken: perTokenDevice,
      bytesPerTokenAllDevices: bytesPerTokenOf(tp === 1 ? layout : kvLayout(spec, 1), f),
      blockTokens: policy.blockTokens,
      blockBytes,
      blocks: use.blocks,
      bytesPerSequence: use.bytesPerSequence,
      sharedBytes: use.sharedBytes,
      groups: use.groups,
      budgetBytes,
      budgetTokens: budgetBlocks * policy.blockTokens,
      budgetBlocks,
      maxBatch,
      maxContextTokens,
    },
    activations: { chunkTokens: act.chunkTokens, bytesPerElement: act.bytesPerElement, peakStage: act.peakStage },
    overhead,
    sources: {
      utilization: opts.utilization !== undefined ? 'set by the caller' : defaults.utilization.source,
      activations: ACTIVATIONS_SOURCE,
    },
    warnings,
  };
}

/** Eviction / window options into a policy, validated (one clear line per bad value). */
export function policyFrom(opts: MemoryOptions): KvPolicy {
  const p: KvPolicy = { ...DEFAULT_POLICY };
  if (opts.blockTokens !== undefined) {
    checkInt('--block', opts.blockTokens, 1, 65536);
    p.blockTokens = opts.blockTokens;
  }
  if (opts.windowTokens !== undefined) {
    checkInt('--window', opts.windowTokens, 1, MAX_CONTEXT_SEARCH_TOKENS);
    p.windowTokens = opts.windowTokens;
  }
  if (opts.sinkTokens !== undefined) {
    checkInt('--sinks', opts.sinkTokens, 0, MAX_CONTEXT_SEARCH_TOKENS);
    p.sinkTokens = opts.sinkTokens;
  }
  if (opts.recentTokens !== undefined) {
    checkInt('--recent', opts.recentTokens, 0, MAX_CONTEXT_SEARCH_TOKENS);
    p.recentTokens = opts.recentTokens;
  }
  if (opts.heavyHitterTokens !== undefined && opts.heavyHitterFraction !== undefined) {
    throw inputError({ field: '--heavy-hitters', expected: 'a token budget or a fraction of the context, not both' });
  }
  if (opts.heavyHitterTokens !== undefined) {
    checkInt('--heavy-hitters', opts.heavyHitterTokens, 1, MAX_CONTEXT_SEARCH_TOKENS);
    p.heavyHitterTokens = opts.heavyHitterTokens;
  }
  if (opts.heavyHitterFraction !== undefined) {
    const fr = opts.heavyHitterFraction;
    if (!Number.isFinite(fr) || fr <= 0 || fr > 1) throw inputError({ field: '--heavy-hitters', expected: 'a percentage in (0%, 100%]', got: fr });
    p.heavyHitterFraction = fr;
  }
  if (evicts(p) && p.sinkTokens + p.recentTokens === 0 && p.heavyHitterTokens === null && p.heavyHitterFraction === null) {
    throw inputError({ field: '--sinks', expected: 'a positive budget (sinks + recent + heavy hitters > 0)' });
  }
  return p;
}

/** Largest n with kvUse(n sequences) <= budget. KV bytes are affine in n: shared + n x per sequence. */
export function maxSequences(layout: KvLayout, f: KvFormat, p: KvPolicy, contextTokens: number, prefixTokens: number, budgetBytes: number): number {
  if (budgetBytes <= 0) return 0;
  const one = kvUse(layout, f, { sequences: 1, contextTokens, prefixTokens }, p);
  if (one.bytes > budgetBytes) return 0;
  const two = kvUse(layout, f, { sequences: 2, contextTokens, prefixTokens }, p);
  if (two.bytesPerSequence <= 0) return Number.MAX_SAFE_INTEGER;
  const n = Math.floor((budgetBytes - two.sharedBytes) / two.bytesPerSequence);
  return Math.max(1, n);
}

/**
 * Longest context `sequences` sequences reach within the budget. KV bytes never shrink with the context, so
 * the answer is the one L with bytes(L) <= budget < bytes(L + 1): a guess from the long-context bytes per
 * token in whole blocks is that L for every uncapped cache (two evaluations confirm it); whatever it misses,
 * it narrows the binary search that follows. Grouped (KIVI-style) formats with a shared prefix are not
 * monotone step by step, so they keep the plain bisection (whose probes define the answer there).
 */
export function maxContext(layout: KvLayout, f: KvFormat, p: KvPolicy, sequences: number, prefixTokens: number, budgetBytes: number): number | null {
  const bytesAt = (L: number) => kvBytes(layout, f, sequences, L, Math.min(prefixTokens, L), p);
  if (budgetBytes <= 0 || bytesAt(1) > budgetBytes) return 0;
  if (bytesAt(MAX_CONTEXT_SEARCH_TOKENS) <= budgetBytes) return null;
  // Invariant: bytesAt(lo) <= budget < bytesAt(hi).
  let lo = 1;
  let hi = MAX_CONTEXT_SEARCH_TOKENS;
  const perBlock = sequences * bytesPerTokenOf(layout, f) * p.blockTokens;
  const guess = perBlock > 0 && f.scheme !== 'grouped' ? Math.floor((budgetBytes - fixedKvBytes(layout, f)) / perBlock) * p.blockTokens : 0;
  if (guess > lo && guess < hi) {
    if (bytesAt(guess) <= budgetBytes) {
      lo = guess;
      if (bytesAt(guess + 1) > budgetBytes) hi = guess + 1;
    } else {
      hi = guess;
    }
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (bytesAt(mid) <= budgetBytes) lo = mid;
    else hi = mid;
  }
  return lo;
}

const ACTIVATIONS_SOURCE =
  `Largest forward pass: the prefill chunk (default ${defaults.prefillChunk.tokens} tokens: ${defaults.prefillChunk.source}) or the decode batch. ` +
  'Live tensors of one layer at that pass (residual, normed input, Q/K/V, attention output; MLP gate/up/activation), ' +
  'attention scores not materialized (fused FlashAttention kernels, FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness), ' +
  'logits in fp32 for the last token of each sequence; layers run one after another so one layer is live at a time';

interface Activations {
  bytes: number;
  chunkTokens: number;
  bytesPerElement: number;
  peakStage: 'attention' | 'mlp' | 'logits';
}

/**
 * Peak activation memory on one device: the largest set of tensors alive at once in one layer, for the
 * largest forward pass (the prefill chunk, or the decode batch if larger). Sharded tensors divide by tp.
 */
export function peakActivations(spec: ModelSpec, w: Workload, tp: number, prefillChunkTokens = DEFAULT_PREFILL_CHUNK_TOKENS): Activations {
  // A prefix-cache hit leaves only the rest of the prompt to compute.
  const wholePrefill = w.batch * computedPromptTokens(w);
  if (prefillChunkTokens !== Infinity) checkInt('--prefill-chunk', prefillChunkTokens, 1, 1e9);
  const chunk = Math.max(w.batch, Math.min(prefillChunkTokens, wholePrefill));
  // Activations stay 16-bit between ops even when GEMM inputs are quantized to fp8/int8 on the fly.
  const e = w.activations === 'fp32' ? 4 : 2;
  const T = chunk;
  const h = spec.hiddenSize;
  const a = spec.attention;
  const shard = (x: number) => x / tp;
  let attnProj: number;
  if (a.kind === 'mla' && a.mla) {
    const m = a.mla;
    const q = a.heads * (m.qkNopeHeadDim + m.qkRopeHeadDim);
    const latent = m.kvLoraRank + m.qkRopeHeadDim;
    const kvUp = a.heads * (m.qkNopeHeadDim + m.vHeadDim);
    attnProj = shard(q) + latent + shard(kvUp) + shard(a.heads * m.vHeadDim);
  } else {
    attnProj = shard(a.heads * a.headDim) + shard(kvHeadsDim(a.kvHeads, a.headDim + a.vHeadDim, tp)) + shard(a.heads * a.vHeadDim);
  }
  // residual + normed input + projections + o_proj output
  const attention = T * (h + h + attnProj + h) * e;
  let mlpWidth = 0;
  let routerBytes = 0;
  for (const g of spec.layerGroups) {
    const m = g.mlp;
    let width: number;
    if (m.kind === 'dense') {
      width = m.intermediateSize * (m.gated ? 3 : 2);
    } else {
      width = m.topK * m.expertIntermediateSize * (m.gated ? 3 : 2) + m.sharedExperts * m.sharedIntermediateSize * (m.gated ? 3 : 2);
      routerBytes = Math.max(routerBytes, T * m.numExperts * 4);
    }
    mlpWidth = Math.max(mlpWidth, width);
  }
  const mlp = T * (h + h + shard(mlpWidth) + h) * e + routerBytes;
  // Logits: fp32, one row per sequence (prefill samples the last position; decode one token per sequence).
  const logits = T * h * e + w.batch * spec.vocabSize * 4;
  const peak = Math.max(attention, mlp, logits);
  const peakStage = peak === attention ? 'attention' : peak === mlp ? 'mlp' : 'logits';
  return { bytes: peak, chunkTokens: chunk, bytesPerElement: e, peakStage };
}

function kvHeadsDim(kvHeads: number, dim: number, tp: number): number {
  // K/V projections: replicated when kvHeads < tp, so one device holds max(kvHeads / tp, 1) heads' worth.
  return kvHeads < tp ? dim * tp : kvHeads * dim;
}

function checkWorkload(w: Workload): void {
  checkInt('--batch', w.batch, 1, 1e7);
  checkInt('--prompt', w.promptTokens, 1, MAX_CONTEXT_SEARCH_TOKENS);
  checkInt('--generate', w.generateTokens, 0, MAX_CONTEXT_SEARCH_TOKENS);
  checkInt('--tp', w.tp, 1, 4096);
}

function checkInt(field: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw inputError({ field, expected: `an integer from ${min} to ${max}`, got: v });
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}
