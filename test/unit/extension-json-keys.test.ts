// The extension's vscode-free helpers: where config keys sit in the text (lenses, hovers and diagnostics are
// placed with it) and the "did you mean" check behind diagnostic RLC005.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { likelyTypo, locateKeys, looksLikeModelConfig } from '../../src/jsonKeys';

const root = join(import.meta.dirname, '../..');

test('locateKeys: offsets of top-level keys and their values in a real config', () => {
  const text = readFileSync(join(root, 'samples/llama-3.1-8b.json'), 'utf8');
  const keys = locateKeys(text);
  const kv = keys.find((k) => k.path === 'num_key_value_heads');
  assert.ok(kv);
  assert.equal(text.slice(kv.keyStart, kv.keyEnd), '"num_key_value_heads"');
  assert.equal(text.slice(kv.valueStart, kv.valueEnd), '8');
  // Nested keys carry their path; array elements are not keys.
  const factor = keys.find((k) => k.path === 'rope_scaling.factor');
  assert.ok(factor);
  assert.equal(text.slice(factor.valueStart, factor.valueEnd), '8.0');
  assert.equal(keys.filter((k) => k.depth === 0).length, Object.keys(JSON.parse(text)).length);
  const arch = keys.find((k) => k.path === 'architectures')!;
  assert.equal(text.slice(arch.valueStart, arch.valueEnd).replace(/\s/g, ''), '["LlamaForCausalLM"]');
});

test('locateKeys: escaped quotes, empty containers, and malformed text stop quietly', () => {
  const text = '{"a\\"b": "x\\"y", "e": {}, "f": [], "n": -1.5e3, "t": true, "z": null}';
  assert.deepEqual(locateKeys(text).map((k) => k.key), ['a"b', 'e', 'f', 'n', 't', 'z']);
  const broken = '{"hidden_size": 4096, "num_hidden_layers": ';
  assert.deepEqual(locateKeys(broken).map((k) => k.key), ['hidden_size']);
  assert.deepEqual(locateKeys('[1, 2]'), []);
});

test('looksLikeModelConfig: by content, not by name', () => {
  assert.equal(looksLikeModelConfig(readFileSync(join(root, 'samples/mixtral-8x7b.json'), 'utf8')), true);
  assert.equal(looksLikeModelConfig(readFileSync(join(root, 'package.json'), 'utf8')), false);
  assert.equal(looksLikeModelConfig('{ "model_type": "llama" }'), true);
  assert.equal(looksLikeModelConfig('// "model_type": "llama"'), false);
});

test('likelyTypo: no field of a bundled config is taken for a typo (DBRX n_heads / n_layers are known, not n_head / n_layer)', () => {
  const dir = join(root, 'samples');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    for (const key of Object.keys(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>)) {
      assert.equal(likelyTypo(key), undefined, `${f}: ${key}`);
    }
  }
  assert.equal(likelyTypo('n_layerz'), 'n_layer');
});

test('likelyTypo: near misses of known fields, not other fields', () => {
  assert.equal(likelyTypo('num_key_value_head'), 'num_key_value_heads');
  assert.equal(likelyTypo('num_hiden_layers'), 'num_hidden_layers');
  assert.equal(likelyTypo('intermediate_szie'), 'intermediate_size');
  assert.equal(likelyTypo('num_key_value_heads'), undefined, 'a known field is not a typo');
  assert.equal(likelyTypo('transformers_version'), undefined, 'an unrelated field is not a typo');
  assert.equal(likelyTypo('bos_token_id'), undefined);
  assert.equal(likelyTypo('eos'), undefined, 'short keys are never guessed');
});
