import type { ModelSpec, Workload } from '../model/types';
import { buildGraph, computedPromptTokens } from '../model/graph';
import type { CostContext, OpCost, WeightedPass } from './roofline';
import { costOps, costPasses } from './roofline';

/** One prefill pass: `tokens` new tokens per sequence after `cachedTokens`; `weight` passes like it. */
export interface PrefillChunk {
  tokens: number;
  cachedTokens: number;
  /** Whether it computes the output head (only the prompt's last chunk does). */
  output: boolean;
  weight: number;
}

/**
 * Most chunks costed one by one; a longer run of full chunks is sampled at this many evenly spaced chunks
 * and summed as the piecewise-linear curve through them (a chunk's time is smooth in its cached prefix:
 * affine attention terms under the roofline's max, constant past a sliding window).
 */
const EXACT_CHUNKS = 64;
const SAMPLED_CHUNKS = 33;

/**
 * The passes of a prompt of `promptTokens` run in chunks of `chunkTokens` (0: one pass): full chunks, each
 * after the ones before it, then the rest; the last one computes the output head. Weights sum to the number of
 * chunks. Long runs of full chunks are represented by samples whose weights integrate the linear interpolation
 * between them exactly over the chunk indices.
 */
export function prefillChunks(promptTokens: number, chunkTokens: number): PrefillChunk[] {
  const P = promptTokens;
  const C = chunkTokens;
  if (!(C > 0) || P <= C) return [{ tokens: P, cachedTokens: 0, output: true, weight: 1 }];
  const full = Math.floor(P / C);
  const rest = P - full * C;
  // Full chunks before the last pass: k = 0 .. n - 1, chunk k after k x C cached tokens.
  const n = rest > 0 ? full : full - 1;
  const out: PrefillChunk[] = [];
  if (n <= EXACT_CHUNKS) {
    for (let k = 0; k < n; k++) out.push({ tokens: C, cachedTokens: k * C, output: false, weight: 1 });
  } else {
    // Sample indices 0 = k0 < k1 < ... < kS = n - 1. Summing the linear interpolation over k = a .. b - 1 of
    // each segment [a, b] gives weight (b - a + 1) / 2 to a and (b - a - 1) / 2 to b; the last index adds 1.
    const ks: number[] = [];
    for (let j = 0; j < SAMPLED_CHUNKS; j++) {
      const k = Math.round((j * (n - 1)) / (SAMPLED_CHUNKS - 1));
      if (ks.length === 0 || k > ks[ks.length - 1]!) ks.push(k);
    }
    const w = new Array<number>(ks.length).fill(0);
    for (let j = 0; j + 1 < ks.length; j++) {
      const a = ks[j]!;
      const b = ks[j + 1]!;
      w[j] = w[j]! + (b - a + 1) / 2;
      w[j + 1] = w[j + 1]! + (b - a - 1) / 2;
    }
    w[ks.length - 1] = w[ks.length - 1]! + 1;
    ks.forEach((k, j) => out.push({ tokens: C, cachedTokens: k * C, output: false, weight: w[j]! }));
  }
  const lastTokens = rest > 0 ? rest : C;
  out.push({ tokens: lastTokens, cachedTokens: P - lastTokens, output: true, weight: 1 });
  return out;
}

/**
 * Prompt tokens per sequence in one pass of a prefill chunked at `chunkTokens` over the whole batch (llama.cpp's
 * n_ubatch and vLLM's max_num_batched_tokens count every sequence's tokens): at least one; 0 = no chunking.
 */
export function chunkTokensPerSequence(chunkTokens: number, batch: number): number {
  return chunkTokens > 0 ? Math.max(1, Math.floor(chunkTokens / batch)) : 0;
}

/**
 * The prefill's op costs: one graph of the prompt, or with ctx.params.prefillChunkTokens each chunk's graph
 * (every sequence of the batch advancing by its share of the chunk), summed kernel by kernel (each chunk a
 * forward pass with its own host overhead). With workload.cachedPromptTokens only the rest of the prompt is
 * computed, after that cached prefix.
 */
export function prefillCosts(spec: ModelSpec, workload: Workload, ctx: CostContext): OpCost[] {
  const cached = workload.cachedPromptTokens ?? 0;
  const computed = computedPromptTokens(workload);
  const chunks = prefillChunks(computed, chunkTokensPerSequence(ctx.params.prefillChunkTokens, workload.batch));
  if (chunks.length === 1) return costOps(buildGraph(spec, workload, 'prefill', computed, { cachedTokens: cached }).ops, ctx);
  const passes: WeightedPass[] = chunks.map((c) => ({
    ops: buildGraph(spec, workload, 'prefill', c.tokens, { cachedTokens: cached + c.cachedTokens, output: c.output }).ops,
    weight: c.weight,
  }));
  return costPasses(passes, ctx);
}
