/**
 * Host side of a live control change in the panels, for a 70B model: the engine run and the view data
 * (roofline: analyze; KV planner: planMemory at the chosen point plus the context and batch sweeps;
 * quantization advisor: every weights x KV option), the protocol validation the webview runs on it, and
 * the chart mapping the roofline webview does before drawing. The redraw itself is measured in the
 * browser by the e2e suite (test-output/e2e-results.json, metrics.rooflineRenderMs).
 * Baseline: JSON.stringify + JSON.parse of the roofline message (a lower bound on what postMessage costs).
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../engine/model/parse';
import { initialControls, kvData, rooflineData } from '../../src/panels/compute';
import { quantData } from '../../src/panels/quant';
import { checkHostMessage } from '../../webview/protocol';
import { buildChartModel } from '../../webview/roofline/chart-data';

function timeMs(fn: () => unknown, minMs = 200): number {
  fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

export async function bench(): Promise<Record<string, unknown>> {
  const spec = parseConfig(readFileSync('samples/llama-2-70b.json', 'utf8'), 'llama-2-70b.json');
  const c = { ...initialControls(spec, { hardware: 'h100-sxm', batch: 8 }), contextTokens: 4096 };
  const roof = rooflineData(spec, 'x', c);
  const msg = { type: 'roofline', requestId: 1, data: roof };
  const baseline = timeMs(() => JSON.parse(JSON.stringify(msg)));
  const roofline = timeMs(() => rooflineData(spec, 'x', { ...c, batch: 1 + Math.floor(Math.random() * 64) }));
  const kv = timeMs(() => kvData(spec, 'x', { ...c, contextTokens: 1024 + Math.floor(Math.random() * 64) * 1024 }));
  const quant = timeMs(() => quantData(spec, 'x', c));
  const validate = timeMs(() => checkHostMessage(msg));
  const chart = timeMs(() => buildChartModel(roof));
  return {
    model: 'llama-2-70b',
    ops: roof.result.ops.length,
    baselineJsonRoundTripMs: baseline,
    rooflineHostMs: roofline,
    kvHostMs: kv,
    quantHostMs: quant,
    validateRooflineMessageMs: validate,
    chartModelMs: chart,
    rooflineHostVsBaseline: roofline / baseline,
    kvHostVsBaseline: kv / baseline,
    validateVsBaseline: validate / baseline,
    chartModelVsBaseline: chart / baseline,
  };
}
