import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfigFile } from '../../engine/model/parse';
import { engineFormatWarnings } from '../../engine/cost/engineFormats';
import { weightFormat } from '../../engine/quant/formats';
import { RidgelineError } from '../../engine/errors';

const samples = join(__dirname, '../../samples');
const cli = join(__dirname, '../../dist/cli.js');
const llama3 = loadConfigFile(join(samples, 'llama-3-8b.json'));
const base = { weights: 'q4_k_m', kv: 'fp16', activations: 'fp16', tp: 1 };

test('a GGUF format or llama.cpp cache type outside llama.cpp is named; inside, nothing is said', () => {
  assert.deepEqual(engineFormatWarnings(llama3, base, 'llama.cpp'), []);
  assert.deepEqual(engineFormatWarnings(llama3, { ...base, kv: 'q8_0' }, 'llama.cpp'), []);
  const none = engineFormatWarnings(llama3, { ...base, kv: 'q4_0' }, undefined);
  assert.equal(none.length, 2);
  assert.match(none[0]!, /^weights q4_k_m is a format llama\.cpp runs; priced with the defaults' kernels/);
  assert.match(none[1]!, /^KV cache q4_0 is a format llama\.cpp runs/);
  assert.match(engineFormatWarnings(llama3, base, 'vllm')[0]!, /priced with vLLM's kernels/);
  // Case as typed: the profile's id is compared.
  assert.deepEqual(engineFormatWarnings(llama3, base, 'LLAMA.CPP'), []);
});

test('llama.cpp given what it does not run: GPTQ/FP8 weights, an FP8 or KIVI cache, 8-bit activations, --tp', () => {
  const w = engineFormatWarnings(llama3, { weights: 'int4-g128', kv: 'fp8', activations: 'fp16', tp: 2 }, 'llama.cpp');
  assert.equal(w.length, 3, w.join('\n'));
  assert.match(w[0]!, /^llama\.cpp does not run int4-g128 weights \(its quantized formats: q8_0, q6_k, q5_k_m, q5_0, q4_k_m, q4_0\)/);
  assert.match(w[1]!, /^llama\.cpp has no fp8 KV cache \(its quantized cache types: q8_0, q4_0\)/);
  assert.match(w[2]!, /^tp 2 with llama\.cpp: priced as tensor parallelism, which it does not run: .*--split-mode layer/);
  assert.match(engineFormatWarnings(llama3, { ...base, weights: 'q4_0', activations: 'fp8' }, 'llama.cpp')[0]!, /runs quantized GEMMs with fp16 activations; fp8 activations are priced as asked/);
  // 16-bit weights and caches are anyone's; bf16 activations for quantized weights are a 16-bit choice, not warned.
  assert.deepEqual(engineFormatWarnings(llama3, { weights: 'bf16', kv: 'bf16', activations: 'bf16', tp: 1 }, 'llama.cpp'), []);
  assert.deepEqual(engineFormatWarnings(llama3, { ...base, activations: 'bf16' }, 'llama.cpp'), []);
  // Other engines have no formats of their own: nothing to say about GPTQ weights there.
  assert.deepEqual(engineFormatWarnings(llama3, { weights: 'int4-g128', kv: 'fp8', activations: 'fp16', tp: 2 }, 'vllm'), []);
});

test("llama.cpp's cache blocks: whole blocks of the head dimension, and flash attention for a quantized V cache", () => {
  const phi2 = loadConfigFile(join(samples, 'phi-2.json'));
  assert.equal(phi2.attention.headDim, 80);
  assert.deepEqual(engineFormatWarnings(phi2, { weights: 'fp16', kv: 'q4_0', activations: 'fp16', tp: 1 }, 'llama.cpp'), [
    'llama.cpp refuses a q4_0 cache here: its blocks of 32 do not divide the head dimension 80',
  ]);
  assert.deepEqual(engineFormatWarnings(llama3, { ...base, kv: 'q8_0' }, 'llama.cpp', { fusedAttention: false }), [
    'llama.cpp needs flash attention for a quantized V cache (q8_0); with unfused attention it refuses this cache',
  ]);
  // MLA caches the 576-wide latent: 18 blocks.
  assert.deepEqual(engineFormatWarnings(loadConfigFile(join(samples, 'deepseek-v2-lite.json')), { weights: 'bf16', kv: 'q8_0', activations: 'bf16', tp: 1 }, 'llama.cpp'), []);
});

test('k-quants on rows that are not whole super-blocks of 256 (Qwen2-0.5B: 896) are warned about; Q4_0 is not', () => {
  const qwen = loadConfigFile(join(samples, 'qwen2-0.5b.json'));
  const w = engineFormatWarnings(qwen, base, 'llama.cpp');
  assert.deepEqual(w, [
    'q4_k_m: tensors whose rows are the hidden size (896) or the attention output width (896) wide are not whole super-blocks of 256; llama-quantize stores them in a fallback type (Q5_0, Q5_1 or Q8_0), which these bytes do not follow',
  ]);
  assert.deepEqual(engineFormatWarnings(qwen, { ...base, weights: 'q4_0' }, 'llama.cpp'), []);
  // Every layer group counts: DeepSeek-V2-Lite's dense first layer (10944) and its experts (1408).
  const ds = engineFormatWarnings(loadConfigFile(join(samples, 'deepseek-v2-lite.json')), { weights: 'q4_k_m', kv: 'bf16', activations: 'bf16', tp: 1 }, 'llama.cpp');
  assert.equal(ds.length, 1);
  assert.match(ds[0]!, /the intermediate size \(10944\) or the expert width \(1408\) wide/);
  assert.deepEqual(engineFormatWarnings(llama3, { ...base, weights: 'q6_k' }, 'llama.cpp'), []);
});

test('a llama.cpp type the catalog does not hold names the GGUF types it does', () => {
  for (const id of ['Q4_K_S', 'q3_k_m', 'iq4_xs', 'q4_1']) {
    assert.throws(() => weightFormat(id), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /llama\.cpp's GGUF types modelled: q8_0, q6_k, q5_k_m, q5_0, q4_k_m, q4_0/.test(e.message), id);
  }
  assert.throws(() => weightFormat('int5'), (e: unknown) => e instanceof Error && !/GGUF/.test(e.message));
});

test('cli: analyze and kv print the warnings; kv --help lists every cache type', () => {
  const a = spawnSync(process.execPath, [cli, 'analyze', join(samples, 'llama-3-8b.json'), '--engine', 'llama.cpp', '--kv', 'fp8', '--format', 'json'], { encoding: 'utf8' });
  assert.equal(a.status, 0, a.stderr);
  assert.ok((JSON.parse(a.stdout) as { warnings: string[] }).warnings.some((x) => /llama\.cpp has no fp8 KV cache/.test(x)));
  const k = spawnSync(process.execPath, [cli, 'kv', join(samples, 'llama-3-8b.json'), '--kv', 'q8_0'], { encoding: 'utf8' });
  assert.equal(k.status, 0, k.stderr);
  assert.match(k.stderr, /KV cache q8_0 is a format llama\.cpp runs/);
  const h = spawnSync(process.execPath, [cli, 'kv', '--help'], { encoding: 'utf8' });
  assert.match(h.stdout, /--kv FMT +KV format of the plan and the context table: fp32, fp16, bf16, fp8, fp8-e5m2, int8, int4, int2, q8_0, q4_0/);
});
