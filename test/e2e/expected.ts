/**
 * Expected values for the e2e suite, computed with the engine in the test process (the same engine the
 * extension bundles). Reads a JSON request on argv[2] and prints the engine's answers as JSON:
 *   { config, controls } -> analyze() and planMemory() figures the panels must show
 */
import { readFileSync } from 'node:fs';
import { analyze } from '../../engine/analyze';
import { getDevice } from '../../engine/hardware/index';
import { parseConfig } from '../../engine/model/parse';
import { withPrefixHit } from '../../engine/model/graph';
import { measureModelCpu } from '../../engine/quant/measure';
import { kvBytesPerToken, planMemory } from '../../engine/memory/index';
import type { Controls } from '../../webview/protocol';

const req = JSON.parse(process.argv[2] ?? '{}') as { config: string; controls: Controls; safetensors?: string };
const spec = parseConfig(readFileSync(req.config, 'utf8'), req.config);
const c = req.controls;
const workload = withPrefixHit({ batch: c.batch, promptTokens: c.promptTokens, generateTokens: c.generateTokens, weights: c.weights, activations: c.activations, kv: c.kv, tp: c.tp }, c.cachedPromptTokens);
const device = getDevice(c.hardware);
const r = analyze(spec, workload, device, { servingEngine: c.engine && c.engine !== 'none' ? c.engine : undefined, sweeps: false });
// The KV panel's defaults: paged blocks of the chosen size, no window, no eviction.
const plan = planMemory(spec, workload, device, { contextTokens: c.contextTokens, blockTokens: c.blockTokens || 1 });
const measured = req.safetensors ? measureModelCpu(req.safetensors, { threads: 1 }) : null;
process.stdout.write(
  JSON.stringify({
    layers: measured ? { ranking: measured.ranking.map((r) => r.name), tensors: measured.tensors.map((t) => ({ name: t.name, errors: t.errors })) } : null,
    modelName: spec.name,
    decodeTimeS: r.decode.timeS,
    prefillTimeS: r.prefill.timeS,
    decodeTokensPerS: r.decode.tokensPerS,
    evidence: r.evidence,
    ops: r.ops.length,
    kv: {
      fits: plan.fits,
      kvCacheBytes: plan.kvCacheBytes,
      weightsBytes: plan.weightsBytes,
      maxBatch: plan.kv.maxBatch,
      bytesPerTokenFp16: kvBytesPerToken(spec, 'fp16', { tp: c.tp }),
      bytesPerTokenFp8: kvBytesPerToken(spec, 'fp8', { tp: c.tp }),
    },
  }),
);
