import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { getDevice } from '../../engine/hardware/index';
import { kvBytesPerToken, planMemory } from '../../engine/memory/index';
import { parseConfig } from '../../engine/model/parse';
import { analyze } from '../../engine/analyze';
import { controlOptions, initialControls, kvData, KV_CONTEXTS, memoryOptions, rooflineData, roofsOf, withEngineFormats } from '../../src/panels/compute';
import { quantData } from '../../src/panels/quant';
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

describe('the panels cost what the lenses and the CLI cost', () => {
  const llama70 = parseConfig(readFileSync('samples/llama-3-70b.json', 'utf8'), 'llama-3-70b.json');
  const mistral = parseConfig(readFileSync('samples/mistral-7b-v0.1.json', 'utf8'), 'mistral-7b-v0.1.json');

  it('formats start normalized, with the activations the CLI gives the weights on that device', () => {
    // fp8 weights on an H100 run fp8 activations (W8A8-FP8), as `analyze --weights fp8`; w8a8 runs int8.
    const fp8 = initialControls(spec, { hardware: 'h100-sxm', weights: 'fp8' });
    assert.equal(fp8.activations, 'fp8');
    assert.equal(initialControls(spec, { hardware: 'h100-sxm', weights: 'w8a8' }).activations, 'int8');
    // On an A100 (no fp8) fp8 weights are dequantized to bf16 (the model's dtype).
    assert.equal(initialControls(spec, { hardware: 'a100-80gb', weights: 'fp8' }).activations, 'bf16');
    // Aliases as the CLI resolves them: int4 is int4-g128, FP8 is fp8, float16 is fp16.
    const aliased = initialControls(spec, { hardware: 'h100-sxm', weights: 'int4', kv: 'FP8', activations: 'float16' });
    assert.deepEqual([aliased.weights, aliased.kv, aliased.activations], ['int4-g128', 'fp8', 'fp16']);
    // A bad id stays as written: the panel's first analysis names it.
    assert.equal(initialControls(spec, { hardware: 'h100-sxm', weights: 'int5' }).weights, 'int5');
  });

  it('a new engine control brings its formats: llama.cpp fp16 activations and cache for Q4_K_M, the defaults back', () => {
    // Llama-3.1-8B is bf16: with the defaults its cache and activations are bf16.
    const start = initialControls(spec, { hardware: 'rtx-4090', weights: 'q4_k_m' });
    assert.deepEqual([start.activations, start.kv], ['bf16', 'bf16']);
    const cpp = withEngineFormats(spec, { ...start, engine: 'llama.cpp' });
    assert.deepEqual([cpp.weights, cpp.activations, cpp.kv, cpp.batch], ['q4_k_m', 'fp16', 'fp16', start.batch]);
    const back = withEngineFormats(spec, { ...cpp, engine: start.engine });
    assert.deepEqual([back.activations, back.kv], ['bf16', 'bf16']);
    // Nothing to change: the same object (the panel then sends the webview nothing).
    assert.equal(withEngineFormats(spec, back), back);
    // An unknown device keeps the controls as they are.
    const bad = { ...cpp, hardware: 'no-such-gpu', engine: start.engine };
    assert.equal(withEngineFormats(spec, bad), bad);
  });

  it('the quantization advisor costs the tp, cached prompt and serving engine of the controls', () => {
    const c = initialControls(llama70, { hardware: 'a100-80gb', tp: 4, batch: 1, promptTokens: 1024, generateTokens: 256 });
    const q = quantData(llama70, 'x', c);
    const bf16 = q.options.find((o) => o.weights === 'bf16' && o.kv === 'bf16')!;
    const r = rooflineData(llama70, 'x', { ...c, weights: 'bf16', activations: 'bf16', kv: 'bf16' }).result;
    assert.equal(bf16.prefillTimeS, r.prefill.timeS);
    assert.equal(bf16.decodeTimeS, r.decode.timeS);
    assert.equal(bf16.totalBytes, r.memory.totalBytes); // per device: 70B in bf16 over 4 A100s fits
    assert.ok(bf16.fits);
    assert.match(q.deviceName, / x 4 \(tp, per device\)/);
    // The advisor's notes reach the panel: fp8 on an A100 (no fp8 compute) runs as weight-only.
    assert.ok(q.notes.includes('fp8: a100-80gb has no native fp8 compute; modelled as weight-only (dequantized to fp16)'), q.notes.join('\n'));
    const vllm = quantData(llama70, 'x', { ...c, engine: 'vllm', cachedPromptTokens: 512 }).options.find((o) => o.weights === 'bf16' && o.kv === 'bf16')!;
    const rv = rooflineData(llama70, 'x', { ...c, engine: 'vllm', cachedPromptTokens: 512, weights: 'bf16', activations: 'bf16', kv: 'bf16' }).result;
    assert.equal(vllm.prefillTimeS, rv.prefill.timeS);
    assert.equal(vllm.decodeTimeS, rv.decode.timeS);
  });

  it("the KV planner's per-format cache at this context follows the window and eviction; its activations the engine's prefill chunk", () => {
    // Mistral 7B keeps a 4096-token sliding window: at 32k tokens its cache holds 4096 per sequence, not 32k.
    const c = { ...initialControls(mistral, { hardware: 'h100-sxm', batch: 4, promptTokens: 1024, generateTokens: 1024 }), contextTokens: 32768 };
    const kv = kvData(mistral, 'x', c);
    for (const f of kv.formats) {
      const plan = planMemory(mistral, { batch: 4, promptTokens: 1024, generateTokens: 1024, weights: 'bf16', activations: 'bf16', kv: f.id, tp: 1 }, getDevice('h100-sxm'), { contextTokens: 32768, blockTokens: 16 });
      assert.equal(f.bytesAtContext, plan.kvCacheBytes, f.id);
    }
    const bf16 = kv.formats.find((f) => f.id === 'bf16')!;
    assert.equal(bf16.bytesAtContext, kv.current.kvCacheBytes);
    // 4 sequences of 4096 windowed tokens (plus block slack), where the context times the batch would be 8 times more.
    const whole = bf16.bytesPerToken * 32768 * 4;
    assert.ok(bf16.bytesAtContext >= whole / 8 && bf16.bytesAtContext <= whole / 8 + 4 * 16 * bf16.bytesPerToken, `${bf16.bytesAtContext}`);
    assert.ok(checkHostMessage({ type: 'kv', requestId: 1, data: kv }).ok);
    // llama.cpp evaluates a prompt in 512-token chunks: the planner's activations are the analysis's.
    const lc = { ...initialControls(spec, { hardware: 'h100-sxm', engine: 'llama.cpp', promptTokens: 2048, generateTokens: 256 }), contextTokens: 2304 };
    assert.equal(memoryOptions(lc).prefillChunkTokens, 512);
    assert.equal(kvData(spec, 'x', lc).current.activationsBytes, rooflineData(spec, 'x', lc).result.memory.activationsBytes);
  });

  it('the roofline draws the fp16-accumulate ceiling when an fp16 GEMM runs against it', () => {
    // Llama-2-7B is fp16: under llama.cpp (fp16 accumulation) on an RTX 4090 its GEMMs run at 330 TFLOP/s, not 165.
    const llama2 = parseConfig(readFileSync('samples/llama-2-7b.json', 'utf8'), 'llama-2-7b.json');
    const c = initialControls(llama2, { hardware: 'rtx-4090', engine: 'llama.cpp' });
    const acc = getDevice('rtx-4090').fp16AccumulateFlopsPerS!;
    const data = rooflineData(llama2, 'x', c);
    assert.deepEqual(data.roofs.peaks.find((p) => p.dtype === 'fp16 (fp16 accumulate)'), { dtype: 'fp16 (fp16 accumulate)', flopsPerS: acc });
    assert.ok(data.result.ops.some((o) => o.opClass === 'gemm' && o.peakDtype === 'fp16' && o.attainableFlopsPerS > getDevice('rtx-4090').peakFlopsPerS.fp16!));
    // Not without the profile, and not for a bf16 model (its GEMMs run against the bf16 peak).
    assert.ok(!rooflineData(llama2, 'x', { ...c, engine: NO_ENGINE }).roofs.peaks.some((p) => /accumulate/.test(p.dtype)));
    assert.ok(!rooflineData(spec, 'x', initialControls(spec, { hardware: 'rtx-4090', engine: 'llama.cpp' })).roofs.peaks.some((p) => /accumulate/.test(p.dtype)));
  });
});
