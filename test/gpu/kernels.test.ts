/**
 * Every engine kernel against its CPU reference on shapes that are not multiples of the tiles
 * (GEMM 67x131x45 against a 64x64x16 tile, GEMV 1003x771 against 4-row blocks and 256-wide splits, ...).
 * Each kernel states its tolerance in engine/gpu/kernels.ts; this test also bounds them so a loosened
 * tolerance cannot hide a wrong kernel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useNodeRunner } from '../helpers/gpu';
import { KERNELS, runKernel } from '../../engine/gpu/kernels';

const gpu = useNodeRunner(60_000);

for (const def of KERNELS) {
  test(`${def.name} matches its CPU reference on ${JSON.stringify(def.shapes.test)}`, async (t) => {
    if (def.requiresF16 && !gpu().report.shaderF16) {
      t.skip('adapter has no shader-f16');
      return;
    }
    const r = await runKernel(gpu(), def, def.shapes.test, { minTimeS: 0 });
    // Upper bounds on the stated tolerances: f32 kernels within 2e-3 absolute on these sizes (RoPE's angle
    // error at position ~1000 is the loosest), f16 within 0.05.
    assert.ok(r.tolerance <= (def.dtype === 'f16' ? 0.05 : 2e-3), `tolerance ${r.tolerance} is too loose`);
    assert.ok(r.verified, `${def.name}: max |gpu - cpu| = ${r.maxAbsError} > tolerance ${r.tolerance}`);
    assert.ok(r.timeS > 0 && Number.isFinite(r.timeS));
  });
}

test('gemv-f32 with K a multiple of 4 (the vec4 path on software adapters) and N off the row blocks', async () => {
  const r = await runKernel(gpu(), KERNELS.find((k) => k.name === 'gemv-f32')!, { n: 1003, k: 772 }, { minTimeS: 0 });
  assert.ok(r.verified, `max |gpu - cpu| = ${r.maxAbsError} > ${r.tolerance}`);
});

test('GEMM of all-zero inputs is exactly zero (the kernel writes every output)', async () => {
  const def = KERNELS.find((k) => k.name === 'gemm-f32')!;
  const prepared = await def.prepare(gpu(), { m: 33, n: 17, k: 9 }, () => 0.5);
  await gpu().run(prepared.dispatches);
  const got = new Float32Array(await gpu().read(prepared.output, 33 * 17 * 4));
  // Constant inputs a = b = 0 (lo + (hi - lo) * 0.5 with lo = -1, hi = 1): C must be exactly 0.
  assert.equal(got.reduce((m, v) => Math.max(m, Math.abs(v)), 0), 0);
  gpu().release(...prepared.buffers);
});
