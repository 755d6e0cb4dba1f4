import { getDevice } from '../../engine/hardware/index';
import type { ModelSpec } from '../../engine/model/types';
import { adviseQuant, type QuantAdvice } from '../../engine/quant/advice';
import type { Controls, Evidence, QuantData } from '../../webview/protocol';
import type { EngineOptions } from './compute';

/** The quantization advisor's answer for these controls, with each evidence id resolved to its citation. */
export function quantData(spec: ModelSpec, source: string, c: Controls, opts: EngineOptions = {}): QuantData {
  void opts;
  const device = getDevice(c.hardware, 'hardware');
  const advice: QuantAdvice = adviseQuant(spec, device, { batch: c.batch, promptTokens: c.promptTokens, generateTokens: c.generateTokens });
  const rows = new Map(advice.evidence.map((e) => [e.id, e]));
  const cite = (id: string): Evidence | null => {
    const e = rows.get(id);
    if (!e) return null;
    return { claim: `${e.model}: ${e.metric} ${e.delta}${e.conditions ? ` (${e.conditions})` : ''}`, source: e.title };
  };
  return {
    source,
    modelName: spec.name,
    deviceName: `${device.name} · batch ${c.batch} · prompt ${c.promptTokens} · generate ${c.generateTokens}`,
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
    layers: null,
    layersSource: null,
  };
}
