import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { effectiveCompute, linearBitsPerWeight, listWeightFormats, lmHeadBitsPerWeight, moreBitsExtraBytes, quantizedWeightBytes, splitParams, useMoreBits, weightFormat } from '../../engine/quant/formats';
import { loadConfigFile } from '../../engine/model/parse';
import { getDevice } from '../../engine/hardware/index';
import { RidgelineError } from '../../engine/errors';

const samples = join(__dirname, '../../samples');

test('bits per weight: every format equals its element bits plus amortized scale/zero bits', () => {
  // Worked by hand from each layout (element bits + stored constants / weights sharing them):
  const expected: Record<string, number> = {
    fp32: 32,
    fp16: 16,
    bf16: 16,
    fp8: 8, // + one fp32 scale per tensor: 32 / (millions of weights), not counted
    'fp8-e5m2': 8,
    int8: 8, // + fp16 scale per output row: 16 / K (0.0039 at K = 4096), not counted
    w8a8: 8,
    'int4-g128': 4 + (16 + 16) / 128, // 4.25
    'int4-g32': 4 + (16 + 16) / 32, // 5.0
    nf4: 4 + 8 / 64 + 32 / (64 * 256), // QLoRA double quantization: 4 + 0.125 + 0.00195 = 4.127
    'int3-g128': 3 + (16 + 16) / 128, // 3.25
    'int2-g64': 2 + (16 + 16) / 64, // 2.5
    mxfp4: 4 + 8 / 32, // OCP MX: E2M1 + one E8M0 scale per 32 = 4.25
    'mxfp4-experts': 4 + 8 / 32, // mxfp4 on the routed experts only (their matrices; the rest in 16-bit)
    nvfp4: 4 + 8 / 16, // NVFP4: E2M1 + one E4M3 scale per 16 = 4.5 (+ one fp32 scale per tensor, not counted)
    ternary: 8 / 5, // 5 trits per byte (3^5 = 243 <= 256): 1.6, vs the log2(3) = 1.585 bound
    // GGUF blocks (ggml-common.h), bytes x 8 / weights per block:
    q8_0: (34 * 8) / 32, // fp16 scale + 32 int8: 8.5
    q6_k: (210 * 8) / 256, // ql[128] + qh[64] + int8 scales[16] + fp16 d: 6.5625
    q5_k_m: (176 * 8) / 256, // Q5_K: d, dmin + scales[12] + qh[32] + qs[128]: 5.5 (plus its Q6_K tensors)
    q5_0: (22 * 8) / 32, // fp16 d + qh[4] + qs[16]: 5.5
    q4_k_m: (144 * 8) / 256, // Q4_K: d, dmin + scales[12] + qs[128]: 4.5 (plus its Q6_K tensors)
    q4_0: (18 * 8) / 32, // fp16 d + qs[16]: 4.5
  };
  const ids = listWeightFormats().map((f) => f.id);
  assert.deepEqual([...ids].sort(), Object.keys(expected).sort());
  for (const [id, bits] of Object.entries(expected)) {
    assert.ok(Math.abs(weightFormat(id).bitsPerWeight - bits) < 5e-4, `${id}: ${weightFormat(id).bitsPerWeight} vs ${bits}`);
  }
  assert.equal(weightFormat('int4-g128').bitsPerWeight, 4.25);
  assert.equal(weightFormat('mxfp4').bitsPerWeight, 4.25);
  assert.ok(Math.log2(3) < weightFormat('ternary').bitsPerWeight);
});

test('quantizer layout matches the bits counted', () => {
  for (const f of listWeightFormats()) {
    const q = f.quantizer;
    if (f.servingEngines?.includes('llama.cpp')) {
      // GGUF: the quantizer rounds to the block's element bits; the blocks store their scales in bytes of their own
      // (above), k-quants' 6-bit sub-block scales included, so the group arithmetic below does not apply.
      assert.ok(q.kind === 'int' && f.bitsPerWeight > q.bits && f.bitsPerWeight - q.bits <= 0.5625, f.id);
    } else if (q.kind === 'int' && q.groupSize > 0) {
      assert.equal(f.bitsPerWeight, q.bits + 32 / q.groupSize, f.id);
    } else if (q.kind === 'int') {
      assert.equal(f.bitsPerWeight, q.bits, f.id);
    } else if (q.kind === 'mxfp4') {
      assert.equal(f.bitsPerWeight, 4 + 8 / q.blockSize);
    } else if (q.kind === 'nf4') {
      assert.ok(Math.abs(f.bitsPerWeight - (4 + 8 / q.blockSize + 32 / (q.blockSize * 256))) < 5e-4);
    } else if (q.kind === 'float') {
      assert.equal(f.bitsPerWeight, 1 + q.exponentBits + q.mantissaBits, f.id);
    }
    assert.ok(f.source.length > 10, `${f.id} has a source`);
    assert.ok(f.bitsArithmetic.length > 0);
  }
});

test('aliases and a clear error for an unknown format', () => {
  assert.equal(weightFormat('int4').id, 'int4-g128');
  assert.equal(weightFormat('FP8-E4M3').id, 'fp8');
  assert.equal(weightFormat('e5m2').id, 'fp8-e5m2');
  assert.equal(weightFormat('bitnet').id, 'ternary');
  assert.throws(() => weightFormat('int5'), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /--weights: expected a weight format: .*int4-g128/.test(e.message));
});

test('weight-only formats compute in fp16; W8A8 and FP8 natively only where the device has the peak', () => {
  for (const f of listWeightFormats()) if (f.weightOnly) assert.equal(f.computeDtype, 'fp16', f.id);
  const h100 = getDevice('h100-sxm');
  const a100 = getDevice('a100-80gb');
  const v100 = getDevice('v100');
  // fp8: Hopper yes, Ampere no (dequantized, weight-only).
  assert.deepEqual(effectiveCompute(weightFormat('fp8'), h100), { computeDtype: 'fp8', native: true, dequantFlopsPerWeight: 0, weightOnly: false });
  const fp8a = effectiveCompute(weightFormat('fp8'), a100);
  assert.equal(fp8a.native, false);
  assert.equal(fp8a.computeDtype, 'fp16');
  assert.ok(fp8a.dequantFlopsPerWeight > 0);
  // int8 tensor cores: Turing and later (A100 yes), Volta no.
  assert.equal(effectiveCompute(weightFormat('w8a8'), a100).computeDtype, 'int8');
  assert.equal(effectiveCompute(weightFormat('w8a8'), v100).native, false);
  // Weight-only int4 stays fp16 everywhere.
  assert.equal(effectiveCompute(weightFormat('int4-g128'), h100).computeDtype, 'fp16');
});

test('bytes for Llama-3.1-8B and Llama-2-7B, by hand', () => {
  const l3 = loadConfigFile(join(samples, 'llama-3.1-8b.json'));
  assert.equal(l3.params.total, 8_030_261_248); // published count
  const s3 = splitParams(l3.params);
  // 128256 x 4096 embeddings and an untied lm_head of the same size; norms 2 per layer x 32 + final, x 4096.
  assert.equal(s3.embeddings, 525_336_576);
  assert.equal(s3.lmHead, 525_336_576);
  assert.equal(s3.norms, 266_240);
  assert.equal(s3.linear, 6_979_321_856);
  // int4-g128: 6,979,321,856 x 4.25 / 8 = 3,707,764,736; kept in bf16: (1,050,673,152 + 266,240) x 2 = 2,101,878,784.
  const q = quantizedWeightBytes(s3, weightFormat('int4-g128'), 'bf16');
  assert.equal(q.quantizedBytes, 3_707_764_736);
  assert.equal(q.keptBytes, 2_101_878_784);
  assert.equal(q.totalBytes, 5_809_643_520);
  // bf16: 2 bytes per parameter.
  assert.equal(quantizedWeightBytes(s3, weightFormat('bf16'), 'bf16').totalBytes, 16_060_522_496);
  // nvfp4: 6,979,321,856 x 4.5 / 8 = 3,925,868,544, the same bf16 embeddings, head and norms: 6,027,747,328 B.
  const nv = quantizedWeightBytes(s3, weightFormat('nvfp4'), 'bf16');
  assert.equal(nv.quantizedBytes, 3_925_868_544);
  assert.equal(nv.totalBytes, 6_027_747_328);

  const l2 = loadConfigFile(join(samples, 'llama-2-7b.json'));
  assert.equal(l2.params.total, 6_738_415_616); // published count
  const s2 = splitParams(l2.params);
  assert.equal(s2.linear, 6_738_415_616 - 2 * 131_072_000 - 266_240);
  // nf4: 6,476,005,376 x 4.127 / 8 = 3,340,818,273 (rounded up) + kept fp16 (262,144,000 + 266,240) x 2.
  const n = quantizedWeightBytes(s2, weightFormat('nf4'), 'fp16');
  assert.equal(n.quantizedBytes, Math.ceil((6_476_005_376 * 4.127) / 8));
  assert.equal(n.keptBytes, 524_820_480);
});

test('fewer bits never need more memory (Llama-3-70B)', () => {
  const spec = loadConfigFile(join(samples, 'llama-3-70b.json'));
  const s = splitParams(spec.params);
  const bytes = (f: ReturnType<typeof weightFormat>) => quantizedWeightBytes(s, f, 'bf16', spec).totalBytes;
  // Within one storage policy: the catalog's formats (16-bit embeddings and head), then llama.cpp's (everything
  // quantized, the head in Q6_K, a mixed format's promoted tensors); q5_k_m holds more than q5_0 at the same 5.5.
  // (mxfp4-experts quantizes only routed experts: a dense model keeps all its weights in 16-bit.)
  for (const gguf of [false, true]) {
    const fmts = listWeightFormats()
      .filter((f) => (f.servingEngines !== undefined) === gguf && f.scope === undefined)
      .sort((a, b) => b.bitsPerWeight - a.bitsPerWeight || bytes(b) - bytes(a));
    for (let i = 1; i < fmts.length; i++) {
      const prev = bytes(fmts[i - 1]!);
      const cur = bytes(fmts[i]!);
      assert.ok(cur <= prev, `${fmts[i]!.id} (${cur}) <= ${fmts[i - 1]!.id} (${prev})`);
    }
  }
  assert.ok(bytes(weightFormat('q5_k_m')) > bytes(weightFormat('q5_0')));
  assert.ok(bytes(weightFormat('q4_k_m')) > bytes(weightFormat('q4_0')));
});

test('GGUF sizes of Llama-3-8B match the table of llama-quantize', () => {
  // llama-quantize --help lists each type's size at Llama-3-8B (GiB, 2 decimals): Q4_0 4.34G, Q5_0 5.21G, Q8_0 7.96G,
  // Q4_K_M 4.58G, Q5_K_M 5.33G, Q6_K 6.14G. By hand for Q4_0: 6,979,321,856 linear + 525,336,576 embedding weights at
  // 4.5 bits = 4,221,370,368 B, the 525,336,576-weight output in Q6_K at 6.5625 bits = 430,940,160 B, norms kept:
  // 4,652,843,008 B = 4.333 GiB. Q4_K_M adds Q6_K for attn_v and ffn_down in 16 of the 32 layers (use_more_bits:
  // 0-3, 6, 9, ..., 27, 28-31): 16 x (4096 x 1024 + 14336 x 4096) x 2.0625 / 8 = 259,522,560 B.
  // llama.cpp keeps the norms in f32 (counted here at 2 bytes: 0.0005 GiB) and the file holds the tokenizer.
  const spec = loadConfigFile(join(samples, 'llama-3-8b.json'));
  const s = splitParams(spec.params);
  const gib = (id: string) => quantizedWeightBytes(s, weightFormat(id), 'bf16', spec).totalBytes / 2 ** 30;
  const published: Record<string, number> = { q4_0: 4.34, q5_0: 5.21, q8_0: 7.96, q4_k_m: 4.58, q5_k_m: 5.33, q6_k: 6.14 };
  for (const [id, want] of Object.entries(published)) assert.ok(Math.abs(gib(id) - want) < 0.015, `${id}: ${gib(id).toFixed(3)} GiB vs ${want}`);
  assert.equal(quantizedWeightBytes(s, weightFormat('q4_0'), 'bf16').totalBytes, 4_221_370_368 + 430_940_160 + 266_240 * 2);
  assert.equal(moreBitsExtraBytes(spec, weightFormat('q4_k_m')), 259_522_560);
  assert.equal(moreBitsExtraBytes(spec, weightFormat('q4_0')), 0);
  // use_more_bits over 32 layers picks 16: the first and last 4 and every third between.
  assert.deepEqual(
    Array.from({ length: 32 }, (_, i) => i).filter((i) => useMoreBits(i, 32)),
    [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31],
  );
  // Tied embeddings (Llama-3.2-1B): the one table is the output matrix, stored in Q6_K.
  const tied = splitParams(loadConfigFile(join(samples, 'llama-3.2-1b.json')).params);
  assert.equal(tied.lmHead, 0);
  const t = quantizedWeightBytes(tied, weightFormat('q4_0'), 'bf16');
  assert.equal(t.totalBytes, Math.ceil((tied.linear * 4.5) / 8) + Math.ceil((tied.embeddings * 6.5625) / 8) + tied.norms * 2);
  // Q4_K_M's linear weights average 4.5 + 259,522,560 x 8 / 6,979,321,856 = 4.797 bits (the advisor's bits/w).
  assert.ok(Math.abs(linearBitsPerWeight(spec, weightFormat('q4_k_m')) - 4.797) < 5e-4);
  assert.equal(linearBitsPerWeight(spec, weightFormat('q4_0')), 4.5);
});

test("llama-quantize's output rule: Q8_0 for Falcon and for a hidden size that is not a multiple of 256", () => {
  // Qwen2-0.5B: hidden 896 = 3.5 x 256, tied embeddings: the one 151,936 x 896 table in Q8_0 (8.5 bits), not Q6_K.
  const qwen = loadConfigFile(join(samples, 'qwen2-0.5b.json'));
  assert.equal(qwen.structure.embedDim, 896);
  const qs = splitParams(qwen.params);
  assert.equal(qs.lmHead, 0);
  const q = quantizedWeightBytes(qs, weightFormat('q4_0'), 'bf16', qwen);
  assert.equal(q.totalBytes, Math.ceil((qs.linear * 4.5) / 8) + Math.ceil((qs.embeddings * 8.5) / 8) + qs.norms * 2);
  assert.equal(lmHeadBitsPerWeight(weightFormat('q4_k_m'), 16, qwen), 8.5);
  // Falcon-7B (hidden 4544 = 17.75 x 256, and Falcon in any case).
  assert.equal(lmHeadBitsPerWeight(weightFormat('q4_0'), 16, loadConfigFile(join(samples, 'falcon-7b.json'))), 8.5);
  // Llama-3-8B (4096 = 16 x 256): Q6_K; without the model, the format's own rule.
  assert.equal(lmHeadBitsPerWeight(weightFormat('q4_0'), 16, loadConfigFile(join(samples, 'llama-3-8b.json'))), 6.5625);
  assert.equal(lmHeadBitsPerWeight(weightFormat('q4_0'), 16), 6.5625);
  // Formats that keep the head in 16 bits are unchanged.
  assert.equal(lmHeadBitsPerWeight(weightFormat('int4-g128'), 16, qwen), 16);
});

test('the 4-bit format a does-not-fit quick fix suggests: Q4_K_M under llama.cpp, NVFP4 on Blackwell, else int4-g128', async () => {
  const { fourBitFormatFor } = await import('../../engine/quant/formats');
  const { getDevice } = await import('../../engine/hardware/index');
  assert.equal(fourBitFormatFor(getDevice('b200')), 'nvfp4');
  assert.equal(fourBitFormatFor(getDevice('h100-sxm')), 'int4-g128');
  assert.equal(fourBitFormatFor(getDevice('b200'), 'llama.cpp'), 'q4_k_m');
  assert.equal(fourBitFormatFor(getDevice('h100-sxm'), 'vllm'), 'int4-g128');
  assert.equal(fourBitFormatFor({ peakFlopsPerS: {}, vendor: 'custom' }), 'int4-g128');
  // An FP4 peak on an AMD device (CDNA4 runs MXFP4, not NVFP4): int4-g128.
  assert.equal(fourBitFormatFor({ peakFlopsPerS: { fp16: 2.3e15, fp4: 9.2e15 }, vendor: 'amd' }), 'int4-g128');
});

test('mxfp4-experts (gpt-oss): the routed experts\' matrices in MXFP4, everything else 16-bit; the model card\'s checkpoint sizes', async () => {
  const { planMemory } = await import('../../engine/memory/index');
  const { defaultWorkload, buildGraph } = await import('../../engine/model/index');
  const { getDevice } = await import('../../engine/hardware/index');
  const { candidateWeights } = await import('../../engine/quant/advice');
  // OpenAI gpt-oss model card: checkpoints of 12.8 GiB (20b) and 60.8 GiB (120b). By hand, 20b: 24 x 32 experts x
  // 24,883,200 weights = 19,110,297,600 x 4.25 / 8 = 10,152,345,600 B, and the other 1,804,459,584 parameters (the
  // experts' biases included) x 2 = 3,608,919,168 B: 13,761,264,768 B = 12.82 GiB.
  for (const [name, bytes] of [['gpt-oss-20b', 13_761_264_768], ['gpt-oss-120b', 65_248_815_744]] as const) {
    const spec = loadConfigFile(join(samples, `${name}.json`));
    const f = weightFormat('mxfp4-experts');
    assert.equal(quantizedWeightBytes(splitParams(spec.params), f, 'bf16', spec).totalBytes, bytes, name);
    const w = { ...defaultWorkload(spec), weights: 'mxfp4-experts' };
    assert.equal(planMemory(spec, w, getDevice('h100-sxm')).weightsBytes, bytes, name);
    // The graph reads the experts at 4.25 bits and the attention at 2 bytes per weight.
    const g = buildGraph(spec, { ...w, batch: 4096 }, 'decode', 1024);
    const q = g.ops.find((o) => o.name === 'q_proj')!;
    assert.equal(q.bytes.weights, (2880 + 1) * 4096 * 2 * q.layers); // weights and bias
    // Expert matrices at 4.25 bits, their 5,760 gate_up biases at 2 bytes each.
    const up = g.ops.find((o) => o.name === 'expert_gate_up')!;
    const perExpert = up.bytes.weights / (up.count * up.layers);
    assert.ok(Math.abs(perExpert - (2880 * 5760 * 4.25) / 8 - 5760 * 2) < 1e-6, `expert bytes ${perExpert}`);
    assert.ok(candidateWeights(spec).some((x) => x.id === 'mxfp4-experts'), `${name}: an advisor candidate`);
    // The graph reads what the plan stores (at batch 4096 every expert is touched: 1 - (124/128)^4096 of them), less
    // the embedding rows it does not look up.
    const weightsRead = g.ops.reduce((a, o) => a + o.bytes.weights, 0);
    const embedSkipped = (spec.vocabSize - 4096) * 2880 * 2;
    assert.ok(Math.abs(weightsRead + embedSkipped - bytes) / bytes < 1e-9, `${name}: graph ${weightsRead + embedSkipped} vs plan ${bytes}`);
  }
  // A dense model has no experts: no candidate, and its weights stay 16-bit.
  const dense = loadConfigFile(join(samples, 'llama-3.1-8b.json'));
  assert.ok(!candidateWeights(dense).some((x) => x.id === 'mxfp4-experts'));
  assert.equal(quantizedWeightBytes(splitParams(dense.params), weightFormat('mxfp4-experts'), 'bf16', dense).totalBytes, 16_060_522_496);
});

test('mxfp4-experts: the advisor rates it none where it quantizes nothing or is the published checkpoint, else as mxfp4', async () => {
  const { weightsRisk } = await import('../../engine/quant/advice');
  const dense = loadConfigFile(join(samples, 'llama-3.1-8b.json'));
  const ctx = (spec: typeof dense) => ({ params: spec.params.total, dtype: spec.dtype, experts: spec.params.experts, published: spec.quantFormats });
  assert.equal(weightsRisk('mxfp4-experts', ctx(dense)).risk, 'none');
  // gpt-oss is published in it (quantization_config mxfp4, attention kept out).
  const oss = loadConfigFile(join(samples, 'gpt-oss-20b.json'));
  assert.deepEqual(oss.quantFormats, ['mxfp4-experts']);
  assert.equal(weightsRisk('mxfp4-experts', ctx(oss)).risk, 'none');
  // Mixtral: mxfp4's published rows, as for mxfp4 itself.
  const mix = loadConfigFile(join(samples, 'mixtral-8x7b.json'));
  const m = weightsRisk('mxfp4', ctx(mix));
  const e = weightsRisk('mxfp4-experts', ctx(mix));
  assert.equal(e.risk, m.risk);
  assert.deepEqual(e.evidence, m.evidence);
  assert.ok(e.evidence.includes('zeroquant-fp4'), e.evidence.join(', '));
  // The advisor recommends gpt-oss in its published layout over bf16, though both carry no risk and bf16 fits.
  const { adviseQuant } = await import('../../engine/quant/advice');
  const { getDevice } = await import('../../engine/hardware/index');
  const r = adviseQuant(oss, getDevice('h100-sxm'), { batch: 1, promptTokens: 1024, generateTokens: 256 });
  assert.ok(r.options.some((o) => o.weights === 'bf16' && o.fits && o.quality.risk === 'none'));
  assert.equal(r.recommendation?.weights, 'mxfp4-experts');
  assert.match(r.recommendation?.why ?? '', /the format the checkpoint is published in/);
});
