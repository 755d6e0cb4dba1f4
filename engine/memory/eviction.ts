import type { KvFormat } from './kvFormats';
import type { KvPolicy } from './kvCache';

/**
 * Quality warnings for the memory-saving options, each naming the paper its behavior comes from.
 * Memory effects are computed in kvCache.ts (`keptTokens`); these say what the saving costs.
 */
export const PAPERS = {
  streamingLlm: 'Efficient Streaming Language Models with Attention Sinks',
  lmInfinite: 'LM-Infinite: Simple On-the-Fly Length Generalization for Large Language Models',
  h2o: 'H2O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models',
  kivi: 'KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache',
  kvQuant: 'KVQuant: Towards 10 Million Context Length LLM Inference with KV Cache Quantization',
} as const;

export function evictionWarnings(p: KvPolicy, f: KvFormat): string[] {
  const out: string[] = [];
  if (p.windowTokens !== null) {
    out.push(
      `--window ${p.windowTokens}: every layer attends to the last ${p.windowTokens} tokens only; a model trained with full attention loses what falls out of the window, and plain window attention degrades once the first tokens are evicted (${PAPERS.streamingLlm})`,
    );
  }
  if (p.sinkTokens > 0 || p.recentTokens > 0) {
    if (p.heavyHitterTokens === null && p.heavyHitterFraction === null) {
      out.push(
        `sinks ${p.sinkTokens} + recent ${p.recentTokens}: keeps generation fluent past the cache budget, but tokens between the sinks and the recent window are dropped and cannot be recalled (${PAPERS.streamingLlm}; ${PAPERS.lmInfinite})`,
      );
    }
  }
  if (p.heavyHitterTokens !== null || p.heavyHitterFraction !== null) {
    const budget = p.heavyHitterTokens !== null ? `${p.heavyHitterTokens} tokens` : `${Math.round(p.heavyHitterFraction! * 1000) / 10}% of the context`;
    out.push(
      `heavy hitters ${budget}${p.recentTokens > 0 ? ` + recent ${p.recentTokens}` : ''}: evicts tokens with low accumulated attention; the paper reports quality held with a 20% heavy-hitter budget on OPT, LLaMA and GPT-NeoX tasks, smaller budgets and retrieval-style tasks lose more (${PAPERS.h2o})`,
    );
  }
  if (f.scheme === 'grouped' && f.elementBits <= 2) {
    out.push(
      `${f.id}: 2-bit KV keeps quality only with keys quantized per channel, values per token and a full-precision recent window as modeled here (${PAPERS.kivi}); uniform 2-bit without those loses accuracy (${PAPERS.kvQuant})`,
    );
  }
  return out;
}
