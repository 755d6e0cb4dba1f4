import type { AttentionKind, ModelSpec } from '../model/types';
import { inputError } from '../errors';
import { kvFormat, type KvFormat } from './kvFormats';
import { tpSplit } from '../model/graph';

/**
 * What the KV cache stores, per layer group and per token, and how many bytes that is at a given
 * context under a storage format, a paged allocator, a sliding window, eviction budgets and prefix sharing.
 *
 * - MHA / GQA / MQA: a K tensor of `kvHeads x headDim` and a V tensor of `kvHeads x vHeadDim` per layer
 *   and token: KV heads, never query heads.
 * - MLA: one latent of `kvLoraRank + qkRopeHeadDim` per layer and token (the compressed KV plus the
 *   shared rotary key), which is what vLLM and SGLang keep; it is not split across tensor-parallel ranks.
 * - Sliding-window layers keep at most `window` tokens (Mistral `sliding_window`, Gemma 2 local layers,
 *   Qwen2 `use_sliding_window` from `max_window_layers` on).
 * - Grouped (KIVI-style) formats quantize K per channel and V per token; an MLA latent, which stands for
 *   both, is quantized per token like V.
 * - Blocks are counted per layer group: a block holds `blockTokens` tokens of every layer of its group
 *   (one group for most models; Gemma 2 has a local and a global pool).
 */

export type KvRole = 'k' | 'v' | 'latent';

export interface KvTensor {
  role: KvRole;
  /** Heads stored on one device (tensor parallel splits KV heads; replicated when kvHeads < tp). */
  heads: number;
  /** Elements per head per token. */
  dim: number;
}

export interface KvGroupLayout {
  /** Layers in this group (count). */
  layers: number;
  /** Sliding window in tokens from the model; null = full attention. */
  window: number | null;
  tensors: KvTensor[];
  /** K+V (or latent) elements per token per layer, on one device. */
  elementsPerTokenPerLayer: number;
}

export interface KvLayout {
  attentionKind: AttentionKind;
  tp: number;
  groups: KvGroupLayout[];
  /** Elements per token summed over every layer, on one device. */
  elementsPerToken: number;
  warnings: string[];
}

export function kvLayout(spec: ModelSpec, tp = 1): KvLayout {
  checkInt('--tp', tp, 1, 4096);
  const a = spec.attention;
  const warnings: string[] = [];
  let tensors: KvTensor[];
  if (a.kind === 'mla') {
    if (!a.mla) throw inputError({ field: 'kv_lora_rank', expected: 'MLA dimensions (kv_lora_rank, qk_rope_head_dim) for an MLA model' });
    tensors = [{ role: 'latent', heads: 1, dim: a.mla.kvLoraRank + a.mla.qkRopeHeadDim }];
    if (tp > 1) warnings.push(`MLA latent cache is replicated on each of the ${tp} tensor-parallel devices, not split`);
  } else {
    // tpSplit refuses a tp that splits the KV heads unevenly (exit 2), as the analysis does.
    const heads = tpSplit(spec, tp).kvHeads;
    if (a.kvHeads < tp) {
      warnings.push(`${a.kvHeads} KV heads < tp=${tp}: each KV head is replicated on ${tp / a.kvHeads} devices`);
    }
    tensors = [
      { role: 'k', heads, dim: a.headDim },
      { role: 'v', heads, dim: a.vHeadDim },
    ];
  }
  const per = tensors.reduce((s, t) => s + t.heads * t.dim, 0);
  const groups: KvGroupLayout[] = spec.layerGroups.map((g) => ({
    layers: g.layers.length,
    window: g.window,
    tensors,
    elementsPerTokenPerLayer: per,
  }));
  const elementsPerToken = groups.reduce((s, g) => s + g.layers * g.elementsPerTokenPerLayer, 0);
  return { attentionKind: a.kind, tp, groups, elementsPerToken, warnings };
}

/**
 * Exact bytes of one tensor of one layer holding `tokens` tokens of one sequence.
 * Grouped formats (KIVI layout): keys are quantized per channel in groups of `groupSize` tokens, and only
 * whole blocks of `residualTokens` tokens are quantized (the `tokens mod residualTokens` newest stay full
 * precision); values (and an MLA latent) are quantized per token in groups of `groupSize` channels once
 * they leave the `residualTokens` newest tokens, which stay full precision.
 */
export function exactTensorBytes(t: KvTensor, tokens: number, f: KvFormat): number {
  if (tokens <= 0) return 0;
  // llama.cpp's cache types: every token's row in blocks of groupSize along the head dimension, one scale each.
  if (f.scheme === 'block') return (tokens * t.heads * (t.dim * f.elementBits + Math.ceil(t.dim / f.groupSize) * (f.scaleBits + f.zeroBits))) / 8;
  if (f.scheme !== 'grouped') return (tokens * t.heads * t.dim * f.elementBits) / 8;
  const g = f.groupSize;
  const r = f.residualTokens;
  const meta = f.scaleBits + f.zeroBits;
  let quantTokens: number;
  let metaBitsPerTokenPerHead: number;
  if (t.role === 'k') {
    quantTokens = Math.floor(tokens / (r > 0 ? r : g)) * (r > 0 ? r : g);
    // one scale + zero per channel per group of g tokens
    metaBitsPerTokenPerHead = (t.dim * meta) / g;
  } else {
    quantTokens = Math.max(0, tokens - r);
    // one scale + zero per token per group of g channels
    metaBitsPerTokenPerHead = Math.ceil(t.dim / g) * meta;
  }
  const fullTokens = tokens - quantTokens;
  const bits =
    quantTokens * t.heads * (t.dim * f.elementBits + metaBitsPerTokenPerHead) + fullTokens * t.heads * t.dim * f.fullPrecisionBits;
  return bits / 8;
}

/**
 * Bytes a sequence must have reserved to grow to `tokens` tokens: the largest exact size on the way.
 * Equal to the exact size except for grouped keys, whose full-precision residual shrinks when a whole
 * residual block is quantized; the peak just before that flush stays reserved.
 */
export function tensorBytes(t: KvTensor, tokens: number, f: KvFormat): number {
  const now = exactTensorBytes(t, tokens, f);
  if (f.scheme !== 'grouped' || t.role !== 'k') return now;
  const step = f.residualTokens > 0 ? f.residualTokens : f.groupSize;
  if (tokens < step) return now;
  return Math.max(now, exactTensorBytes(t, Math.floor(tokens / step) * step - 1, f));
}

/** Fixed bytes independent of tokens and sequences: per-tensor scales (fp8 k_scale / v_scale per layer). */
export function fixedKvBytes(layout: KvLayout, f: KvFormat): number {
  if (f.scheme !== 'per-tensor') return 0;
  return layout.groups.reduce((s, g) => s + g.layers * g.tensors.length * (f.scaleBitsPerTensor / 8), 0);
}

/** Eviction and windowing applied on top of the model's own sliding windows. */
export interface KvPolicy {
  /** Paged allocator block size in tokens (1 = exact, no rounding). */
  blockTokens: number;
  /** A sliding window imposed on every layer (tokens); null = the model's own attention. */
  windowTokens: number | null;
  /** Attention sinks kept from the start of the sequence (Efficient Streaming Language Models with Attention Sinks). */
  sinkTokens: number;
  /** Recent window kept with sinks or heavy hitters; 0 = none. */
  recentTokens: number;
  /** Heavy-hitter budget in tokens (H2O), or null. */
  heavyHitterTokens: number | null;
  /** Heavy-hitter budget as a fraction of the context (H2O), or null. */
  heavyHitterFraction: number | null;
}

export const DEFAULT_POLICY: KvPolicy = {
  blockTokens: 16,
  windowTokens: null,
  sinkTokens: 0,
  recentTokens: 0,
  heavyHitterTokens: null,
  heavyHitterFraction: null,
};

export function evicts(p: KvPolicy): boolean {
  return p.sinkTokens > 0 || p.recentTokens > 0 || p.heavyHitterTokens !== null || p.heavyHitterFraction !== null;
}

/** Tokens one sequence keeps in a layer group at context `contextTokens`. */
export function keptTokens(g: KvGroupLayout, contextTokens: number, p: KvPolicy): number {
  let t = contextTokens;
  if (g.window !== null) t = Math.min(t, g.window);
  if (p.windowTokens !== null) t = Math.min(t, p.windowTokens);
  if (evicts(p)) {
    const hh =
      p.heavyHitterTokens !== null ? p.heavyHitterTokens : p.heavyHitterFraction !== null ? Math.ceil(p.heavyHitterFraction * contextTokens) : 0;
    t = Math.min(t, p.sinkTokens + p.recentTokens + hh);
  }
  return t;
}

/**
 * Blocks one sequence holds in a layer group. A full sequence rounds up to whole blocks; a capped one
 * (window or eviction) is a ring over blocks whose kept span may start mid-block, so it can touch
 * ceil((kept - 1) / B) + 1 blocks, never more than the uncapped sequence.
 */
export function blocksFor(kept: number, contextTokens: number, blockTokens: number): number {
  const full = Math.ceil(contextTokens / blockTokens);
  if (kept >= contextTokens) return full;
  if (kept <= 0) return 0;
  return Math.min(full, Math.ceil((kept - 1) / blockTokens) + 1);
}

export interface KvGroupUse {
  layers: number;
  window: number | null;
  /** Tokens kept per sequence. */
  keptTokens: number;
  /** Blocks per sequence (before prefix sharing). */
  blocksPerSequence: number;
  /** Blocks shared by every sequence (prefix sharing); 0 without. */
  sharedBlocks: number;
  /** Bytes over all sequences and layers of this group, one device. */
  bytes: number;
}

export interface KvUse {
  format: string;
  sequences: number;
  contextTokens: number;
  /** Bytes on one device for every sequence, all layers, fixed scales included. */
  bytes: number;
  /** Bytes one sequence adds (what max-batch divides by). */
  bytesPerSequence: number;
  /** Bytes stored once for all sequences: the shared prefix and fixed scales. */
  sharedBytes: number;
  blocks: number;
  groups: KvGroupUse[];
}

export interface KvRequest {
  sequences: number;
  contextTokens: number;
  /** Prompt prefix shared by every sequence (stored once, whole blocks only). */
  prefixTokens?: number;
}

/** KV-cache bytes on one device for `sequences` sequences of `contextTokens` tokens. */
export function kvUse(layout: KvLayout, f: KvFormat, req: KvRequest, p: KvPolicy = DEFAULT_POLICY): KvUse {
  const n = req.sequences;
  const L = req.contextTokens;
  const B = p.blockTokens;
  const prefix = Math.min(req.prefixTokens ?? 0, L);
  let bytes = 0;
  let perSeq = 0;
  let shared = fixedKvBytes(layout, f);
  let blocks = 0;
  const groups: KvGroupUse[] = [];
  for (const g of layout.groups) {
    const kept = keptTokens(g, L, p);
    const blk = blocksFor(kept, L, B);
    const slots = blk * B;
    // Only whole blocks of an uncapped (never evicted) prefix are shared, as paged prefix caches do, and
    // never a sequence's last block: each sequence appends its next token to a block of its own.
    const sharedBlk = kept >= L && n > 1 ? Math.max(0, Math.min(Math.floor(prefix / B), blk - 1)) : 0;
    const seqBytes = g.tensors.reduce((s, t) => s + tensorBytes(t, slots, f), 0) * g.layers;
    const sharedBytes = g.tensors.reduce((s, t) => s + tensorBytes(t, sharedBlk * B, f), 0) * g.layers;
    const own = seqBytes - sharedBytes;
    const total = sharedBytes + n * own;
    groups.push({ layers: g.layers, window: g.window, keptTokens: kept, blocksPerSequence: blk, sharedBlocks: sharedBlk, bytes: total });
    bytes += total;
    perSeq += own;
    shared += sharedBytes;
    blocks += g.layers > 0 ? sharedBlk + n * (blk - sharedBlk) : 0;
  }
  bytes += fixedKvBytes(layout, f);
  return { format: f.id, sequences: n, contextTokens: L, bytes, bytesPerSequence: perSeq, sharedBytes: shared, blocks, groups };
}

/**
 * kvUse(layout, f, { sequences, contextTokens, prefixTokens }, p).bytes, the same sums in the same order,
 * without the per-group breakdown (allocates nothing: searches over the context call it often).
 */
export function kvBytes(layout: KvLayout, f: KvFormat, sequences: number, contextTokens: number, prefixTokens: number, p: KvPolicy = DEFAULT_POLICY): number {
  const L = contextTokens;
  const B = p.blockTokens;
  const prefix = Math.min(prefixTokens, L);
  let bytes = 0;
  for (const g of layout.groups) {
    const kept = keptTokens(g, L, p);
    const blk = blocksFor(kept, L, B);
    const sharedBlk = kept >= L && sequences > 1 ? Math.max(0, Math.min(Math.floor(prefix / B), blk - 1)) : 0;
    let seq = 0;
    let shared = 0;
    for (const t of g.tensors) {
      seq += tensorBytes(t, blk * B, f);
      shared += tensorBytes(t, sharedBlk * B, f);
    }
    const seqBytes = seq * g.layers;
    const sharedBytes = shared * g.layers;
    bytes += sharedBytes + sequences * (seqBytes - sharedBytes);
  }
  return bytes + fixedKvBytes(layout, f);
}

/**
 * Long-context KV bytes per token for the whole model (all layers) on one device: what each extra token
 * of context costs before any window cap. Llama-2-7B fp16: 32 layers x 2 x 32 heads x 128 x 2 B = 512 KiB.
 */
export function kvBytesPerToken(spec: ModelSpec, format: string | KvFormat, opts: { tp?: number } = {}): number {
  const f = typeof format === 'string' ? kvFormat(format) : format;
  const layout = kvLayout(spec, opts.tp ?? 1);
  return bytesPerTokenOf(layout, f);
}

export function bytesPerTokenOf(layout: KvLayout, f: KvFormat): number {
  return (layout.elementsPerToken * f.bitsPerElement) / 8;
}

function checkInt(field: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw inputError({ field, expected: `an integer from ${min} to ${max}`, got: v });
}
