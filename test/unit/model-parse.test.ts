import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvBytesPerToken, kvCacheLayout, loadConfigFile, parseConfig } from '../../engine/model';
import { RidgelineError } from '../../engine/errors';

const samplePath = (name: string) => join(__dirname, '../../samples', `${name}.json`);
const raw = (name: string) => JSON.parse(readFileSync(samplePath(name), 'utf8')) as Record<string, unknown>;

/** Asserts a one-line exit-2 input error whose message matches every pattern. */
function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RidgelineError, String(e));
    assert.equal(e.exitCode, 2);
    assert.doesNotMatch(e.message, /\n/);
    assert.doesNotMatch(e.message, /NaN|undefined/);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('malformed JSON: one line naming the file, line and column', () => {
  const text = '{\n  "model_type": "llama",\n  "hidden_size": 4096,,\n}';
  rejects(() => parseConfig(text, 'cfg/bad.json'), /^cfg\/bad\.json: malformed JSON at line 3, column \d+/);
  rejects(() => parseConfig('{"model_type": "llama"', 'cut.json'), /^cut\.json: malformed JSON at line 1/);
  rejects(() => parseConfig('', 'empty.json'), /^empty\.json: malformed JSON/);
  // Binary input is named as such, and no raw bytes reach the message.
  rejects(() => parseConfig('\u0000\u0001PK\u0003\u0004\ufffd\ufffd', 'weights.json'), /^weights\.json: binary data, not JSON text/);
  rejects(() => parseConfig('{"a": tru\u00e9}', 'accent.json'), /^accent\.json: malformed JSON/, /^[\x20-\x7e]*$/);
  // A UTF-8 byte order mark (saved by some editors) is not an error.
  assert.equal(parseConfig('\ufeff' + JSON.stringify(raw('llama-2-7b')), 'bom.json').params.total, 6_738_415_616);
  rejects(() => parseConfig('[1, 2]', 'list.json'), /^list\.json: expected a JSON object/);
  rejects(() => parseConfig('null', 'null.json'), /^null\.json: expected a JSON object/);
});

test('unreadable file: one line naming the path', () => {
  rejects(() => loadConfigFile('/nonexistent/config.json'), /^\/nonexistent\/config\.json: cannot read the model config \(no such file\)/);
  rejects(() => loadConfigFile(__dirname), /is a directory/);
});

test('missing required field of a known family names the file and the field', () => {
  const c = raw('llama-2-7b');
  delete c.intermediate_size;
  rejects(() => parseConfig(c, 'x/llama.json'), /^x\/llama\.json: intermediate_size: expected an integer/, /missing/);
  const d = raw('deepseek-v2-lite');
  delete d.kv_lora_rank;
  rejects(() => parseConfig(d, 'ds.json'), /ds\.json: kv_lora_rank/);
});

test('zero, negative, non-integer, string and absurd sizes name the field', () => {
  const cases: Array<[string, unknown]> = [
    ['num_hidden_layers', 0],
    ['num_hidden_layers', 1e12],
    ['hidden_size', -4096],
    ['hidden_size', 4096.5],
    ['vocab_size', '32000'],
    ['num_attention_heads', null],
    ['intermediate_size', 1e300],
  ];
  for (const [field, value] of cases) {
    const c = raw('llama-2-7b');
    c[field] = value;
    rejects(() => parseConfig(c, 'm.json'), new RegExp(`^m\\.json: ${field}: expected`));
  }
  // Each size within its bound, the product absurd: 1.8e17 parameters.
  rejects(
    () => parseConfig({ model_type: 'llama', hidden_size: 1 << 20, num_hidden_layers: 10000, num_attention_heads: 8192, vocab_size: 1000, intermediate_size: 1 << 22 }, 'huge.json'),
    /^huge\.json: num_hidden_layers: expected sizes whose parameter count is below 10\^14/,
  );
  const m = raw('mixtral-8x7b');
  m.num_experts_per_tok = 9;
  rejects(() => parseConfig(m, 'mx.json'), /num_experts_per_tok: expected an integer from 1 to 8 \(got 9\)/);
});

test('shapes that do not divide: heads vs hidden, KV heads vs heads', () => {
  const c = raw('llama-2-7b');
  c.num_attention_heads = 30;
  c.num_key_value_heads = 30;
  rejects(() => parseConfig(c, 'h.json'), /num_attention_heads: expected a divisor of hidden_size \(4096\)/);
  const k = raw('llama-3-8b');
  k.num_key_value_heads = 5;
  rejects(() => parseConfig(k, 'k.json'), /num_key_value_heads: expected a divisor of num_attention_heads \(32\)/);
  // The fields are named as the config spells them: GPT-2's n_head / n_embd, Falcon's num_kv_heads.
  const g2 = raw('gpt2');
  g2.n_embd = 769;
  rejects(() => parseConfig(g2, 'g2.json'), /^g2\.json: n_head: expected a divisor of n_embd \(769\) when head_dim is not given \(got 12\)$/);
  const f = raw('falcon-180b');
  f.num_kv_heads = 7;
  rejects(() => parseConfig(f, 'f.json'), /^f\.json: num_kv_heads: expected a divisor of num_attention_heads \(232\) \(got 7\)$/);
  const g = raw('gemma-2-9b');
  g.layer_types = ['sliding_attention'];
  rejects(() => parseConfig(g, 'g.json'), /layer_types: expected a list of 42 entries/);
});

test('unknown model_type with decoder fields: generic Llama-like analysis with a warning', () => {
  const c = raw('llama-2-7b');
  c.model_type = 'my_llama';
  const s = parseConfig(c, 'my.json');
  assert.equal(s.generic, true);
  assert.equal(s.params.total, 6_738_415_616);
  assert.ok(s.warnings.some((w) => /my_llama.*generic/.test(w)));
});

test('unknown model_type without decoder fields: names the file and the missing field', () => {
  rejects(
    () => parseConfig({ model_type: 'whisper', d_model: 512, vocab_size: 51865 }, 'w/config.json'),
    /^w\/config\.json: hidden_size: expected an integer \(model_type "whisper" is not a known family/,
  );
  rejects(() => parseConfig({ hidden_size: 64 }, 'nt.json'), /num_hidden_layers/, /no model_type/);
});

test('display name: _name_or_path, else the file name', () => {
  assert.equal(loadConfigFile(samplePath('llama-2-7b')).name, 'meta-llama/Llama-2-7b-hf');
  assert.equal(loadConfigFile(samplePath('llama-3.1-8b')).name, 'llama-3.1-8b');
  assert.equal(parseConfig(raw('llama-3-8b')).name, 'llama');
  // A Hub download keeps config.json in a folder named after the model: the folder names it.
  const cfg = raw('llama-3-8b');
  delete cfg._name_or_path;
  assert.equal(parseConfig(cfg, '/models/Meta-Llama-3-8B/config.json').name, 'Meta-Llama-3-8B');
  assert.equal(parseConfig(cfg, 'config.json').name, 'llama');
});

test('KV bytes per token: MHA, GQA, MQA, MLA', () => {
  const kv = (n: string, f?: string) => kvBytesPerToken(loadConfigFile(samplePath(n)), f);
  // MHA: 32 layers x 2 (K, V) x 32 heads x 128 x 2 B.
  assert.equal(kv('llama-2-7b'), 524_288);
  // GQA: 32 x 2 x 8 KV heads x 128 x 2 B.
  assert.equal(kv('llama-3-8b'), 131_072);
  // MQA: Falcon-7B, 32 x 2 x 1 x 64 x 2 B.
  assert.equal(kv('falcon-7b'), 8_192);
  // MLA: one latent of kv_lora_rank 512 + rope 64 per layer: V2-Lite 27 x 576 x 2 B, V3 61 x 576 x 2 B.
  assert.equal(kv('deepseek-v2-lite'), 31_104);
  assert.equal(kv('deepseek-v3'), 70_272);
  // FP8 halves it.
  assert.equal(kv('llama-3-8b', 'fp8'), 65_536);
  rejects(() => kv('llama-3-8b', 'int3'), /--kv/);
});

test('KV layout per layer group: windows and MLA latent', () => {
  assert.deepEqual(kvCacheLayout(loadConfigFile(samplePath('gemma-2-9b'))), [
    { layers: 21, kElementsPerTokenPerLayer: 2048, vElementsPerTokenPerLayer: 2048, sharedLatent: false, window: 4096 },
    { layers: 21, kElementsPerTokenPerLayer: 2048, vElementsPerTokenPerLayer: 2048, sharedLatent: false, window: null },
  ]);
  assert.deepEqual(kvCacheLayout(loadConfigFile(samplePath('deepseek-v3'))), [
    { layers: 61, kElementsPerTokenPerLayer: 576, vElementsPerTokenPerLayer: 0, sharedLatent: true, window: null },
  ]);
});

test('multimodal wrapper: the language model in text_config is analyzed, errors name text_config fields', () => {
  const inner = raw('llama-2-7b');
  delete inner.torch_dtype;
  const s = parseConfig({ model_type: 'llava', torch_dtype: 'bfloat16', text_config: inner, vision_config: { model_type: 'clip_vision_model' } }, 'llava.json');
  assert.equal(s.params.total, 6_738_415_616);
  assert.equal(s.dtype, 'bf16');
  assert.ok(s.warnings.some((w) => /text_config/.test(w) && /vision/.test(w)));
  inner.hidden_size = 0;
  rejects(() => parseConfig({ model_type: 'llava', text_config: inner }, 'llava.json'), /^llava\.json: text_config\.hidden_size: expected an integer/);
});

test('Falcon new decoder architecture: grouped KV heads, two norms per layer', () => {
  // Falcon-40B's shapes: hidden 8192, 128 heads of 64, 8 KV heads, 60 layers, vocab 65024, tied.
  const c = raw('falcon-7b');
  Object.assign(c, { new_decoder_architecture: true, num_kv_heads: 8, hidden_size: 8192, num_attention_heads: 128, num_hidden_layers: 60 });
  const s = parseConfig(c, 'f40.json');
  assert.equal(s.attention.kind, 'gqa');
  assert.equal(s.attention.kvHeads, 8);
  assert.equal(s.structure.normsPerLayer, 2);
  // Per layer: qkv 8192 x (128 + 2 x 8) x 64, dense 8192^2, MLP 2 x 8192 x 32768, ln_attn + ln_mlp 2 x 2 x 8192.
  const perLayer = 8192 * 144 * 64 + 8192 * 8192 + 2 * 8192 * 32768 + 4 * 8192;
  assert.equal(s.params.total, 60 * perLayer + 2 * 8192 + 65024 * 8192);
});

test('windows from use_sliding_window + max_window_layers (Qwen2) and from layer_types', () => {
  const q = raw('qwen2-7b');
  Object.assign(q, { use_sliding_window: true, sliding_window: 4096, max_window_layers: 20 });
  assert.deepEqual(parseConfig(q, 'q.json').layerGroups.map((g) => [g.window, g.layers.length, g.layers[0]]), [[null, 20, 0], [4096, 8, 20]]);
  const g = raw('gemma-2-9b');
  g.layer_types = Array.from({ length: 42 }, (_, i) => (i % 3 === 2 ? 'full_attention' : 'sliding_attention'));
  assert.deepEqual(parseConfig(g, 'g.json').layerGroups.map((x) => [x.window, x.layers.length]), [[4096, 28], [null, 14]]);
});

test('mutated configs either parse to finite numbers or fail with one clean input error', () => {
  // Deterministic mutations of every sample: each field may become zero, negative, fractional, huge,
  // a string, null, a boolean, a list or an object. No TypeError, no NaN, no multi-line message.
  const values: unknown[] = [0, -1, 1.5, 1e12, '4096', null, true, [], {}, [1, 2], 'sliding_attention', 3, 64];
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const files = readdirSync(join(__dirname, '../../samples')).filter((f) => f.endsWith('.json'));
  let parsed = 0;
  for (const f of files) {
    const base = raw(f.replace(/\.json$/, ''));
    const keys = Object.keys(base);
    for (let i = 0; i < 60; i++) {
      const c: Record<string, unknown> = { ...base };
      for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) c[keys[Math.floor(rnd() * keys.length)]!] = values[Math.floor(rnd() * values.length)];
      let s;
      try {
        s = parseConfig(c, f);
      } catch (e) {
        assert.ok(e instanceof RidgelineError, `${f}: ${String(e)}`);
        assert.doesNotMatch(e.message, /\n|NaN|undefined/);
        continue;
      }
      parsed++;
      assert.ok(Number.isSafeInteger(s.params.total) && Number.isFinite(kvBytesPerToken(s)));
    }
  }
  assert.ok(parsed > 100, `only ${parsed} mutated configs parsed`);
});

test('fields the parser would otherwise fill in silently: architectures, first_k_dense_replace, a number too large for a double', () => {
  rejects(() => parseConfig({ ...raw('llama-2-7b'), architectures: [5] }, 'a.json'), /^a\.json: architectures: expected a list of class names such as \["LlamaForCausalLM"\] \(got \[5\]\)$/);
  rejects(() => parseConfig({ ...raw('llama-2-7b'), architectures: 'LlamaForCausalLM' }, 'a.json'), /^a\.json: architectures: expected a list of class names/);
  assert.equal(parseConfig({ ...raw('llama-2-7b'), architectures: [] }, 'a.json').architecture, null);
  // More dense layers than the model has would make DeepSeek-V3 all dense: 37 B parameters, not 671 B.
  rejects(() => parseConfig({ ...raw('deepseek-v3'), first_k_dense_replace: 1000 }, 'ds.json'), /^ds\.json: first_k_dense_replace: expected an integer from 0 to 61 \(got 1000\)$/);
  // JSON.parse reads 1e400 as Infinity: named as such, not as null.
  rejects(() => parseConfig(JSON.stringify({ ...raw('llama-2-7b'), rope_theta: 'X' }).replace('"X"', '1e400'), 'rt.json'), /^rt\.json: rope_theta: expected a finite number of at least 1e-9 \(got Infinity\)$/);
});

test('DBRX without attn_config / ffn_config: transformers\' defaults, with a warning naming each', () => {
  const { attn_config: _a, ffn_config: _f, ...bare } = raw('dbrx-instruct');
  const spec = parseConfig(bare, 'dbrx.json');
  assert.ok(spec.warnings.includes("attn_config is missing: transformers' defaults used (kv_n_heads 1, rope_theta 10000)"), spec.warnings.join('; '));
  assert.ok(spec.warnings.includes("ffn_config is missing: transformers' defaults used (4 experts, top-1, ffn_hidden_size 3584)"), spec.warnings.join('; '));
  assert.equal(parseConfig(raw('dbrx-instruct'), 'dbrx.json').warnings.filter((w) => w.includes('is missing')).length, 0);
});

test('a checkpoint published quantized: a warning while the weights are not its format, none once they are', async () => {
  const { analyze } = await import('../../engine/analyze');
  const { getDevice } = await import('../../engine/hardware/index');
  const v3 = loadConfigFile(samplePath('deepseek-v3'));
  assert.equal(v3.quantMethod, 'fp8');
  const run = (weights: string) =>
    analyze(v3, { batch: 1, promptTokens: 128, generateTokens: 16, weights, activations: 'bf16', kv: 'bf16', tp: 8 }, getDevice('h200'), { sweeps: false }).warnings.filter((w) => /published quantized/.test(w));
  assert.deepEqual(run('bf16'), ['the checkpoint is published quantized (quantization_config.quant_method "fp8"); analyzed with bf16 weights: --weights fp8 matches it']);
  assert.deepEqual(run('fp8'), []);
  assert.equal(loadConfigFile(samplePath('llama-3-8b')).quantMethod, null);
});

test('a generic decoder with multi-token-prediction layers says they are not counted', () => {
  const c = { ...raw('qwen2-7b'), model_type: 'mimo', num_nextn_predict_layers: 1 };
  const s = parseConfig(c, 'mimo.json');
  assert.ok(s.warnings.includes('the checkpoint also holds 1 multi-token-prediction layer(s) (num_nextn_predict_layers) that the generic decoder does not count (main model only)'), s.warnings.join('\n'));
  assert.ok(!parseConfig({ ...c, num_nextn_predict_layers: 0 }, 'mimo.json').warnings.some((w) => /multi-token/.test(w)));
});

test('the published quantization maps to the catalog formats by method and bits; an unknown one still warns', async () => {
  const { publishedQuantFormats, publishedQuantWarning } = await import('../../engine/model/parse');
  assert.deepEqual(publishedQuantFormats({ quant_method: 'gptq', bits: 8, group_size: 128 }), ['int8']); // weight-only: not w8a8
  assert.deepEqual(publishedQuantFormats({ quant_method: 'gptq', bits: 4, group_size: 32 }), ['int4-g32', 'int4-g128']);
  assert.deepEqual(publishedQuantFormats({ quant_method: 'awq', bits: 4, group_size: 128 }), ['int4-g128', 'int4-g32']);
  assert.deepEqual(publishedQuantFormats({ quant_method: 'bitsandbytes', load_in_8bit: true }), ['int8']);
  assert.deepEqual(publishedQuantFormats({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' }), ['nf4']);
  // compressed-tensors (llm-compressor): FP8 weights, W8A8 with int8 activations, W4A16.
  const ct = (weights: object, acts: object | null) => ({ quant_method: 'compressed-tensors', config_groups: { group_0: { weights, input_activations: acts } } });
  assert.deepEqual(publishedQuantFormats(ct({ num_bits: 8, type: 'float' }, { num_bits: 8, type: 'float' })), ['fp8', 'fp8-e5m2']);
  assert.deepEqual(publishedQuantFormats(ct({ num_bits: 8, type: 'int' }, { num_bits: 8, type: 'int' })), ['w8a8']);
  assert.deepEqual(publishedQuantFormats(ct({ num_bits: 4, type: 'int', group_size: 128 }, null)), ['int4-g128', 'int4-g32']);
  assert.deepEqual(publishedQuantFormats({ quant_method: 'modelopt', quant_algo: 'FP8' }), ['fp8']);
  // NVFP4: NVIDIA's ModelOpt checkpoints (quant_algo "NVFP4") and llm-compressor's scheme (4-bit floats in groups of 16).
  assert.deepEqual(publishedQuantFormats({ quant_method: 'modelopt', quant_algo: 'NVFP4' }), ['nvfp4']);
  assert.deepEqual(publishedQuantFormats(ct({ num_bits: 4, type: 'float', group_size: 16 }, { num_bits: 4, type: 'float', group_size: 16 })), ['nvfp4']);
  assert.equal(publishedQuantFormats(ct({ num_bits: 4, type: 'float', group_size: 32 }, null)), null);
  // NVFP4A16 (weights only): no W4A16 FP4 format of its own, so no match rather than W4A4.
  assert.equal(publishedQuantFormats(ct({ num_bits: 4, type: 'float', group_size: 16 }, null)), null);
  assert.equal(publishedQuantFormats({ quant_method: 'hqq' }), null);
  // MXFP4: gpt-oss keeps attention, the router, the embeddings and the head unquantized.
  assert.deepEqual(publishedQuantFormats({ quant_method: 'mxfp4', modules_to_not_convert: ['model.layers.*.self_attn', 'model.layers.*.mlp.router', 'model.embed_tokens', 'lm_head'] }), ['mxfp4-experts']);
  assert.deepEqual(publishedQuantFormats({ quant_method: 'mxfp4' }), ['mxfp4']);
  // An 8-bit GPTQ checkpoint is not told that int4 matches it.
  const gptq8 = parseConfig({ ...raw('llama-3-8b'), quantization_config: { quant_method: 'gptq', bits: 8, group_size: 128 } }, 'q.json');
  assert.equal(publishedQuantWarning(gptq8, 'int8'), null);
  assert.equal(publishedQuantWarning(gptq8, 'int4-g128'), 'the checkpoint is published quantized (quantization_config.quant_method "gptq"); analyzed with int4-g128 weights: --weights int8 matches it');
  const hqq = parseConfig({ ...raw('llama-3-8b'), quantization_config: { quant_method: 'hqq' } }, 'q.json');
  assert.equal(publishedQuantWarning(hqq, 'int4-g128'), 'the checkpoint is published quantized (quantization_config.quant_method "hqq"); analyzed with int4-g128 weights; no weight format of the catalog reproduces it exactly: pick the nearest');
});
