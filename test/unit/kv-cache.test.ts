import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RidgelineError } from '../../engine/errors';
import {
  kvFormat,
  listKvFormats,
  withGrouping,
  kvLayout,
  kvUse,
  kvBytesPerToken,
  tensorBytes,
  exactTensorBytes,
  keptTokens,
  policyFrom,
  evictionWarnings,
  DEFAULT_POLICY,
  type KvPolicy,
  type KvTensor,
} from '../../engine/memory/index';
import { kvBytesPerToken as modelKvBytesPerToken } from '../../engine/model/index';
import { model, sample } from './memory-fixtures';

const KiB = 1024;
const GiB = 2 ** 30;
const exact: KvPolicy = { ...DEFAULT_POLICY, blockTokens: 1 };
const paged: KvPolicy = { ...DEFAULT_POLICY, blockTokens: 16 };
const one = (L: number) => ({ sequences: 1, contextTokens: L });

test('Llama-2-7B caches 512 KiB per token in fp16 (MHA: 32 layers x 2 x 32 heads x 128 x 2 B)', () => {
  const s = sample('llama-2-7b');
  assert.equal(s.attention.kind, 'mha');
  assert.equal(kvBytesPerToken(s, 'fp16'), 512 * KiB);
  // the op graph's lookup (engine/model) agrees on plain formats
  assert.equal(modelKvBytesPerToken(s, 'fp16'), 512 * KiB);
});

test('Llama-3-8B caches 128 KiB per token: 8 KV heads, not the 32 query heads', () => {
  const s = model('llama-3-8b');
  assert.equal(s.attention.kind, 'gqa');
  // 32 layers x 2 (K, V) x 8 KV heads x 128 x 2 B = 131,072 B
  assert.equal(kvBytesPerToken(s, 'bf16'), 128 * KiB);
  assert.equal(kvBytesPerToken(s, 'fp8'), 64 * KiB);
});

test('Llama-3.1-8B at a 128k context holds 16 GiB of KV per sequence', () => {
  const s = sample('llama-3.1-8b');
  const layout = kvLayout(s);
  // 131,072 tokens x 131,072 B/token = 2^34 B; 128k is a whole number of 16-token blocks, so paging adds nothing
  assert.equal(kvUse(layout, kvFormat('bf16'), one(131072), paged).bytes, 16 * GiB);
  assert.equal(kvUse(layout, kvFormat('bf16'), one(131072), paged).blocks, 8192);
});

test('MLA caches the latent: kv_lora_rank 512 + qk_rope_head_dim 64 = 576 elements per layer per token', () => {
  for (const [name, layers] of [['deepseek-v2', 60], ['deepseek-v3', 61]] as const) {
    const s = model(name);
    assert.equal(s.attention.kind, 'mla');
    const layout = kvLayout(s);
    for (const g of layout.groups) assert.equal(g.elementsPerTokenPerLayer, 576);
    assert.equal(layout.elementsPerToken, layers * 576);
    // bf16: 60 x 576 x 2 = 69,120 B (V2); 61 x 576 x 2 = 70,272 B (V3): not 128 heads x (192 + 128) per layer
    assert.equal(kvBytesPerToken(s, 'bf16'), layers * 576 * 2);
    // not split across tensor-parallel ranks: each keeps the whole latent
    const tp8 = kvLayout(s, 8);
    assert.equal(tp8.elementsPerToken, layers * 576);
    assert.ok(tp8.warnings.some((w) => /replicated/.test(w)));
  }
});

test('Mistral-7B sliding window: the cache stops growing at 4096 tokens', () => {
  const s = model('mistral-7b-v0.1');
  const layout = kvLayout(s);
  const f = kvFormat('bf16');
  assert.equal(kvBytesPerToken(s, f), 128 * KiB);
  // exact: min(L, 4096) x 128 KiB
  assert.equal(kvUse(layout, f, one(2048), exact).bytes, 2048 * 128 * KiB);
  assert.equal(kvUse(layout, f, one(4096), exact).bytes, 512 * 2 ** 20);
  assert.equal(kvUse(layout, f, one(32768), exact).bytes, 512 * 2 ** 20);
  assert.equal(kvUse(layout, f, one(1_000_000), exact).bytes, 512 * 2 ** 20);
  // paged ring: a 4096-token window starting mid-block touches ceil(4095/16) + 1 = 257 blocks
  assert.equal(kvUse(layout, f, one(32768), paged).blocks, 257);
  assert.equal(kvUse(layout, f, one(32768), paged).bytes, 257 * 16 * 128 * KiB);
  // at exactly the window nothing has been evicted yet: 256 whole blocks
  assert.equal(kvUse(layout, f, one(4096), paged).blocks, 256);
});

test('Gemma 2 9B: 21 local layers capped at 4096, 21 global layers grow with the context', () => {
  const s = model('gemma-2-9b');
  const layout = kvLayout(s);
  assert.deepEqual(
    layout.groups.map((g) => [g.layers, g.window]).sort(),
    [[21, 4096], [21, null]].sort(),
  );
  const f = kvFormat('bf16');
  // per layer per token: 2 x 8 KV heads x head_dim 256 x 2 B = 8,192 B (head_dim 256 != 3584 / 16)
  assert.equal(kvBytesPerToken(s, f), 42 * 8192);
  // L = 8192: 21 x 8192 tokens + 21 x 4096 tokens = 258,048 layer-tokens x 8,192 B
  assert.equal(kvUse(layout, f, one(8192), exact).bytes, 258048 * 8192);
  // L = 2048, under the window: every layer holds 2048 tokens
  assert.equal(kvUse(layout, f, one(2048), exact).bytes, 42 * 2048 * 8192);
});

test('Qwen2 use_sliding_window: layers from max_window_layers (21) on keep 4096 tokens', () => {
  const s = model('qwen2-7b-windowed');
  const layout = kvLayout(s);
  const f = kvFormat('bf16');
  // per layer per token: 2 x 4 KV heads x 128 x 2 B = 2,048 B; L = 32768: 21 x 32768 + 7 x 4096 = 716,800 layer-tokens
  assert.equal(kvUse(layout, f, one(32768), exact).bytes, 716800 * 2048);
});

test('paged blocks round each sequence up to whole blocks', () => {
  const layout = kvLayout(sample('llama-2-7b'));
  const f = kvFormat('fp16');
  // 1000 tokens -> ceil(1000 / 16) = 63 blocks = 1008 token slots x 512 KiB
  const u = kvUse(layout, f, one(1000), paged);
  assert.equal(u.blocks, 63);
  assert.equal(u.bytes, 1008 * 512 * KiB);
  assert.equal(kvUse(layout, f, one(1000), exact).bytes, 1000 * 512 * KiB);
  // block 256: ceil(1000 / 256) = 4 blocks = 1024 slots; 3 sequences round separately
  assert.equal(kvUse(layout, f, { sequences: 3, contextTokens: 1000 }, { ...exact, blockTokens: 256 }).bytes, 3 * 1024 * 512 * KiB);
});

test('prefix sharing stores the whole blocks of a common prefix once', () => {
  const layout = kvLayout(sample('llama-2-7b'));
  const f = kvFormat('fp16');
  const req = { sequences: 8, contextTokens: 1500, prefixTokens: 1000 };
  // shared: floor(1000 / 16) = 62 blocks; each sequence: ceil(1500 / 16) - 62 = 94 - 62 = 32 own blocks
  // total 62 + 8 x 32 = 318 blocks = 318 x 16 x 512 KiB
  const u = kvUse(layout, f, req, paged);
  assert.equal(u.blocks, 318);
  assert.equal(u.bytes, 318 * 16 * 512 * KiB);
  assert.equal(u.bytesPerSequence, 32 * 16 * 512 * KiB);
  assert.equal(u.sharedBytes, 62 * 16 * 512 * KiB);
  const unshared = kvUse(layout, f, { sequences: 8, contextTokens: 1500 }, paged);
  assert.equal(unshared.bytes, 8 * 94 * 16 * 512 * KiB);
  // one sequence shares with nobody
  assert.equal(kvUse(layout, f, { ...req, sequences: 1 }, paged).bytes, 94 * 16 * 512 * KiB);
});

test('tensor parallel splits KV heads; fewer KV heads than ranks are replicated', () => {
  const s = sample('llama-3-70b');
  // 80 layers x 2 x 8 KV heads x 128 x 2 B = 327,680 B
  assert.equal(kvBytesPerToken(s, 'bf16'), 320 * KiB);
  assert.equal(kvBytesPerToken(s, 'bf16', { tp: 4 }), 80 * KiB); // 2 heads per device
  assert.equal(kvBytesPerToken(s, 'bf16', { tp: 8 }), 40 * KiB); // 1 head per device
  assert.equal(kvBytesPerToken(s, 'bf16', { tp: 16 }), 40 * KiB); // 8 heads on 16 ranks: each keeps one
  assert.ok(kvLayout(s, 16).warnings.some((w) => /replicated on 2 devices/.test(w)));
  assert.equal(kvBytesPerToken(sample('llama-2-7b'), 'fp16', { tp: 4 }), 128 * KiB); // 32 MHA heads / 4
});

test('format bits include their scales: grouped g32 with fp16 scale + zero adds 32 / 32 = 1 bit', () => {
  assert.equal(kvFormat('fp16').bitsPerElement, 16);
  assert.equal(kvFormat('bf16').bitsPerElement, 16);
  assert.equal(kvFormat('fp8').bitsPerElement, 8);
  assert.equal(kvFormat('int8').bitsPerElement, 9);
  assert.equal(kvFormat('int4').bitsPerElement, 5);
  assert.equal(kvFormat('int2').bitsPerElement, 3); // KIVI-2
  assert.equal(withGrouping(kvFormat('int4'), { groupSize: 128 }).bitsPerElement, 4.25); // 4 + 32 / 128
  for (const f of listKvFormats()) assert.ok(f.source.length > 10, `${f.id} has a source`);
  assert.equal(kvFormat('KIVI-2').id, 'int2');
});

test("llama.cpp's q8_0 and q4_0 cache types: each token's rows in blocks of 32 with one fp16 scale", () => {
  assert.equal(kvFormat('q8_0').bitsPerElement, 8.5); // 8 + 16 / 32
  assert.equal(kvFormat('q4_0').bitsPerElement, 4.5); // 4 + 16 / 32
  const s = model('llama-3-8b');
  // 32 layers x 2 (K, V) x 8 KV heads x (128 x 8 + 4 blocks x 16) bits / 8 = 512 x 136 B = 69,632 B per token;
  // q4_0: 512 x (128 x 4 + 64) / 8 = 36,864 B. Every token is quantized at once: no full-precision residual.
  assert.equal(kvBytesPerToken(s, 'q8_0'), 69_632);
  assert.equal(kvBytesPerToken(s, 'q4_0'), 36_864);
  const layout = kvLayout(s, 1);
  assert.equal(kvUse(layout, kvFormat('q8_0'), one(1), exact).bytes, 69_632);
  assert.equal(kvUse(layout, kvFormat('q4_0'), one(1000), exact).bytes, 36_864_000);
  // Per token and head: dim x 8 bits + one 16-bit scale per 32 (Phi-3's 96: 3 blocks). A head dimension that is not
  // whole blocks (Phi-2's 80) llama.cpp refuses; analyze and kv warn of it (test/unit/engine-formats.test.ts).
  const t: KvTensor = { role: 'k', heads: 1, dim: 96 };
  assert.equal(exactTensorBytes(t, 1, kvFormat('q8_0')), (96 * 8 + 3 * 16) / 8);
  assert.deepEqual(kvFormat('q4_0').servingEngines, ['llama.cpp']);
});

test('fp8 per-tensor scale: one fp32 scale per K and per V tensor of each layer', () => {
  const layout = kvLayout(sample('llama-2-7b'));
  // 16 tokens x 256 KiB + 32 layers x 2 tensors x 4 B = 4,194,304 + 256
  assert.equal(kvUse(layout, kvFormat('fp8'), one(16), paged).bytes, 16 * 256 * KiB + 256);
  assert.equal(kvUse(layout, kvFormat('fp8-e5m2'), one(16), paged).bytes, 16 * 256 * KiB);
});

test('grouped int2 key and value tensors worked by hand (g32, residual 128)', () => {
  const f = kvFormat('int2');
  const k: KvTensor = { role: 'k', heads: 1, dim: 128 };
  const v: KvTensor = { role: 'v', heads: 1, dim: 128 };
  // Keys at 300 tokens: floor(300 / 128) x 128 = 256 quantized tokens, 44 in fp16.
  //   quantized: per token 128 x 2 bits + per-channel scale+zero 128 x 32 bits / 32 tokens = 256 + 128 = 384 bits
  //   256 x 384 + 44 x 128 x 16 = 98,304 + 90,112 = 188,416 bits = 23,552 B
  assert.equal(exactTensorBytes(k, 300, f), 23552);
  // Reserved: the peak on the way, at 255 tokens (128 quantized + 127 fp16): 49,152 + 260,096 bits = 38,656 B
  assert.equal(tensorBytes(k, 300, f), 38656);
  assert.equal(exactTensorBytes(k, 255, f), 38656);
  // Values at 300 tokens: 300 - 128 = 172 quantized tokens, each 128 x 2 bits + 4 groups x 32 bits = 384 bits
  //   172 x 384 + 128 x 128 x 16 = 66,048 + 262,144 = 328,192 bits = 41,024 B
  assert.equal(tensorBytes(v, 300, f), 41024);
  // Under the residual everything is fp16: 100 x 128 x 2 B
  assert.equal(tensorBytes(v, 100, f), 25600);
  assert.equal(tensorBytes(k, 100, f), 25600);
});

test('int4 Llama-2-7B at 4096 tokens worked by hand', () => {
  const layout = kvLayout(sample('llama-2-7b'));
  const f = kvFormat('int4');
  const k: KvTensor = { role: 'k', heads: 1, dim: 128 };
  const v: KvTensor = { role: 'v', heads: 1, dim: 128 };
  // Exact, per layer per head: K 4096 x (128 x 4 + 128 x 32 / 32) = 4096 x 640 = 2,621,440 bits;
  //   V (4096 - 128) x (512 + 4 x 32) + 128 x 128 x 16 = 2,539,520 + 262,144 = 2,801,664 bits
  assert.equal(exactTensorBytes(k, 4096, f) * 8, 2621440);
  assert.equal(exactTensorBytes(v, 4096, f) * 8, 2801664);
  // Reserved K is the peak just before the last flush, at 4095 tokens: 3968 x 640 + 127 x 128 x 16 = 2,799,616 bits
  // (2,799,616 + 2,801,664) / 8 = 700,160 B x 32 heads x 32 layers = 716,963,840 B (fp16: 2 GiB, 0.334x)
  assert.equal(kvUse(layout, f, one(4096), exact).bytes, 716963840);
  // Long-context rate: 5 bits per element vs 16: 160 KiB per token
  assert.equal(kvBytesPerToken(sample('llama-2-7b'), f), 160 * KiB);
});

test('invariant: fewer bits never more bytes; a longer context never fewer bytes', () => {
  const families = [['fp32', 'fp16', 'fp8-e5m2'], ['fp16', 'int8', 'int4', 'int2'], ['fp16', 'fp8']];
  const contexts = [...Array.from({ length: 600 }, (_, i) => i + 1), 1000, 4095, 4096, 4097, 8191, 8192, 32768, 131072];
  const policies: KvPolicy[] = [
    exact,
    paged,
    { ...paged, sinkTokens: 4, recentTokens: 252 },
    { ...exact, heavyHitterFraction: 0.2, recentTokens: 64 },
    { ...paged, windowTokens: 300 },
  ];
  for (const s of [sample('llama-2-7b'), model('gemma-2-9b'), model('mistral-7b-v0.1'), model('deepseek-v2')]) {
    const layout = kvLayout(s);
    for (const p of policies) {
      for (const fam of families) {
        const fs = fam.map((id) => kvFormat(id));
        let prev = fs.map(() => 0);
        for (const L of contexts) {
          const b = fs.map((f) => kvUse(layout, f, { sequences: 2, contextTokens: L }, p).bytes);
          for (let i = 1; i < b.length; i++) assert.ok(b[i]! <= b[i - 1]!, `${s.name} ${fam[i]} <= ${fam[i - 1]} at ${L}`);
          b.forEach((x, i) => assert.ok(x >= prev[i]!, `${s.name} ${fam[i]}: ${L} tokens never fewer bytes than ${L - 1}`));
          prev = b;
        }
      }
    }
  }
});

test('eviction: sinks + recent window (StreamingLLM) and heavy hitters (H2O) cap what a sequence keeps', () => {
  const layout = kvLayout(sample('llama-2-7b'));
  const f = kvFormat('fp16');
  const streaming = policyFrom({ blockTokens: 1, sinkTokens: 4, recentTokens: 2044 });
  // 4 + 2044 = 2048 tokens x 512 KiB = 1 GiB at any context past 2048
  assert.equal(kvUse(layout, f, one(100000), streaming).bytes, GiB);
  assert.equal(kvUse(layout, f, one(1000), streaming).bytes, 1000 * 512 * KiB);
  // H2O 20% of a 10,000-token context + 500 recent = 2,500 tokens
  const h2o = policyFrom({ blockTokens: 1, heavyHitterFraction: 0.2, recentTokens: 500 });
  assert.equal(keptTokens(layout.groups[0]!, 10000, h2o), 2500);
  assert.equal(kvUse(layout, f, one(10000), h2o).bytes, 2500 * 512 * KiB);
  const fixed = policyFrom({ blockTokens: 1, heavyHitterTokens: 300 });
  assert.equal(keptTokens(layout.groups[0]!, 10000, fixed), 300);
  const w = evictionWarnings(streaming, f).join(' ');
  assert.match(w, /Efficient Streaming Language Models with Attention Sinks/);
  assert.match(evictionWarnings(h2o, f).join(' '), /H2O: Heavy-Hitter Oracle/);
  assert.match(evictionWarnings(paged, kvFormat('int2')).join(' '), /KIVI: A Tuning-Free Asymmetric 2bit Quantization/);
});

test('bad input: unknown formats and impossible budgets are one clear error naming the option', () => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => kvFormat('int3'), /--kv: expected a KV-cache format: .*int2.* \(got "int3"\)/],
    [() => policyFrom({ blockTokens: 0 }), /--block: expected an integer from 1/],
    [() => policyFrom({ heavyHitterFraction: 1.5 }), /--heavy-hitters/],
    [() => policyFrom({ heavyHitterTokens: 10, heavyHitterFraction: 0.1 }), /--heavy-hitters: expected a token budget or a fraction/],
    [() => policyFrom({ sinkTokens: -1 }), /--sinks/],
    [() => policyFrom({ windowTokens: 1.5 }), /--window/],
    [() => kvLayout(sample('llama-2-7b'), 0), /--tp/],
    [() => withGrouping(kvFormat('int4'), { groupSize: 32, residualTokens: 100 }), /--residual: expected a residual length >= 0 and a multiple of the group size 32/],
    [() => withGrouping(kvFormat('fp16'), { groupSize: 64 }), /--group/],
  ];
  for (const [fn, re] of bad) {
    assert.throws(fn, (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && re.test(e.message) && !e.message.includes('\n'));
  }
});
