import { RidgelineError, inputError } from '../errors';
import { closeMatches } from '../hardware/index';
import { defaultCostParams, type CostParams } from './params';
import data from './engines.json';

/** An inference engine's departures from the cost model's defaults (engine/cost/engines.json). */
export interface ServingEngine {
  id: string;
  name: string;
  /** Cost parameters the engine sets; everything else keeps the defaults (or the measured device's). */
  params: Partial<CostParams>;
  source: string;
  /** The activation format of a quantized weight's GEMMs when the user names none (llama.cpp: fp16), with its source. */
  quantizedActivations?: string;
  quantizedActivationsSource?: string;
  /** The KV-cache format when the user names none (llama.cpp: fp16), with its source; else the model's dtype. */
  kvCache?: string;
  kvCacheSource?: string;
  /** How the engine spreads a model over several GPUs where that is not the tensor parallelism priced here, with its source. */
  multiGpu?: string;
  multiGpuSource?: string;
}

/** Keys a profile may set: the cost parameters themselves (engine/cost/params.ts), not their provenance. */
const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(defaultCostParams()).filter((k) => k !== 'origin'));

function load(): readonly Readonly<ServingEngine>[] {
  const out: Readonly<ServingEngine>[] = [];
  for (const e of (data as unknown as { engines: ServingEngine[] }).engines) {
    for (const k of Object.keys(e.params)) {
      // The file ships with the engine: a key the cost model does not read is a bug, not user input.
      if (!KNOWN_KEYS.has(k)) throw new Error(`engine/cost/engines.json: ${e.id}: unknown parameter ${k}`);
    }
    if (e.quantizedActivations !== undefined && !['fp16', 'bf16', 'fp32'].includes(e.quantizedActivations)) {
      throw new Error(`engine/cost/engines.json: ${e.id}: quantizedActivations ${e.quantizedActivations} is not a 16- or 32-bit activation format`);
    }
    if (e.kvCache !== undefined && !['fp16', 'bf16', 'fp32', 'fp8'].includes(e.kvCache)) throw new Error(`engine/cost/engines.json: ${e.id}: kvCache ${e.kvCache} is not a KV format`);
    out.push(Object.freeze({ ...e, params: Object.freeze({ ...e.params }) }));
  }
  return Object.freeze(out);
}

/** Read-only: analyze() looks a profile up on every call, so lookups hand out the shared objects. */
const ENGINES = load();

/** Every serving engine profile, in the file's order. */
export function servingEngines(): readonly Readonly<ServingEngine>[] {
  return ENGINES;
}

/** One profile by id (case-insensitive); an unknown id names the close matches. Exit code 2. */
export function servingEngine(id: string, field = '--engine'): Readonly<ServingEngine> {
  if (typeof id !== 'string' || !id.trim()) throw inputError({ field, expected: `a serving engine id: ${ENGINES.map((e) => e.id).join(', ')}`, got: id });
  const key = id.trim().toLowerCase();
  const hit = ENGINES.find((e) => e.id === key);
  if (hit) return hit;
  const close = closeMatches(key, ENGINES.map((e) => e.id));
  const hint = close.length ? `; close matches: ${close.join(', ')}` : `; known ids: ${ENGINES.map((e) => e.id).join(', ')}`;
  throw new RidgelineError(`${field}: unknown serving engine "${id}"${hint}`, { exitCode: 2, field });
}
