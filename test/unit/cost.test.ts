import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildGraph, defaultWorkload, loadConfigFile } from '../../engine/model/index';
import type { Op, Workload } from '../../engine/model/types';
import type { Device } from '../../engine/hardware/types';
import { getDevice } from '../../engine/hardware/index';
import { costParamsFor, defaultCostParams, type CostParams } from '../../engine/cost/params';
import { costKernel, costOps, expectedPaddedRows, kernels, paddedM, peakFor, type CostContext } from '../../engine/cost/roofline';
import { DecodeGraphs } from '../../engine/cost/decode';
import { analyze, resolveFormats } from '../../engine/analyze';

const samples = join(__dirname, '../../samples');
const llama7b = loadConfigFile(join(samples, 'llama-2-7b.json'));
const llama70b = loadConfigFile(join(samples, 'llama-2-70b.json'));

function ctxFor(device: Device, params: Partial<CostParams> = {}, tp = 1): CostContext {
  return { device, params: costParamsFor(device, params), tp, linkBytesPerS: device.interconnect?.bandwidthBytesPerS ?? 32e9, notes: new Set() };
}

/** A GEMM op (per layer view == total, one layer). */
function gemmOp(m: number, n: number, k: number, dtype: Op['computeDtype'] = 'fp16', bytesPer = 2): Op {
  return {
    name: 'gemm', phase: 'prefill', layers: 1, opClass: 'gemm', computeDtype: dtype, shape: { m, n, k }, count: 1, launches: 1,
    flops: 2 * m * n * k,
    bytes: { weights: n * k * bytesPer, actIn: m * k * 2, actOut: m * n * 2, kvRead: 0, kvWrite: 0 },
  };
}

const IDEAL: Partial<CostParams> = {
  efficiency: { gemm: { compute: 1, memory: 1 }, attention: { compute: 1, memory: 1 }, elementwise: { compute: 1, memory: 1 }, norm: { compute: 1, memory: 1 }, comm: { compute: 1, memory: 1 } },
  launchOverheadS: 0,
  forwardOverheadS: 0,
  overlap: 0,
  gemmTileM: [1],
};

test('FlashAttention-2 figure: 225 TFLOP/s on A100 = 72% of the 312 TFLOP/s dense fp16 peak', () => {
  // The default large-GEMM efficiency is that 72%: a square 8192^3 fp16 GEMM (intensity ~2730 FLOP/B, far right
  // of the ridge at 153) should run at 0.72 x 312 = 224.6 TFLOP/s. The overlap term adds 0.2^2 / 4.9 ms = 8 us
  // to 4.9 ms of compute (~0.2%): stated tolerance 3%.
  const c = costKernel([gemmOp(8192, 8192, 8192)], ctxFor(getDevice('a100-80gb')));
  assert.equal(c.bound, 'compute');
  const achieved = c.flops / c.timeS;
  assert.ok(Math.abs(achieved - 225e12) / 225e12 < 0.03, `achieved ${achieved / 1e12} TFLOP/s`);
  assert.ok(Math.abs(achieved / 312e12 - 0.72) < 0.03);
});

test('imperfect overlap: time = max + overlap x min^2 / max, largest at the ridge, vanishing away from it', () => {
  const a100 = getDevice('a100-80gb');
  const ideal = { ...IDEAL, overlap: 1 };
  // Ideal efficiencies, fp16 on A100: ridge at 312e12 / 2.039e12 = 153 FLOP/B. A GEMM's intensity is about
  // m x n x k / (n x k + m x k + m x n) FLOP/B in 2-byte elements; n = k = 8192.
  for (const m of [8, 64, 150, 160, 512, 4096]) {
    const c = costKernel([gemmOp(m, 8192, 8192)], ctxFor(a100, ideal));
    const hi = Math.max(c.computeS, c.memoryS);
    const lo = Math.min(c.computeS, c.memoryS);
    assert.ok(Math.abs(c.timeS - (hi + (lo * lo) / hi)) <= 1e-12 * c.timeS, `m ${m}`);
  }
  // m = 160: intensity 154 FLOP/B, at the ridge: compute and memory within 2%, time ~ 2 x either.
  const ridge = costKernel([gemmOp(160, 8192, 8192)], ctxFor(a100, ideal));
  assert.ok(Math.abs(ridge.computeS / ridge.memoryS - 1) < 0.02);
  assert.ok(ridge.timeS / Math.max(ridge.computeS, ridge.memoryS) > 1.96);
  // Far from the ridge (m = 8: memory 19x compute) the penalty is under 0.3%.
  const flat = costKernel([gemmOp(8, 8192, 8192)], ctxFor(a100, ideal));
  assert.ok(flat.timeS / flat.memoryS < 1.003);
  // overlap 0 is the plain roofline max.
  const plain = costKernel([gemmOp(160, 8192, 8192)], ctxFor(a100, IDEAL));
  assert.equal(plain.timeS, Math.max(plain.computeS, plain.memoryS));
});

test('peak follows the dtype the op computes in, with a stated fallback', () => {
  const a100 = getDevice('a100-80gb');
  assert.deepEqual(peakFor(a100, 'fp16'), { dtype: 'fp16', flopsPerS: 312e12 });
  const fp8 = peakFor(a100, 'fp8');
  assert.equal(fp8.dtype, 'fp16');
  assert.match(fp8.note ?? '', /no native fp8.*fp16 peak/);
  assert.equal(peakFor(getDevice('h100-sxm'), 'fp8').flopsPerS, 1978.9e12);
  assert.equal(peakFor(getDevice('h100-sxm'), 'int4').dtype, 'int8');
  assert.equal(peakFor(getDevice('a100-80gb'), 'int8').flopsPerS, 624e12);
  // Weight-only int4 (W4A16) dequantizes to fp16: its GEMMs compute in fp16 and get the fp16 peak.
  const w4: Workload = defaultWorkload(llama7b, { weights: 'int4-g128', activations: 'fp16', kv: 'fp16' });
  const g = buildGraph(llama7b, w4, 'prefill', 512);
  for (const op of g.ops.filter((o) => o.opClass === 'gemm')) assert.equal(op.computeDtype, 'fp16', op.name);
  // W8A8 (fp8 weights and activations) computes in fp8.
  const w8 = buildGraph(llama7b, defaultWorkload(llama7b, { weights: 'fp8', activations: 'fp8', kv: 'fp8' }), 'prefill', 512);
  assert.equal(w8.ops.find((o) => o.name === 'q_proj')!.computeDtype, 'fp8');
  // fp8 on A100 runs at the fp16 peak and analyze says so.
  const r = analyze(llama7b, defaultWorkload(llama7b, { weights: 'fp8', activations: 'fp8', kv: 'fp8', promptTokens: 256, generateTokens: 8 }), a100, { sweeps: false });
  assert.ok(r.warnings.some((w) => /no native fp8/.test(w)));
  assert.ok(r.ops.filter((o) => o.computeDtype === 'fp8').every((o) => o.peakDtype === 'fp16'));
});

test('flat-GEMM tile padding (paddedM with a given tile list): m pads to the smallest tile that covers it, then to multiples of the largest', () => {
  assert.equal(paddedM(1, [16, 32, 64, 128]), 16);
  assert.equal(paddedM(17, [16, 32, 64, 128]), 32);
  assert.equal(paddedM(65, [16, 32, 64, 128]), 128);
  assert.equal(paddedM(129, [16, 32, 64, 128]), 256);
  assert.equal(paddedM(4096, [16, 32, 64, 128]), 4096);
  // A decode GEMM at batch 8 pays for 16 rows: compute time doubles against unpadded (FlashDecoding++:
  // padding flat GEMMs wastes >50% of the work).
  const h100 = getDevice('h100-sxm');
  const padded = costKernel([gemmOp(8, 4096, 4096)], ctxFor(h100));
  const unpadded = costKernel([gemmOp(8, 4096, 4096)], ctxFor(h100, { gemmTileM: [1] }));
  assert.ok(Math.abs(padded.computeS / unpadded.computeS - 2) < 1e-12);
  // Reported FLOPs stay the real ones.
  assert.equal(padded.flops, 2 * 8 * 4096 * 4096);
  // SIMD GPUs without matrix units (Apple, a measured WebGPU device) and fp32 GEMMs do not pad.
  const m2 = getDevice('apple-m2-ultra');
  assert.equal(costKernel([gemmOp(8, 4096, 4096)], ctxFor(m2)).computeS, costKernel([gemmOp(8, 4096, 4096)], ctxFor(m2, { gemmTileM: [1] })).computeS);
  const f32 = costKernel([gemmOp(8, 4096, 4096, 'fp32', 4)], ctxFor(h100));
  assert.equal(f32.computeS, costKernel([gemmOp(8, 4096, 4096, 'fp32', 4)], ctxFor(h100, { gemmTileM: [1] })).computeS);
});

test('a one-row GEMM is a matrix-vector product: no tile padding by default; two rows pad to 16', () => {
  const h100 = getDevice('h100-sxm');
  const p = costParamsFor(h100);
  assert.deepEqual(p.gemmTileM, [1, 16]);
  assert.equal(paddedM(1, p.gemmTileM), 1);
  assert.equal(paddedM(2, p.gemmTileM), 16);
  const unpadded = { ...p, gemmTileM: [1] };
  const one = costKernel([gemmOp(1, 4096, 4096)], ctxFor(h100));
  assert.equal(one.computeS, costKernel([gemmOp(1, 4096, 4096)], ctxFor(h100, unpadded)).computeS);
  const two = costKernel([gemmOp(2, 4096, 4096)], ctxFor(h100));
  assert.ok(Math.abs(two.computeS / costKernel([gemmOp(2, 4096, 4096)], ctxFor(h100, unpadded)).computeS - 8) < 1e-12);
  // Batch-1 decode of an int4 model on an RTX 3090: with the one-row GEMMs padded to 16, the padded tensor work
  // (16 x 2 FLOPs per weight at 71 TFLOPS) nears the 0.625 bytes per weight read at 936 GB/s and the step slows.
  const spec = loadConfigFile(join(samples, 'llama-2-7b.json'));
  const w = defaultWorkload(spec, { promptTokens: 1, generateTokens: 128, weights: 'int4-g32', activations: 'fp16', kv: 'fp16' });
  const rtx = getDevice('rtx-3090');
  const gemv = analyze(spec, w, rtx, { sweeps: false }).decode.timeS;
  const padded16 = analyze(spec, w, rtx, { sweeps: false, params: { gemmTileM: [16, 32, 64, 128] } }).decode.timeS;
  assert.ok(padded16 / gemv > 1.4, `${padded16 / gemv}`);
});

test('routed-expert GEMMs (MoE) compute at moeGemmComputeScale of the dense GEMM efficiency; memory unchanged', () => {
  const h100 = getDevice('h100-sxm');
  const dense = gemmOp(512, 2 * 14336, 4096);
  // One expert taking every token: the same 512 rows and padding as the dense GEMM.
  const expert: Op = { ...dense, name: 'expert_gate_up', routing: { experts: 1, topK: 1, tokens: 512 } };
  const d = costKernel([dense], ctxFor(h100));
  const e = costKernel([expert], ctxFor(h100));
  // Default 0.65 (engine/cost/defaults.json): compute 1 / 0.65 = 1.54x the dense time, same bytes and memory time.
  assert.equal(defaultCostParams().moeGemmComputeScale, 0.65);
  assert.ok(Math.abs(e.computeS / d.computeS - 1 / 0.65) < 1e-12);
  assert.equal(e.memoryS, d.memoryS);
  // Scale 1 is the dense GEMM.
  assert.equal(costKernel([expert], ctxFor(h100, { moeGemmComputeScale: 1 })).computeS, d.computeS);
  // The graph marks the routed-expert GEMMs only: not the router, not Qwen2-MoE's shared expert (dense GEMMs).
  const qwen = loadConfigFile(join(samples, 'qwen1.5-moe-a2.7b.json'));
  const marked = buildGraph(qwen, defaultWorkload(qwen), 'prefill', 256).ops.filter((o) => o.routing).map((o) => o.name);
  assert.deepEqual([...new Set(marked)], ['expert_gate_up', 'expert_down']);
  // The analysis says which factor it used.
  const mixtral = loadConfigFile(join(samples, 'mixtral-8x7b.json'));
  assert.equal(analyze(mixtral, defaultWorkload(mixtral, { tp: 2 }), h100, { sweeps: false }).costModel.moeGemmComputeScale, 0.65);
  // Out of (0, 1]: an input error naming the field.
  for (const bad of [0, 1.5, Number.NaN]) {
    assert.throws(() => costParamsFor(h100, { moeGemmComputeScale: bad }), (err: Error) => err.message.includes('moeGemmComputeScale'));
  }
});

test('routed experts pad the rows each expert really gets: Binomial(tokens, topK / experts), not the mean', () => {
  const tiles = [16, 32, 64, 128];
  // Worked by hand. 2 tokens, top-1 of 2: an expert gets 0, 1 or 2 rows with probability 1/4, 1/2, 1/4; 1 and 2
  // rows pad to 16, so each expert computes 3/4 x 16 = 12 rows: 24 in all.
  assert.ok(Math.abs(expectedPaddedRows(2, 1, 2, tiles) - 24) < 1e-12);
  // 4 tokens, top-2 of 8: every touched expert pads to 16, so 16 x the experts touched, 8 x (1 - 0.75^4) = 5.46875.
  assert.ok(Math.abs(expectedPaddedRows(8, 2, 4, tiles) - 87.5) < 1e-9);
  // Against the pmf summed over every count from 0 to tokens (a direct sum, not the mode-outwards walk).
  const direct = (experts: number, topK: number, tokens: number): number => {
    const p = topK / experts;
    let logC = 0;
    let sum = 0;
    for (let x = 1; x <= tokens; x++) {
      logC += Math.log(tokens - x + 1) - Math.log(x);
      sum += Math.exp(logC + x * Math.log(p) + (tokens - x) * Math.log1p(-p)) * paddedM(x, tiles);
    }
    return experts * sum;
  };
  for (const [e, k, n] of [[8, 2, 128], [8, 2, 270], [60, 4, 33], [128, 8, 1000], [256, 8, 2048]] as const) {
    const want = direct(e, k, n);
    assert.ok(Math.abs(expectedPaddedRows(e, k, n, tiles) - want) <= 1e-9 * want, `${e} ${k} ${n}`);
  }
  // Mixtral's 128-token prefill: 32 rows per expert on average, but P(X > 32) = 0.46 for Binomial(128, 1/4), and
  // those experts pad to 64: 371.84 rows, not 8 x 32 = 256.
  assert.ok(Math.abs(expectedPaddedRows(8, 2, 128, tiles) - 371.8399) < 1e-3);
  // Many tiles past the largest: the remainders are uniform, the mean plus 63.5 rows per expert (within 1e-5 of the sum).
  const big = direct(8, 2, 30000);
  assert.equal(expectedPaddedRows(8, 2, 30000, tiles), 8 * (7500 + 63.5));
  assert.ok(Math.abs(big - 8 * 7563.5) < 1e-5 * big, `${big}`);
  // The graph carries the routing of the expert GEMMs, and the roofline pays for those rows: the expert GEMM of
  // Mixtral's 128-token prefill computes 371.84 / 256 of its real FLOPs.
  const mixtral = loadConfigFile(join(samples, 'mixtral-8x7b.json'));
  const op = buildGraph(mixtral, defaultWorkload(mixtral, { batch: 1, tp: 2 }), 'prefill', 128).ops.find((o) => o.name === 'expert_gate_up')!;
  assert.deepEqual(op.routing, { experts: 8, topK: 2, tokens: 128 });
  const h100 = getDevice('h100-sxm');
  // Expert factor 1 on both sides: the ratio is the padding alone.
  const routed = costKernel([op], ctxFor(h100, { ...IDEAL, gemmTileM: tiles, moeGemmComputeScale: 1 })).computeS;
  const plain = costKernel([{ ...op, routing: undefined }], ctxFor(h100, { ...IDEAL, gemmTileM: [1], moeGemmComputeScale: 1 })).computeS;
  assert.ok(Math.abs(routed / plain - 371.8399 / 256) < 1e-5, `${routed / plain}`);
});

test('fused attention keeps the score matrix on chip; unfused writes and reads it', () => {
  const a100 = getDevice('a100-80gb');
  const w = defaultWorkload(llama7b, { promptTokens: 2048 });
  const g = buildGraph(llama7b, w, 'prefill', 2048);
  const attn = kernels(g.ops).find((k) => k[0]!.name === 'attn_qk')!;
  assert.deepEqual(attn.map((o) => o.name), ['attn_qk', 'attn_softmax', 'attn_sv']);
  const fused = costKernel(attn, ctxFor(a100));
  const unfused = costKernel(attn, ctxFor(a100, { fusedAttention: false }));
  // Scores: 2048 x 2048 per head, 32 heads, 32 layers, fp16: 4 passes (QK^T write, softmax read + write, PV read).
  const s = 2048 * 2048 * 32 * 32 * 2;
  assert.equal(unfused.bytes - fused.bytes, 4 * s);
  assert.equal(unfused.launches - fused.launches, 2 * 32);
  assert.ok(unfused.timeS > fused.timeS);
  assert.equal(fused.name, 'flash_attention');
  // The unfused kernels compute the whole 2048 x 2048 square and mask it; the fused one only the causal pairs,
  // 2048 x 2049 / 2 per head: per head and layer 4 x 128 FLOPs (QK^T and PV) + 5 (softmax) per pair.
  const pairs = (2048 * 2049) / 2;
  assert.equal(fused.flops, 32 * 32 * pairs * (4 * 128 + 5));
  assert.equal(unfused.flops, 32 * 32 * 2048 * 2048 * (4 * 128 + 5));
  // A decode step's one query row has no masked half: the same FLOPs either way.
  const step = kernels(buildGraph(llama7b, w, 'decode', 2048).ops).find((k) => k[0]!.name === 'attn_qk')!;
  assert.equal(costKernel(step, ctxFor(a100, { fusedAttention: false })).flops, costKernel(step, ctxFor(a100)).flops);
});

test('decode attention without K/V sharing reads each K/V head once per query head of its group, 60% of the repeats from DRAM', () => {
  const h100 = getDevice('h100-sxm');
  // Llama-2-70B: 64 query heads, 8 K/V heads of 128, fp16 cache, 80 layers; batch 4 at 4096 cached tokens (+1 new).
  const w = defaultWorkload(llama70b, { batch: 4 });
  const attn70 = kernels(buildGraph(llama70b, w, 'decode', 4096).ops).find((k) => k[0]!.name === 'attn_qk')!;
  const grouped = costKernel(attn70, ctxFor(h100));
  const perHead = costKernel(attn70, ctxFor(h100, { groupedDecodeAttention: false }));
  const kvBytes = 4 * 4097 * 2 * 8 * 128 * 2 * 80; // batch x keys x (K and V) x kvHeads x headDim x 2 B x layers
  // Seven repeats per K/V head, 0.6 of them from DRAM (engine/cost/defaults.json kvReloadDramFraction): 4.2 more reads.
  assert.equal(defaultCostParams().kvReloadDramFraction, 0.6);
  assert.ok(Math.abs(perHead.bytes - grouped.bytes - 7 * 0.6 * kvBytes) <= 1e-6 * kvBytes);
  assert.ok(perHead.timeS > 4 * grouped.timeS);
  // Every repeat from DRAM: seven more reads; none: the grouped kernel's bytes.
  assert.equal(costKernel(attn70, ctxFor(h100, { groupedDecodeAttention: false, kvReloadDramFraction: 1 })).bytes - grouped.bytes, 7 * kvBytes);
  assert.equal(costKernel(attn70, ctxFor(h100, { groupedDecodeAttention: false, kvReloadDramFraction: 0 })).bytes, grouped.bytes);
  for (const bad of [-0.1, 1.5, Number.NaN]) {
    assert.throws(() => costParamsFor(h100, { kvReloadDramFraction: bad }), /kvReloadDramFraction: expected a fraction in \[0, 1\]/);
  }
  // Llama-2-7B has one K/V head per query head: nothing changes; nor does prefill, whose tiles share K/V.
  const w7 = defaultWorkload(llama7b, { batch: 4 });
  const attn7 = kernels(buildGraph(llama7b, w7, 'decode', 4096).ops).find((k) => k[0]!.name === 'attn_qk')!;
  assert.equal(costKernel(attn7, ctxFor(h100, { groupedDecodeAttention: false })).bytes, costKernel(attn7, ctxFor(h100)).bytes);
  const pre = kernels(buildGraph(llama70b, w, 'prefill', 1024).ops).find((k) => k[0]!.name === 'attn_qk')!;
  assert.equal(costKernel(pre, ctxFor(h100, { groupedDecodeAttention: false })).bytes, costKernel(pre, ctxFor(h100)).bytes);
});

test('invariant: more bandwidth never slows a memory-bound op', () => {
  const base = getDevice('a100-80gb');
  const ops = buildGraph(llama7b, defaultWorkload(llama7b), 'decode', 1024).ops;
  let prev: number[] | null = null;
  for (const f of [0.5, 1, 1.5, 2, 4, 8]) {
    const d = { ...base, memoryBandwidthBytesPerS: base.memoryBandwidthBytesPerS * f };
    const costs = costOps(ops, ctxFor(d));
    const times = costs.map((c) => c.timeS);
    if (prev) for (let i = 0; i < times.length; i++) if (costs[i]!.bound === 'memory') assert.ok(times[i]! <= prev[i]!, costs[i]!.name);
    prev = times;
  }
});

test('Llama-2-7B fp16 decode on A100-80GB, batch 1, 1k context: memory bound, ideal = bytes / bandwidth ~ 6.9 ms', () => {
  // Bytes per step: 6.74e9 params x 2 B = 13.48 GB of weights + 1024 tokens x 524,288 B of KV = 0.54 GB, ~14.0 GB;
  // 14.0e9 / 2.039e12 B/s = 6.87 ms. The lookup reads one embedding row, not the 262 MB table (32000 x 4096 x 2 B),
  // so the graph's bytes are 13.76 GB: 6.75 ms. Stated tolerance 3% around 6.9 ms.
  const w = defaultWorkload(llama7b, { promptTokens: 1024, generateTokens: 1 });
  const a100 = getDevice('a100-80gb');
  const ideal = analyze(llama7b, w, a100, { params: IDEAL, sweeps: false });
  assert.equal(ideal.decode.contextTokens, 1024);
  assert.equal(ideal.decode.bound, 'memory');
  const bytesOverBw = ideal.decode.bytes / a100.memoryBandwidthBytesPerS;
  assert.ok(Math.abs(bytesOverBw - 6.9e-3) / 6.9e-3 < 0.03, `bytes/bw ${bytesOverBw}`);
  // With ideal kernels the step is exactly the memory time (compute of a GEMV is ~1 FLOP/B, far below the ridge).
  assert.ok(Math.abs(ideal.decode.timeS - bytesOverBw) / bytesOverBw < 0.01);
  // Real kernels: slower than ideal by the bandwidth efficiency and the launches, still memory bound.
  const real = analyze(llama7b, w, a100, { sweeps: false });
  assert.equal(real.decode.bound, 'memory');
  assert.ok(real.decode.timeS > ideal.decode.timeS && real.decode.timeS < 1.6 * ideal.decode.timeS);
});

test('invariant: a larger batch never lowers decode throughput', () => {
  for (const [spec, device] of [[llama7b, 'a100-80gb'], [llama70b, 'h100-sxm']] as const) {
    const r = analyze(spec, defaultWorkload(spec, { tp: spec === llama70b ? 8 : 1 }), getDevice(device), { sweepBatches: [1, 2, 3, 4, 8, 16, 24, 32, 64, 100, 128, 256, 512, 1024, 2048] });
    const t = r.batchSweep.tokensPerS;
    for (let i = 1; i < t.length; i++) assert.ok(t[i]! >= t[i - 1]!, `batch ${r.batchSweep.batch[i]}: ${t[i]} < ${t[i - 1]}`);
  }
});

test('invariant at every batch: throughput rises over whole 16-row tiles, and one row past a tile costs at most its padding', () => {
  // Every batch from 1 to 1024, dense and MoE, one GPU and tensor-parallel, with and without an engine profile.
  // Over batches that fill whole tiles (1, 2, 4, 8 and multiples of 16) decode throughput never falls. A batch just
  // past a multiple of 16 pays for the padded rows of its new tile: its throughput may fall below the batch before
  // it, by no more than the share of the tile's rows it leaves empty (b / (16 x ceil(b / 16))). With whole 128-row
  // tiles past 64 rows, Llama-3-8B on an A100 fell 25.6% from batch 64 to 65, beyond the 18.75% that bound allows.
  const batches = Array.from({ length: 1024 }, (_, i) => i + 1);
  const cases = [
    ['llama-3-8b.json', 'a100-80gb', 1, undefined],
    ['llama-2-70b.json', 'h100-sxm', 4, undefined],
    ['mixtral-8x7b.json', 'h100-sxm', 2, undefined],
    ['llama-2-7b.json', 'h100-sxm', 1, 'vllm'],
    ['qwen2-7b.json', 'rtx-4090', 1, 'llama.cpp'],
    ['llama-3.1-405b.json', 'mi300x', 8, undefined],
  ] as const;
  for (const [file, device, tp, engine] of cases) {
    const spec = loadConfigFile(join(samples, file));
    const r = analyze(spec, defaultWorkload(spec, { tp }), getDevice(device), { sweepBatches: batches, servingEngine: engine });
    const b = r.batchSweep.batch;
    const t = r.batchSweep.tokensPerS;
    assert.equal(b.length, 1024, file);
    let lastWhole = 0;
    for (let i = 1; i < t.length; i++) {
      const bi = b[i]!;
      const bound = bi / (16 * Math.ceil(bi / 16));
      assert.ok(t[i]! >= t[i - 1]! * bound, `${file} ${device} batch ${bi}: ${t[i]} < ${t[i - 1]} x ${bound}`);
      if (bi <= 8 ? (bi & (bi - 1)) === 0 : bi % 16 === 0) {
        assert.ok(t[i]! >= t[lastWhole]!, `${file} ${device} batch ${bi}: ${t[i]} < ${t[lastWhole]} at batch ${b[lastWhole]}`);
        lastWhole = i;
      }
    }
  }
});

test("invariant without matrix units, dense models: decode throughput falls only where quantized weights are dequantized anew", () => {
  // Nothing pads on SIMD units and 16-bit weights never dip. Quantized weights are dequantized once per 32 rows
  // above 8 rows and once in all by the matrix-vector kernel up to 8: batch 9 and batches one past a multiple of
  // 32 may fall below the batch before, by at most 7% over the dense samples (README: 6.5% and 6.9%); whole tiles
  // (1, 2, 4, 8 and multiples of 32) never fall below the whole tile before them.
  const batches = Array.from({ length: 1024 }, (_, i) => i + 1);
  const cases = [
    ['mistral-7b-v0.1.json', 'cpu-generic', 1, 'int4-g128'],
    ['llama-2-70b.json', 'apple-m3-max', 2, 'int8'],
    ['llama-3-8b.json', 'apple-m2-ultra', 1, 'int4-g32'],
    ['falcon-180b.json', 'cpu-generic', 2, 'nf4'],
    ['llama-3-8b.json', 'apple-m2-ultra', 1, undefined],
  ] as const;
  for (const [file, device, tp, weights] of cases) {
    const spec = loadConfigFile(join(samples, file));
    const t = analyze(spec, defaultWorkload(spec, { tp, ...(weights ? { weights } : {}) }), getDevice(device), { sweepBatches: batches }).batchSweep.tokensPerS;
    let lastWhole = 0;
    for (let i = 1; i < t.length; i++) {
      const b = i + 1;
      const what = `${file} ${weights ?? 'bf16'} ${device} batch ${b}: ${t[i]} after ${t[i - 1]}`;
      if (weights && (b === 9 || b % 32 === 1)) assert.ok(t[i]! >= t[i - 1]! * 0.93, what);
      else assert.ok(t[i]! >= t[i - 1]!, what);
      if (b <= 8 ? (b & (b - 1)) === 0 : b % 32 === 0) {
        assert.ok(t[i]! >= t[lastWhole]!, `${what} (whole tile, batch ${lastWhole + 1} before)`);
        lastWhole = i;
      }
    }
  }
  // The dip is there: Mistral 7B int4-g128 on cpu-generic, batch 8 to 9 (4.4%, asserted in the README figures).
  const mistral = loadConfigFile(join(samples, 'mistral-7b-v0.1.json'));
  const t89 = analyze(mistral, defaultWorkload(mistral, { weights: 'int4-g128' }), getDevice('cpu-generic'), { sweepBatches: [8, 9] }).batchSweep.tokensPerS;
  assert.ok(t89[1]! < t89[0]!);
});

test('invariant: tensor parallelism never raises per-device weight bytes', () => {
  let prevGraph = Infinity;
  let prevMem = Infinity;
  for (const tp of [1, 2, 4, 8]) {
    const w = defaultWorkload(llama70b, { tp });
    const g = buildGraph(llama70b, w, 'decode', 1024);
    const wb = g.ops.reduce((s, o) => s + o.bytes.weights, 0);
    assert.ok(wb <= prevGraph, `tp ${tp}`);
    prevGraph = wb;
    const r = analyze(llama70b, w, getDevice('h100-sxm'), { sweeps: false });
    assert.ok(r.memory.weightsBytes <= prevMem);
    prevMem = r.memory.weightsBytes;
  }
});

test('tensor-parallel all-reduce: ring 2(N-1)/N x bytes over the link plus a latency per collective', () => {
  const h100 = getDevice('h100-sxm');
  const w = defaultWorkload(llama70b, { tp: 4, batch: 8 });
  const g = buildGraph(llama70b, w, 'decode', 1024);
  const ar = g.ops.filter((o) => o.opClass === 'comm');
  assert.equal(ar.length, 2); // attention and MLP all-reduce rows, 80 layers each
  const c = costKernel([ar[0]!], ctxFor(h100, {}, 4));
  const p = defaultCostParams();
  // 80 layers x 8 rows x 8192 hidden x 2 B = 10.5 MB; ring 2 x 3/4; link 450 GB/s x 0.8; 80 calls of
  // 12.8 us + 2 x 3 steps x 1.53 us = 21.98 us.
  const bytes = 80 * 8 * 8192 * 2;
  assert.equal(ar[0]!.bytes.actIn, bytes);
  const latencyS = p.allreduceLatencyS + 6 * p.allreduceStepLatencyS;
  assert.ok(Math.abs(latencyS - 21.98e-6) < 1e-15);
  const expected = (1.5 * bytes) / (450e9 * p.efficiency.comm.memory) + 80 * latencyS;
  assert.ok(Math.abs(c.timeS - expected) / expected < 1e-9);
  assert.equal(c.bound, 'comm');
  // 8-bit activations (fp8, W8A8) still all-reduce in 16 bits: the GEMM before it writes fp16/bf16 partial sums.
  const g8 = buildGraph(llama70b, defaultWorkload(llama70b, { tp: 4, batch: 8, weights: 'fp8', activations: 'fp8', kv: 'fp8' }), 'decode', 1024);
  assert.equal(g8.ops.find((o) => o.opClass === 'comm')!.bytes.actIn, bytes);
  // Over PCIe (L40S: PCIe Gen4 x16, 32 GB/s per direction) the ring reaches 55% of the link, not 80%.
  const l40s = getDevice('l40s');
  const r = analyze(llama70b, defaultWorkload(llama70b, { tp: 4, batch: 8, promptTokens: 1024, generateTokens: 2 }), l40s, { sweeps: false });
  const arPcie = r.ops.find((o) => o.phase === 'decode' && o.opClass === 'comm')!;
  const expectedPcie = (1.5 * bytes) / (32e9 * p.pcieCommEfficiency) + 80 * latencyS;
  assert.equal(p.pcieCommEfficiency, 0.55);
  assert.ok(Math.abs(arPcie.timeS - expectedPcie) / expectedPcie < 1e-9, `${arPcie.timeS} vs ${expectedPcie}`);
  // The same graph over NVLink (H100) uses the NVLink-class figure.
  const rNv = analyze(llama70b, defaultWorkload(llama70b, { tp: 4, batch: 8, promptTokens: 1024, generateTokens: 2 }), h100, { sweeps: false });
  const arNv = rNv.ops.find((o) => o.phase === 'decode' && o.opClass === 'comm')!;
  assert.ok(Math.abs(arNv.timeS - expected) / expected < 1e-9);
  // The JSON says which figure was used.
  assert.equal(r.costModel.interconnect!.allreduceEfficiency, 0.55);
  assert.equal(rNv.costModel.interconnect!.allreduceEfficiency, p.efficiency.comm.memory);
  // tp 1 has no all-reduce at all.
  assert.equal(buildGraph(llama70b, defaultWorkload(llama70b), 'decode', 1024).ops.filter((o) => o.opClass === 'comm').length, 0);
});

test('all-reduce latency grows with the GPU count: 2(N-1) steps per call', () => {
  const h100 = getDevice('h100-sxm');
  const w = defaultWorkload(llama70b, { tp: 4, batch: 8 });
  const ar = buildGraph(llama70b, w, 'decode', 1024).ops.filter((o) => o.opClass === 'comm');
  const flat = costKernel([ar[0]!], ctxFor(h100, { allreduceLatencyS: 8e-6, allreduceStepLatencyS: 0 }, 4));
  const ring = costKernel([ar[0]!], ctxFor(h100, {}, 4));
  // 80 calls (one per layer) of 12.8 us + 2 x 3 x 1.53 us = 21.98 us, against 80 x 8 us with a flat latency; the
  // bytes are the same.
  assert.ok(Math.abs(flat.overheadS - 80 * 8e-6) < 1e-15);
  assert.ok(Math.abs(ring.overheadS - 80 * 21.98e-6) < 1e-15, String(ring.overheadS));
  assert.equal(ring.memoryS, flat.memoryS);
  // The JSON reports the latency per call: 15.86, 21.98 and 34.22 us on 2, 4 and 8 GPUs, none at tp 1.
  const a100 = getDevice('a100-80gb');
  for (const [tp, us] of [[2, 15.86], [4, 21.98], [8, 34.22]] as const) {
    const r = analyze(llama70b, defaultWorkload(llama70b, { tp }), a100, { sweeps: false });
    assert.ok(Math.abs(r.costModel.interconnect!.allreduceLatencyS - us * 1e-6) < 1e-15, `tp ${tp}`);
  }
  assert.equal(analyze(llama7b, defaultWorkload(llama7b), a100, { sweeps: false }).costModel.interconnect!.allreduceLatencyS, 0);
  assert.throws(() => costParamsFor(h100, { allreduceStepLatencyS: -1e-6 }), /allreduceStepLatencyS/);
});

test('decode graphs reconstructed from three builds equal direct builds', () => {
  for (const [spec, tp] of [[llama7b, 1], [llama70b, 8]] as const) {
    const w = defaultWorkload(spec, { batch: 3, tp });
    const dg = new DecodeGraphs(spec, w, 700);
    assert.equal(dg.builds, 2); // the batch slopes come with the first other batch
    for (const [b, c] of [[1, 1], [3, 700], [17, 4095], [256, 123], [1000, 32000]] as const) {
      const direct = buildGraph(spec, { ...w, batch: b }, 'decode', c).ops;
      const got = dg.at(b, c);
      assert.equal(got.length, direct.length);
      for (let i = 0; i < got.length; i++) {
        const x = got[i]!;
        const y = direct[i]!;
        assert.equal(x.name, y.name);
        for (const [u, v] of [[x.flops, y.flops], [x.launches, y.launches], [x.shape.m, y.shape.m], [x.shape.n, y.shape.n], [x.count, y.count], ...Object.keys(y.bytes).map((k) => [x.bytes[k as keyof Op['bytes']], y.bytes[k as keyof Op['bytes']]])]) {
          assert.ok(Math.abs(u! - v!) <= 1e-9 * Math.max(1, Math.abs(v!)), `${x.name} b=${b} c=${c}: ${u} vs ${v}`);
        }
      }
    }
  }
});

test('a measured device replaces the default efficiencies and launch overhead', () => {
  const d: Device = { ...getDevice('rtx-4090'), id: 'this', measured: { adapter: 'test', dispatchOverheadS: 20e-6, efficiency: { gemm: 0.5, 'attention.memory': 0.6 }, dateIso: '2026-01-01' } };
  const p = costParamsFor(d);
  assert.equal(p.launchOverheadS, 20e-6);
  assert.deepEqual(p.efficiency.gemm, { compute: 0.5, memory: 0.5 });
  assert.equal(p.efficiency.attention.memory, 0.6);
  assert.equal(p.efficiency.attention.compute, defaultCostParams().efficiency.attention.compute);
  assert.match(p.origin, /measured on test/);
});

test('weight-only int4: decode faster, prefill not faster (dequantized per row tile on the vector units)', () => {
  const h100 = getDevice('h100-sxm');
  const spec = loadConfigFile(join(samples, 'llama-3.1-8b.json'));
  const run = (weights: string) => analyze(spec, defaultWorkload(spec, { batch: 1, promptTokens: 1024, generateTokens: 256, weights }), h100, { sweeps: false });
  const bf16 = run('bf16');
  const int4 = run('int4-g128');
  // Decode reads ~4.25/16 of the weight bytes: memory bound, so it gets faster.
  assert.ok(int4.decode.timeS < 0.7 * bf16.decode.timeS, `${int4.decode.timeS} vs ${bf16.decode.timeS}`);
  // Prefill at 1024 rows is compute bound; every weight is dequantized ceil(1024 / 64) = 16 times at 2 FLOPs
  // on the fp32 units: ~7.0e9 weights x 2 x 16 = 2.2e11 FLOPs / (67 TFLOP/s x 72%) ~ 4.6 ms on top of the GEMMs.
  assert.ok(int4.prefill.timeS >= bf16.prefill.timeS, `${int4.prefill.timeS} vs ${bf16.prefill.timeS}`);
  const mlpUp = (r: typeof bf16) => r.ops.find((o) => o.phase === 'prefill' && o.name === 'mlp_up')!;
  assert.ok(mlpUp(int4).timeS > mlpUp(bf16).timeS);
});

test('without matrix units the weight dequantization costs two more conversions per weight, once per 32 rows', () => {
  // A 512 x 4096 x 4096 GEMM of int4 weights (2 dequantization FLOPs per weight), ideal efficiencies.
  const n = 4096;
  const k = 4096;
  const dq = 2 * n * k;
  const op: Op = { ...gemmOp(512, n, k, 'fp16', 0.5), dequantFlops: dq };
  op.flops += dq;
  // M2 Ultra (no matrix units; fp16 at the fp32 rate, 27.2 TFLOP/s): llama.cpp's Metal prompt GEMM dequantizes
  // every weight once per 32 tokens (16 times for 512) at 2 + 4 FLOPs: 16 x 6 x 16.8M = 1.61 GFLOP on top of
  // the 17.2 GFLOP of the GEMM (+9.4%).
  const m2 = getDevice('apple-m2-ultra');
  const c = costKernel([op], ctxFor(m2, IDEAL));
  const gemmS = (2 * 512 * n * k) / 27.2e12;
  const dequantS = (16 * (dq + 4 * n * k)) / 27.2e12;
  assert.ok(Math.abs(c.computeS - (gemmS + dequantS)) <= 1e-12 * c.computeS);
  assert.ok(Math.abs(dequantS / gemmS - 6 / 64) < 1e-12);
  // Up to 8 rows llama.cpp runs matrix-vector kernels that dequantize each weight once, without the conversions.
  const dec: Op = { ...gemmOp(8, n, k, 'fp16', 0.5), dequantFlops: dq };
  dec.flops += dq;
  const cd = costKernel([dec], ctxFor(m2, IDEAL));
  assert.ok(Math.abs(cd.computeS - ((2 * 8 * n * k) / 27.2e12 + dq / 27.2e12)) <= 1e-12 * cd.computeS);
  // H100 (tensor cores): Marlin-style tiles of 64 rows, 2 FLOPs per weight on the fp32 units, no conversions.
  const h100 = getDevice('h100-sxm');
  const t = costKernel([op], ctxFor(h100, IDEAL));
  const fp32 = h100.peakFlopsPerS.fp32!;
  const fp16 = h100.peakFlopsPerS.fp16!;
  assert.ok(Math.abs(t.computeS - ((2 * 512 * n * k) / fp16 + (8 * dq) / fp32)) <= 1e-12 * t.computeS);
});

test('fp8 matmuls on a device without fp8 pay the conversion: compute-bound prefill is not faster than fp16', () => {
  const a100 = getDevice('a100-80gb');
  const run = (weights: string, activations: string) =>
    analyze(llama7b, defaultWorkload(llama7b, { batch: 8, promptTokens: 1024, generateTokens: 256, weights, activations }), a100, { sweeps: false });
  const fp16 = run('fp16', 'fp16');
  const fp8 = run('fp8', 'fp8');
  assert.equal(fp8.prefill.bound, 'compute');
  assert.ok(fp8.prefill.timeS >= fp16.prefill.timeS, `${fp8.prefill.timeS} vs ${fp16.prefill.timeS}`);
  assert.ok(fp8.decode.timeS < fp16.decode.timeS); // half the weight bytes still helps the memory-bound step
  assert.ok(fp8.warnings.some((w) => /no native fp8/.test(w)));
});

test('the largest batch the CLI accepts analyzes (the decode batch slope stays within the batch limit)', () => {
  const gpt2 = loadConfigFile(join(samples, 'gpt2.json'));
  const r = analyze(gpt2, defaultWorkload(gpt2, { batch: 1 << 20, promptTokens: 1, generateTokens: 1 }), getDevice('h100-sxm'));
  assert.ok(Number.isFinite(r.e2e.timeS) && r.e2e.timeS > 0);
  const r2 = analyze(gpt2, defaultWorkload(gpt2, { batch: 600_000, promptTokens: 1, generateTokens: 2 }), getDevice('h100-sxm'));
  assert.ok(r2.decode.timeS > 0);
});

test("tile padding: the README's figures (Batch and tiles; MoE)", () => {
  const drop = (file: string, device: string, from: number, to: number, extra: Partial<Workload> = {}) => {
    const spec = loadConfigFile(join(samples, file));
    const t = analyze(spec, defaultWorkload(spec, extra), getDevice(device), { sweepBatches: [from, to] }).batchSweep.tokensPerS;
    return Math.round((1 - t[1]! / t[0]!) * 1000) / 1000;
  };
  // Llama-3-8B on an A100: 6.6% from batch 112 to 113 (113 rows pad to 128), 5.2% from 64 to 65.
  assert.equal(drop('llama-3-8b.json', 'a100-80gb', 112, 113), 0.066);
  assert.equal(drop('llama-3-8b.json', 'a100-80gb', 64, 65), 0.052); // 65 rows pad to 80
  // The largest such dips over the 16-bit samples: Falcon-7B on an A100 and an A10G, Llama-3-70B on an MI300X.
  assert.equal(drop('falcon-7b.json', 'a100-80gb', 112, 113), 0.089);
  assert.equal(drop('falcon-7b.json', 'a10g', 80, 81), 0.125);
  assert.equal(drop('llama-3-70b.json', 'mi300x', 96, 97), 0.095);
  // Without matrix units: the quantized GEMM leaves the matrix-vector kernel above 8 rows (4.4%), and an MoE
  // model's experts pass 8 rows at batch 86 (DeepSeek-V2-Lite, 64 experts, 6 per token, over 4 devices).
  assert.equal(drop('mistral-7b-v0.1.json', 'cpu-generic', 8, 9, { weights: 'int4-g128' }), 0.044);
  assert.equal(drop('deepseek-v2-lite.json', 'cpu-generic', 85, 86, { weights: 'int4-g128', tp: 4 }), 0.048);
  // The README's largest such dips over the samples that fit: dense 5.8% at batch 9 and 6.9% one past 32 rows
  // (Falcon 180B over two devices), MoE 8.9% where DBRX's experts pass 8 rows (batch 33). On the Apple chips the
  // matrix-vector products up to 8 rows read quantized weights at 0.85 of the bandwidth (their
  // quantizedMemoryEfficiencyScale), so leaving them costs less: Falcon 180B in int8 on two M3 Max gains 1.6% at 9.
  assert.equal(drop('falcon-180b.json', 'cpu-generic', 8, 9, { weights: 'nf4', tp: 2 }), 0.058);
  assert.equal(drop('falcon-180b.json', 'cpu-generic', 32, 33, { weights: 'nf4', tp: 2 }), 0.069);
  assert.equal(drop('dbrx-instruct.json', 'cpu-generic', 32, 33, { weights: 'nf4', tp: 2 }), 0.089);
  assert.equal(drop('falcon-180b.json', 'apple-m3-max', 8, 9, { weights: 'int8', tp: 2 }), -0.016);
  // Ternary Llama-2-70B on an RTX 3090: 16% from batch 1 to 2, 35% from 16 to 17.
  assert.equal(drop('llama-2-70b.json', 'rtx-3090', 1, 2, { weights: 'ternary' }), 0.16);
  assert.equal(drop('llama-2-70b.json', 'rtx-3090', 16, 17, { weights: 'ternary' }), 0.348);
  // Mixtral's 128-token prefill with the default tiles: 314 expert rows computed for 256 real ones.
  assert.equal(Math.round(expectedPaddedRows(8, 2, 128, defaultCostParams().gemmTileM)), 314);
});

test('NVFP4 computes at the fp4 peak where the device has one (B200: twice fp8) and runs weight-only elsewhere', () => {
  const spec = loadConfigFile(join(__dirname, '../../samples/llama-3.1-70b.json'));
  const run = (hw: string, weights: string) => {
    const d = getDevice(hw);
    return analyze(spec, { ...defaultWorkload(spec), ...resolveFormats(spec, d, { weights }), batch: 8, promptTokens: 2048 }, d, { sweeps: false });
  };
  // B200 (HGX datasheet, dense): FP4 9 PFLOPS, FP8 4.5. Defaults: nvfp4 weights bring FP4 activations (W4A4).
  const fp4 = run('b200', 'nvfp4');
  assert.equal(fp4.workload.activations, 'fp4');
  const down4 = fp4.ops.find((o) => o.phase === 'prefill' && o.name === 'mlp_down')!;
  assert.equal(down4.peakDtype, 'fp4');
  // Same GEMM in fp8 (dtype factor 0.74 for both): the compute term halves at twice the peak.
  const down8 = run('b200', 'fp8').ops.find((o) => o.phase === 'prefill' && o.name === 'mlp_down')!;
  assert.equal(down8.peakDtype, 'fp8');
  assert.ok(Math.abs(down8.computeS / down4.computeS - 2) < 1e-9, `fp8 ${down8.computeS} s vs fp4 ${down4.computeS} s`);
  // Decode reads 4.5 bits per linear weight: 9/16 of the fp8 weight bytes of each GEMM.
  const dec4 = fp4.ops.find((o) => o.phase === 'decode' && o.name === 'mlp_up')!;
  const dec8 = run('b200', 'fp8').ops.find((o) => o.phase === 'decode' && o.name === 'mlp_up')!;
  const w = 8192 * 28672 * 80; // Llama-3-70B up projection, all layers
  assert.ok(Math.abs(dec8.bytes - dec4.bytes - w * (1 - 0.5625)) / w < 0.01, `${dec8.bytes} - ${dec4.bytes}`);
  // The H100 has no FP4 tensor cores: bf16 activations, the GEMMs at the bf16 peak with the weights dequantized.
  const h = run('h100-sxm', 'nvfp4');
  assert.equal(h.workload.activations, 'bf16');
  assert.equal(h.ops.find((o) => o.phase === 'prefill' && o.name === 'mlp_down')!.peakDtype, 'bf16');
  assert.deepEqual(h.warnings, []);
});

test('FP4 activations outside an NVFP4 GEMM: nvfp4 weights in an fp8 GEMM pay their dequantization; warnings name what runs', () => {
  const spec = loadConfigFile(join(__dirname, '../../samples/llama-3.1-70b.json'));
  const run = (hw: string, weights: string, activations: string) =>
    analyze(spec, { ...defaultWorkload(spec), weights, activations, batch: 8, promptTokens: 2048 }, getDevice(hw), { sweeps: false });
  const down = (r: ReturnType<typeof run>) => r.ops.find((o) => o.phase === 'prefill' && o.name === 'mlp_down')!;
  // In an fp8 GEMM, 4-bit E2M1 weights are converted as mxfp4's are (2 FLOPs per weight on the vector units): the
  // same compute term, where nvfp4 had passed for fp8 weights.
  const nv8 = down(run('b200', 'nvfp4', 'fp8'));
  assert.ok(Math.abs(nv8.computeS / down(run('b200', 'mxfp4', 'fp8')).computeS - 1) < 1e-12, 'nvfp4 and mxfp4 into fp8');
  assert.ok(nv8.computeS > down(run('b200', 'fp8', 'fp8')).computeS * 1.2, 'nvfp4 into fp8 costs no more than fp8 weights');
  // FP4 activations with int4 weights: the GEMMs run in bf16 and the activations are priced as 16-bit, with a warning.
  const int4fp4 = run('b200', 'int4-g128', 'fp4');
  const int4bf16 = run('b200', 'int4-g128', 'bf16');
  assert.equal(down(int4fp4).bytes, down(int4bf16).bytes);
  assert.equal(down(int4fp4).peakDtype, 'bf16');
  assert.ok(int4fp4.warnings.includes('fp4 activations feed only an FP4 GEMM with nvfp4 weights: with int4-g128 weights the GEMMs run in 16-bit and the activations are priced as 16-bit'), int4fp4.warnings.join('\n'));
  // NVFP4 W4A4 forced onto a Hopper GPU: priced at the fp8 peak with a warning that no engine runs it.
  const h = run('h100-sxm', 'nvfp4', 'fp4');
  assert.equal(down(h).peakDtype, 'fp8');
  assert.ok(h.warnings.some((w) => w.startsWith('h100-sxm has no FP4 tensor cores: NVFP4 W4A4 runs on Blackwell')), h.warnings.join('\n'));
  assert.deepEqual(run('b200', 'nvfp4', 'fp4').warnings, []);
});
