import { kvFormat } from '../memory/kvFormats';
import type { ModelSpec } from './types';

/** What one layer group caches per token. */
export interface KvLayoutGroup {
  /** Number of layers in the group. */
  layers: number;
  /** Cached K elements per token per layer (KV heads x head dim; MLA: kv_lora_rank + qk_rope_head_dim). */
  kElementsPerTokenPerLayer: number;
  /** Cached V elements per token per layer (0 for MLA: one latent serves both K and V). */
  vElementsPerTokenPerLayer: number;
  /** True when K and V share one cached latent (MLA). */
  sharedLatent: boolean;
  /** Sliding window in tokens (cache never holds more than this per sequence); null = full attention. */
  window: number | null;
}

/**
 * The KV cache's shape per layer group. Attention caches K and V per KV head (never per query head);
 * MLA caches the compressed latent c_kv (kv_lora_rank) plus the decoupled rotary key (qk_rope_head_dim)
 * once per token per layer (DeepSeek-V2 paper, "Multi-head Latent Attention").
 */
export function kvCacheLayout(spec: ModelSpec): KvLayoutGroup[] {
  const a = spec.attention;
  const out: KvLayoutGroup[] = [];
  for (const g of spec.layerGroups) {
    const k = a.mla ? a.mla.kvLoraRank + a.mla.qkRopeHeadDim : a.kvHeads * a.headDim;
    const v = a.mla ? 0 : a.kvHeads * a.vHeadDim;
    const prev = out.find((x) => x.window === g.window && x.kElementsPerTokenPerLayer === k);
    if (prev) prev.layers += g.layers.length;
    else out.push({ layers: g.layers.length, kElementsPerTokenPerLayer: k, vElementsPerTokenPerLayer: v, sharedLatent: a.mla !== null, window: g.window });
  }
  return out;
}

/** Cached K+V elements per token over all layers (no window cap). */
export function kvElementsPerToken(spec: ModelSpec): number {
  let n = 0;
  for (const g of kvCacheLayout(spec)) n += g.layers * (g.kElementsPerTokenPerLayer + g.vElementsPerTokenPerLayer);
  return n;
}

/**
 * KV-cache bytes per token over all layers in the given format (default: the model's dtype), with no
 * sliding-window cap, paging or per-block scales (the memory planner adds those).
 * Llama-2-7B fp16: 32 layers x 2 x 32 heads x 128 x 2 B = 524,288 B.
 */
export function kvBytesPerToken(spec: ModelSpec, kvFormatId: string = spec.dtype): number {
  return (kvElementsPerToken(spec) * kvFormat(kvFormatId).bitsPerElement) / 8;
}
