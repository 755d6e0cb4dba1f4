import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { analyze } from '../../engine/analyze';
import { getDevice } from '../../engine/hardware/index';
import { parseConfig } from '../../engine/model/parse';
import { roofsOf } from '../../src/panels/compute';
import { buildChartModel, opsCsv } from '../../webview/roofline/chart-data';
import type { RooflineData } from '../../webview/protocol';

function data(config: string, hardware: string, batch: number): RooflineData {
  const spec = parseConfig(readFileSync(`samples/${config}`, 'utf8'), config);
  const device = getDevice(hardware);
  const result = analyze(spec, { batch, promptTokens: 1024, generateTokens: 256, weights: 'fp16', activations: 'fp16', kv: 'fp16', tp: 1 }, device, { sweeps: false });
  return { source: config, result, roofs: roofsOf(device), measuredRoofs: null };
}

describe('roofline chart data (the engine result mapped to marks, nothing recomputed)', () => {
  const d = data('llama-2-7b.json', 'a100-80gb', 1);
  const m = buildChartModel(d);

  it('draws one roof per dtype with its ridge at peak / bandwidth', () => {
    const dev = getDevice('a100-80gb');
    // Dtypes with equal peaks (fp16 and bf16) share one ceiling.
    assert.equal(m.roofs.length, new Set(Object.values(dev.peakFlopsPerS)).size);
    const fp16 = m.roofs.find((r) => r.dtype.split('/').includes('fp16'));
    assert.ok(fp16);
    // A100-80GB: 312 TFLOP/s dense fp16 over 2.039 TB/s = ~153 FLOP/byte (datasheet figures in devices.json).
    assert.equal(fp16.ridgeIntensity, (dev.peakFlopsPerS.fp16 as number) / dev.memoryBandwidthBytesPerS);
    assert.ok(fp16.ridgeIntensity > 140 && fp16.ridgeIntensity < 170, String(fp16.ridgeIntensity));
    // The polyline climbs the bandwidth slope to the ridge, then stays flat at the peak.
    const [a, b, c] = fp16.points;
    assert.ok(a && b && c);
    assert.equal(a[1], dev.memoryBandwidthBytesPerS * a[0]);
    assert.deepEqual(b, [fp16.ridgeIntensity, dev.peakFlopsPerS.fp16]);
    assert.equal(c[1], dev.peakFlopsPerS.fp16);
  });

  it('places every op at the engine intensity and flops / time, inside the axis domains', () => {
    const plotted = d.result.ops.filter((o) => o.flops > 0 && o.timeS > 0 && o.intensity > 0);
    assert.equal(m.points.length, plotted.length);
    for (const [i, p] of m.points.entries()) {
      const o = plotted[i];
      assert.ok(o);
      assert.equal(p.intensity, o.intensity);
      assert.equal(p.flopsPerS, o.flops / o.timeS);
      assert.ok(p.intensity >= m.xDomain[0] && p.intensity <= m.xDomain[1], `${p.name} x`);
      assert.ok(p.flopsPerS >= m.yDomain[0] && p.flopsPerS <= m.yDomain[1], `${p.name} y`);
      // No op runs above the highest roof of the device it was costed on (tp = 1).
      assert.ok(p.flopsPerS <= Math.max(...d.roofs.peaks.map((x) => x.flopsPerS)), p.name);
    }
  });

  it('decode ops at batch 1 sit left of the fp16 ridge (memory-bound GEMV)', () => {
    const fp16 = m.roofs.find((r) => r.dtype.split('/').includes('fp16'));
    const gemv = m.points.filter((p) => p.phase === 'decode' && p.name === 'mlp_down');
    assert.ok(gemv.length > 0 && fp16);
    for (const p of gemv) assert.ok(p.intensity < fp16.ridgeIntensity / 10, `${p.intensity}`);
  });

  it('time shares and the breakdown add up per phase', () => {
    for (const phase of ['prefill', 'decode'] as const) {
      const share = m.points.filter((p) => p.phase === phase).reduce((s, p) => s + p.timeShare, 0);
      const opsTime = d.result.ops.filter((o) => o.phase === phase).reduce((s, o) => s + o.timeS, 0);
      const b = m.breakdown.find((x) => x.phase === phase);
      assert.ok(b);
      assert.ok(Math.abs(b.totalS - opsTime) <= 1e-12 * opsTime);
      assert.ok(Math.abs(b.parts.reduce((s, p) => s + p.share, 0) - 1) < 1e-9);
      // Shares of plotted points: 1 minus the share of ops without FLOPs (none are dropped silently).
      const unplotted = d.result.ops.filter((o) => o.phase === phase && !(o.flops > 0 && o.timeS > 0 && o.intensity > 0)).reduce((s, o) => s + o.timeS, 0);
      assert.ok(Math.abs(share - (1 - unplotted / opsTime)) < 1e-9, `${phase} share ${share}`);
    }
  });

  it('a larger batch moves decode GEMMs right (batch turns GEMV into GEMM)', () => {
    const m64 = buildChartModel(data('llama-2-7b.json', 'a100-80gb', 64));
    const x1 = m.points.find((p) => p.phase === 'decode' && p.name === 'mlp_up')?.intensity ?? 0;
    const x64 = m64.points.find((p) => p.phase === 'decode' && p.name === 'mlp_up')?.intensity ?? 0;
    assert.ok(x64 > 30 * x1, `batch 64: ${x64} vs batch 1: ${x1}`);
  });

  it('exports one CSV row per op with units in the header', () => {
    const csv = opsCsv(d).trim().split('\n');
    assert.equal(csv[0], 'phase,name,layerGroup,layer,layers,flops,bytes,intensityFlopsPerByte,bound,timeS');
    assert.equal(csv.length, d.result.ops.length + 1);
    const first = d.result.ops[0];
    assert.ok(first);
    assert.equal(csv[1], [first.phase, first.name, '', first.layer ?? '', first.layers, first.flops, first.bytes, first.intensity, first.bound, first.timeS].join(','));
  });
});
