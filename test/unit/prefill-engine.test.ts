import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildGraph, loadConfigFile } from '../../engine/model/index';
import type { Op, Workload } from '../../engine/model/types';
import type { Device } from '../../engine/hardware/types';
import { getDevice } from '../../engine/hardware/index';
import { costParamsFor, defaultCostParams, type CostParams } from '../../engine/cost/params';
import { costKernel, stepTimeS, type CostContext } from '../../engine/cost/roofline';
import { chunkTokensPerSequence, prefillChunks } from '../../engine/cost/prefill';
import { planMemory } from '../../engine/memory/plan';
import { analyze } from '../../engine/analyze';
import { renderAnalysisMarkdown } from '../../engine/report/analysis';
import { servingEngine } from '../../engine/cost/engines';
import defaults from '../../engine/cost/defaults.json';

const samples = join(__dirname, '../../samples');
const cli = join(__dirname, '../../dist/cli.js');
const llama7b = loadConfigFile(join(samples, 'llama-2-7b.json'));
const llama3 = loadConfigFile(join(samples, 'llama-3-8b.json'));
const a100 = getDevice('a100-80gb');
const W = (promptTokens: number, extra: Partial<Workload> = {}): Workload => ({ batch: 1, promptTokens, generateTokens: 1, weights: 'fp16', activations: 'fp16', kv: 'fp16', tp: 1, ...extra });

function ctxFor(device: Device, params: Partial<CostParams> = {}): CostContext {
  return { device, params: costParamsFor(device, params), tp: 1, linkBytesPerS: 32e9, notes: new Set() };
}

function gemmOp(m: number, n: number, k: number): Op {
  return {
    name: 'gemm', phase: 'prefill', layers: 1, opClass: 'gemm', computeDtype: 'fp16', shape: { m, n, k }, count: 1, launches: 1,
    flops: 2 * m * n * k,
    bytes: { weights: n * k * 2, actIn: m * k * 2, actOut: m * n * 2, kvRead: 0, kvWrite: 0 },
  };
}

test('prefill chunks: full chunks after the ones before them, then the rest; only the last computes the output', () => {
  assert.deepEqual(prefillChunks(1000, 512), [
    { tokens: 512, cachedTokens: 0, output: false, weight: 1 },
    { tokens: 488, cachedTokens: 512, output: true, weight: 1 },
  ]);
  assert.deepEqual(prefillChunks(1024, 512).map((c) => [c.tokens, c.cachedTokens, c.output]), [[512, 0, false], [512, 512, true]]);
  // A prompt no longer than a chunk, or no chunking: one pass.
  assert.deepEqual(prefillChunks(512, 512), [{ tokens: 512, cachedTokens: 0, output: true, weight: 1 }]);
  assert.deepEqual(prefillChunks(4096, 0), [{ tokens: 4096, cachedTokens: 0, output: true, weight: 1 }]);
  // 2048 chunks of a million-token prompt: 33 samples of the first 2047 and the last, weights summing to 2048.
  const big = prefillChunks(1 << 20, 512);
  assert.equal(big.length, 34);
  assert.equal(big.reduce((s, c) => s + c.weight, 0), 2048);
  assert.equal(big[0]!.cachedTokens, 0);
  assert.equal(big[32]!.cachedTokens, 2046 * 512);
  assert.deepEqual(big[33], { tokens: 512, cachedTokens: 2047 * 512, output: true, weight: 1 });
});

test('chunked prefill: the same FLOPs as one pass, weights read once per chunk, host work once per chunk', () => {
  const one = analyze(llama7b, W(2048), a100, { sweeps: false });
  const four = analyze(llama7b, W(2048), a100, { sweeps: false, params: { prefillChunkTokens: 512 } });
  assert.equal(four.costModel.prefillChunkTokens, 512);
  assert.equal(one.costModel.prefillChunkTokens, 0);
  // Causal attention pairs add up: 4 chunks of 512 after 0, 512, 1024 and 1536 cached tokens see as many (query,
  // key) pairs as one pass of 2048 (2048 x 2049 / 2); GEMM rows add up; the LM head runs once, in the last chunk.
  assert.equal(four.prefill.flops, one.prefill.flops);
  // Weights: 6.74e9 fp16 parameters less the embedding table (read per token, not whole) are read by each chunk.
  const layerWeights = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008) * 2;
  const extra = four.prefill.bytes - one.prefill.bytes;
  assert.ok(extra > 3 * layerWeights && extra < 3 * layerWeights * 1.2, `${extra / 1e9} GB more, ${(3 * layerWeights) / 1e9} GB of re-read weights`);
  const host = (r: typeof one) => r.ops.filter((o) => o.phase === 'prefill' && o.name === 'host_overhead');
  assert.equal(host(four).length, 1);
  assert.ok(Math.abs(host(four)[0]!.timeS - 4 * 7e-4) < 1e-15);
  assert.ok(Math.abs(host(one)[0]!.timeS - 7e-4) < 1e-15);
  // Every chunk's GEMMs are compute bound on an A100 at 512 rows: the chunked prefill is slower by its extra
  // host work and weight reads, never faster.
  assert.ok(four.prefill.timeS > one.prefill.timeS);
  // The README's figures: 137 ms in one pass, 154 ms in four chunks; 40 and 80 GB moved.
  assert.ok(Math.abs(one.prefill.timeS - 0.137) < 0.0005 && Math.abs(four.prefill.timeS - 0.154) < 0.0005, `${one.prefill.timeS} ${four.prefill.timeS}`);
  assert.equal(Math.round(one.prefill.bytes / 1e9), 40);
  assert.equal(Math.round(four.prefill.bytes / 1e9), 80);
  // The per-op rows sum to the phase time, and a chunk smaller than the prompt changes nothing below it.
  const sum = four.ops.filter((o) => o.phase === 'prefill').reduce((s, o) => s + o.timeS, 0);
  assert.ok(Math.abs(sum - four.prefill.timeS) < 1e-12 * sum);
  assert.equal(analyze(llama7b, W(512), a100, { sweeps: false, params: { prefillChunkTokens: 512 } }).prefill.timeS, analyze(llama7b, W(512), a100, { sweeps: false }).prefill.timeS);
});

test('chunked prefill: a long run of chunks, sampled, stays within 0.2% of costing every chunk', () => {
  // 100 chunks of 512 (more than the 64 costed one by one): Llama-3-8B, unfused attention so the per-chunk time
  // grows with the cached prefix through the score matrices.
  const P = 100 * 512 - 200;
  const params = { prefillChunkTokens: 512, fusedAttention: false };
  const r = analyze(llama3, W(P), a100, { sweeps: false, params });
  const ctx = ctxFor(a100, params);
  let exact = 0;
  for (let c = 0; c < P; c += 512) {
    const T = Math.min(512, P - c);
    exact += stepTimeS(buildGraph(llama3, W(P), 'prefill', T, { cachedTokens: c, output: c + T === P }).ops, ctx);
  }
  assert.ok(Math.abs(r.prefill.timeS / exact - 1) < 2e-3, `${r.prefill.timeS} vs ${exact}`);
  // The last full chunk attends to 50,176 cached tokens: its unfused attention makes it far slower than the first.
  const first = stepTimeS(buildGraph(llama3, W(P), 'prefill', 512, { output: false }).ops, ctx);
  const lastFull = stepTimeS(buildGraph(llama3, W(P), 'prefill', 512, { cachedTokens: 98 * 512, output: false }).ops, ctx);
  assert.ok(lastFull > 2 * first, `${lastFull} vs ${first}`);
});

test('chunked prefill equals costing every chunk: tensor parallel, MoE, sliding windows, batches', () => {
  const cases: Array<[string, string, Partial<Workload>, number]> = [
    ['llama-2-70b', 'h100-sxm', { tp: 4, weights: 'fp16', activations: 'fp16', kv: 'fp16' }, 3000],
    ['mixtral-8x7b', 'h100-sxm', { tp: 2, weights: 'bf16', activations: 'bf16', kv: 'bf16' }, 2500],
    // Mistral's 4096-token window and Gemma 2's alternating local layers: past the window a chunk stops growing.
    ['mistral-7b-v0.1', 'a100-80gb', { weights: 'bf16', activations: 'bf16', kv: 'bf16' }, 6000],
    ['gemma-2-9b', 'l40s', { weights: 'bf16', activations: 'bf16', kv: 'bf16', batch: 3 }, 1500],
    // Sampled: 79 chunks of a windowed model.
    ['mistral-7b-v0.1', 'h100-sxm', { weights: 'bf16', activations: 'bf16', kv: 'bf16' }, 40_000],
  ];
  for (const [model, dev, extra, P] of cases) {
    const spec = loadConfigFile(join(samples, `${model}.json`));
    const device = getDevice(dev);
    const w: Workload = { ...W(P), ...extra };
    const params = { prefillChunkTokens: 512 };
    const r = analyze(spec, w, device, { sweeps: false, params });
    const ctx = { ...ctxFor(device, params), tp: w.tp, linkBytesPerS: device.interconnect?.bandwidthBytesPerS ?? 32e9 };
    const per = chunkTokensPerSequence(512, w.batch);
    let exact = 0;
    for (let c = 0; c < P; c += per) {
      const T = Math.min(per, P - c);
      exact += stepTimeS(buildGraph(spec, w, 'prefill', T, { cachedTokens: c, output: c + T === P }).ops, ctx);
    }
    const tol = Math.ceil(P / per) > 65 ? 2e-3 : 1e-9;
    assert.ok(Math.abs(r.prefill.timeS / exact - 1) < tol, `${model} on ${dev}: ${r.prefill.timeS} vs ${exact}`);
    const sum = r.ops.filter((o) => o.phase === 'prefill').reduce((x, o) => x + o.timeS, 0);
    assert.ok(Math.abs(sum / r.prefill.timeS - 1) < 1e-12, model);
  }
});

test('fp16 accumulation: GeForce GEMMs at the fp16-accumulate peak (RTX 3090: 142 against 71 TFLOPS), other cards unchanged', () => {
  const r3090 = getDevice('rtx-3090');
  assert.equal(r3090.fp16AccumulateFlopsPerS, 142e12);
  assert.equal(getDevice('rtx-4090').fp16AccumulateFlopsPerS, 330.3e12);
  const big = gemmOp(4096, 4096, 4096);
  const acc32 = costKernel([big], ctxFor(r3090));
  const acc16 = costKernel([big], ctxFor(r3090, { fp16AccumulateGemm: true }));
  assert.equal(acc32.bound, 'compute');
  assert.ok(Math.abs(acc16.computeS / acc32.computeS - 71 / 142) < 1e-12);
  assert.equal(acc16.memoryS, acc32.memoryS);
  // The RTX A6000 (same GA102 chip) accumulates in fp32 at its full fp16 rate: no separate figure, no change.
  const a6000 = getDevice('rtx-a6000');
  assert.equal(a6000.fp16AccumulateFlopsPerS, undefined);
  assert.equal(costKernel([big], ctxFor(a6000, { fp16AccumulateGemm: true })).computeS, costKernel([big], ctxFor(a6000)).computeS);
  // bf16 GEMMs have no fp16-accumulate rate.
  const bf = { ...big, computeDtype: 'bf16' as const };
  assert.equal(costKernel([bf], ctxFor(r3090, { fp16AccumulateGemm: true })).computeS, costKernel([bf], ctxFor(r3090)).computeS);
});

test('matrix-unit compute scale: tensor-core GEMMs only; Apple GPUs (no matrix units in the model) keep the defaults', () => {
  const big = gemmOp(4096, 4096, 4096);
  const base = costKernel([big], ctxFor(a100));
  const scaled = costKernel([big], ctxFor(a100, { matrixUnitComputeScale: 0.72 }));
  assert.ok(Math.abs(scaled.computeS / base.computeS - 1 / 0.72) < 1e-12);
  const m2 = getDevice('apple-m2-ultra');
  assert.equal(costKernel([big], ctxFor(m2, { matrixUnitComputeScale: 0.72 })).computeS, costKernel([big], ctxFor(m2)).computeS);
});

test('dequantization to a buffer: a pass of its own before quantized prompt GEMMs on tensor cores, none at batch 1', () => {
  const r3090 = getDevice('rtx-3090');
  const w4 = W(512, { weights: 'int4-g32' });
  const params = { dequantizeToBuffer: true };
  const ops = buildGraph(llama7b, w4, 'prefill', 512).ops;
  const down = ops.find((o) => o.name === 'mlp_down')!;
  const inFused = costKernel([down], ctxFor(r3090));
  const buffered = costKernel([down], ctxFor(r3090, params));
  // Worked by hand: the pass reads the packed weights (5 bits each for int4-g32) and writes 2-byte ones,
  // 4096 x 11008 x 32 layers of them; the GEMM then reads the 2-byte weights instead of the packed ones.
  const n = 4096 * 11008 * 32;
  const ew = defaults.efficiency.elementwise;
  const passMemS = (n * (5 / 8) + n * 2) / (936e9 * ew.memory);
  const passComputeS = (down.dequantFlops ?? 0) / (35.6e12 * ew.compute);
  const passS = passMemS + (passComputeS * passComputeS) / passMemS + down.launches * defaults.launchOverheadS;
  assert.ok(Math.abs((buffered.dequantPassS ?? 0) - passS) < 1e-9 * passS, `${buffered.dequantPassS} vs ${passS}`);
  assert.ok(Math.abs(buffered.bytes - (down.bytes.weights + down.bytes.actIn + down.bytes.actOut) - (n * 2 + n * 2)) < 1, 'pass bytes and the GEMM reading 2-byte weights');
  assert.ok(buffered.timeS > inFused.timeS + 0.9 * passS);
  assert.equal(inFused.dequantPassS, undefined);
  // Decode at batch 1 runs the mat-vec kernels, which dequantize in place.
  const dec = buildGraph(llama7b, w4, 'decode', 512).ops.find((o) => o.name === 'mlp_down')!;
  assert.equal(costKernel([dec], ctxFor(r3090, params)).dequantPassS, undefined);
  // The decode step line (kernel times affine in the context) carries the pass at batch 16 (16 GEMM rows).
  const r = analyze(llama7b, { ...w4, batch: 16, promptTokens: 128, generateTokens: 64 }, r3090, { params, sweeps: false });
  const direct = stepTimeS(buildGraph(llama7b, { ...w4, batch: 16 }, 'decode', 128 + 32).ops, ctxFor(r3090, params));
  assert.ok(Math.abs(r.decode.timeS - direct) < 1e-12 * direct);
  assert.ok(r.ops.some((o) => o.phase === 'decode' && (o.dequantPassS ?? 0) > 0));
});

test('block-rescaling quantized GEMMs (MMQ): the main loop on int8 matrix units, 4 vector flops per output element and 32-wide block', () => {
  const t4 = getDevice('t4');
  const w4 = W(512, { weights: 'int4-g32' });
  const down = buildGraph(llama7b, w4, 'prefill', 512).ops.find((o) => o.name === 'mlp_down')!;
  const base = costKernel([down], ctxFor(t4));
  const mmq = costKernel([down], ctxFor(t4, { blockRescaleGemm: true }));
  assert.equal(base.peakDtype, 'fp16');
  assert.equal(mmq.peakDtype, 'int8');
  // Worked by hand. The GEMM's 2 x 512 x 4096 x 11008 x 32 flops move from the T4's 65 fp16 TFLOPS to its 130 int8
  // TOPS (times the int8 scale of the defaults), and 512 rows x 4096 outputs x ceil(11008 / 32) = 344 blocks x 32
  // layers of rescaling, 4 flops each, run at its 8.1 fp32 TFLOPS; both at the GEMM compute efficiency.
  const eff = defaults.efficiency.gemm.compute;
  const gemmFlops = 2 * 512 * 4096 * 11008 * 32;
  const fp16S = gemmFlops / (65e12 * eff);
  const int8S = gemmFlops / (130e12 * eff * defaults.dtypeComputeScale.int8);
  const rescaleS = (4 * 512 * 4096 * 344 * 32) / (8.1e12 * eff);
  const expected = int8S - fp16S + rescaleS;
  assert.ok(Math.abs(mmq.computeS - base.computeS - expected) < 1e-9 * rescaleS, `${mmq.computeS - base.computeS} vs ${expected}`);
  // The scale divides the matrix-unit part only: the int8 main loop at 0.49 of its efficiency.
  const scaled = costKernel([down], ctxFor(t4, { blockRescaleGemm: true, quantizedGemmComputeScale: 0.49 }));
  assert.ok(Math.abs(scaled.computeS - mmq.computeS - int8S * (1 / 0.49 - 1)) < 1e-9 * int8S, `${scaled.computeS - mmq.computeS} vs ${int8S * (1 / 0.49 - 1)}`);
  // A device without int8 matrix units (the V100) reads the weights through a 16-bit buffer instead, as llama.cpp
  // sends such prompts to cuBLAS there: the same kernel as dequantizeToBuffer.
  const v100 = getDevice('v100');
  const v = costKernel([down], ctxFor(v100, { blockRescaleGemm: true, quantizedGemmComputeScale: 0.49 }));
  assert.equal(v.peakDtype, 'fp16');
  assert.ok((v.dequantPassS ?? 0) > 0);
  assert.equal(v.timeS, costKernel([down], ctxFor(v100, { dequantizeToBuffer: true })).timeS);
  // Decode at batch 1 (a mat-vec kernel), a 16-bit GEMM, and the buffered path are untouched.
  const dec = buildGraph(llama7b, w4, 'decode', 512).ops.find((o) => o.name === 'mlp_down')!;
  assert.equal(costKernel([dec], ctxFor(t4, { blockRescaleGemm: true, quantizedGemmComputeScale: 0.5 })).timeS, costKernel([dec], ctxFor(t4)).timeS);
  const f16 = buildGraph(llama7b, W(512), 'prefill', 512).ops.find((o) => o.name === 'mlp_down')!;
  assert.equal(costKernel([f16], ctxFor(t4, { blockRescaleGemm: true, quantizedGemmComputeScale: 0.5 })).timeS, costKernel([f16], ctxFor(t4)).timeS);
  const buffered = { dequantizeToBuffer: true };
  assert.equal(costKernel([down], ctxFor(t4, { ...buffered, blockRescaleGemm: true, quantizedGemmComputeScale: 0.5 })).timeS, costKernel([down], ctxFor(t4, buffered)).timeS);
  assert.throws(() => costParamsFor(t4, { quantizedGemmComputeScale: 0 }), /quantizedGemmComputeScale: expected a fraction in \(0, 1\]/);
  assert.throws(() => costParamsFor(t4, { blockRescaleGemm: 'yes' as unknown as boolean }), /blockRescaleGemm: expected true or false/);
});

test('cost parameters: chunk size, matrix-unit scale and score bytes are checked', () => {
  assert.throws(() => costParamsFor(a100, { prefillChunkTokens: -1 }), /prefillChunkTokens: expected an integer from 0 to 1000000000/);
  assert.throws(() => costParamsFor(a100, { prefillChunkTokens: 1.5 }), /prefillChunkTokens/);
  assert.throws(() => costParamsFor(a100, { matrixUnitComputeScale: 1.2 }), /matrixUnitComputeScale: expected a fraction in \(0, 1\]/);
  assert.throws(() => costParamsFor(a100, { scoreBytesPerElement: 0 }), /scoreBytesPerElement/);
  assert.throws(() => costParamsFor(a100, { prefillChunkTokens: 2 ** 30 }), /prefillChunkTokens: expected an integer from 0 to 1000000000/);
  assert.throws(() => costParamsFor(a100, { fp16AccumulateGemm: 'false' as unknown as boolean }), /fp16AccumulateGemm: expected true or false/);
  assert.throws(() => costParamsFor(a100, { dequantizeToBuffer: 1 as unknown as boolean }), /dequantizeToBuffer: expected true or false/);
  const d = defaultCostParams();
  assert.equal(d.prefillChunkTokens, 0);
  assert.equal(d.fp16AccumulateGemm, false);
  assert.equal(d.matrixUnitComputeScale, 1);
  assert.equal(d.dequantizeToBuffer, false);
});

test('llama.cpp profile: 512-token micro-batches, fp32 scores, fp16 accumulation, 0.72 tensor-core GEMM efficiency', () => {
  assert.deepEqual(servingEngine('llama.cpp').params, { prefillChunkTokens: 512, scoreBytesPerElement: 4, fp16AccumulateGemm: true, matrixUnitComputeScale: 0.72, blockRescaleGemm: true, quantizedGemmComputeScale: 0.49 });
  const r3090 = getDevice('rtx-3090');
  const r = analyze(llama3, W(4096), r3090, { servingEngine: 'llama.cpp', sweeps: false });
  assert.equal(r.costModel.prefillChunkTokens, 512);
  assert.equal(r.costModel.fp16AccumulateGemm, true);
  assert.equal(r.costModel.matrixUnitComputeScale, 0.72);
  assert.equal(r.costModel.blockRescaleGemm, true);
  assert.equal(r.costModel.quantizedGemmComputeScale, 0.49);
  // GPT-2 in fp32 on the same card: its GEMMs run on the CUDA cores, so neither tensor-core setting priced anything.
  const g2 = analyze(loadConfigFile(join(__dirname, '../../samples/gpt2.json')), { ...W(512), weights: 'fp32', activations: 'fp32', kv: 'fp32' }, r3090, { servingEngine: 'llama.cpp', sweeps: false });
  assert.deepEqual([g2.costModel.fp16AccumulateGemm, g2.costModel.matrixUnitComputeScale], [false, 1]);
  // The Markdown cost line names the MMQ pricing where the prompt GEMMs are quantized and not buffered.
  const q = analyze(llama7b, W(512, { weights: 'int4-g32' }), getDevice('t4'), { servingEngine: 'llama.cpp', sweeps: false });
  assert.match(renderAnalysisMarkdown(q), /quantized prompt GEMMs multiply 32-wide blocks as integers and rescale each block \(MMQ\); quantized prompt GEMMs at 0\.49 of their compute efficiency/);
  // On the V100 (no int8 tensor cores) the profile takes llama.cpp's cuBLAS path, and the analysis says so.
  const buffered = analyze(llama7b, W(512, { weights: 'int4-g32' }), getDevice('v100'), { servingEngine: 'llama.cpp', sweeps: false });
  assert.equal(buffered.costModel.dequantizeToBuffer, true);
  assert.equal(buffered.costModel.blockRescaleGemm, false);
  assert.match(renderAnalysisMarkdown(buffered), /quantized prompt GEMMs dequantize to a 16-bit buffer first/);
  assert.doesNotMatch(renderAnalysisMarkdown(buffered), /MMQ|quantized prompt GEMMs at/);
  assert.ok(buffered.ops.some((o) => o.phase === 'prefill' && (o.dequantPassS ?? 0) > 0));
  // On a device without matrix units (the M2 Ultra) none of the tensor-core settings prices anything, and the
  // analysis does not claim them: the same GEMM times as without them, and no buffer pass.
  const m2 = getDevice('apple-m2-ultra');
  const metal = analyze(llama7b, W(512, { weights: 'int4-g32' }), m2, { servingEngine: 'llama.cpp', sweeps: false });
  const bare = analyze(llama7b, W(512, { weights: 'int4-g32' }), m2, { sweeps: false, params: { prefillChunkTokens: 512, scoreBytesPerElement: 4 } });
  assert.equal(metal.prefill.timeS, bare.prefill.timeS);
  assert.deepEqual(
    [metal.costModel.fp16AccumulateGemm, metal.costModel.matrixUnitComputeScale, metal.costModel.dequantizeToBuffer, metal.costModel.blockRescaleGemm, metal.costModel.quantizedGemmComputeScale],
    [false, 1, false, false, 1],
  );
  assert.doesNotMatch(renderAnalysisMarkdown(metal), /tensor-core|MMQ|16-bit buffer|accumulate in fp16|quantized prompt GEMMs at/);
  // MFU and the ridge are taken against the rate the GEMMs run at: 142 TFLOPS, so MFU stays a fraction.
  assert.equal(r.hardware.peakFlopsPerS, 142e12);
  assert.equal(analyze(llama3, W(4096), r3090, { sweeps: false }).hardware.peakFlopsPerS, 71e12);
  assert.ok(r.prefill.mfu > 0.3 && r.prefill.mfu < 0.72 * 0.72, `${r.prefill.mfu}`);
  // Eight chunks, each a forward pass: eight times the host work.
  assert.ok(Math.abs(r.ops.find((o) => o.phase === 'prefill' && o.name === 'host_overhead')!.timeS - 8 * 7e-4) < 1e-15);
  // A compute-bound prompt GEMM on the 3090: fp16 accumulation doubles the peak, the scale takes 0.72 of the
  // efficiency: 142 x 0.72 x 0.72 against 71 x 0.72 TFLOPS, 1.44x faster per chunk.
  const plain = analyze(llama3, W(4096), r3090, { sweeps: false, params: { prefillChunkTokens: 512 } });
  const up = (x: typeof r) => x.ops.find((o) => o.phase === 'prefill' && o.name === 'mlp_up')!;
  assert.equal(up(r).bound, 'compute');
  assert.ok(Math.abs(up(plain).computeS / up(r).computeS - 2 * 0.72) < 1e-9, `${up(plain).computeS / up(r).computeS}`);
  // Unfused (its builds before fused attention): 4-byte scores, 2x the score traffic of 16-bit ones.
  const unf = analyze(llama3, W(512), r3090, { servingEngine: 'llama.cpp', sweeps: false, params: { fusedAttention: false } });
  const unf2 = analyze(llama3, W(512), r3090, { servingEngine: 'llama.cpp', sweeps: false, params: { fusedAttention: false, scoreBytesPerElement: 2 } });
  // 4 passes x 32 heads x 512 x 512 scores x 32 layers, 2 more bytes each.
  const scoreDelta = 4 * 32 * 512 * 512 * 32 * 2;
  assert.ok(Math.abs(unf.prefill.bytes - unf2.prefill.bytes - scoreDelta) < 1e-9 * scoreDelta);
});

test('cli: analyze --prefill-chunk; the markdown report states the chunking; bad values exit 2', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const j = run('analyze', join(samples, 'llama-2-7b.json'), '--prompt', '2048', '--prefill-chunk', '512', '--format', 'json');
  assert.equal(j.status, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout).costModel.prefillChunkTokens, 512);
  const md = run('analyze', join(samples, 'llama-2-7b.json'), '--engine', 'llama.cpp', '--format', 'markdown');
  // On the H100 fp16 accumulation runs at the listed fp16 rate: it changes nothing there, and the line does not claim it.
  assert.match(md.stdout, /attention fused \(FlashAttention\); prefill in chunks of 512 tokens; tensor-core GEMM and attention kernels at 0\.72 of their compute efficiency/);
  // 0 overrides the profile: one pass.
  const zero = run('analyze', join(samples, 'llama-2-7b.json'), '--engine', 'llama.cpp', '--prefill-chunk', '0', '--format', 'json');
  assert.equal(JSON.parse(zero.stdout).costModel.prefillChunkTokens, 0);
  const bad = run('analyze', join(samples, 'llama-2-7b.json'), '--prefill-chunk', '-5');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--prefill-chunk: expected an integer from 0 to 16777216/);
});

test('chunked prefill of a latent-attention model: later chunks read and decompress the cached latents', () => {
  // DeepSeek-V2-Lite (MLA): the first chunk has no cached prefix, the others read it (kv_cache_read) and
  // decompress it with kv_b_proj; the rows keep every kernel once, and sum to the phase time.
  const ds = loadConfigFile(join(samples, 'deepseek-v2-lite.json'));
  const h100 = getDevice('h100-sxm');
  const w: Workload = { batch: 1, promptTokens: 2048, generateTokens: 1, weights: 'bf16', activations: 'bf16', kv: 'bf16', tp: 1 };
  const one = analyze(ds, w, h100, { sweeps: false });
  const four = analyze(ds, w, h100, { sweeps: false, params: { prefillChunkTokens: 512 } });
  const names = (r: typeof one) => r.ops.filter((o) => o.phase === 'prefill').map((o) => o.name);
  assert.ok(!names(one).includes('kv_cache_read'));
  assert.ok(names(four).includes('kv_cache_read'));
  assert.equal(new Set(names(four).filter((n) => n === 'kv_cache_read')).size, 1);
  // kv_b_proj decompresses 512 new rows per chunk plus the 0, 512, 1024 and 1536 cached ones: 5120 rows against 2048.
  const kvb = (r: typeof one) => r.ops.find((o) => o.phase === 'prefill' && o.name === 'kv_b_proj')!.flops;
  assert.ok(Math.abs(kvb(four) / kvb(one) - 5120 / 2048) < 1e-9, `${kvb(four) / kvb(one)}`);
  const sum = four.ops.filter((o) => o.phase === 'prefill').reduce((s, o) => s + o.timeS, 0);
  assert.ok(Math.abs(sum - four.prefill.timeS) < 1e-12 * sum);
});

test('chunked prefill over a batch: the chunk counts every sequence\'s tokens; the memory plan sizes activations by it', () => {
  // llama.cpp's n_ubatch and vLLM's max_num_batched_tokens count the tokens of the whole batch: 4 sequences of 1024
  // tokens in chunks of 512 advance 128 tokens each per pass, 8 passes.
  assert.equal(chunkTokensPerSequence(512, 4), 128);
  assert.equal(chunkTokensPerSequence(512, 1000), 1);
  assert.equal(chunkTokensPerSequence(0, 4), 0);
  const w: Workload = { ...W(1024), batch: 4 };
  const r = analyze(llama7b, w, a100, { sweeps: false, params: { prefillChunkTokens: 512 } });
  assert.ok(Math.abs(r.ops.find((o) => o.phase === 'prefill' && o.name === 'host_overhead')!.timeS - 8 * 7e-4) < 1e-15);
  const one = analyze(llama7b, w, a100, { sweeps: false });
  assert.equal(r.prefill.flops, one.prefill.flops);
  // The largest forward pass is then 512 tokens, not the memory plan's default 8192-token chunk (here the whole
  // 4096-token prefill): its activations shrink to what 512 tokens need.
  assert.equal(r.memory.activationsBytes, planMemory(llama7b, w, a100, { prefillChunkTokens: 512 }).activationsBytes);
  assert.equal(one.memory.activationsBytes, planMemory(llama7b, w, a100).activationsBytes);
  assert.ok(r.memory.activationsBytes < one.memory.activationsBytes);
  // Memory options still win.
  const own = analyze(llama7b, w, a100, { sweeps: false, params: { prefillChunkTokens: 512 }, memory: { prefillChunkTokens: 2048 } });
  assert.equal(own.memory.activationsBytes, planMemory(llama7b, w, a100, { prefillChunkTokens: 2048 }).activationsBytes);
});

test('prefix cache: only the uncached rest of the prompt is computed, after the cached prefix; decode and the KV cache hold the whole prompt', () => {
  const w = W(2048, { generateTokens: 64 });
  const full = analyze(llama7b, w, a100, { sweeps: false });
  const hit = analyze(llama7b, { ...w, cachedPromptTokens: 1536 }, a100, { sweeps: false });
  assert.equal(hit.workload.cachedPromptTokens, 1536);
  const prefillOp = (r: typeof full, name: string) => r.ops.find((o) => o.phase === 'prefill' && o.name === name)!;
  // GEMM rows: 512 of 2048 tokens. Attention: 512 new queries after 1536 cached keys see 512 x 1536 + 512 x 513 / 2
  // = 917,760 (query, key) pairs, against 2048 x 2049 / 2 = 2,098,176 for the whole prompt.
  for (const name of ['q_proj', 'o_proj', 'mlp_up', 'mlp_down']) {
    assert.ok(Math.abs(prefillOp(hit, name).flops / prefillOp(full, name).flops - 512 / 2048) < 1e-12, name);
  }
  const attn = (r: typeof full) => r.ops.filter((o) => o.phase === 'prefill' && o.opClass === 'attention').reduce((s, o) => s + o.flops, 0);
  assert.ok(Math.abs(attn(hit) / attn(full) - 917760 / 2098176) < 1e-9, `${attn(hit) / attn(full)}`);
  assert.ok(hit.prefill.timeS < full.prefill.timeS / 3, `${hit.prefill.timeS} ${full.prefill.timeS}`);
  // Decode, the KV cache and the decode part of end to end are unchanged.
  assert.equal(hit.decode.timeS, full.decode.timeS);
  assert.equal(hit.memory.kvCacheBytes, full.memory.kvCacheBytes);
  assert.ok(Math.abs(hit.e2e.timeS - hit.prefill.timeS - (full.e2e.timeS - full.prefill.timeS)) < 1e-12);
  // Energy per prompt token is over the 512 tokens computed.
  assert.ok(Math.abs(hit.prefill.energyJPerTokenEstimate! - (a100.tdpWatts! * hit.prefill.timeS) / 512) < 1e-12);
  // With chunking, the chunks cover the uncached rest only: 512 tokens in chunks of 256, after 1536 and 1792.
  const chunked = analyze(llama7b, { ...w, cachedPromptTokens: 1536 }, a100, { sweeps: false, params: { prefillChunkTokens: 256 } });
  assert.equal(chunked.prefill.flops, hit.prefill.flops);
  assert.ok(Math.abs(chunked.ops.find((o) => o.phase === 'prefill' && o.name === 'host_overhead')!.timeS - 2 * 7e-4) < 1e-15);
  // A zero-token hit is the plain workload.
  assert.equal(analyze(llama7b, { ...w, cachedPromptTokens: 0 }, a100, { sweeps: false }).prefill.timeS, full.prefill.timeS);
});

test('prefix cache: a hit of the whole prompt, a negative or a fractional one is refused with the range', () => {
  for (const bad of [2048, 4096, -1, 1.5]) {
    assert.throws(
      () => analyze(llama7b, W(2048, { cachedPromptTokens: bad }), a100, { sweeps: false }),
      (e: Error & { exitCode?: number }) => e.exitCode === 2 && /^--cached-prompt: expected an integer from 0 to 2047: fewer than the 2048 prompt tokens \(the last one is always computed\)/.test(e.message),
      String(bad),
    );
  }
});

test('cli: analyze --cached-prompt; the report names the hit; bad values exit 2', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const cfg = join(samples, 'llama-2-7b.json');
  const j = run('analyze', cfg, '--prompt', '2048', '--cached-prompt', '1536', '--format', 'json');
  assert.equal(j.status, 0, j.stderr);
  const r = JSON.parse(j.stdout);
  assert.equal(r.workload.cachedPromptTokens, 1536);
  const plain = JSON.parse(run('analyze', cfg, '--prompt', '2048', '--format', 'json').stdout);
  assert.equal(plain.workload.cachedPromptTokens, undefined);
  assert.ok(r.prefill.timeS < plain.prefill.timeS);
  const table = run('analyze', cfg, '--prompt', '2048', '--cached-prompt', '1536');
  assert.match(table.stdout, /batch 1, prompt 2048 \(1536 from the prefix cache\), generate 256/);
  const bad = run('analyze', cfg, '--prompt', '128', '--cached-prompt', '128');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), 'ridgeline: --cached-prompt: expected an integer from 0 to 127: fewer than the 128 prompt tokens (the last one is always computed) (got 128)');
  assert.equal(run('analyze', cfg, '--cached-prompt', 'x').status, 2);
});
