/**
 * What the editor recomputes on each keystroke in a model config: the lens path (parse + analyze without
 * sweeps) and a hover (the same plus one re-analysis per "what if" variant). Baseline in the same process:
 * JSON.parse of the same text, the floor of any re-analysis of an edited file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeConfigText, whatIfs } from '../../src/engine';
import { locateKeys } from '../../src/jsonKeys';
import type { Settings } from '../../src/settings';
import { DEFAULT_SETTINGS } from '../helpers/settings';

const SETTINGS: Settings = { ...DEFAULT_SETTINGS };

function perCallUs(fn: () => void, minMs = 300): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return ((performance.now() - t0) / n) * 1000;
}

export async function bench(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of ['llama-3-70b', 'mixtral-8x7b', 'deepseek-v3']) {
    const file = join(__dirname, '../../samples', `${name}.json`);
    const text = readFileSync(file, 'utf8');
    const raw = JSON.parse(text) as Record<string, unknown>;
    const parseUs = perCallUs(() => JSON.parse(text));
    const lensUs = perCallUs(() => {
      locateKeys(text);
      analyzeConfigText(text, file, SETTINGS);
    });
    const before = analyzeConfigText(text, file, SETTINGS);
    const field = raw.num_key_value_heads !== undefined ? 'num_key_value_heads' : 'num_hidden_layers';
    const hoverUs = perCallUs(() => whatIfs(raw, file, field, SETTINGS, before));
    out[name] = {
      baselineJsonParseUs: Number(parseUs.toFixed(2)),
      lensRecomputeUs: Number(lensUs.toFixed(1)),
      lensVsJsonParse: Number((lensUs / parseUs).toFixed(1)),
      hoverField: field,
      hoverWhatIfUs: Number(hoverUs.toFixed(1)),
      hoverVsJsonParse: Number((hoverUs / parseUs).toFixed(1)),
    };
  }
  return out;
}
