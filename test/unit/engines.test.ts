import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfigFile } from '../../engine/model/parse';
import { getDevice } from '../../engine/hardware/index';
import { analyze } from '../../engine/analyze';
import { defaultCostParams } from '../../engine/cost/params';
import { servingEngine, servingEngines } from '../../engine/cost/engines';
import { validationRows } from '../../engine/cost/validate';
import { costParamsFor } from '../../engine/cost/params';
import { DecodeGraphs } from '../../engine/cost/decode';
import { decodeStepGrid } from '../../engine/cost/grid';
import { RidgelineError } from '../../engine/errors';

const samples = join(__dirname, '../../samples');
const cli = join(__dirname, '../../dist/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const llama8b = loadConfigFile(join(samples, 'llama-3.1-8b.json'));
const h100 = getDevice('h100-sxm');
const W = { batch: 4, promptTokens: 256, generateTokens: 32, weights: 'bf16', activations: 'bf16', kv: 'bf16', tp: 1 };

test('serving engines: the five profiles, each with a source; ids are case-insensitive', () => {
  assert.deepEqual(servingEngines().map((e) => e.id), ['tensorrt-llm', 'vllm', 'vllm-v0', 'fastertransformer', 'llama.cpp']);
  for (const e of servingEngines()) assert.ok(e.source.length > 80, `${e.id} states its source`);
  assert.equal(servingEngine(' vLLM ').id, 'vllm');
  // TensorRT-LLM runs as the defaults do (llama.cpp's profile: test/unit/prefill-engine.test.ts).
  assert.deepEqual(servingEngine('tensorrt-llm').params, {});
});

test('serving engines: an unknown id names the close matches, exit code 2', () => {
  assert.throws(() => servingEngine('vlm'), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /--engine: unknown serving engine "vlm"; close matches: vllm/.test(e.message));
  assert.throws(() => servingEngine('sglang'), /known ids: tensorrt-llm, vllm, vllm-v0, fastertransformer, llama\.cpp/);
  assert.throws(() => analyze(llama8b, W, h100, { servingEngine: 'trt' }), /unknown serving engine "trt"/);
});

test('vLLM profile: 1 ms of host work per forward pass instead of 0.7 ms; on one GPU nothing else (its all-reduce figure needs tp > 1)', () => {
  const base = analyze(llama8b, W, h100, { sweeps: false });
  const vllm = analyze(llama8b, W, h100, { servingEngine: 'vllm', sweeps: false });
  assert.equal(defaultCostParams().forwardOverheadS, 7e-4);
  assert.equal(vllm.costModel.forwardOverheadS, 1e-3);
  assert.deepEqual(vllm.costModel.servingEngine, { id: 'vllm', name: 'vLLM' });
  assert.equal(base.costModel.servingEngine, null);
  // Worked by hand: every forward pass waits 0.3 ms longer. The prompt is one pass, the 31 decode steps after the
  // first token one each: the static batch takes 32 x 0.3 ms = 9.6 ms longer; the GPU work is the same.
  assert.ok(Math.abs(vllm.prefill.timeS - base.prefill.timeS - 3e-4) < 1e-12);
  assert.ok(Math.abs(vllm.decode.timeS - base.decode.timeS - 3e-4) < 1e-12);
  assert.equal(vllm.e2e.decodeSteps, 31);
  assert.ok(Math.abs(vllm.e2e.timeS - base.e2e.timeS - 32 * 3e-4) < 1e-9, `${vllm.e2e.timeS - base.e2e.timeS}`);
  assert.equal(vllm.prefill.flops, base.prefill.flops);
  assert.equal(vllm.decode.bytes, base.decode.bytes);
});

test('FasterTransformer profile: unfused context attention and its kernel cost; an explicit option wins over the profile', () => {
  const ft = analyze(llama8b, W, h100, { servingEngine: 'fastertransformer', sweeps: false });
  assert.equal(ft.costModel.fusedAttention, false);
  assert.equal(ft.costModel.groupedDecodeAttention, false);
  assert.equal(ft.costModel.launchOverheadS, 6.4e-6);
  const fused = analyze(llama8b, W, h100, { servingEngine: 'fastertransformer', params: { fusedAttention: true, groupedDecodeAttention: undefined }, sweeps: false });
  assert.equal(fused.costModel.fusedAttention, true);
  // An option left undefined keeps the profile's value.
  assert.equal(fused.costModel.groupedDecodeAttention, false);
  // Unfused attention writes and reads the scores: per layer 4 passes over batch x heads x 256 x 256 fp16 scores
  // (QK^T writes S, softmax reads S and writes P, PV reads P) = 4 x 4 x 32 x 65,536 x 2 B = 64 MiB, x 32 layers.
  const scoreBytes = 4 * 4 * 32 * 256 * 256 * 2 * 32;
  assert.ok(Math.abs(ft.prefill.bytes - fused.prefill.bytes - scoreBytes) <= 1e-9 * scoreBytes, `${ft.prefill.bytes - fused.prefill.bytes} vs ${scoreBytes}`);
});

test('vLLM V0 profile: 0.12 ms more host work per sequence of the batch in every forward pass, and nothing else', () => {
  const w64 = { ...W, batch: 64 };
  const v1 = analyze(llama8b, w64, h100, { servingEngine: 'vllm', sweepBatches: [1, 8, 64] });
  const v0 = analyze(llama8b, w64, h100, { servingEngine: 'vllm-v0', sweepBatches: [1, 8, 64] });
  assert.equal(v0.costModel.forwardOverheadS, 1e-3);
  assert.equal(v0.costModel.sequenceOverheadS, 1.2e-4);
  assert.equal(v1.costModel.sequenceOverheadS, 0);
  assert.equal(defaultCostParams().sequenceOverheadS, 0);
  // Worked by hand: each pass of 64 sequences waits 64 x 0.12 ms = 7.68 ms longer: the prompt pass and each of the
  // 31 decode steps, so the batch takes 32 x 7.68 ms = 245.76 ms longer.
  assert.ok(Math.abs(v0.prefill.timeS - v1.prefill.timeS - 7.68e-3) < 1e-12);
  assert.ok(Math.abs(v0.decode.timeS - v1.decode.timeS - 7.68e-3) < 1e-12);
  assert.ok(Math.abs(v0.e2e.timeS - v1.e2e.timeS - 32 * 7.68e-3) < 1e-9, `${v0.e2e.timeS - v1.e2e.timeS}`);
  assert.equal(v0.decode.bytes, v1.decode.bytes);
  assert.equal(v0.ops.find((o) => o.phase === 'decode' && o.name === 'host_overhead')?.timeS, 1e-3 + 64 * 1.2e-4);
  // The batch sweep prices each batch with its own sequences: 0.12 ms, 0.96 ms and 7.68 ms more.
  assert.deepEqual(v0.batchSweep.batch, [1, 8, 64]);
  v0.batchSweep.batch.forEach((b, i) => assert.ok(Math.abs(v0.batchSweep.stepTimeS[i]! - v1.batchSweep.stepTimeS[i]! - b * 1.2e-4) < 1e-12, `batch ${b}`));
  // The batch x context grid (live sliders) agrees with the sweep.
  const ctx = { device: h100, params: costParamsFor(h100, servingEngine('vllm-v0').params), tp: 1, linkBytesPerS: h100.interconnect!.bandwidthBytesPerS, notes: new Set<string>() };
  const c = v0.batchSweep.contextTokens;
  const grid = decodeStepGrid(llama8b, new DecodeGraphs(llama8b, w64, c), [1, 8, 64], [c], ctx);
  [...grid].forEach((t, i) => assert.ok(Math.abs(t - v0.batchSweep.stepTimeS[i]!) < 1e-9 * t, `grid batch ${[1, 8, 64][i]}: ${t} vs ${v0.batchSweep.stepTimeS[i]}`));
});

test('sequenceOverheadS: seconds from 0 to 1; anything else is a clear input error', () => {
  for (const bad of [-1e-6, 2, Number.NaN]) {
    assert.throws(() => costParamsFor(h100, { sequenceOverheadS: bad }), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /sequenceOverheadS: expected seconds from 0 to 1/.test(e.message), String(bad));
  }
  assert.equal(costParamsFor(h100, { sequenceOverheadS: 0 }).sequenceOverheadS, 0);
});

test('validation rows: each names a profile, matching its engine', () => {
  // vLLM before release 0.8 (all of 2024) ran the V0 engine.
  const want: Array<[RegExp, string]> = [[/^(TensorRT-LLM|NVIDIA NIM)/, 'tensorrt-llm'], [/^vLLM.*(\b0\.[0-7]\b|2024)/, 'vllm-v0'], [/^vLLM/, 'vllm'], [/^FasterTransformer/, 'fastertransformer'], [/^llama\.cpp/, 'llama.cpp']];
  for (const r of validationRows()) {
    const hit = want.find(([re]) => re.test(r.engine));
    assert.ok(hit, `${r.id}: engine ${r.engine}`);
    assert.equal(r.servingEngine, hit[1], r.id);
    assert.equal(servingEngine(r.servingEngine).id, r.servingEngine);
  }
});

test('cli: analyze --engine vllm reports the profile; a wrong id exits 2 with one line', () => {
  const r = run('analyze', join(samples, 'llama-3.1-8b.json'), '--engine', 'vllm', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { costModel: { servingEngine: { id: string } | null; forwardOverheadS: number } };
  assert.equal(j.costModel.servingEngine?.id, 'vllm');
  assert.equal(j.costModel.forwardOverheadS, 1e-3);
  const md = run('analyze', join(samples, 'llama-3.1-8b.json'), '--engine', 'vllm', '--format', 'markdown');
  assert.match(md.stdout, /Cost parameters: the vLLM profile \(engine\/cost\/engines\.json\) over defaults/);
  assert.match(md.stdout, /host work 1\.000 ms per forward pass/);
  assert.doesNotMatch(md.stdout, /per sequence/);
  const v0 = run('analyze', join(samples, 'llama-3.1-8b.json'), '--engine', 'vllm-v0', '--format', 'markdown');
  assert.match(v0.stdout, /the vLLM \(V0 engine\) profile .*host work 1\.000 ms per forward pass plus 120\.00 us per sequence of the batch;/);
  const bad = run('analyze', join(samples, 'llama-3.1-8b.json'), '--engine', 'vlm');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), 'ridgeline: --engine: unknown serving engine "vlm"; close matches: vllm');
});

test("llama.cpp's default formats: a quantized model's GEMMs take fp16 activations and the KV cache is fp16, whatever the checkpoint's dtype", async () => {
  const { resolveFormats } = await import('../../engine/analyze');
  const mistral = loadConfigFile(join(__dirname, '../../samples/mistral-7b-v0.1.json')); // torch_dtype bfloat16
  const rtx4090 = getDevice('rtx-4090');
  assert.equal(servingEngine('llama.cpp').quantizedActivations, 'fp16');
  assert.deepEqual(resolveFormats(mistral, rtx4090, { weights: 'int4-g32' }, undefined, 'llama.cpp'), { weights: 'int4-g32', activations: 'fp16', kv: 'fp16' });
  // A 16-bit GGUF keeps the model's dtype for its GEMMs; the cache is still fp16.
  assert.deepEqual(resolveFormats(mistral, rtx4090, {}, undefined, 'llama.cpp'), { weights: 'bf16', activations: 'bf16', kv: 'fp16' });
  // Without the profile, or with another engine: the model's dtype throughout; explicit formats always win.
  assert.deepEqual(resolveFormats(mistral, rtx4090, { weights: 'int4-g32' }), { weights: 'int4-g32', activations: 'bf16', kv: 'bf16' });
  assert.deepEqual(resolveFormats(mistral, rtx4090, { weights: 'int4-g32' }, undefined, 'vllm'), { weights: 'int4-g32', activations: 'bf16', kv: 'bf16' });
  assert.deepEqual(resolveFormats(mistral, rtx4090, { weights: 'int4-g32', activations: 'bf16', kv: 'fp8' }, undefined, 'llama.cpp'), { weights: 'int4-g32', activations: 'bf16', kv: 'fp8' });
  // The CLI resolves them so: the prompt GEMMs then run against the card's fp16-accumulate rate like a fp16 model's.
  const cli = join(__dirname, '../../dist/cli.js');
  const r = spawnSync(process.execPath, [cli, 'analyze', join(__dirname, '../../samples/mistral-7b-v0.1.json'), '--hardware', 'rtx-4090', '--engine', 'llama.cpp', '--weights', 'int4-g32', '--format', 'json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { workload: { activations: string; kv: string }; hardware: { peakFlopsPerS: number } };
  assert.deepEqual([j.workload.activations, j.workload.kv, j.hardware.peakFlopsPerS], ['fp16', 'fp16', 330.3e12]);
});
