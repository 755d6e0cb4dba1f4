/**
 * `ridgeline bench` end to end (the built CLI on this machine's adapter) and the measured device file:
 * JSON shape, the device "this" it saves, efficiencies the cost model reads, exit 3 without an adapter.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadMeasuredDevice, measuredDevicePath, saveMeasuredDevice } from '../../engine/gpu/measured';
import { efficiencies, toMeasuredDevice, type BenchResult } from '../../engine/gpu/microbench';
import { RidgelineError } from '../../engine/errors';
import { costParamsFor } from '../../engine/cost/params';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const cache = mkdtempSync(join(tmpdir(), 'ridgeline-cache-'));
const savedEnv = process.env.RIDGELINE_CACHE_DIR;

after(() => {
  rmSync(cache, { recursive: true, force: true });
  if (savedEnv === undefined) delete process.env.RIDGELINE_CACHE_DIR;
  else process.env.RIDGELINE_CACHE_DIR = savedEnv;
});

test('ridgeline bench --quick --format json: roofs, verified kernels, saved device "this"', () => {
  const r = spawnSync(process.execPath, [cli, 'bench', '--quick', '--format', 'json'], {
    env: { ...process.env, RIDGELINE_CACHE_DIR: cache },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as BenchResult;
  assert.equal(typeof out.adapter.vendor, 'string');
  assert.equal(typeof out.adapter.isFallback, 'boolean');
  assert.ok(out.roofs.bandwidthBytesPerS > 1e6, 'at least 1 MB/s');
  assert.ok(out.roofs.peakFlopsPerS.f32 > 1e6);
  assert.ok(out.roofs.dispatchOverheadS > 0 && out.roofs.dispatchOverheadS < 0.1);
  const gemm = out.kernels.find((k) => k.name === 'gemm-f32')!;
  assert.deepEqual(gemm.shape, { m: 512, n: 512, k: 512 });
  // 2 x 512^3 FLOPs over the measured time.
  assert.ok(Math.abs(gemm.flopsPerS * gemm.timeS - 2 * 512 ** 3) / (2 * 512 ** 3) < 1e-9);
  assert.ok(out.kernels.some((k) => k.name.startsWith('gemv-')));
  for (const k of out.kernels) {
    assert.ok(k.verified, `${k.name} verified`);
    assert.ok(Number.isFinite(k.timeS) && k.timeS > 0);
    assert.ok(Number.isFinite(k.maxAbsError));
  }
  // The saved device, as `--hardware this` and the cost model see it.
  process.env.RIDGELINE_CACHE_DIR = cache;
  const d = loadMeasuredDevice()!;
  assert.equal(d.id, 'this');
  assert.equal(d.memoryBandwidthBytesPerS, out.roofs.bandwidthBytesPerS);
  assert.equal(d.peakFlopsPerS.fp32, out.roofs.peakFlopsPerS.f32);
  assert.equal(d.measured!.dispatchOverheadS, out.roofs.dispatchOverheadS);
  const p = costParamsFor(d);
  assert.equal(p.launchOverheadS, out.roofs.dispatchOverheadS);
  // gemm.compute = tiled GEMM FLOP/s over the FMA peak, clamped into (0, 1].
  const expected = Math.min(1, Math.max(1e-4, gemm.flopsPerS / out.roofs.peakFlopsPerS.f32));
  assert.ok(Math.abs(p.efficiency.gemm.compute - expected) < 1e-12);
  assert.match(p.origin, /measured on/);
});

test('ridgeline bench exits 3 with one line when there is no adapter', () => {
  const r = spawnSync(process.execPath, [cli, 'bench', '--quick'], {
    env: { ...process.env, RIDGELINE_CACHE_DIR: cache, VK_ICD_FILENAMES: '/nonexistent/icd.json' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 3);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('ridgeline:'));
  assert.equal(lines.length, 1);
  assert.equal(lines[0], 'ridgeline: no WebGPU adapter: Dawn found no GPU with VK_ICD_FILENAMES=/nonexistent/icd.json (no such file); unset it to let Ridgeline look for a GPU and SwiftShader');
  assert.equal(r.stdout, '');
});

test('ridgeline bench --only rejects an unknown kernel with one line (exit 2)', () => {
  const r = spawnSync(process.execPath, [cli, 'bench', '--only', 'gemm-f64'], {
    env: { ...process.env, RIDGELINE_CACHE_DIR: cache },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /ridgeline: --only: expected a kernel name: stream-copy, .*gemm-f32.* \(got "gemm-f64"\)/);
});

test('ridgeline bench --quick --full is refused with one line (exit 2)', () => {
  const r = spawnSync(process.execPath, [cli, 'bench', '--quick', '--full'], {
    env: { ...process.env, RIDGELINE_CACHE_DIR: cache },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /ridgeline: --full: expected either --quick or --full, not both/);
});

test('measured device file: round trip, absent, and a corrupt file named in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-measured-'));
  process.env.RIDGELINE_CACHE_DIR = dir;
  try {
    assert.equal(loadMeasuredDevice(), null);
    const bench: BenchResult = {
      adapter: { vendor: 'acme', architecture: 'x1', description: '', isFallback: false },
      roofs: { bandwidthBytesPerS: 100e9, peakFlopsPerS: { f32: 10e12, f16: 20e12 }, dispatchOverheadS: 5e-6 },
      kernels: [
        { name: 'gemm-f32', dtype: 'f32', shape: { m: 512, n: 512, k: 512 }, timeS: 1e-4, flopsPerS: 5e12, bytesPerS: 0, verified: true, maxAbsError: 0, tolerance: 1, timing: 'timestamp', repeats: 1 },
        { name: 'gemv-f32', dtype: 'f32', shape: { n: 1, k: 1 }, timeS: 1, flopsPerS: 0, bytesPerS: 80e9, verified: true, maxAbsError: 0, tolerance: 1, timing: 'timestamp', repeats: 1 },
        { name: 'rope-f32', dtype: 'f32', shape: {}, timeS: 1, flopsPerS: 0, bytesPerS: 50e9, verified: false, maxAbsError: 1, tolerance: 0, timing: 'timestamp', repeats: 1 },
      ],
      efficiency: {},
      features: [],
      timing: 'timestamp',
      quick: false,
    };
    bench.efficiency = efficiencies(bench.roofs, bench.kernels);
    // 5 TFLOP/s of 10 = 0.5; 80 GB/s of 100 = 0.8; an unverified kernel does not count.
    assert.deepEqual(bench.efficiency, { 'gemm.compute': 0.5, 'gemm.memory': 0.8 });
    const dev = toMeasuredDevice(bench, { memoryBytes: 8e9, dateIso: '2026-01-01T00:00:00.000Z' });
    assert.equal(saveMeasuredDevice(dev), measuredDevicePath());
    assert.deepEqual(loadMeasuredDevice(), dev);
    assert.deepEqual(dev.peakFlopsPerS, { fp32: 10e12, fp16: 20e12 });
    writeFileSync(measuredDevicePath(), '{"id": "this", "memoryBandwidthBytesPerS": -1}');
    assert.throws(
      () => loadMeasuredDevice(),
      (e: unknown) => e instanceof RidgelineError && e.message.includes('measured-device.json: memoryBandwidthBytesPerS: expected a positive number (got -1)'),
    );
    writeFileSync(measuredDevicePath(), '{oops');
    assert.throws(() => loadMeasuredDevice(), (e: unknown) => e instanceof RidgelineError && /measured-device\.json: malformed JSON at line 1, column 2: expected a measured device; run `ridgeline bench` again/.test(e.message));
    assert.ok(readFileSync(measuredDevicePath(), 'utf8').length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
