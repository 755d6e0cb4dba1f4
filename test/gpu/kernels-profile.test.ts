/**
 * Profiling a user's WGSL kernel on this machine's adapter (SwiftShader where there is no GPU): buffers
 * from the annotation, uniforms from dims, results checked against a CPU reference, time and roofline.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { useNodeRunner } from '../helpers/gpu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KernelAnalyzer } from '../../engine/kernels/index';
import { profileWgslKernel } from '../../engine/kernels/profile';
import type { Device } from '../../engine/hardware/types';
import { RidgelineError } from '../../engine/errors';

const root = join(__dirname, '..', '..');
const gpu = useNodeRunner(120_000);
let analyzer: KernelAnalyzer;

/** Roofs of a notional measured device, round numbers so the placement can be checked by hand. */
const ROOFS: Device = { id: 'this', name: 'measured', vendor: 'test', memoryBytes: 1e9, memoryBandwidthBytesPerS: 10e9, peakFlopsPerS: { fp32: 100e9 }, source: 'test roofs' };

before(async () => {
  analyzer = await KernelAnalyzer.create(join(root, 'node_modules'), ['wgsl']);
});
after(() => {
  analyzer?.dispose();
});

/** The same xorshift fill profile.ts uses, to rebuild the inputs on the CPU. */
function inputs(seed: number, count: number[]): Float32Array[] {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  return count.map((n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
    return a;
  });
}

test('reduce.wgsl: partial sums match the CPU within 1e-4 relative; time and roofline placement', async () => {
  const src = readFileSync(join(root, 'samples/kernels/reduce.wgsl'), 'utf8');
  const N = 65536;
  const p = await profileWgslKernel(gpu(), analyzer, src, { file: 'reduce.wgsl', dims: { N }, device: ROOFS, readBack: [1], seed: 7 });
  assert.equal(p.kernel, 'reduce_sum');
  assert.deepEqual(p.workgroupSize, [256, 1, 1]);
  assert.deepEqual(p.dispatch, [N / 512, 1, 1]);
  assert.deepEqual(p.buffers.map((b) => [b.binding, b.bytes]), [[0, N * 4], [1, (N / 512) * 4]]);
  const [input] = inputs(7, [N]);
  const got = new Float32Array(p.data![1]!);
  for (let w = 0; w < N / 512; w++) {
    let ref = 0;
    for (let i = 0; i < 512; i++) ref += input![w * 512 + i]!;
    // f32 tree sum of 512 values in [-1, 1): error well below 1e-4 of the sum of magnitudes (~256)
    assert.ok(Math.abs(got[w]! - ref) < 1e-4 * 256, `workgroup ${w}: ${got[w]} vs ${ref}`);
  }
  assert.ok(p.timeS > 0 && Number.isFinite(p.timeS));
  // FLOPs and bytes from the analysis: (N - N/512) adds, N*4 + N/512*4 bytes
  assert.equal(p.flops, N - N / 512);
  assert.equal(p.bytes, N * 4 + (N / 512) * 4);
  assert.ok(Math.abs(p.achievedBandwidthBytesPerS! - p.bytes! / p.timeS) < 1e-6 * p.achievedBandwidthBytesPerS!);
  const rf = p.roofline!;
  assert.equal(rf.bound, 'memory'); // ~0.25 FLOP/B < 100e9 / 10e9 = 10
  assert.ok(Math.abs(rf.attainableFlopsPerS - p.intensity! * 10e9) < 1);
  assert.ok(Math.abs(rf.fractionOfRoof - p.achievedFlopsPerS! / rf.attainableFlopsPerS) < 1e-12);
});

test('matmul_tiled.wgsl: uniform dims filled by member name; C = A x B within 1e-4', async () => {
  const src = readFileSync(join(root, 'samples/kernels/matmul_tiled.wgsl'), 'utf8');
  const M = 64, N = 64, K = 64;
  const p = await profileWgslKernel(gpu(), analyzer, src, { file: 'matmul_tiled.wgsl', dims: { M, N, K }, readBack: [2], seed: 3 });
  assert.deepEqual(p.dispatch, [4, 4, 1]);
  assert.equal(p.flops, 2 * M * N * K);
  assert.ok(p.notes.some((n) => /dims\.k = 64/.test(n)), p.notes.join('; '));
  const [a, b] = inputs(3, [M * K, K * N]);
  const c = new Float32Array(p.data![2]!);
  let worst = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let ref = 0;
      for (let k = 0; k < K; k++) ref += a![i * K + k]! * b![k * N + j]!;
      worst = Math.max(worst, Math.abs(c[i * N + j]! - ref));
    }
  }
  assert.ok(worst < 1e-4, `max abs error ${worst}`);
});

test('missing buffer sizes: one clear error naming the binding', async () => {
  const src = readFileSync(join(root, 'samples/kernels/reduce.wgsl'), 'utf8').replace(' buffers=0:N,1:N/512', '');
  await assert.rejects(
    () => profileWgslKernel(gpu(), analyzer, src, { file: 'reduce.wgsl', dims: { N: 4096 } }),
    (e: unknown) => e instanceof RidgelineError && /reduce\.wgsl: @binding\(0\) input: expected an element count in the annotation/.test(e.message),
  );
});
