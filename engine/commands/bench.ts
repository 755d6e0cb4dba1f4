import { totalmem } from 'node:os';
import type { Command } from './args';
import { KERNELS } from '../gpu/kernels';
import { saveMeasuredDevice } from '../gpu/measured';
import { type BenchResult, runBench, toMeasuredDevice } from '../gpu/microbench';
import { closeNodeGpu, nodeRunner } from '../gpu/node';
import { inputError } from '../errors';

const USAGE = `ridgeline bench [--only NAME] [--format table|json] [--quick | --full] [--no-save] [--out FILE]

Measures this machine through WebGPU: stream bandwidth, peak FLOP/s per dtype (FMA chains), dispatch
overhead, then the engine's kernels (each verified against its CPU reference). Saves the result as the
device "this" (ridgeline analyze --hardware this) unless --only or --no-save is given.
  --only NAME   one kernel: ${KERNELS.map((k) => k.name).join(', ')}
  --quick       smaller shapes (gemm-f32 stays 512x512x512); the default on software adapters
  --full        full-size shapes even on a software adapter
Exits 3 when there is no WebGPU adapter.`;

function fmt(x: number, unit: string): string {
  const prefixes: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [v, p] of prefixes) if (Math.abs(x) >= v) return `${(x / v).toFixed(2)} ${p}${unit}`;
  return `${x.toFixed(2)} ${unit}`;
}

function table(b: BenchResult): string {
  const a = b.adapter;
  const lines = [
    `adapter: ${a.vendor} ${a.architecture} ${a.description}${a.isFallback ? ' (software fallback)' : ''}`,
    `bandwidth: ${fmt(b.roofs.bandwidthBytesPerS, 'B/s')}   peak f32: ${fmt(b.roofs.peakFlopsPerS.f32, 'FLOP/s')}` +
      (b.roofs.peakFlopsPerS.f16 ? `   peak f16: ${fmt(b.roofs.peakFlopsPerS.f16, 'FLOP/s')}` : '   f16: not available') +
      `   dispatch: ${(b.roofs.dispatchOverheadS * 1e6).toFixed(1)} us`,
    '',
    ['kernel', 'shape', 'time', 'FLOP/s', 'B/s', 'check'].join('\t'),
  ];
  const rows = b.kernels.map((k) => [
    k.name,
    Object.entries(k.shape)
      .map(([n, v]) => `${n}=${v}`)
      .join(' '),
    `${(k.timeS * 1e3).toFixed(3)} ms`,
    fmt(k.flopsPerS, 'FLOP/s'),
    fmt(k.bytesPerS, 'B/s'),
    k.verified ? `ok (max err ${k.maxAbsError.toExponential(1)})` : `FAILED (max err ${k.maxAbsError.toExponential(1)} > ${k.tolerance.toExponential(1)})`,
  ]);
  const all = [lines[3]!.split('\t'), ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const out = all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  const eff = Object.entries(b.efficiency)
    .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
    .join(', ');
  return [...lines.slice(0, 3), ...out, '', `efficiency vs measured roofs: ${eff || '(none from these kernels)'}`].join('\n');
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure this machine through WebGPU (roofs, kernels); saves the device "this"',
  usage: USAGE,
  booleanFlags: ['--quick', '--full', '--no-save'],
  async run(args) {
    const only = args.str('--only');
    const format = args.choice('--format', ['table', 'json'] as const, 'table');
    const quickFlag = args.flag('--quick');
    const full = args.flag('--full');
    const noSave = args.flag('--no-save');
    args.str('--out');
    args.rejectUnknown();
    if (quickFlag && full) throw inputError({ field: '--full', expected: 'either --quick or --full, not both' });
    const { runner, notes } = await nodeRunner();
    try {
      const quick = quickFlag ? true : full ? false : undefined;
      const result = await runBench(runner, { quick, only });
      if (quick === undefined && result.quick) notes.push('software adapter: quick shapes (--full for full-size shapes)');
      if (!only && !noSave) {
        const memoryBytes = result.adapter.isFallback ? totalmem() : (runner.report.limits.maxBufferSize ?? totalmem());
        const path = saveMeasuredDevice(toMeasuredDevice(result, { memoryBytes }));
        notes.push(`saved the measured device "this" to ${path}`);
      }
      const failed = result.kernels.filter((k) => !k.verified).map((k) => k.name);
      if (failed.length) notes.push(`kernels that did not match their CPU reference: ${failed.join(', ')}`);
      return {
        text: format === 'json' ? JSON.stringify(result, null, 2) : table(result),
        notes,
        exitCode: failed.length ? 1 : 0,
      };
    } finally {
      runner.destroy();
      closeNodeGpu();
    }
  },
};
