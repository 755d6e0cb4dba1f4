import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EVIDENCE, adviseQuant, kvRisk, optionRisk, weightsRisk } from '../../engine/quant/advice';
import { listWeightFormats, quantizedWeightBytes, splitParams, weightFormat } from '../../engine/quant/formats';
import { listKvFormats } from '../../engine/memory/kvFormats';
import { loadConfigFile } from '../../engine/model/parse';
import { getDevice } from '../../engine/hardware/index';

const samples = join(__dirname, '../../samples');
const ctx8b = { params: 8_030_261_248, dtype: 'bf16' as const };
const ctx70b = { params: 70_553_706_496, dtype: 'bf16' as const };

test('every evidence row is complete and names catalog formats', () => {
  const ids = new Set(listWeightFormats().map((f) => f.id));
  const seen = new Set<string>();
  for (const r of EVIDENCE) {
    assert.ok(!seen.has(r.id), `unique id ${r.id}`);
    seen.add(r.id);
    for (const k of ['title', 'model', 'metric', 'delta'] as const) assert.ok(r[k].length > 3, `${r.id}.${k}`);
    for (const f of r.formats ?? []) assert.ok(ids.has(f), `${r.id}: ${f} is in the catalog`);
    if (r.relation) assert.ok(ids.has(r.relation.format));
    assert.ok(r.target === 'kv' ? r.kvMinBits !== undefined || r.kvMaxBits !== undefined : (r.formats?.length ?? 0) > 0 || r.maxBits !== undefined, r.id);
  }
});

test('risk levels follow the rows: fp8 and int8 low, int4 medium, 3-bit and below high', () => {
  const w = weightsRisk('fp8', ctx8b);
  assert.equal(w.risk, 'low');
  assert.deepEqual(w.evidence, ['bf16-fp8', 'gaudi-fp8']);
  assert.equal(weightsRisk('int8', ctx8b).risk, 'low');
  assert.equal(weightsRisk('w8a8', ctx8b).risk, 'medium'); // llm-int8 (none) vs bf16-w8a8 (1-3%): tie goes to the worse
  assert.equal(weightsRisk('int4-g128', ctx8b).risk, 'medium');
  assert.ok(weightsRisk('int4-g128', ctx8b).evidence.includes('spqr-3-4bit'));
  // SpQR's row speaks for 1-10B models; a 70B model does not count it.
  assert.ok(!weightsRisk('int4-g128', ctx70b).evidence.includes('spqr-3-4bit'));
  assert.equal(weightsRisk('int3-g128', ctx8b).risk, 'high');
  assert.equal(weightsRisk('int2-g64', ctx8b).risk, 'high');
  assert.equal(weightsRisk('ternary', ctx8b).risk, 'high');
  // mxfp4 rests on rows comparing it with int4, so it takes int4's level at most.
  assert.equal(weightsRisk('mxfp4', ctx70b).risk, weightsRisk('int4-g128', ctx70b).risk);
  // No published row: medium by default, said so.
  const e5 = weightsRisk('fp8-e5m2', ctx8b);
  assert.equal(e5.risk, 'medium');
  assert.match(e5.basis, /no published result/);
  // The model's own dtype: none.
  assert.equal(weightsRisk('bf16', ctx8b).risk, 'none');
  // Caveats (perplexity understates, heavily trained models) ride along with every low-bit format.
  for (const id of ['int4-g128', 'nf4', 'mxfp4', 'int3-g128']) assert.ok(weightsRisk(id, ctx8b).evidence.includes('llm-kick'), id);
});

test('KV risk by bits: KIVI covers 2 bits and up, KVQuant 3 and up, MiKV caveat at 4 and below', () => {
  assert.equal(kvRisk('bf16', ctx8b).risk, 'none');
  assert.deepEqual(kvRisk('int2', ctx8b).evidence, ['kivi-2bit', 'mikv']);
  assert.deepEqual(kvRisk('int4', ctx8b).evidence, ['kivi-2bit', 'kvquant-3bit', 'mikv']);
  assert.deepEqual(kvRisk('fp8', ctx8b).evidence, ['kivi-2bit', 'kvquant-3bit', 'bfp-kv']);
  const o = optionRisk('int3-g128', 'fp8', ctx8b);
  assert.equal(o.risk, 'high');
  assert.ok(o.evidence.includes('bfp-kv') && o.evidence.includes('code-3-2bit'));
});

test('under llama.cpp the weight candidates are its GGUF formats, at their sizes, and its fp16 cache', () => {
  const spec = loadConfigFile(join(samples, 'llama-3-8b.json'));
  const r = adviseQuant(spec, getDevice('rtx-4090'), { batch: 1, promptTokens: 512, generateTokens: 128, servingEngine: 'llama.cpp' });
  const weights = [...new Set(r.options.map((o) => o.weights))];
  assert.deepEqual(weights.sort(), ['bf16', 'q4_0', 'q4_k_m', 'q5_0', 'q5_k_m', 'q6_k', 'q8_0']);
  // Its cache types: f16 (its default) and the q8_0 and q4_0 blocks; no FP8 or KIVI-style cache.
  assert.deepEqual([...new Set(r.options.map((o) => o.kv))].sort(), ['fp16', 'q4_0', 'q8_0']);
  const cache = (kv: string) => r.options.find((x) => x.weights === 'q4_k_m' && x.kv === kv)!.kvCacheBytes;
  assert.ok(Math.abs(cache('q8_0') / cache('fp16') - 8.5 / 16) < 1e-9 && Math.abs(cache('q4_0') / cache('fp16') - 4.5 / 16) < 1e-9);
  const split = splitParams(spec.params);
  for (const id of ['q4_0', 'q4_k_m', 'q8_0']) {
    const o = r.options.find((x) => x.weights === id && x.kv === 'fp16')!;
    const f = weightFormat(id);
    assert.ok(Math.abs(o.weightsBytes - quantizedWeightBytes(split, f, 'bf16', spec).totalBytes) <= 1, id);
    assert.equal(o.activations, 'fp16');
  }
  // Quality from llama-quantize's own table (Llama-3-8B): Q8_0 +0.0026 ppl, Q4_0 +0.4685.
  const q80 = r.options.find((x) => x.weights === 'q8_0' && x.kv === 'fp16')!.quality;
  const q40 = r.options.find((x) => x.weights === 'q4_0' && x.kv === 'fp16')!.quality;
  assert.deepEqual([q80.risk, q80.evidence], ['low', ['llama-quantize-q8-0']]);
  assert.equal(q40.risk, 'medium');
  assert.ok(q40.evidence.includes('llama-quantize-q4-0'));
  // Memory-bound decode at batch 1: the step follows the bytes, Q4_0 < Q4_K_M < Q8_0.
  const step = (id: string) => r.options.find((x) => x.weights === id && x.kv === 'fp16')!.decodeTimeS;
  assert.ok(step('q4_0') < step('q4_k_m') && step('q4_k_m') < step('q8_0'));
});

test('options: bytes agree with the catalog arithmetic; weight-only prefill is not faster than native fp8', () => {
  const spec = loadConfigFile(join(samples, 'llama-3.1-8b.json'));
  const h100 = getDevice('h100-sxm');
  const r = adviseQuant(spec, h100, { batch: 1, promptTokens: 1024, generateTokens: 256 });
  // Without a serving engine, llama.cpp's GGUF formats are not candidates, nor (a dense model) the experts-only mxfp4.
  const nW = listWeightFormats().filter((f) => (f.bitsPerWeight < 16 || f.id === 'bf16') && f.servingEngines === undefined && f.scope === undefined).length;
  assert.ok(!r.options.some((o) => o.weights.startsWith('q')));
  const nK = listKvFormats().filter((k) => (k.elementBits < 16 || k.id === 'bf16') && k.servingEngines === undefined).length;
  assert.equal(r.options.length, nW * nK);
  const split = splitParams(spec.params);
  for (const o of r.options) {
    assert.equal(o.totalBytes >= o.weightsBytes + o.kvCacheBytes, true);
    const want = quantizedWeightBytes(split, weightFormat(o.weights), 'bf16').totalBytes;
    assert.ok(Math.abs(o.weightsBytes - want) <= 1, `${o.weights}: ${o.weightsBytes} vs ${want}`);
    for (const k of ['prefillTimeS', 'decodeTimeS', 'totalBytes'] as const) assert.ok(Number.isFinite(o[k]) && o[k] > 0);
  }
  const at = (w: string, k = 'bf16') => r.options.find((o) => o.weights === w && o.kv === k)!;
  // Decode is memory-bound at batch 1: fewer weight bytes, faster steps.
  assert.ok(at('int4-g128').decodeTimeS < at('fp8').decodeTimeS && at('fp8').decodeTimeS < at('bf16').decodeTimeS);
  // Prefill at 1024 tokens is compute-bound: fp8 runs natively on Hopper and is faster; int4 weight-only is not.
  assert.equal(at('fp8').native, true);
  assert.ok(at('fp8').prefillTimeS < 0.9 * at('bf16').prefillTimeS);
  assert.ok(at('int4-g128').prefillTimeS > at('fp8').prefillTimeS);
  // Everything fits an 80 GB H100: the recommendation is the unquantized model.
  assert.deepEqual({ w: r.recommendation!.weights, k: r.recommendation!.kv }, { w: 'bf16', k: 'bf16' });
  assert.match(r.recommendation!.why, /^bf16 weights with bf16 KV cache: no quality risk \(no quantization\); .*, prefill \d+\.\d ms \(1\.00x\); (\d+) of \1 options fit; this one ranks first/);
  // Evidence ids all resolve in the result's evidence list.
  const ids = new Set(r.evidence.map((e) => e.id));
  for (const o of r.options) for (const e of o.quality.evidence) assert.ok(ids.has(e), e);
});

test("options carry the analysis's warnings: a device without a known vendor is priced without matrix units, and says so", () => {
  const spec = loadConfigFile(join(samples, 'llama-3.1-8b.json'));
  const plain = adviseQuant(spec, getDevice('h100-sxm'), { batch: 1, promptTokens: 1024, generateTokens: 256 });
  assert.ok(!plain.notes.some((n) => /vendor/.test(n)), plain.notes.join('\n'));
  const custom = adviseQuant(spec, { ...getDevice('h100-sxm'), id: 'quant-note-h100', vendor: 'custom' }, { batch: 1, promptTokens: 1024, generateTokens: 256 });
  assert.ok(custom.notes.some((n) => n.startsWith('quant-note-h100: vendor "custom" is none of nvidia, amd, apple, generic: its GEMMs are priced as SIMD kernels')), custom.notes.join('\n'));
  // Priced as SIMD kernels, a weight-only prompt dequantizes per 32-token tile (1024 tokens on an H100: 28.1 ms
  // bf16 either way, int4-g128 30.8 ms with tensor-core tiles and 53.8 ms without); decode at batch 1 is unchanged.
  const at = (r: typeof plain, w: string) => r.options.find((o) => o.weights === w && o.kv === 'bf16')!;
  assert.equal(at(custom, 'bf16').prefillTimeS, at(plain, 'bf16').prefillTimeS);
  assert.ok(at(custom, 'int4-g128').prefillTimeS > 1.5 * at(plain, 'int4-g128').prefillTimeS);
  assert.equal(at(custom, 'int4-g128').decodeTimeS, at(plain, 'int4-g128').decodeTimeS);
  // The baseline format's own fit is not a note on every option: Llama-3-70B in fp16 does not fit one A100, int4 does.
  const l70 = loadConfigFile(join(samples, 'llama-3-70b.json'));
  const a100 = adviseQuant(l70, getDevice('a100-80gb'), { batch: 1, promptTokens: 1024, generateTokens: 256 });
  assert.ok(a100.options.some((o) => o.fits) && a100.options.some((o) => !o.fits));
  assert.ok(!a100.notes.some((n) => /does not fit|exceed/.test(n)), a100.notes.join('\n'));
});

test('recommendation: the lowest-risk option that fits and meets the decode target', () => {
  const spec = loadConfigFile(join(samples, 'llama-3-70b.json'));
  const dev = getDevice('a100-80gb');
  const r = adviseQuant(spec, dev, { batch: 1, promptTokens: 1024, generateTokens: 256 });
  const rec = r.options.find((o) => o.weights === r.recommendation!.weights && o.kv === r.recommendation!.kv)!;
  assert.equal(rec.fits, true);
  assert.equal(r.options.find((o) => o.weights === 'bf16' && o.kv === 'bf16')!.fits, false); // 141 GB of weights
  const order = ['none', 'low', 'medium', 'high'];
  for (const o of r.options) if (o.fits) assert.ok(order.indexOf(o.quality.risk) >= order.indexOf(rec.quality.risk), `${o.weights}/${o.kv}`);
  // A decode target only the smallest formats meet moves the recommendation down in bits.
  const fastest = Math.min(...r.options.filter((o) => o.fits).map((o) => o.decodeTimeS));
  const t = adviseQuant(spec, dev, { batch: 1, promptTokens: 1024, generateTokens: 256, maxDecodeTimeS: fastest * 1.0001 });
  const trec = t.options.find((o) => o.weights === t.recommendation!.weights && o.kv === t.recommendation!.kv)!;
  assert.ok(trec.decodeTimeS <= fastest * 1.0001);
  assert.ok(trec.bitsPerWeight <= rec.bitsPerWeight);
  // An impossible target: no recommendation.
  assert.equal(adviseQuant(spec, dev, { batch: 1, promptTokens: 1024, generateTokens: 256, maxDecodeTimeS: 1e-9 }).recommendation, null);
});

test('notes keep what holds for every option (replicated KV heads); under llama.cpp the 16-bit cache option is its fp16', () => {
  const l8 = loadConfigFile(join(samples, 'llama-3-8b.json'));
  const tp16 = adviseQuant(l8, getDevice('h100-sxm'), { batch: 1, promptTokens: 1024, generateTokens: 256, tp: 16 });
  assert.ok(tp16.notes.some((n) => /KV head/.test(n) && /replicated/.test(n)), tp16.notes.join('\n'));
  const mistral = loadConfigFile(join(samples, 'mistral-7b-v0.1.json')); // bf16
  const lc = adviseQuant(mistral, getDevice('rtx-4090'), { batch: 1, promptTokens: 512, generateTokens: 128, servingEngine: 'llama.cpp' });
  const kvs = [...new Set(lc.options.map((o) => o.kv))];
  assert.ok(kvs.includes('fp16') && !kvs.includes('bf16'), kvs.join(','));
  // Quantized weights take llama.cpp's fp16 activations.
  assert.ok(lc.options.filter((o) => o.weights === 'int4-g32').every((o) => o.activations === 'fp16'));
});
