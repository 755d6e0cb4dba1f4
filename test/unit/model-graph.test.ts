import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildGraph, defaultWorkload, graphTotals, loadConfigFile, type Op, type OpGraph } from '../../engine/model';
import { expectedExpertsTouched } from '../../engine/model/graph';
import { RidgelineError } from '../../engine/errors';

const sample = (name: string) => loadConfigFile(join(__dirname, '../../samples', `${name}.json`));
const op = (g: OpGraph, name: string): Op => {
  const o = g.ops.find((x) => x.name === name);
  assert.ok(o, `op ${name} in ${g.ops.map((x) => x.name).join(',')}`);
  return o;
};
const sumBy = (g: OpGraph, pred: (o: Op) => boolean, f: (o: Op) => number) => g.ops.filter(pred).reduce((a, o) => a + f(o), 0);

test('Llama-2-7B decode FLOPs per token, worked by hand', () => {
  // Batch 1, 511 tokens cached: the new token attends to 512 keys.
  // GEMMs per layer: 2 x (4 x 4096^2 + 3 x 4096 x 11008) = 404,750,336; x 32 = 12,952,010,752.
  // lm_head: 2 x 4096 x 32000 = 262,144,000. GEMMs = 13,214,154,752 = 2 x (params - embeddings - norms).
  // Attention: QK^T and S.V, 2 x 2 x 32 heads x 512 keys x 128 x 32 layers = 268,435,456.
  // Softmax: 5 x 32 x 512 x 32 = 2,621,440. Norms: 65 x 4 x 4096 = 1,064,960.
  // Rotary: 3 x (32 + 32) x 128 x 32 = 786,432. SiLU-gate: (4 + 1) x 11008 x 32 = 1,761,280.
  // Residual adds: 2 x 4096 x 32 = 262,144.
  const s = sample('llama-2-7b');
  const g = buildGraph(s, defaultWorkload(s), 'decode', 511);
  const t = graphTotals(g);
  const gemm = 13_214_154_752;
  const attention = 268_435_456;
  assert.equal(sumBy(g, (o) => o.opClass === 'gemm', (o) => o.flops), gemm);
  assert.equal(op(g, 'attn_qk').flops + op(g, 'attn_sv').flops, attention);
  assert.equal(t.flops, gemm + attention + 2_621_440 + 1_064_960 + 786_432 + 1_761_280 + 262_144);
  assert.equal(gemm, 2 * (s.params.active - s.params.embeddings - s.params.norms));
  // ~= 2 x active params + attention term (the embedding is a lookup, not a matmul): within 2%.
  assert.ok(Math.abs(t.flops - (2 * s.params.active + attention)) / t.flops < 0.02);
  // Decode reads every weight once (fp16) and the K/V of 512 positions: 32 x 2 x 4096 x 512 x 2 B.
  assert.equal(t.kvRead, 32 * 2 * 4096 * 512 * 2);
  assert.equal(t.kvWrite, 32 * 2 * 4096 * 2);
  assert.equal(sumBy(g, (o) => o.opClass === 'gemm', (o) => o.bytes.weights), 2 * (s.params.total - s.params.embeddings - s.params.norms));
});

test('prefill: causal attention pairs, lm_head on the last token only (2 FLOPs per MAC)', () => {
  const s = sample('llama-2-7b');
  const p = 1024;
  for (const batch of [1, 4]) {
    const g = buildGraph(s, defaultWorkload(s, { batch, promptTokens: p }), 'prefill', p);
    const lm = op(g, 'lm_head');
    assert.equal(lm.flops, 2 * batch * 4096 * 32000);
    assert.equal(lm.shape.m, batch);
    // q_proj runs over every prompt token: 2 x B x P x 4096 x 4096 per layer.
    assert.equal(op(g, 'q_proj').flops, 32 * 2 * batch * p * 4096 * 4096);
    // QK^T over P(P+1)/2 causal pairs per head.
    assert.equal(op(g, 'attn_qk').flops, 32 * 2 * batch * 32 * ((p * (p + 1)) / 2) * 128);
    // The fresh K/V are written to the cache, nothing is read from it.
    const t = graphTotals(g);
    assert.equal(t.kvWrite, 32 * batch * p * 2 * 4096 * 2);
    assert.equal(t.kvRead, 0);
  }
});

test('activation op is sized by the intermediate size, not the hidden size', () => {
  const s = sample('llama-2-7b');
  const g = buildGraph(s, defaultWorkload(s, { batch: 2 }), 'decode', 100);
  const act = op(g, 'mlp_act');
  assert.equal(act.shape.m, 2 * 11008);
  assert.equal(act.bytes.actOut, 32 * 2 * 11008 * 2);
  // SwiGLU reads gate and up: 2 inputs of the intermediate width.
  assert.equal(act.bytes.actIn, 32 * 2 * 2 * 11008 * 2);
});

test('attention reads use KV heads (GQA, MQA), never query heads', () => {
  const l3 = sample('llama-3-8b');
  const g = buildGraph(l3, defaultWorkload(l3), 'decode', 999);
  // 8 KV heads x 128 x 1000 positions x 2 B (bf16) x 32 layers, for K; same for V.
  assert.equal(op(g, 'attn_qk').bytes.kvRead, 32 * 8 * 128 * 1000 * 2);
  assert.equal(op(g, 'attn_sv').bytes.kvRead, 32 * 8 * 128 * 1000 * 2);
  const f = sample('falcon-7b');
  const gf = buildGraph(f, defaultWorkload(f), 'decode', 999);
  assert.equal(op(gf, 'attn_qk').bytes.kvRead, 32 * 1 * 64 * 1000 * 2);
  // Falcon fuses q/k/v: 71 query heads + 1 K + 1 V head of 64.
  assert.equal(op(gf, 'qkv_proj').shape.n, 73 * 64);
});

test('sliding window caps the KV read (Mistral 4096; Gemma 2 local layers only)', () => {
  const m = sample('mistral-7b-v0.1');
  const g = buildGraph(m, defaultWorkload(m), 'decode', 20_000);
  assert.equal(op(g, 'attn_qk').bytes.kvRead, 32 * 8 * 128 * 4096 * 2);
  const g2 = sample('gemma-2-9b');
  const gg = buildGraph(g2, defaultWorkload(g2, { kv: 'bf16', activations: 'bf16', weights: 'bf16' }), 'decode', 8000);
  const qk = gg.ops.filter((o) => o.name === 'attn_qk');
  assert.equal(qk.length, 2);
  // 21 local layers read 4096 positions, 21 global layers 8001; 8 KV heads x 256.
  assert.deepEqual(qk.map((o) => o.bytes.kvRead).sort((a, b) => a - b), [21 * 8 * 256 * 4096 * 2, 21 * 8 * 256 * 8001 * 2]);
  // Prefill over 8000 tokens: local layers see at most 4096 keys per query.
  const gp = buildGraph(g2, defaultWorkload(g2, { weights: 'bf16', activations: 'bf16', kv: 'bf16' }), 'prefill', 8000);
  const pairsLocal = (4096 * 4097) / 2 + (8000 - 4096) * 4096;
  const qkp = gp.ops.filter((o) => o.name === 'attn_qk').map((o) => o.flops).sort((a, b) => a - b);
  assert.deepEqual(qkp, [21 * 2 * 16 * pairsLocal * 256, 21 * 2 * 16 * ((8000 * 8001) / 2) * 256]);
  // Gemma 2 extra norms are ops too.
  assert.ok(gg.ops.some((o) => o.name === 'post_attn_norm') && gg.ops.some((o) => o.name === 'post_mlp_norm'));
});

test('expectedExpertsTouched: distinct experts reached by uniform top-k routing', () => {
  // One token reaches exactly top-k; two: 2 + 2 x 6/8 = 3.5 (the second token's picks miss the first's with 6/8).
  assert.equal(expectedExpertsTouched(8, 2, 1), 2);
  assert.equal(expectedExpertsTouched(8, 2, 2), 3.5);
  assert.equal(expectedExpertsTouched(8, 2, 4), 5.46875);
  assert.ok(Math.abs(expectedExpertsTouched(8, 2, 128) - 8) < 1e-12);
  // DeepSeek-V3: 256 routed experts, top 8, batch 32 tokens: 256 x (1 - (248/256)^32) = 163.3, not 256.
  assert.ok(Math.abs(expectedExpertsTouched(256, 8, 32) - 163.3) < 0.05);
  assert.equal(expectedExpertsTouched(4, 4, 3), 4);
});

test('MoE: decode reads top-k experts, prefill all experts; FLOPs follow active parameters', () => {
  const s = sample('mixtral-8x7b');
  const expert = 3 * 4096 * 14336;
  const d = buildGraph(s, defaultWorkload(s), 'decode', 100);
  assert.equal(op(d, 'expert_gate_up').bytes.weights + op(d, 'expert_down').bytes.weights, 32 * 2 * expert * 2);
  assert.equal(op(d, 'expert_gate_up').flops + op(d, 'expert_down').flops, 32 * 2 * 2 * expert);
  assert.equal(op(d, 'moe_router').shape.n, 8);
  const p = buildGraph(s, defaultWorkload(s), 'prefill', 512);
  assert.equal(op(p, 'expert_gate_up').bytes.weights + op(p, 'expert_down').bytes.weights, 32 * 8 * expert * 2);
  assert.equal(op(p, 'expert_gate_up').count, 8);
  // Batch 3 decode: 6 routed rows reach 8 x (1 - 0.75^3) = 4.625 distinct experts on average (not 6: two
  // tokens often share an expert), 2 rows each once padded to whole rows.
  const d3 = buildGraph(s, defaultWorkload(s, { batch: 3 }), 'decode', 100);
  assert.equal(op(d3, 'expert_down').bytes.weights, 32 * 4.625 * 4096 * 14336 * 2);
  assert.equal(op(d3, 'expert_down').count, 4.625);
  assert.equal(op(d3, 'expert_down').shape.m, 2);
  // Batch 64: 128 routed rows over 8 x (1 - 0.75^64) = 7.99999992 experts is 16 rows each, not 17.
  const d64 = buildGraph(s, defaultWorkload(s, { batch: 64 }), 'decode', 100);
  assert.equal(op(d64, 'expert_down').shape.m, 16);
  // GEMM FLOPs per decode token = 2 x (active - embeddings - norms), plus the router's softmax/top-k
  // (5 FLOPs per logit: 5 x 8 experts x 32 layers).
  const gemm = sumBy(d, (o) => o.opClass === 'gemm', (o) => o.flops);
  assert.equal(gemm, 2 * (s.params.active - s.params.embeddings - s.params.norms) + 5 * 8 * 32);
  // Qwen2-MoE: shared expert and its gate are ops.
  const q = sample('qwen1.5-moe-a2.7b');
  const gq = buildGraph(q, defaultWorkload(q), 'decode', 10);
  assert.equal(op(gq, 'shared_gate').shape.n, 5632);
  assert.ok(gq.ops.some((o) => o.name === 'shared_expert_gate'));
  // Plus router softmax/top-k (5 x 60 x 24) and the shared gate's sigmoid and scaling (6 x 2048 x 24);
  // the q/k/v biases are one add each, not a multiply-add: minus 3 x 2048 x 24.
  assert.equal(
    sumBy(gq, (o) => o.opClass === 'gemm', (o) => o.flops),
    2 * (q.params.active - q.params.embeddings - q.params.norms) + 5 * 60 * 24 + 6 * 2048 * 24 - 3 * 2048 * 24,
  );
});

test('MLA (DeepSeek-V2-Lite): decode attends over the cached latent, read once for all heads', () => {
  const s = sample('deepseek-v2-lite');
  const g = buildGraph(s, defaultWorkload(s), 'decode', 4095);
  const qkFlops = sumBy(g, (o) => o.name === 'attn_qk', (o) => o.flops);
  // 27 layers x 4096 positions x (512 + 64) latent x 2 B.
  assert.equal(graphTotals(g).kvRead, 27 * 4096 * 576 * 2);
  // Scores over the latent: 2 x 16 heads x 4096 x 576 per layer.
  assert.equal(qkFlops, 27 * 2 * 16 * 4096 * 576);
  // The absorbed up-projections hold exactly kv_b_proj's weights: 512 x 16 x (128 + 128).
  assert.equal(sumBy(g, (o) => o.name === 'attn_q_absorb' || o.name === 'attn_v_up', (o) => o.bytes.weights), 27 * 512 * 16 * 256 * 2);
  // No q_lora in V2-Lite: a plain q_proj.
  assert.ok(g.ops.some((o) => o.name === 'q_proj') && !g.ops.some((o) => o.name === 'q_a_proj'));
  const p = buildGraph(s, defaultWorkload(s), 'prefill', 256);
  assert.equal(op(p, 'kv_b_proj').shape.n, 16 * 256);
  assert.equal(op(p, 'attn_qk').shape.k, 192);
  // V3 projects queries through q_lora_rank 1536.
  const v3 = sample('deepseek-v3');
  const g3 = buildGraph(v3, defaultWorkload(v3), 'decode', 100);
  assert.equal(op(g3, 'q_a_proj').shape.n, 1536);
});

test('tensor parallel: per-device heads, replicated KV heads, split MLP, all-reduces', () => {
  const s = sample('llama-2-70b');
  const g1 = buildGraph(s, defaultWorkload(s), 'decode', 100);
  const g8 = buildGraph(s, defaultWorkload(s, { tp: 8 }), 'decode', 100);
  assert.equal(op(g8, 'q_proj').shape.n, 8 * 128);
  assert.equal(op(g8, 'k_proj').shape.n, 128);
  assert.equal(op(g8, 'mlp_up').shape.n, 28672 / 8);
  assert.equal(op(g8, 'lm_head').shape.n, 32000 / 8);
  const ar = g8.ops.filter((o) => o.opClass === 'comm');
  assert.deepEqual(ar.map((o) => [o.name, o.layers]), [['allreduce_attn', 80], ['allreduce_mlp', 80]]);
  assert.equal(ar[0]!.bytes.actIn, 80 * 8192 * 2);
  assert.equal(g1.ops.filter((o) => o.opClass === 'comm').length, 0);
  // Layer weights split evenly: per-device GEMM weight bytes = total / 8.
  const w = (g: OpGraph) => sumBy(g, (o) => o.opClass === 'gemm', (o) => o.bytes.weights);
  assert.equal(w(g8) * 8, w(g1));
  // tp 16 > 8 KV heads: each device keeps one (replicated) KV head, 4 query heads.
  const g16 = buildGraph(s, defaultWorkload(s, { tp: 16 }), 'decode', 100);
  assert.equal(op(g16, 'k_proj').shape.n, 128);
  assert.equal(op(g16, 'attn_qk').count, 4);
  // tp that does not divide the heads is bad input.
  assert.throws(() => buildGraph(s, defaultWorkload(s, { tp: 3 }), 'decode', 100), (e: unknown) => e instanceof RidgelineError && /--tp/.test(e.message) && e.exitCode === 2);
  // Parallel-attention models reduce once per layer.
  const f = sample('falcon-7b');
  assert.throws(() => buildGraph(f, defaultWorkload(f, { tp: 2 }), 'decode', 1), /71 attention heads/);
  const n = sample('pythia-6.9b');
  const gn = buildGraph(n, defaultWorkload(n, { tp: 4 }), 'decode', 1);
  assert.deepEqual(gn.ops.filter((o) => o.opClass === 'comm').map((o) => o.name), ['allreduce']);
});

test('weight and activation formats: bytes and compute dtype', () => {
  const s = sample('llama-3.1-8b');
  const fp16 = buildGraph(s, defaultWorkload(s, { weights: 'fp16', activations: 'fp16' }), 'decode', 100);
  const w4 = buildGraph(s, defaultWorkload(s, { weights: 'int4-g128', activations: 'fp16' }), 'decode', 100);
  // int4 g128 costs 4.25 bits per weight; the LM head stays 16-bit.
  assert.equal(op(w4, 'q_proj').bytes.weights, (32 * 4096 * 4096 * 4.25) / 8);
  assert.equal(op(w4, 'lm_head').bytes.weights, op(fp16, 'lm_head').bytes.weights);
  // W4A16 computes in fp16 and pays dequantization FLOPs (2 per weight).
  assert.equal(op(w4, 'q_proj').computeDtype, 'fp16');
  assert.equal(op(w4, 'q_proj').flops, op(fp16, 'q_proj').flops + 2 * 32 * 4096 * 4096);
  const w8a8 = buildGraph(s, defaultWorkload(s, { weights: 'int8', activations: 'int8' }), 'decode', 100);
  assert.equal(op(w8a8, 'mlp_down').computeDtype, 'int8');
  const fp8 = buildGraph(s, defaultWorkload(s, { weights: 'fp8', activations: 'fp8', kv: 'fp8' }), 'decode', 100);
  assert.equal(op(fp8, 'mlp_down').computeDtype, 'fp8');
  assert.equal(op(fp8, 'attn_qk').computeDtype, 'fp8');
  assert.equal(op(fp8, 'attn_qk').bytes.kvRead * 2, op(fp16, 'attn_qk').bytes.kvRead);
  assert.equal(op(buildGraph(s, defaultWorkload(s), 'decode', 1), 'q_proj').computeDtype, 'bf16');
  assert.throws(() => buildGraph(s, defaultWorkload(s, { activations: 'int3' }), 'decode', 1), /--activations/);
});

test('every op of every sample: finite, non-negative numbers; fused ops have no launch', () => {
  for (const n of ['llama-2-7b', 'gemma-2-9b', 'phi-3-mini-4k', 'gpt2', 'opt-350m', 'falcon-7b', 'pythia-6.9b', 'qwen2-7b', 'deepseek-v3', 'mixtral-8x7b']) {
    const s = sample(n);
    for (const phase of ['prefill', 'decode'] as const) {
      const g = buildGraph(s, defaultWorkload(s, { batch: 3 }), phase, phase === 'prefill' ? 300 : 700);
      for (const o of g.ops) {
        for (const v of [o.flops, o.launches, o.count, o.shape.m, o.shape.n, o.shape.k, ...Object.values(o.bytes)]) {
          assert.ok(Number.isFinite(v) && v >= 0, `${n} ${phase} ${o.name}: ${v}`);
        }
        assert.equal(o.layer === undefined, o.layers !== 1 || o.name === 'lm_head' || o.name === 'embed' || o.name === 'final_norm' || o.name.startsWith('project_'));
        if (o.fusedInto) assert.equal(o.launches, 0);
      }
    }
  }
});

test('Qwen3 per-head q/k norms and Gemma 3 local layers appear in the graph', () => {
  const q = sample('qwen3-8b');
  const g = buildGraph(q, defaultWorkload(q), 'decode', 10);
  const n = op(g, 'qk_norm');
  // One RMSNorm per query head (32) and per KV head (8), over head_dim 128, 36 layers.
  assert.equal(n.shape.m, 40);
  assert.equal(n.flops, 36 * 4 * 40 * 128);
  // GEMM FLOPs still equal 2 x (params - embeddings - norms - q/k norm weights).
  assert.equal(sumBy(g, (o) => o.opClass === 'gemm', (o) => o.flops), 2 * (q.params.total - q.params.embeddings - q.params.norms - 36 * 256));
  const ge = sample('gemma-3-1b');
  const gg = buildGraph(ge, defaultWorkload(ge), 'decode', 4000);
  // 22 local layers read 512 positions, 4 global layers 4001; one KV head of 256, K and V, bf16.
  assert.equal(sumBy(gg, (o) => o.name === 'attn_qk' || o.name === 'attn_sv', (o) => o.bytes.kvRead), 2 * (22 * 512 + 4 * 4001) * 256 * 2);
});

test('prefill after a cached prefix: chunks add up, the prefix is read from the cache', () => {
  const s = sample('llama-3-8b');
  const w = defaultWorkload(s, { batch: 2 });
  const attn = (g: OpGraph) => sumBy(g, (o) => o.opClass === 'attention', (o) => o.flops);
  const whole = buildGraph(s, w, 'prefill', 1536);
  const first = buildGraph(s, w, 'prefill', 1024);
  const second = buildGraph(s, w, 'prefill', 512, { cachedTokens: 1024 });
  // Causal pairs: 1536 x 1537 / 2 = 1024 x 1025 / 2 + (512 x 1024 + 512 x 513 / 2).
  assert.equal(attn(first) + attn(second), attn(whole));
  assert.equal(op(second, 'attn_qk').shape.n, 1536);
  // The second chunk reads the 1024 cached positions: 2 sequences x 1024 x (K + V: 2 x 8 x 128) x 2 B x 32 layers.
  assert.equal(graphTotals(second).kvRead, 32 * 2 * 1024 * 2 * 8 * 128 * 2);
  // GEMMs add up too, except the lm_head that each chunk runs once.
  const gemm = (g: OpGraph) => sumBy(g, (o) => o.opClass === 'gemm' && o.name !== 'lm_head', (o) => o.flops);
  assert.equal(gemm(first) + gemm(second), gemm(whole));
  // A window caps the prefix read: Mistral reads at most 4096 cached positions.
  const m = sample('mistral-7b-v0.1');
  const gm = buildGraph(m, defaultWorkload(m), 'prefill', 256, { cachedTokens: 10_000 });
  assert.equal(graphTotals(gm).kvRead, 32 * 4096 * 2 * 8 * 128 * 2);
  // MLA reads cached latents and decompresses them with the new tokens.
  const d = sample('deepseek-v2-lite');
  const gd = buildGraph(d, defaultWorkload(d), 'prefill', 100, { cachedTokens: 300 });
  assert.equal(graphTotals(gd).kvRead, 27 * 300 * 576 * 2);
  assert.equal(gd.ops.filter((o) => o.name === 'kv_b_proj').reduce((a, o) => Math.max(a, o.shape.m), 0), 400);
  assert.throws(() => buildGraph(s, w, 'prefill', 10, { cachedTokens: -1 }), /cachedTokens/);
});

test('op rows of a model with several layer groups say which group they belong to', async () => {
  const { layerGroupLabels } = await import('../../engine/model/graph');
  // Gemma 2: alternating 4096-token sliding-window and global layers (layer 0 slides).
  const g2 = sample('gemma-2-9b');
  assert.deepEqual(layerGroupLabels(g2.layerGroups), ['window 4096', 'full attention']);
  const dec = buildGraph(g2, defaultWorkload(g2), 'decode', 1024);
  const downs = dec.ops.filter((o) => o.name === 'mlp_down');
  assert.deepEqual(downs.map((o) => `${o.layerGroup}:${o.layers}`), ['window 4096:21', 'full attention:21']);
  // Every row within the layers is told apart by (name, group); rows outside them carry none.
  const keys = dec.ops.filter((o) => o.layerGroup !== undefined).map((o) => `${o.name}|${o.layerGroup}`);
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(op(dec, 'lm_head').layerGroup, undefined);
  // DeepSeek-V3: three dense layers, then MoE ones.
  const ds = sample('deepseek-v3');
  assert.deepEqual(layerGroupLabels(ds.layerGroups), ['dense MLP', 'MoE']);
  // One group: no label at all.
  const ll = sample('llama-2-7b');
  assert.ok(buildGraph(ll, defaultWorkload(ll), 'decode', 10).ops.every((o) => o.layerGroup === undefined), 'llama-2-7b rows carry a group');
  // Groups alike in window and MLP kind are told apart by their layers.
  const [a, b] = g2.layerGroups;
  assert.deepEqual(
    layerGroupLabels([{ ...a!, window: null, layers: [0, 1, 2] }, { ...b!, window: null, layers: [3, 5] }, { ...b!, window: 64, layers: [4] }]),
    ['full attention, layers 0-2', 'full attention, 2 layers from 3', 'window 64'],
  );
});
