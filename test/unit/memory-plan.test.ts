import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RidgelineError } from '../../engine/errors';
import { getDevice } from '../../engine/hardware/index';
import type { Workload } from '../../engine/model/types';
import { planMemory, kvReport, peakActivations, kvLayout, kvUse, kvFormat, DEFAULT_POLICY, DEFAULT_OVERHEAD_BYTES, REPORT_CONTEXTS } from '../../engine/memory/index';
import { model, sample } from './memory-fixtures';

const GiB = 2 ** 30;
const KiB = 1024;
const h100 = getDevice('h100-sxm');
const wl = (o: Partial<Workload> = {}): Workload => ({
  batch: 1,
  promptTokens: 2048,
  generateTokens: 2048,
  weights: 'fp16',
  activations: 'fp16',
  kv: 'fp16',
  tp: 1,
  ...o,
});

test('Llama-2-7B fp16 on an 80 GB H100: weights, KV, budget and fit add up', () => {
  const s = sample('llama-2-7b');
  const p = planMemory(s, wl(), h100, { prefillChunkTokens: 2048 });
  assert.equal(h100.memoryBytes, 80 * GiB);
  // 6,738,415,616 parameters x 2 B
  assert.equal(p.weightsBytes, 6738415616 * 2);
  // 4096 tokens (2048 prompt + 2048 generated) x 512 KiB = 2 GiB
  assert.equal(p.kvCacheBytes, 2 * GiB);
  assert.equal(p.deviceBytes, 80 * GiB);
  assert.equal(p.usableBytes, 0.9 * 80 * GiB);
  assert.equal(p.overheadBytes, DEFAULT_OVERHEAD_BYTES);
  assert.equal(p.totalBytes, p.weightsBytes + p.kvCacheBytes + p.activationsBytes + p.overheadBytes);
  assert.equal(p.fits, true);
  assert.equal(p.kv.budgetBytes, p.usableBytes - p.weightsBytes - p.activationsBytes - p.overheadBytes);
  // blocks of 16 tokens x 512 KiB = 8 MiB each
  assert.equal(p.kv.blockBytes, 8 * 2 ** 20);
  assert.equal(p.kv.budgetBlocks, Math.floor(p.kv.budgetBytes / (8 * 2 ** 20)));
  assert.equal(p.kv.budgetTokens, p.kv.budgetBlocks * 16);
  // max batch at 4096 tokens: whole 2 GiB sequences in the budget
  assert.equal(p.kv.maxBatch, Math.floor(p.kv.budgetBytes / (2 * GiB)));
  assert.ok(p.kv.maxBatch >= 28 && p.kv.maxBatch <= 30, `${p.kv.maxBatch}`);
  // one past max batch does not fit, max batch does (activations fixed by the 2048-token prefill chunk)
  assert.equal(planMemory(s, wl({ batch: p.kv.maxBatch }), h100, { prefillChunkTokens: 2048 }).fits, true);
  assert.equal(planMemory(s, wl({ batch: p.kv.maxBatch + 1 }), h100, { prefillChunkTokens: 2048 }).fits, false);
  // max context at batch 1 is the block budget: a sequence of L tokens needs ceil(L / 16) blocks
  assert.equal(p.kv.maxContextTokens, p.kv.budgetTokens);
  // context beyond max_position_embeddings (4096) is planned, with a warning
  assert.ok(p.warnings.every((w) => !/max_position_embeddings/.test(w)));
  const long = planMemory(s, wl({ promptTokens: 8192 }), h100);
  assert.ok(long.warnings.some((w) => /exceeds the model's max_position_embeddings \(4096\)/.test(w)));
});

test('quantized weights keep embeddings, lm_head and norms in 16-bit', () => {
  const s = sample('llama-2-7b');
  const p = planMemory(s, wl({ weights: 'int4-g128' }), h100);
  // kept: embeddings 32000 x 4096 + lm_head 32000 x 4096 + norms (2 x 32 + 1) x 4096 = 262,410,240
  assert.equal(p.weights.highPrecisionParams, 262410240);
  // (6,738,415,616 - 262,410,240) x 4.25 / 8 + 262,410,240 x 2 = 3,440,377,856 + 524,820,480
  assert.equal(p.weightsBytes, 3965198336);
  assert.ok(p.kv.maxBatch > planMemory(s, wl(), h100).kv.maxBatch);
});

test('Llama-3-70B does not fit one H100 in bf16; tp=2 splits the weights and KV heads', () => {
  const s = sample('llama-3-70b');
  const one = planMemory(s, wl({ weights: 'bf16', kv: 'bf16' }), h100);
  assert.equal(one.fits, false);
  assert.ok(one.kv.budgetBytes < 0);
  assert.equal(one.kv.maxBatch, 0);
  assert.equal(one.kv.maxContextTokens, 0);
  assert.ok(one.warnings.some((w) => /exceed 90% of NVIDIA H100/.test(w)));
  const two = planMemory(s, wl({ weights: 'bf16', kv: 'bf16', tp: 2 }), h100);
  const norms = s.params.norms * 2;
  // projections, embeddings and lm_head split in two; norm weights replicated
  assert.equal(two.weightsBytes, (s.params.total * 2 - norms) / 2 + norms);
  // 80 layers x 2 x (8 / 2) KV heads x 128 x 2 B = 160 KiB per token per device
  assert.equal(two.kv.bytesPerToken, 160 * KiB);
  assert.equal(two.kv.bytesPerTokenAllDevices, 320 * KiB);
  assert.equal(two.kvCacheBytes, 4096 * 160 * KiB);
  assert.equal(two.fits, true);
});

test('MLA under tp: the latent is replicated per device, DeepSeek-V3 needs many devices', () => {
  const s = model('deepseek-v3');
  const p = planMemory(s, wl({ weights: 'fp8', kv: 'bf16', tp: 8 }), getDevice('h200'));
  assert.equal(p.kv.bytesPerToken, 61 * 576 * 2);
  assert.equal(p.kv.bytesPerTokenAllDevices, 61 * 576 * 2);
  assert.ok(p.warnings.some((w) => /MLA latent cache is replicated/.test(w)));
  // 671 B parameters in fp8 (embeddings, lm_head, norms in 16-bit) over 8 devices: ~84 GB each
  assert.ok(p.weightsBytes > 83e9 && p.weightsBytes < 86e9, `${p.weightsBytes}`);
  assert.equal(p.fits, true);
});

test('sliding-window models are not bounded in context by memory; eviction lifts max batch', () => {
  const m = planMemory(model('mistral-7b-v0.1'), wl({ weights: 'bf16', kv: 'bf16' }), h100);
  assert.equal(m.kv.maxContextTokens, null);
  const s = sample('llama-3.1-8b');
  const base = planMemory(s, wl({ weights: 'bf16', kv: 'bf16', promptTokens: 32768, generateTokens: 0 }), h100, { prefillChunkTokens: 8192 });
  const evict = planMemory(s, wl({ weights: 'bf16', kv: 'bf16', promptTokens: 32768, generateTokens: 0 }), h100, {
    prefillChunkTokens: 8192,
    sinkTokens: 4,
    recentTokens: 4092,
  });
  // 32k context: 4 GiB per sequence; 4 + 4092 kept tokens span ceil(4095 / 16) + 1 = 257 blocks in the ring:
  // 4112 x 128 KiB = 514 MiB, about 8x the batch
  assert.equal(base.kv.bytesPerSequence, 4 * GiB);
  assert.equal(evict.kv.bytesPerSequence, 4112 * 128 * KiB);
  assert.equal(evict.kv.maxBatch, Math.floor(evict.kv.budgetBytes / (4112 * 128 * KiB)));
  assert.ok(evict.kv.maxBatch > 7.9 * base.kv.maxBatch, `${evict.kv.maxBatch} vs ${base.kv.maxBatch}`);
  assert.ok(evict.warnings.some((w) => /Efficient Streaming Language Models with Attention Sinks/.test(w)));
});

test('prefix sharing raises max batch: the shared prefix is paid once', () => {
  const s = sample('llama-3.1-8b');
  const w = wl({ weights: 'bf16', kv: 'bf16', batch: 16, promptTokens: 4096, generateTokens: 0 });
  const plain = planMemory(s, w, h100, { prefillChunkTokens: 4096 });
  const shared = planMemory(s, w, h100, { prefillChunkTokens: 4096, prefixTokens: 3072 });
  // 16 x 4096 tokens x 128 KiB = 8 GiB; sharing 3072 tokens: 3072 + 16 x 1024 tokens = 2.375 GiB
  assert.equal(plain.kvCacheBytes, 8 * GiB);
  assert.equal(shared.kvCacheBytes, (3072 + 16 * 1024) * 128 * KiB);
  assert.equal(shared.kv.maxBatch, Math.floor((shared.kv.budgetBytes - 3072 * 128 * KiB) / (1024 * 128 * KiB)));
});

test('kv report: every format, contexts 1k..128k, options side by side', () => {
  const s = sample('llama-3.1-8b');
  const r = kvReport(s, wl({ weights: 'bf16', kv: 'bf16', promptTokens: 4096, generateTokens: 0 }), h100, { prefillChunkTokens: 4096, windowTokens: 8192 });
  assert.deepEqual(r.contexts.map((c) => c.contextTokens), [...REPORT_CONTEXTS]);
  const bf16 = r.formats.find((f) => f.id === 'bf16')!;
  assert.equal(bf16.bytesPerToken, 128 * KiB);
  assert.equal(r.formats.find((f) => f.id === 'int2')!.bytesPerToken, 24 * KiB); // 3 bits vs 16
  const c128 = r.contexts.at(-1)!;
  assert.equal(c128.bytesPerSequence, 16 * GiB);
  assert.equal(c128.maxBatch, Math.floor(r.plan.kv.budgetBytes / (16 * GiB)));
  // window 8192 on every layer: 8192 + 16 ring tokens x 128 KiB
  assert.equal(c128.withOptions!.bytesPerSequence, (8192 + 16) * 128 * KiB);
  assert.equal(r.maxContextTokens.withOptions, null);
  assert.equal(typeof r.maxContextTokens.withoutOptions, 'number');
  assert.ok(r.warnings.some((w) => /--window 8192/.test(w)));
});

test('peak activations worked by hand: one layer live at a time, the MLP stage peaks', () => {
  const s = sample('llama-2-7b');
  const a = peakActivations(s, wl(), 1, 2048);
  // 2048 tokens, fp16. Attention stage: residual + normed + q (4096) + k,v (2 x 4096) + attn out (4096) + o_proj out
  //   = 2048 x (3 x 4096 + 16384) x 2 B = 117,440,512 B
  // MLP stage: residual + normed + gate, up, act (3 x 11008) + down out = 2048 x (3 x 4096 + 33024) x 2 = 185,597,952 B
  // Logits: 2048 x 4096 x 2 + 1 x 32000 x 4 = 16,905,216 B
  assert.equal(a.bytes, 185597952);
  assert.equal(a.peakStage, 'mlp');
  assert.equal(a.chunkTokens, 2048);
  // tp = 4 shards the projections and the MLP, not the residual stream: 2048 x (3 x 4096 + 33024 / 4) x 2
  assert.equal(peakActivations(s, wl(), 4, 2048).bytes, 2048 * (3 * 4096 + 33024 / 4) * 2);
  // the decode batch is a floor: 4096 sequences decode 4096 tokens at once even with a 2048-token chunk
  assert.equal(peakActivations(s, wl({ batch: 4096 }), 1, 2048).chunkTokens, 4096);
  // default: chunked prefill of 8192 tokens; a smaller batch x prompt is one pass; Infinity never chunks
  assert.equal(peakActivations(s, wl({ batch: 64 }), 1).chunkTokens, 8192);
  assert.equal(peakActivations(s, wl({ batch: 2 }), 1).chunkTokens, 4096);
  assert.equal(peakActivations(s, wl({ batch: 64 }), 1, Infinity).chunkTokens, 64 * 2048);
});

test('a fully shared prompt still leaves each sequence one block of its own', () => {
  const layout = kvLayout(sample('llama-2-7b'));
  // 4 sequences, 4096 tokens all shared: 256 blocks, 255 shared + 4 x 1 own = 259 blocks
  const u = kvUse(layout, kvFormat('fp16'), { sequences: 4, contextTokens: 4096, prefixTokens: 4096 }, DEFAULT_POLICY);
  assert.equal(u.blocks, 259);
  const p = planMemory(sample('llama-2-7b'), wl({ batch: 4, promptTokens: 4096, generateTokens: 0 }), h100, { prefixTokens: 4096 });
  assert.equal(p.kv.maxBatch, Math.floor((p.kv.budgetBytes - 255 * 8 * 2 ** 20) / (8 * 2 ** 20)));
});

test('bad workload values: one line naming the option, exit code 2', () => {
  const s = sample('llama-2-7b');
  const bad: Array<[() => unknown, RegExp]> = [
    [() => planMemory(s, wl({ batch: 0 }), h100), /--batch: expected an integer from 1/],
    [() => planMemory(s, wl({ promptTokens: -5 }), h100), /--prompt/],
    [() => planMemory(s, wl({ batch: 1.5 }), h100), /--batch/],
    [() => planMemory(s, wl({ tp: Number.NaN }), h100), /--tp/],
    [() => planMemory(s, wl({ kv: 'int3' }), h100), /--kv: expected a KV-cache format/],
    [() => planMemory(s, wl({ weights: 'int5' }), h100), /--weights/],
    [() => planMemory(s, wl(), h100, { utilization: 1.5 }), /--utilization/],
    [() => planMemory(s, wl(), h100, { prefixTokens: 5000 }), /--prefix: expected a shared prefix no longer than the context/],
    [() => planMemory(s, wl(), h100, { overheadBytes: -1 }), /--overhead/],
    [() => planMemory(s, wl({ promptTokens: 2 ** 40 }), h100), /--prompt/],
    [() => planMemory(s, wl({ tp: 3 }), h100), /--tp: expected a divisor of the 32 attention heads/],
  ];
  for (const [fn, re] of bad) {
    assert.throws(fn, (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && re.test(e.message) && !e.message.includes('\n'));
  }
});

test('tensor parallelism: weights the graph keeps whole (or one KV head per device) are counted so per device', () => {
  const bytes = (spec: ReturnType<typeof sample>, tp: number, weights = 'bf16') => planMemory(spec, wl({ tp, weights }), h100).weightsBytes;
  // Llama-3-70B at tp 16: 8 KV heads over 16 devices, so each device holds one K and one V head of every layer
  // (80 x 8192 x 128 x 2 parameters), where an even split would give it half of one.
  const l70 = sample('llama-3-70b');
  const p = l70.params;
  const evenly16 = ((p.total - p.norms) * 2) / 16 + p.norms * 2;
  assert.equal(bytes(l70, 16) - evenly16, (80 * 8192 * 128 * 2 - (80 * 8192 * 1024 * 2) / 16) * 2);
  assert.equal(bytes(l70, 16) - evenly16, 167_772_160);
  // At tp 8 the KV heads split evenly: no correction.
  assert.equal(bytes(l70, 8), ((p.total - p.norms) * 2) / 8 + p.norms * 2);
  // DeepSeek-V3 in fp8 at tp 8: the router (58 MoE layers x (7168 x 256 + 256 bias)) and the latent
  // projections (61 layers x (q_a 7168 x 1536 + its norm 1536 + kv_a 7168 x 576 + its norm 512)) stay whole on
  // every device: 7/8 of them more per device than an even split.
  const ds = sample('deepseek-v3');
  const whole = 58 * (7168 * 256 + 256) + 61 * (7168 * 1536 + 1536 + 7168 * 576 + 512);
  assert.equal(whole, 1_030_038_016);
  const q = ds.params;
  const diff = bytes(ds, 8, 'fp8') - bytes(ds, 1, 'fp8') / 8;
  // Everything but norms and the whole tensors split 8 ways; norms and whole tensors stay: 7/8 of each more.
  const bitsPerWeight = (bytes(ds, 1, 'fp8') - (q.embeddings + q.lmHead + q.norms) * 2) * 8 / (q.total - q.embeddings - q.lmHead - q.norms);
  const want = (7 / 8) * (q.norms * 2 + (whole * bitsPerWeight) / 8);
  assert.ok(Math.abs(diff - want) < 1, `${diff} vs ${want}`);
  assert.ok(diff > 0.9e9, String(diff)); // about 0.9 GB more per device than before the correction
  // Still: more devices never hold more weights each.
  let prev = Infinity;
  for (const tp of [1, 2, 4, 8, 16, 32, 64]) {
    const b = bytes(l70, tp);
    assert.ok(b < prev, `tp ${tp}`);
    prev = b;
  }
});
