import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { getDevice } from '../../engine/hardware/index';
import { kvBytesPerToken, planMemory } from '../../engine/memory/index';
import { parseConfig } from '../../engine/model/parse';
import { analyze } from '../../engine/analyze';
import { controlOptions, initialControls, kvData, KV_CONTEXTS, memoryOptions, rooflineData, roofsOf } from '../../src/panels/compute';
import { checkHostMessage, NO_ENGINE } from '../../webview/protocol';

const spec = parseConfig(readFileSync('samples/llama-3.1-8b.json', 'utf8'), 'llama-3.1-8b.json');

describe('panel data from the engine (host side)', () => {
  const c = { ...initialControls(spec, { hardware: 'h100-sxm', batch: 4, promptTokens: 1024, generateTokens: 1024 }), contextTokens: 8192 };

  it('starts from the settings and the model dtype, and every message passes the webview validator', () => {
    assert.equal(c.weights, 'bf16');
    assert.equal(c.batch, 4);
    const kv = kvData(spec, 'llama-3.1-8b.json', c);
    assert.ok(checkHostMessage({ type: 'kv', requestId: 1, data: kv }).ok);
    assert.ok(checkHostMessage({ type: 'init', view: 'kv', controls: c, options: controlOptions() }).ok);
  });

  it('shows the memory plan of the engine at the chosen context and batch', () => {
    const kv = kvData(spec, 'x', c);
    const w = { batch: 4, promptTokens: 1024, generateTokens: 1024, weights: 'bf16', activations: 'bf16', kv: c.kv, tp: 1 };
    const plan = planMemory(spec, w, getDevice('h100-sxm'), { contextTokens: 8192, blockTokens: 16 });
    assert.equal(kv.current.kvCacheBytes, plan.kvCacheBytes);
    assert.equal(kv.current.freeBytes, plan.usableBytes - plan.totalBytes);
    assert.equal(kv.verdict.fits, plan.fits);
    // Llama-3.1-8B: 32 layers x 8 KV heads x 128 dims x 2 (K, V) x 2 bytes = 128 KiB per token in bf16;
    // 4 sequences x 8192 tokens x 128 KiB = 4 GiB (8192 is a multiple of the 16-token block: no rounding).
    assert.equal(kv.formats.find((f) => f.id === 'bf16')?.bytesPerToken, 131072);
    assert.equal(kv.current.kvCacheBytes, 4 * 2 ** 30);
  });

  it('sweeps context 1k..128k with KV growing and max batch shrinking', () => {
    const kv = kvData(spec, 'x', c);
    assert.deepEqual(kv.byContext.map((s) => s.contextTokens), [...new Set([...KV_CONTEXTS, 8192])].sort((a, b) => a - b));
    for (let i = 1; i < kv.byContext.length; i++) {
      assert.ok(kv.byContext[i]!.kvCacheBytes > kv.byContext[i - 1]!.kvCacheBytes);
      assert.ok(kv.maxBatch[i]!.maxBatch <= kv.maxBatch[i - 1]!.maxBatch);
    }
    for (let i = 1; i < kv.byBatch.length; i++) assert.ok(kv.byBatch[i]!.kvCacheBytes > kv.byBatch[i - 1]!.kvCacheBytes);
  });

  it('a sliding window caps the KV cache; an eviction budget keeps sinks + recent tokens', () => {
    const full = kvData(spec, 'x', { ...c, contextTokens: 32768 }).current.kvCacheBytes;
    const windowed = kvData(spec, 'x', { ...c, contextTokens: 32768, windowTokens: 4096 }).current.kvCacheBytes;
    const w = { batch: 4, promptTokens: 1024, generateTokens: 1024, weights: 'bf16', activations: 'bf16', kv: c.kv, tp: 1 };
    assert.equal(windowed, planMemory(spec, w, getDevice('h100-sxm'), { contextTokens: 32768, blockTokens: 16, windowTokens: 4096 }).kvCacheBytes);
    // 4096 of 32768 tokens per sequence: an eighth, plus at most one 16-token block of paging slack per sequence.
    assert.ok(windowed >= full / 8 && windowed <= full / 8 + 4 * 16 * 131072, String(windowed));
    const o = memoryOptions({ ...c, evictionTokens: 2048 });
    assert.equal(o.sinkTokens, 4);
    assert.equal(o.recentTokens, 2044);
    assert.equal(memoryOptions({ ...c, blockTokens: 0 }).blockTokens, 1);
  });

  it('the engine control: no profile by default, the settings\' profile when set, and the roofline follows it', () => {
    assert.equal(c.engine, NO_ENGINE);
    assert.equal(initialControls(spec, { engine: 'vllm' }).engine, 'vllm');
    assert.deepEqual(controlOptions().engine.map((e) => e.id), [NO_ENGINE, 'tensorrt-llm', 'vllm', 'vllm-v0', 'fastertransformer', 'llama.cpp']);
    const base = rooflineData(spec, 'x', c);
    const vllm = rooflineData(spec, 'x', { ...c, engine: 'vllm' });
    assert.equal(base.result.costModel.servingEngine, null);
    assert.deepEqual(vllm.result.costModel.servingEngine, { id: 'vllm', name: 'vLLM' });
    const w = { batch: 4, promptTokens: 1024, generateTokens: 1024, weights: 'bf16', activations: 'bf16', kv: c.kv, tp: 1 };
    assert.equal(vllm.result.decode.timeS, analyze(spec, w, getDevice('h100-sxm'), { servingEngine: 'vllm', sweeps: false }).decode.timeS);
    // 1 ms of host work per step against the defaults' 0.7 ms.
    assert.ok(Math.abs(vllm.result.decode.timeS - base.result.decode.timeS - 3e-4) < 1e-12);
    assert.ok(checkHostMessage({ type: 'roofline', requestId: 2, data: vllm }).ok);
    assert.throws(() => rooflineData(spec, 'x', { ...c, engine: 'sglang' }), /unknown serving engine "sglang"/);
  });

  it('fp8 KV halves bytes per token against bf16', () => {
    assert.equal(kvBytesPerToken(spec, 'fp8', { tp: 1 }) * 2, kvBytesPerToken(spec, 'bf16', { tp: 1 }));
    const r = roofsOf(getDevice('h100-sxm'));
    assert.ok(r.peaks.some((p) => p.dtype === 'fp8') && !r.measured);
  });
});
