import type { AttentionKind, ModelSpec, Workload } from '../model/types';
import type { Device } from '../hardware/types';
import { kvFormat, listKvFormats, withGrouping } from './kvFormats';
import { kvLayout, kvUse, bytesPerTokenOf, evicts, DEFAULT_POLICY, type KvPolicy } from './kvCache';
import { planMemory, policyFrom, maxSequences, maxContext, type MemoryOptions, type MemoryPlan } from './plan';

/**
 * The result of `ridgeline kv` (and of the KV-cache panel): bytes per token in every KV format, how many
 * tokens fit, max batch across contexts 1k..128k, with and without the window / eviction options, the
 * memory plan at the requested batch and context, and what prefix sharing saves.
 */
export interface KvReport {
  model: {
    name: string;
    attentionKind: AttentionKind;
    heads: number;
    kvHeads: number;
    headDim: number;
    vHeadDim: number;
    layers: number;
    dtype: string;
    maxPositionEmbeddings: number | null;
    /** MLA latent per layer (kv_lora_rank + qk_rope_head_dim); null for other attention kinds. */
    mlaLatentDim: number | null;
    layerGroups: Array<{ layers: number; window: number | null }>;
  };
  hardware: { id: string; name: string; memoryBytes: number };
  tp: number;
  blockTokens: number;
  /** KV format of the plan and the context table. */
  kvFormat: string;
  /** Options that change what is kept (null when not given). */
  options: {
    windowTokens: number | null;
    sinkTokens: number | null;
    recentTokens: number | null;
    heavyHitterTokens: number | null;
    heavyHitterFraction: number | null;
  };
  /** One row per KV format: long-context bytes per token and what fits in the KV budget. */
  formats: Array<{
    id: string;
    label: string;
    bitsPerElement: number;
    /** Whole model, all devices. */
    bytesPerToken: number;
    /** One device under tp. */
    bytesPerTokenPerDevice: number;
    /** Tokens (whole blocks) the KV budget of one device holds. */
    budgetTokens: number;
    budgetBlocks: number;
    /** Sequences of the plan's context that fit (with the options, if any). */
    maxBatch: number;
    source: string;
  }>;
  /** Max batch per context for the chosen format: without options (`maxBatch`) and with them (`withOptions`). */
  contexts: Array<{
    contextTokens: number;
    beyondMaxPosition: boolean;
    bytesPerSequence: number;
    maxBatch: number;
    withOptions: { bytesPerSequence: number; maxBatch: number } | null;
  }>;
  /**
   * Longest context at the plan's batch; null = memory does not bound it (every layer capped).
   * `withOptions` is present only when window / eviction options were given.
   */
  maxContextTokens: { batch: number; withoutOptions: number | null; withOptions?: number | null };
  /** Set with --prefix: n sequences sharing a prompt prefix, stored once. */
  prefixSharing: {
    prefixTokens: number;
    sequences: number;
    contextTokens: number;
    bytesWithoutSharing: number;
    bytesWithSharing: number;
    savedBytes: number;
  } | null;
  plan: MemoryPlan;
  warnings: string[];
}

/** Contexts of the max-batch table: 1k to 128k tokens. */
export const REPORT_CONTEXTS = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072] as const;

export function kvReport(spec: ModelSpec, workload: Workload, device: Device, opts: MemoryOptions = {}): KvReport {
  const plan = planMemory(spec, workload, device, opts);
  const policy = policyFrom(opts);
  const base: KvPolicy = { ...DEFAULT_POLICY, blockTokens: policy.blockTokens };
  const hasOptions = evicts(policy) || policy.windowTokens !== null;
  const layout = kvLayout(spec, workload.tp);
  const layout1 = workload.tp === 1 ? layout : kvLayout(spec, 1);
  const budget = plan.kv.budgetBytes;
  const prefix = opts.prefixTokens ?? 0;
  const grouping = { groupSize: opts.kvGroupSize, residualTokens: opts.kvResidualTokens };
  const f = withGrouping(kvFormat(workload.kv), grouping);
  const warnings = [...plan.warnings];

  const formats = listKvFormats().map((fmt0) => {
    const fmt = fmt0.scheme === 'grouped' ? withGrouping(fmt0, grouping) : fmt0;
    const perDev = bytesPerTokenOf(layout, fmt);
    const blocks = budget > 0 ? Math.floor(budget / (perDev * policy.blockTokens)) : 0;
    return {
      id: fmt.id,
      label: fmt.label,
      bitsPerElement: fmt.bitsPerElement,
      bytesPerToken: bytesPerTokenOf(layout1, fmt),
      bytesPerTokenPerDevice: perDev,
      budgetTokens: blocks * policy.blockTokens,
      budgetBlocks: blocks,
      maxBatch: maxSequences(layout, fmt, policy, plan.contextTokens, prefix, budget),
      source: fmt.source,
    };
  });

  const maxPos = spec.maxPositionEmbeddings;
  const contexts = REPORT_CONTEXTS.map((L) => {
    const one = kvUse(layout, f, { sequences: 1, contextTokens: L }, base);
    const withOpt = hasOptions ? kvUse(layout, f, { sequences: 1, contextTokens: L }, policy) : null;
    return {
      contextTokens: L,
      beyondMaxPosition: maxPos !== null && L > maxPos,
      bytesPerSequence: one.bytes,
      maxBatch: maxSequences(layout, f, base, L, 0, budget),
      withOptions: withOpt ? { bytesPerSequence: withOpt.bytes, maxBatch: maxSequences(layout, f, policy, L, 0, budget) } : null,
    };
  });
  const beyond = contexts.filter((c) => c.beyondMaxPosition).map((c) => c.contextTokens);
  if (beyond.length && maxPos !== null && plan.contextTokens <= maxPos) {
    warnings.push(`contexts ${beyond.map(kTokens).join(', ')} exceed the model's max_position_embeddings (${maxPos}); shown for sizing only`);
  }

  let prefixSharing: KvReport['prefixSharing'] = null;
  if (prefix > 0) {
    // Shown without eviction: sequences that evict tokens independently no longer hold the same prefix
    // blocks, so a shared prefix only survives in layers that keep the whole context.
    const req = { sequences: workload.batch, contextTokens: plan.contextTokens };
    const without = kvUse(layout, f, req, base).bytes;
    const withShare = kvUse(layout, f, { ...req, prefixTokens: prefix }, base).bytes;
    if (hasOptions) warnings.push('prefix sharing is shown without the window/eviction options: evicting sequences stop sharing prefix blocks');
    prefixSharing = {
      prefixTokens: prefix,
      sequences: workload.batch,
      contextTokens: plan.contextTokens,
      bytesWithoutSharing: without,
      bytesWithSharing: withShare,
      savedBytes: without - withShare,
    };
  }

  const a = spec.attention;
  return {
    model: {
      name: spec.name,
      attentionKind: a.kind,
      heads: a.heads,
      kvHeads: a.kvHeads,
      headDim: a.headDim,
      vHeadDim: a.vHeadDim,
      layers: spec.numLayers,
      dtype: spec.dtype,
      maxPositionEmbeddings: maxPos,
      mlaLatentDim: a.mla ? a.mla.kvLoraRank + a.mla.qkRopeHeadDim : null,
      layerGroups: spec.layerGroups.map((g) => ({ layers: g.layers.length, window: g.window })),
    },
    hardware: { id: device.id, name: device.name, memoryBytes: device.memoryBytes },
    tp: workload.tp,
    blockTokens: policy.blockTokens,
    kvFormat: f.id,
    options: {
      windowTokens: policy.windowTokens,
      sinkTokens: opts.sinkTokens ?? null,
      recentTokens: opts.recentTokens ?? null,
      heavyHitterTokens: policy.heavyHitterTokens,
      heavyHitterFraction: policy.heavyHitterFraction,
    },
    formats,
    contexts,
    maxContextTokens: {
      batch: workload.batch,
      withoutOptions: maxContext(layout, f, base, workload.batch, prefix, budget),
      ...(hasOptions ? { withOptions: maxContext(layout, f, policy, workload.batch, prefix, budget) } : {}),
    },
    prefixSharing,
    plan,
    warnings,
  };
}

function kTokens(n: number): string {
  return n % 1024 === 0 ? `${n / 1024}k` : String(n);
}
