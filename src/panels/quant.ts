import { getDevice } from '../../engine/hardware/index';
import type { ModelSpec } from '../../engine/model/types';
import { adviseQuant, type QuantAdvice } from '../../engine/quant/advice';
import type { QuantErrorResult } from '../../engine/quant/measure';
import type { Controls, Evidence, LayerSensitivity, QuantData } from '../../webview/protocol';
import { servingEngineOf, type EngineOptions } from './compute';

/** Most sensitive tensors listed in the panel. */
export const MAX_LAYERS = 64;

/** Linear tensors of a measured file, most sensitive first (the engine's ranking), with SQNR per format. */
export function layersOf(m: QuantErrorResult): LayerSensitivity[] {
  const byName = new Map(m.tensors.map((t) => [t.name, t]));
  return m.ranking.slice(0, MAX_LAYERS).flatMap((r) => {
    const t = byName.get(r.name);
    if (!t) return [];
    const sqnrDb: Record<string, number | null> = {};
    for (const [f, e] of Object.entries(t.errors)) sqnrDb[f] = e.sqnrDb;
    return [{ name: t.name, params: t.params, sqnrDb }];
  });
}

/**
 * The quantization advisor's answer for these controls, with each evidence id resolved to its citation,
 * and the per-layer error measured on a .safetensors file when one has been analyzed.
 */
export function quantData(spec: ModelSpec, source: string, c: Controls, opts: EngineOptions = {}, measured: QuantErrorResult | null = null): QuantData {
  const device = getDevice(c.hardware, 'hardware');
  // The same workload, engine profile and overrides as the roofline panel and the lenses.
  const advice: QuantAdvice = adviseQuant(spec, device, {
    batch: c.batch,
    promptTokens: c.promptTokens,
    generateTokens: c.generateTokens,
    tp: c.tp,
    cachedPromptTokens: c.cachedPromptTokens,
    servingEngine: servingEngineOf(c),
    params: opts.params?.(device),
  });
  const rows = new Map(advice.evidence.map((e) => [e.id, e]));
  const cite = (id: string): Evidence | null => {
    const e = rows.get(id);
    if (!e) return null;
    return { claim: `${e.model}: ${e.metric} ${e.delta}${e.conditions ? ` (${e.conditions})` : ''}`, source: e.title };
  };
  return {
    source,
    modelName: spec.name,
    deviceName: `${device.name}${c.tp > 1 ? ` x ${c.tp} (tp, per device)` : ''} · batch ${c.batch} · prompt ${c.promptTokens}${c.cachedPromptTokens > 0 ? ` (${c.cachedPromptTokens} cached)` : ''} · generate ${c.generateTokens}`,
    options: advice.options.map((o) => ({
      weights: o.weights,
      kv: o.kv,
      bitsPerWeight: o.bitsPerWeight,
      weightsBytes: o.weightsBytes,
      kvCacheBytes: o.kvCacheBytes,
      totalBytes: o.totalBytes,
      fits: o.fits,
      prefillTimeS: o.prefillTimeS,
      decodeTimeS: o.decodeTimeS,
      risk: o.quality.risk,
      evidence: o.quality.evidence.map(cite).filter((e): e is Evidence => e !== null),
    })),
    recommendation: advice.recommendation,
    layers: measured ? layersOf(measured) : null,
    layersSource: measured ? `${measured.path} (${measured.engine}, ${measured.timeS.toFixed(2)} s, ranked by ${measured.rankedBy})` : null,
    notes: advice.notes,
  };
}
