import type { ModelSpec } from '../model/types';
import { listWeightFormats, weightFormat, type WeightFormat } from '../quant/formats';
import { kvFormat, listKvFormats, type KvFormat } from '../memory/kvFormats';
import { servingEngine } from './engines';

/**
 * What a serving engine does not run as asked: the warnings `analyze` and `kv` give when formats, attention or
 * tensor parallelism are priced in a way the engine would not serve them. Every one is a warning, not an error:
 * the figures are still what the model prices for the settings given.
 */
export function engineFormatWarnings(
  spec: ModelSpec,
  w: { weights: string; kv: string; activations?: string; tp: number },
  engineId: string | undefined,
  opts: { fusedAttention?: boolean } = {},
): string[] {
  const out: string[] = [];
  const wf = weightFormat(w.weights);
  const kf = kvFormat(w.kv);
  const engine = engineId === undefined ? undefined : servingEngine(engineId);
  const id = engine?.id;
  const label = engine ? `${engine.name}'s` : "the defaults'";
  // A format only some engines run (GGUF weights, llama.cpp's cache types) priced with another engine's kernels.
  for (const [what, f] of [['weights', wf], ['KV cache', kf]] as const) {
    if (f.servingEngines && !engineRuns(what === 'weights' ? 'weights' : 'kv', f, id)) {
      out.push(`${what} ${f.id} is a format ${f.servingEngines.join(', ')} runs; priced with ${label} kernels (the ${f.servingEngines[0]} serving-engine profile prices its own)`);
    }
  }
  if (engine && id !== undefined) {
    // An engine with formats of its own (llama.cpp: GGUF) given a quantized format it does not load.
    if (!wf.servingEngines && !engineRuns('weights', wf, id)) {
      out.push(`${engine.name} does not run ${wf.id} weights (its quantized formats: ${ownFormats(id, 'weights').join(', ')}); priced with its kernels as if it did`);
    }
    if (!kf.servingEngines && !engineRuns('kv', kf, id)) {
      out.push(`${engine.name} has no ${kf.id} KV cache (its quantized cache types: ${ownFormats(id, 'kv').join(', ')}); priced as if it had`);
    }
    if (engine.quantizedActivations && wf.bitsPerWeight < 16 && w.activations && w.activations !== engine.quantizedActivations && !['fp16', 'bf16', 'fp32'].includes(w.activations)) {
      out.push(`${engine.name} runs quantized GEMMs with ${engine.quantizedActivations} activations; ${w.activations} activations are priced as asked`);
    }
    if (engine.multiGpu && w.tp > 1) out.push(`tp ${w.tp} with ${engine.name}: priced as tensor parallelism, which it does not run: ${engine.multiGpu}`);
  }
  if (kf.scheme === 'block') out.push(...blockCacheWarnings(spec, kf, opts.fusedAttention));
  out.push(...kQuantRowWarnings(spec, wf));
  return out;
}

/** The quantized formats an engine runs of its own (llama.cpp: GGUF weights, its cache types). */
function ownFormats(engineId: string, kind: 'weights' | 'kv'): string[] {
  const list: ReadonlyArray<WeightFormat | KvFormat> = kind === 'weights' ? listWeightFormats() : listKvFormats();
  return list.filter((f) => f.servingEngines?.includes(engineId)).map((f) => f.id);
}

/**
 * Whether a serving engine (its profile id; undefined: the defaults) runs a weight or cache format: a format for
 * named engines (GGUF, llama.cpp's cache types) only under those; under an engine with quantized formats of its
 * own, below 16 bits only those. The quant advisor's candidates and the warnings above both ask this.
 */
export function engineRuns(kind: 'weights' | 'kv', f: WeightFormat | KvFormat, engineId: string | undefined): boolean {
  if (f.servingEngines) return engineId !== undefined && f.servingEngines.includes(engineId);
  const bits = 'bitsPerWeight' in f ? f.bitsPerWeight : f.bitsPerElement;
  return bits >= 16 || engineId === undefined || ownFormats(engineId, kind).length === 0;
}

/** llama.cpp's cache blocks: the head dimension must be whole blocks, and a quantized V cache needs flash attention. */
function blockCacheWarnings(spec: ModelSpec, kf: KvFormat, fusedAttention: boolean | undefined): string[] {
  const out: string[] = [];
  const a = spec.attention;
  const dims = a.mla ? [a.mla.kvLoraRank + a.mla.qkRopeHeadDim] : [...new Set([a.headDim, a.vHeadDim])];
  const odd = dims.filter((d) => d % kf.groupSize !== 0);
  if (odd.length) out.push(`llama.cpp refuses a ${kf.id} cache here: its blocks of ${kf.groupSize} do not divide the head dimension ${odd.join(' / ')}`);
  if (fusedAttention === false) out.push(`llama.cpp needs flash attention for a quantized V cache (${kf.id}); with unfused attention it refuses this cache`);
  return out;
}

/**
 * k-quants (Q4_K, Q5_K, Q6_K) store super-blocks of 256 along each row: llama-quantize writes a tensor whose
 * rows are not a multiple of 256 in a fallback type instead (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0;
 * llama-quant.cpp), which the catalog's bytes do not follow.
 */
function kQuantRowWarnings(spec: ModelSpec, wf: WeightFormat): string[] {
  const sb = wf.superBlock;
  if (sb === undefined) return [];
  const a = spec.attention;
  // Every distinct (what, width) pair: layer groups may differ (a dense first layer before the experts).
  const widths: Array<[string, number]> = [['hidden size', spec.hiddenSize], ['attention output width', a.heads * a.vHeadDim]];
  for (const g of spec.layerGroups) {
    const m = g.mlp;
    if (m.kind === 'dense') widths.push(['intermediate size', m.intermediateSize]);
    else {
      widths.push(['expert width', m.expertIntermediateSize]);
      if (m.sharedExperts > 0) widths.push(['shared expert width', m.sharedExperts * m.sharedIntermediateSize]);
    }
  }
  const odd = [...new Set(widths.filter(([, v]) => v % sb !== 0).map(([k, v]) => `the ${k} (${v})`))];
  return odd.length
    ? [`${wf.id}: tensors whose rows are ${odd.join(' or ')} wide are not whole super-blocks of ${sb}; llama-quantize stores them in a fallback type (Q5_0, Q5_1 or Q8_0), which these bytes do not follow`]
    : [];
}
