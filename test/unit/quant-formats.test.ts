import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { effectiveCompute, listWeightFormats, quantizedWeightBytes, splitParams, weightFormat } from '../../engine/quant/formats';
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
    ternary: 8 / 5, // 5 trits per byte (3^5 = 243 <= 256): 1.6, vs the log2(3) = 1.585 bound
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
    if (q.kind === 'int' && q.groupSize > 0) {
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
  const s = splitParams(loadConfigFile(join(samples, 'llama-3-70b.json')).params);
  const fmts = [...listWeightFormats()].sort((a, b) => b.bitsPerWeight - a.bitsPerWeight);
  for (let i = 1; i < fmts.length; i++) {
    const prev = quantizedWeightBytes(s, fmts[i - 1]!, 'bf16').totalBytes;
    const cur = quantizedWeightBytes(s, fmts[i]!, 'bf16').totalBytes;
    assert.ok(cur <= prev, `${fmts[i]!.id} (${cur}) <= ${fmts[i - 1]!.id} (${prev})`);
  }
});
