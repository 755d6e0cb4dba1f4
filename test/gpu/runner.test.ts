/**
 * Runner behaviour on the real adapter: WGSL compile errors with line and column, device loss and recovery,
 * a timeout for runaway kernels, the buffer pool (no growth over 100 runs) and the pipeline cache (shapes
 * do not add pipelines).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useNodeRunner } from '../helpers/gpu';
import { KERNELS, kernelByName, runKernel } from '../../engine/gpu/kernels';
import { WgslCompileError } from '../../engine/gpu/runner';
import { RidgelineError } from '../../engine/errors';

const gpu = useNodeRunner(60_000);

test('adapter report lists limits and the features the kernels care about', () => {
  const r = gpu().report;
  assert.ok(r.vendor.length > 0);
  assert.ok(r.limits.maxComputeInvocationsPerWorkgroup! >= 256, 'kernels use 256-invocation workgroups');
  assert.ok(r.limits.maxComputeWorkgroupStorageSize! >= 16384, 'GEMM uses 8 KiB of workgroup memory');
  assert.equal(r.timestampQuery, r.features.includes('timestamp-query'));
  assert.equal(r.shaderF16, r.features.includes('shader-f16'));
});

test('a WGSL compile error names the file, line and column', async () => {
  // Line 4, column 11: `undefinedName` is not declared.
  const code = [
    '@group(0) @binding(0) var<storage, read_write> out: array<f32>;',
    '@compute @workgroup_size(1)',
    'fn main() {',
    '  out[0] = undefinedName + 1.0;',
    '}',
  ].join('\n');
  await assert.rejects(gpu().pipeline({ name: 'broken', file: 'user/broken.wgsl', code }), (e: unknown) => {
    assert.ok(e instanceof WgslCompileError);
    assert.equal(e.exitCode, 2);
    const d = e.diagnostics.find((x) => x.type === 'error')!;
    assert.equal(d.line, 4);
    assert.equal(d.column, 12);
    assert.match(e.message, /^user\/broken\.wgsl:4:12: WGSL error: .*undefinedName/);
    return true;
  });
  // The failed compile is not cached: a fixed version compiles.
  const fixed = await gpu().pipeline({ name: 'broken', file: 'user/broken.wgsl', code: code.replace('undefinedName', '2.0') });
  assert.ok(fixed);
});

test('device loss: a clear message, then a fresh device that works', async () => {
  const gen = gpu().deviceGeneration;
  gpu().device.destroy(); // what a driver reset or a removed GPU looks like to the runner
  await new Promise((r) => setTimeout(r, 50));
  assert.throws(
    () => gpu().device,
    (e: unknown) => e instanceof RidgelineError && /GPU device lost: destroyed.*fresh device is created on the next run/.test(e.message),
  );
  const res = await runKernel(gpu(), kernelByName('rmsnorm-f32')!, { rows: 5, dim: 300 }, { minTimeS: 0 });
  assert.ok(res.verified);
  assert.equal(gpu().deviceGeneration, gen + 1);
});

test('a runaway kernel times out, the device is reset, and the next run works', async () => {
  const fma = kernelByName('fma-f32')!;
  // Size the work to ~1.5 s on this adapter (from a short measured run), against a 0.3 s timeout: long
  // enough to trip it, short enough that a software adapter finishes the orphaned work quickly.
  const probe = await runKernel(gpu(), fma, { threads: 16384, iters: 256 }, { minTimeS: 0.05, verify: false });
  const threads = 16384;
  const iters = Math.ceil((1.5 * probe.flopsPerS) / (threads * 32));
  const prepared = await fma.prepare(gpu(), { threads, iters }, () => 0);
  await assert.rejects(gpu().run(prepared.dispatches, { timeoutMs: 300, label: 'runaway' }), (e: unknown) => {
    assert.ok(e instanceof RidgelineError);
    assert.match(e.message, /GPU timeout: runaway did not finish within 0\.3 s; the device was reset/);
    return true;
  });
  const res = await runKernel(gpu(), kernelByName('softmax-f32')!, { rows: 3, cols: 77 }, { minTimeS: 0 });
  assert.ok(res.verified);
});

test('no buffer growth over 100 runs; shapes do not add pipelines', async () => {
  await gpu().ensureDevice();
  const def = kernelByName('gemv-f32')!;
  await runKernel(gpu(), def, { n: 40, k: 50 }, { minTimeS: 0 });
  const before = gpu().poolStats();
  const pipes = gpu().pipelineCount;
  for (let i = 0; i < 100; i++) {
    // Two alternating shapes in the same size classes: buffers are reused, never created.
    await runKernel(gpu(), def, i % 2 ? { n: 40, k: 50 } : { n: 41, k: 49 }, { minTimeS: 0, verify: i % 25 === 0 });
  }
  const afterStats = gpu().poolStats();
  assert.equal(afterStats.created, before.created, 'no new buffers');
  assert.equal(afterStats.bytes, before.bytes);
  assert.equal(afterStats.inUse, 0, 'every buffer released');
  assert.equal(gpu().pipelineCount, pipes, 'shapes travel in uniforms, not in the pipeline key');
});

test('without timestamp queries, times come from wall clock around the completed submission', async () => {
  const { nodeGpu } = await import('../../engine/gpu/node');
  const g = await nodeGpu();
  const { GpuRunner } = await import('../../engine/gpu/runner');
  const wall = await GpuRunner.create(g.gpu, { timestamps: false });
  try {
    assert.equal(wall.report.timestampQuery, false);
    const res = await runKernel(wall, kernelByName('rope-f32')!, { tokens: 7, heads: 3, dim: 34, pos0: 5 }, { minTimeS: 0.01 });
    assert.equal(res.timing, 'wall');
    assert.ok(res.verified && res.timeS > 0 && Number.isFinite(res.timeS));
  } finally {
    wall.destroy();
  }
});

test('every kernel name is unique and has a test shape off the tile grid', () => {
  const names = KERNELS.map((k) => k.name);
  assert.equal(new Set(names).size, names.length);
  const gemm = kernelByName('gemm-f32')!.shapes.test;
  assert.ok(gemm.m! % 64 !== 0 && gemm.n! % 64 !== 0 && gemm.k! % 16 !== 0);
  const gemv = kernelByName('gemv-f32')!.shapes.test;
  assert.ok(gemv.n! % 4 !== 0 && gemv.k! % 64 !== 0);
  const q4 = kernelByName('q4gemv-sz16')!.shapes.test;
  assert.ok(q4.k! % 128 !== 0 && q4.n! % 4 !== 0, 'a partial last group and a partial row block');
});
