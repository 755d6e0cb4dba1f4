/**
 * Memory planner speed: a full plan (weights, KV, activations, max batch, max context: block-count guess, then bisection)
 * for Llama-3-70B at tp=4 on H100, the `ridgeline kv` report (8 formats x 8 contexts, with eviction
 * options), and a max-batch x context table. Baseline in the same process: one KV sizing call
 * (`kvUse`, 1 sequence, 4096 tokens), the unit every answer is built from, so ratios stay comparable
 * across machines. The table itself is reported as data (max batch per format and context).
 */
import { join } from 'node:path';
import { loadConfigFile, type Workload } from '../../engine/model';
import { getDevice } from '../../engine/hardware/index';
import { kvFormat, kvLayout, kvUse, planMemory, kvReport, DEFAULT_POLICY, REPORT_CONTEXTS } from '../../engine/memory/index';

/** Microseconds per call: the best of 5 rounds after a warm-up (the least noisy figure on a shared machine). */
function timeUs(iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn(); // warm up the JIT
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / iterations);
  }
  return best;
}

export async function bench(): Promise<Record<string, unknown>> {
  const spec = loadConfigFile(join(__dirname, '../../samples/llama-3-70b.json'));
  const device = getDevice('h100-sxm');
  const w: Workload = { batch: 16, promptTokens: 4096, generateTokens: 0, weights: 'bf16', activations: 'bf16', kv: 'bf16', tp: 4 };
  const layout = kvLayout(spec, 4);
  const bf16 = kvFormat('bf16');
  const int4 = kvFormat('int4');
  let sink = 0;

  const kvUseUs = timeUs(20000, () => {
    sink += kvUse(layout, bf16, { sequences: 1, contextTokens: 4096 }, DEFAULT_POLICY).bytes;
  });
  const kvUseGroupedUs = timeUs(20000, () => {
    sink += kvUse(layout, int4, { sequences: 1, contextTokens: 4096 }, DEFAULT_POLICY).bytes;
  });
  const planUs = timeUs(1000, () => {
    sink += planMemory(spec, w, device, { prefillChunkTokens: 8192 }).kv.maxBatch;
  });
  const reportOpts = { prefillChunkTokens: 8192, sinkTokens: 4, recentTokens: 4092, prefixTokens: 1024 };
  const reportUs = timeUs(200, () => {
    sink += kvReport(spec, w, device, reportOpts).contexts.length;
  });

  // Max batch x context table for the 70B model, tp=4 on H100, per KV format.
  const formats = ['bf16', 'fp8', 'int4', 'int2'];
  const table: Record<string, number[]> = {};
  const tableUs = timeUs(20, () => {
    for (const id of formats) {
      table[id] = REPORT_CONTEXTS.map((L) => planMemory(spec, { ...w, kv: id, batch: 1, promptTokens: L }, device, { prefillChunkTokens: 8192 }).kv.maxBatch);
    }
  });
  if (sink === 0) throw new Error('unreachable');

  return {
    model: spec.name,
    device: device.id,
    tp: 4,
    baseline: 'kvUse: one KV sizing, bf16, 1 x 4096 tokens',
    absoluteUs: {
      kvUse: round(kvUseUs),
      kvUseInt4: round(kvUseGroupedUs),
      planMemory: round(planUs),
      kvReport: round(reportUs),
      maxBatchTable: round(tableUs),
    },
    ratioToBaseline: {
      kvUseInt4: round(kvUseGroupedUs / kvUseUs),
      planMemory: round(planUs / kvUseUs),
      kvReport: round(reportUs / kvUseUs),
      maxBatchTable: round(tableUs / kvUseUs),
    },
    plansPerS: Math.round(1e6 / planUs),
    maxBatchTable: { contexts: [...REPORT_CONTEXTS], ...table },
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
