import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadConfigFile, parseConfig } from '../../engine/model';

const sample = (name: string) => loadConfigFile(join(__dirname, '../../samples', `${name}.json`));

/**
 * Published parameter counts. "total_size / 2" = the `metadata.total_size` of the model's
 * model.safetensors.index.json on the Hugging Face Hub divided by 2 bytes per bf16/fp16 parameter,
 * which counts every stored tensor exactly once (the same figure the Hub shows as its safetensors count).
 */
const PUBLISHED: Array<{ sample: string; total: number; source: string }> = [
  { sample: 'llama-2-7b', total: 6_738_415_616, source: 'meta-llama/Llama-2-7b-hf total_size 13,476,831,232 / 2' },
  { sample: 'llama-2-13b', total: 13_015_864_320, source: 'meta-llama/Llama-2-13b-hf total_size 26,031,728,640 / 2' },
  { sample: 'llama-2-70b', total: 68_976_648_192, source: 'meta-llama/Llama-2-70b-hf total_size 137,953,296,384 / 2' },
  { sample: 'llama-3-8b', total: 8_030_261_248, source: 'meta-llama/Meta-Llama-3-8B total_size 16,060,522,496 / 2' },
  { sample: 'llama-3.1-8b', total: 8_030_261_248, source: 'meta-llama/Llama-3.1-8B total_size 16,060,522,496 / 2 (same shapes as Llama 3)' },
  { sample: 'llama-3.1-405b', total: 405_853_388_800, source: 'meta-llama/Llama-3.1-405B total_size 811,706,777,600 / 2 (by hand: 2 x 128,256 x 16,384 embeddings and head + 126 x (570,425,344 attention + 2,617,245,696 MLP + 32,768 norms) + 16,384 final norm)' },
  { sample: 'llama-30b', total: 32_528_943_616, source: 'LLaMA (Touvron et al. 2023), Table 2: the 33B model, 32.5B parameters (dimension 6656, 52 heads, 60 layers; huggyllama/llama-30b); by hand: 2 x 32,000 x 6,656 embeddings and head + 60 x (177,209,344 attention + 357,826,560 MLP + 13,312 norms) + 6,656 final norm' },
  { sample: 'llama-3-70b', total: 70_553_706_496, source: 'meta-llama/Meta-Llama-3-70B total_size 141,107,412,992 / 2' },
  { sample: 'llama-3.1-70b', total: 70_553_706_496, source: "meta-llama/Llama-3.1-70B: Llama-3-70B's shapes (its 131,072-token context comes from rope_scaling llama3, no new weights)" },
  { sample: 'mistral-7b-v0.1', total: 7_241_732_096, source: 'mistralai/Mistral-7B-v0.1 total_size 14,483,464,192 / 2' },
  { sample: 'mixtral-8x7b', total: 46_702_792_704, source: 'mistralai/Mixtral-8x7B-v0.1 total_size 93,405,585,408 / 2' },
  { sample: 'qwen2-7b', total: 7_615_616_512, source: 'Qwen/Qwen2-7B total_size 15,231,233,024 / 2' },
  { sample: 'gemma-7b', total: 8_537_680_896, source: 'google/gemma-7b total_size 17,075,361,792 / 2' },
  { sample: 'gemma-2-9b', total: 9_241_705_984, source: 'google/gemma-2-9b: Hub safetensors parameter count 9,241,705,984' },
  { sample: 'phi-3-mini-4k', total: 3_821_079_552, source: 'microsoft/Phi-3-mini-4k-instruct total_size 7,642,159,104 / 2' },
  { sample: 'gpt2', total: 124_439_808, source: 'openai-community/gpt2 num_parameters() 124,439,808 (the "124M" model, tied lm_head; the Hub\'s 137M also counts the attn.bias mask buffers)' },
  { sample: 'falcon-7b', total: 6_921_720_704, source: 'tiiuae/falcon-7b: the Hub lists 6.92B; the exact figure counts its published tensors (query_key_value 4544 x 4672, 32 layers, tied head)' },
  { sample: 'pythia-6.9b', total: 6_857_302_016, source: 'Pythia paper (Biderman et al. 2023), Table 1: 6,857,302,016 total parameters' },
  { sample: 'opt-6.7b', total: 6_658_473_984, source: 'facebook/opt-6.7b total_size 13,316,947,968 / 2' },
  { sample: 'llama-3.2-1b', total: 1_235_814_400, source: 'meta-llama/Llama-3.2-1B total_size 2,471,628,800 / 2 (tied lm_head, head_dim 64)' },
  { sample: 'llama-3.2-3b', total: 3_212_749_824, source: 'meta-llama/Llama-3.2-3B total_size 6,425,499,648 / 2 (tied lm_head; by hand: 128,256 x 3072 embeddings + 28 x (25,165,824 attention + 75,497,472 MLP + 6,144 norms) + 3,072 final norm)' },
  { sample: 'qwen2-0.5b', total: 494_032_768, source: 'Qwen/Qwen2-0.5B total_size 988,065,536 / 2 (tied, qkv bias)' },
  { sample: 'pythia-160m', total: 162_322_944, source: 'Pythia paper (Biderman et al. 2023), Table 1: 162,322,944 total parameters' },
  { sample: 'qwen3-8b', total: 8_190_735_360, source: 'Qwen/Qwen3-8B total_size 16,381,470,720 / 2 (q_norm/k_norm, no qkv bias)' },
  { sample: 'phi-2', total: 2_779_683_840, source: 'microsoft/phi-2: Hub safetensors parameter count 2,779,683,840 (parallel block, biases on q/k/v/dense, fc1/fc2 and lm_head)' },
  { sample: 'gemma-3-1b', total: 999_885_952, source: 'google/gemma-3-1b-it: Hub safetensors parameter count 999,885,952 (tied, q/k norms, 4 norms per layer)' },
  { sample: 'opt-350m', total: 331_196_416, source: 'facebook/opt-350m num_parameters() 331,196,416 (project_in/out 512 <-> 1024, no final norm)' },
  { sample: 'gpt-oss-20b', total: 20_914_757_184, source: 'OpenAI gpt-oss model card (2025): 20.91B total; by hand: 2 x 201,088 x 2,880 embeddings and head + 24 x (26,550,144 attention with biases and 64 sinks + 32 x 24,891,840 biased experts + 92,192 router + 5,760 norms) + 2,880 final norm' },
  { sample: 'gpt-oss-120b', total: 116_829_156_672, source: 'OpenAI gpt-oss model card (2025): 116.83B total; by hand: as gpt-oss-20b with 36 layers of 128 experts (router 368,768)' },
];

for (const p of PUBLISHED) {
  test(`${p.sample}: total parameters equal the published count (${p.source})`, () => {
    const s = sample(p.sample);
    assert.equal(s.params.total, p.total);
    const b = s.params;
    assert.equal(b.embeddings + b.positionEmbeddings + b.attention + b.mlp + b.experts + b.sharedExperts + b.router + b.norms + b.lmHead, b.total);
  });
}

test('Megatron GPT shapes of the FasterTransformer benchmarks: 12lh^2 + 13lh + (V + s)h parameters, plus the final layernorm', () => {
  // Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM",
  // section 5.1: P = 12lh^2 (1 + 13/(12h) + (V + s)/(12lh)) for l layers, hidden h, vocabulary V, sequence length s
  // (tied embeddings, learned positions, biases and two layernorms per layer). The formula leaves out the final
  // layernorm (2h). GPT-20B: l 44, h 6144, V 51200, s 2048.
  const cases: Array<[string, number, number, number]> = [['megatron-gpt-20b', 44, 6144, 20_262_014_976], ['megatron-gpt-6.7b', 32, 4096, 6_662_266_880], ['megatron-gpt-1.3b', 24, 2048, 1_317_654_528]];
  for (const [name, l, h, total] of cases) {
    const s = sample(name);
    assert.equal(12 * l * h * h + 13 * l * h + (51200 + 2048) * h + 2 * h, total, name);
    assert.equal(s.params.total, total, name);
    assert.equal(s.params.lmHead, 0, `${name}: the output layer reuses the word embeddings`);
  }
});

test('dbrx-instruct: 132B total, 36B active (Databricks model card), counted by hand from the config', () => {
  const s = sample('dbrx-instruct');
  // Per layer: fused Wqkv 6144 x (6144 + 2 x 8 x 128), out_proj 6144 x 6144, 16 experts x 3 x 6144 x 10752 (w1, v1,
  // w2), router 6144 x 16, two bias-free LayerNorms; 40 layers; untied embeddings and lm_head 100352 x 6144; final norm.
  const attention = 6144 * 8192 + 6144 * 6144;
  const expert = 3 * 6144 * 10752;
  const perLayer = attention + 16 * expert + 6144 * 16 + 2 * 6144;
  assert.equal(s.params.total, 40 * perLayer + 2 * 100352 * 6144 + 6144);
  assert.equal(s.params.total, 131_596_523_520);
  assert.equal(Math.round(s.params.total / 1e9), 132);
  // Active: attention, 4 of 16 experts, router and norms per layer, plus embeddings, lm_head and the final norm.
  assert.equal(s.params.active, 40 * (attention + 4 * expert + 6144 * 16 + 2 * 6144) + 2 * 100352 * 6144 + 6144);
  assert.equal(Math.round(s.params.active / 1e9), 36);
  assert.equal(s.attention.kind, 'gqa');
  assert.equal(s.attention.kvHeads, 8);
  assert.deepEqual(s.warnings, []);
});

test('dbrx: a missing attn_config takes transformers\' defaults; a kv_n_heads that does not divide n_heads is a clear error', () => {
  const raw = JSON.parse(readFileSync(join(__dirname, '../../samples/dbrx-instruct.json'), 'utf8')) as Record<string, unknown>;
  const noAttn = parseConfig({ ...raw, attn_config: undefined }, 'dbrx.json');
  assert.equal(noAttn.attention.kvHeads, 1); // DbrxAttentionConfig: kv_n_heads = 1
  assert.equal(noAttn.rope?.theta, 10000);
  assert.throws(() => parseConfig({ ...raw, attn_config: { kv_n_heads: 7 } }, 'dbrx.json'), /attn_config\.kv_n_heads: expected a divisor of n_heads \(48\)/);
  assert.throws(() => parseConfig({ ...raw, ffn_config: 'big' }, 'dbrx.json'), /ffn_config: expected an object/);
});

test('mixtral-8x22b: 140.6B total, 39.2B active (llama.cpp prints 140.63 B for the Instruct variant)', () => {
  // Base config (vocab 32,000): 56 layers x (attention 88,080,384 + experts 8 x 3 x 6144 x 16384 = 2,415,919,104
  // + router 49,152 + norms 12,288) + embeddings and lm_head 2 x 32000 x 6144 + final norm 6144.
  const s = sample('mixtral-8x22b');
  assert.equal(s.params.total, 56 * (88_080_384 + 2_415_919_104 + 49_152 + 12_288) + 2 * 32000 * 6144 + 6144);
  assert.equal(s.params.total, 140_620_634_112);
  // Two of eight experts active per token: 39.2B (Mistral AI's announcement: 39B active of 141B).
  assert.equal(s.params.active, s.params.total - 56 * 6 * 3 * 6144 * 16384);
  // Mixtral-8x22B-Instruct-v0.1 has a 32,768-token vocabulary: llama.cpp issue #6740 loads it and prints
  // 'model params = 140.63 B'.
  const raw = JSON.parse(readFileSync(join(__dirname, '../../samples/mixtral-8x22b.json'), 'utf8'));
  const instruct = parseConfig(JSON.stringify({ ...raw, vocab_size: 32768 }), 'instruct.json');
  assert.equal((instruct.params.total / 1e9).toFixed(2), '140.63');
});

test('dense models: active == total', () => {
  for (const n of ['llama-2-7b', 'qwen2-7b', 'falcon-7b', 'gpt2']) {
    const s = sample(n);
    assert.equal(s.params.active, s.params.total, n);
  }
});

test('Mixtral-8x7B: active per token with top-2 of 8 experts = 12,879,925,248 (published "12.9B active")', () => {
  // One expert: 3 x 4096 x 14336 = 176,160,768; 6 idle experts x 32 layers = 33,822,867,456.
  // 46,702,792,704 - 33,822,867,456 = 12,879,925,248. Source: Mistral AI, "Mixtral of experts" (12.9B active).
  const s = sample('mixtral-8x7b');
  assert.equal(s.params.experts, 32 * 8 * 176_160_768);
  assert.equal(s.params.router, 32 * 4096 * 8);
  assert.equal(s.params.active, 12_879_925_248);
});

test('Qwen1.5-MoE-A2.7B: 14.3B total, 2.7B active (model card), with shared expert and its gate', () => {
  // Model card of Qwen/Qwen1.5-MoE-A2.7B: "14.3B parameters in total and 2.7B activated parameters";
  // the Hub's safetensors count is 14,315,784,192.
  const s = sample('qwen1.5-moe-a2.7b');
  assert.equal(s.params.total, 14_315_784_192);
  assert.equal(Math.round(s.params.total / 1e8) / 10, 14.3);
  assert.equal(Math.round(s.params.active / 1e8) / 10, 2.7);
  // Shared expert (SwiGLU of 5632) + sigmoid gate (2048 -> 1) per layer, 24 layers.
  assert.equal(s.params.sharedExperts, 24 * (3 * 2048 * 5632 + 2048));
  // 60 experts of 3 x 2048 x 1408.
  assert.equal(s.params.experts, 24 * 60 * 3 * 2048 * 1408);
  // Qwen2 q/k/v carry biases: 3 x 2048 per layer.
  assert.equal(s.params.attention, 24 * (4 * 2048 * 2048 + 3 * 2048));
});

test('DeepSeek-V2-Lite: 15.7B total, 2.4B activated excluding the input embedding (paper)', () => {
  // DeepSeek-V2 paper, appendix "DeepSeek-V2-Lite": 15.7B total, 2.4B activated per token; the Hub's
  // safetensors count is 15,706,484,224.
  // Our `active` counts the embedding table like Mixtral's and Qwen's figures do; DeepSeek's figure leaves it out.
  const s = sample('deepseek-v2-lite');
  assert.equal(s.params.total, 15_706_484_224);
  assert.equal(Math.round(s.params.total / 1e8) / 10, 15.7);
  // 2,661,150,208 - 209,715,200 = 2,451,435,008: the paper's 2.4B is a loose rounding (within 2.2%).
  assert.equal(s.params.active, 2_661_150_208);
  assert.ok(Math.abs(s.params.active - s.params.embeddings - 2.4e9) / 2.4e9 < 0.022);
  // First layer dense (first_k_dense_replace 1), 26 MoE layers.
  assert.deepEqual(s.layerGroups.map((g) => [g.layers.length, g.mlp.kind]), [[1, 'dense'], [26, 'moe']]);
  // MLA without q_lora: q_proj 2048 x 16 x 192; kv_a 2048 x 576 + norm 512; kv_b 512 x 16 x 256; o 16 x 128 x 2048.
  const perLayer = 2048 * 16 * 192 + 2048 * 576 + 512 + 512 * 16 * 256 + 16 * 128 * 2048;
  assert.equal(s.params.attention, 27 * perLayer);
});

test('DeepSeek-V3: 671B main model, 36.7B activated; the MTP module is reported apart (Hub "685B")', () => {
  // deepseek-ai/DeepSeek-V3 README_WEIGHTS.md: main model 671B total, 36.7B activated; MTP module 11.5B unique
  // parameters besides the embedding and output head it shares; 685B on the Hub in all.
  const s = sample('deepseek-v3');
  assert.equal(s.params.total, 671_026_419_200);
  assert.equal(Math.round(s.params.total / 1e9), 671);
  // Active = total - 58 MoE layers x 248 idle experts x (3 x 7168 x 2048) = 37,552,297,472. The published
  // 36.7B matches it without the input embedding (0.93B), as for DeepSeek-V2-Lite: 36.63B, within 0.3%.
  assert.equal(s.params.active, 671_026_419_200 - 58 * 248 * 3 * 7168 * 2048);
  assert.ok(Math.abs(s.params.active - s.params.embeddings - 36.7e9) / 36.7e9 < 0.003);
  assert.equal(s.structure.mtpLayers, 1);
  // MTP without its embedding/head copies and eh_proj: ~11.5B (within 0.5%); whole checkpoint ~685B (0.1%).
  const unique = s.structure.mtpParams - 2 * 129_280 * 7168 - 2 * 7168 * 7168;
  assert.ok(Math.abs(unique - 11.5e9) / 11.5e9 < 0.005, String(unique));
  assert.ok(Math.abs(s.params.total + s.structure.mtpParams - 685e9) / 685e9 < 0.001);
  assert.ok(s.warnings.some((w) => /multi-token-prediction/.test(w)));
  // e_score_correction_bias: 256 per MoE layer.
  assert.equal(s.params.router, 58 * (7168 * 256 + 256));
});

test('Gemma: head_dim 256 != hidden/heads, tied embeddings, GeGLU', () => {
  const s = sample('gemma-7b');
  assert.equal(s.attention.headDim, 256);
  assert.notEqual(s.attention.headDim, s.hiddenSize / s.attention.heads);
  assert.equal(s.tieWordEmbeddings, true);
  assert.equal(s.params.lmHead, 0);
  const m = s.layerGroups[0]!.mlp;
  assert.ok(m.kind === 'dense' && m.gated && m.activation.startsWith('gelu'));
});

test('Gemma 2: alternating local (4096 window) and global layers, four norms per layer', () => {
  const s = sample('gemma-2-9b');
  assert.deepEqual(s.layerGroups.map((g) => [g.window, g.layers.length, g.layers[0]]), [[4096, 21, 0], [null, 21, 1]]);
  assert.equal(s.params.norms, 42 * 4 * 3584 + 3584);
});

test('Falcon-7B: multi-query (1 KV head), parallel attention, one norm per layer, no biases', () => {
  const s = sample('falcon-7b');
  assert.equal(s.attention.kind, 'mqa');
  assert.equal(s.attention.kvHeads, 1);
  assert.equal(s.parallelAttention, true);
  assert.equal(s.structure.normsPerLayer, 1);
  // fused query_key_value: 4544 x (4544 + 2 x 64), dense 4544 x 4544.
  assert.equal(s.params.attention, 32 * (4544 * (4544 + 128) + 4544 * 4544));
});

test('GPT-J 6B: parallel block with one LayerNorm, bias-free attention, rotary on 64 of 256 head dims, LM head with a bias', () => {
  const s = sample('gpt-j-6b');
  assert.equal(s.modelType, 'gptj');
  assert.equal(s.attention.kind, 'mha');
  assert.equal(s.attention.headDim, 256);
  assert.equal(s.parallelAttention, true);
  assert.equal(s.structure.normsPerLayer, 1);
  assert.equal(s.rope?.partialRotaryFactor, 0.25);
  assert.equal(s.tieWordEmbeddings, false);
  // By hand: 50,400 x 4,096 embeddings; per layer q/k/v/out 4 x 4,096^2 (no bias), fc_in/fc_out 2 x 4,096 x 16,384
  // + 16,384 + 4,096 biases, one LayerNorm 2 x 4,096; final LayerNorm; LM head 50,400 x 4,096 + 50,400 bias.
  const layer = 4 * 4096 ** 2 + 2 * 4096 * 16384 + 16384 + 4096 + 2 * 4096;
  assert.equal(s.params.lmHead, 50400 * 4096 + 50400);
  assert.equal(s.params.total, 50400 * 4096 + 28 * layer + 2 * 4096 + 50400 * 4096 + 50400);
  assert.equal(s.params.total, 6_050_882_784);
});

test('Falcon-180B: 232 query heads of 64 over 8 K/V heads, two LayerNorms per parallel block, no biases', () => {
  const s = sample('falcon-180b');
  assert.equal(s.attention.kind, 'gqa');
  assert.equal(s.attention.heads, 232);
  assert.equal(s.attention.kvHeads, 8);
  assert.equal(s.attention.headDim, 64);
  assert.equal(s.parallelAttention, true);
  assert.equal(s.structure.normsPerLayer, 2);
  // Fused query_key_value 14,848 x (232 + 2 x 8) x 64, dense 14,848^2; MLP 2 x 14,848 x 59,392; no biases.
  assert.equal(s.params.attention, 80 * (14848 * 248 * 64 + 14848 * 14848));
  assert.equal(s.params.mlp, 80 * 2 * 14848 * 59392);
  assert.equal(s.params.norms, (80 * 2 + 1) * 2 * 14848);
});

test('Llama 3.1 rope scaling and Mistral sliding window are read', () => {
  const l = sample('llama-3.1-8b');
  assert.deepEqual(l.rope?.scaling, { type: 'llama3', factor: 8, originalMaxPositionEmbeddings: 8192 });
  assert.equal(l.rope?.theta, 500000);
  assert.equal(l.attention.kind, 'gqa');
  const m = sample('mistral-7b-v0.1');
  assert.equal(m.layerGroups[0]!.window, 4096);
});

test('Qwen3-30B-A3B: 30.5B total, 3.3B active (model card), per-head q/k norms, 128 experts top-8', () => {
  // Model card of Qwen/Qwen3-30B-A3B: "Number of Parameters: 30.5B in total and 3.3B activated".
  const s = sample('qwen3-30b-a3b');
  // One expert: 3 x 2048 x 768 = 4,718,592; 48 layers x 120 idle experts.
  assert.equal(s.params.total, 30_532_122_624);
  assert.equal(s.params.active, 30_532_122_624 - 48 * 120 * 4_718_592);
  assert.equal(Math.round(s.params.total / 1e8) / 10, 30.5);
  // 3,353,032,704 active: the card's "3.3B" truncates (within 1.7%).
  assert.ok(Math.abs(s.params.active - 3.3e9) / 3.3e9 < 0.017);
  assert.equal(s.structure.qkNorm, true);
});

test('an unknown type that names experts is read as a mixture of experts, with warnings', () => {
  const c = JSON.parse(readFileSync(join(__dirname, '../../samples/qwen3-30b-a3b.json'), 'utf8')) as Record<string, unknown>;
  c.model_type = 'future_moe';
  const s = parseConfig(c, 'future.json');
  assert.equal(s.generic, true);
  const m = s.layerGroups[0]!.mlp;
  assert.ok(m.kind === 'moe' && m.numExperts === 128 && m.topK === 8 && m.expertIntermediateSize === 768);
  assert.ok(s.warnings.some((w) => /mixture of experts/.test(w)));
  // Without Qwen3's q/k norms the generic count is 48 x 2 x 128 below the real one.
  assert.equal(s.params.total, 30_532_122_624 - 48 * 256);
});

test('Pythia: non-embedding parameters equal the paper\'s Table 1 too', () => {
  // Pythia paper Table 1: 160M -> 85,056,000 non-embedding; 6.9B -> 6,444,163,072 (embed_in and embed_out excluded).
  for (const [n, nonEmbedding] of [['pythia-160m', 85_056_000], ['pythia-6.9b', 6_444_163_072]] as const) {
    const s = sample(n);
    assert.equal(s.params.total - s.params.embeddings - s.params.lmHead, nonEmbedding);
  }
});

test("Gemma 3 multimodal checkpoint (google/gemma-3-12b-it's config.json): text_config leaves vocab_size and head_dim to transformers' defaults", () => {
  const s = sample('gemma-3-12b-it');
  // Gemma3TextConfig's defaults: vocab 262,208 and head_dim 256 (not 3840 / 16 = 240).
  assert.equal(s.vocabSize, 262_208);
  assert.equal(s.attention.headDim, 256);
  assert.ok(s.warnings.some((w) => w === "text_config.vocab_size, text_config.head_dim, text_config.max_position_embeddings missing: transformers' gemma3_text defaults used (vocab_size 262208, head_dim 256, max_position_embeddings 131072)"), s.warnings.join('\n'));
  // The Gemma 3 technical report (Table 1) gives the 12B's language model 10,759M non-embedding parameters (its
  // 417M vision encoder is not analyzed): 48 layers x (q 4096 + k 2048 + v 2048 + o 4096) x 3840 attention, 3 x 3840
  // x 15360 MLP, q/k norms 2 x 256 and 4 norms of 3840, plus the final norm.
  const perLayer = (4096 + 2048 + 2048 + 4096) * 3840 + 3 * 3840 * 15360 + 2 * 256 + 4 * 3840;
  assert.equal(s.params.total - s.params.embeddings, 48 * perLayer + 3840);
  assert.equal(Math.round((s.params.total - s.params.embeddings) / 1e6), 10_759);
  assert.equal(s.params.embeddings, 262_208 * 3840);
  // Five local layers of 1024 tokens per global one.
  assert.deepEqual(s.layerGroups.map((g) => [g.window, g.layers.length]), [[1024, 40], [null, 8]]);
});

test('Gemma 3: five local (512-token window) layers per global layer, one KV head', () => {
  const s = sample('gemma-3-1b');
  // Layers 5, 11, 17, 23 are global ((i + 1) % 6 == 0); the other 22 slide over 512 tokens.
  assert.deepEqual(s.layerGroups.map((g) => [g.window, g.layers.length]), [[512, 22], [null, 4]]);
  assert.deepEqual(s.layerGroups[1]!.layers, [5, 11, 17, 23]);
  assert.equal(s.attention.kind, 'mqa');
});

test("phi with qk_layernorm: per-head q and k LayerNorms with weights and biases, 4 x head_dim a layer", () => {
  const phi2 = JSON.parse(readFileSync(join(__dirname, '../../samples/phi-2.json'), 'utf8')) as Record<string, unknown>;
  const plain = parseConfig(phi2, 'phi-2.json');
  const qk = parseConfig({ ...phi2, qk_layernorm: true }, 'phi-2.json');
  // 32 layers x (q and k: weight 80 + bias 80 each) = 32 x 320 = 10,240.
  assert.equal(qk.params.total - plain.params.total, 32 * 4 * 80);
});

test('gpt-oss: biased attention with sinks, biased experts and router; the model card\'s parts and active counts', () => {
  // OpenAI gpt-oss model card (2025), parameter table: 20b: MLP 19.12B, attention 0.64B, embed + unembed 1.16B,
  // active 3.61B; 120b: MLP 114.71B, attention 0.96B, active 5.13B (the card's active count leaves out the
  // embedding table, which ours includes).
  const cases: Array<[string, number, number, number]> = [['gpt-oss-20b', 19.12e9, 0.64e9, 3.61e9], ['gpt-oss-120b', 114.71e9, 0.96e9, 5.13e9]];
  for (const [name, mlp, attention, active] of cases) {
    const s = sample(name);
    assert.equal(s.modelType, 'gpt_oss');
    assert.ok(!s.warnings.some((w) => /not a known family/.test(w)), s.warnings.join('\n'));
    const b = s.params;
    assert.ok(Math.abs(b.experts + b.router - mlp) < 0.005e9, `${name} MLP ${b.experts + b.router}`);
    assert.ok(Math.abs(b.attention - attention) < 0.005e9, `${name} attention ${b.attention}`);
    assert.ok(Math.abs(b.embeddings + b.lmHead - 1.16e9) < 0.005e9, `${name} embeddings ${b.embeddings + b.lmHead}`);
    assert.ok(Math.abs(b.active - b.embeddings - active) < 0.005e9, `${name} active ${b.active - b.embeddings}`);
    // Per layer: q 2,880 x 4,096 + k, v 2,880 x 512 + o 4,096 x 2,880, each with its bias, and a sink per head.
    assert.equal(b.attention / s.numLayers, 2880 * (4096 + 512 + 512) + (4096 + 512 + 512) + 4096 * 2880 + 2880 + 64);
    // The layer_types alternate 128-token sliding windows with full attention.
    assert.deepEqual(s.layerGroups.map((g) => g.window), [128, null]);
    assert.equal(s.dtype, 'bf16');
  }
});
