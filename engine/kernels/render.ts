/** Plain-text table of a kernel report for `ridgeline kernels --format table`. */
import type { KernelFileReport } from './types';

function si(n: number, unit: string): string {
  const p = [['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]] as const;
  for (const [s, v] of p) if (Math.abs(n) >= v) return `${(n / v).toPrecision(3)} ${s}${unit}`;
  return `${n.toPrecision(3)} ${unit}`;
}

function time(s: number): string {
  if (s >= 1) return `${s.toPrecision(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${(s * 1e6).toPrecision(3)} us`;
}

export function renderKernelTable(r: KernelFileReport): string {
  const lines: string[] = [];
  const dims = Object.entries(r.dims).map(([k, v]) => `${k}=${v}`).join(' ');
  lines.push(`${r.file} (${r.language})${dims ? `  dims: ${dims}` : ''}`);
  if (r.kernels.length === 0) lines.push('  no kernels found');
  const rows: string[][] = [['kernel', 'line', 'threads', 'shared', 'FLOPs', 'bytes', 'FLOP/B', 'bound', 'time']];
  for (const k of r.kernels) {
    const e = k.estimate;
    rows.push([
      k.name,
      String(k.line),
      k.workgroupSize ? k.workgroupSize.join('x') : '?',
      k.sharedMemoryBytes === null ? '?' : `${k.sharedMemoryBytes} B`,
      e ? si(e.flops, '') : '-',
      e ? si(e.bytes, 'B') : '-',
      e ? e.intensity.toFixed(2) : '-',
      e?.device ? e.device.bound : '-',
      e?.device ? time(e.device.timeS) : '-',
    ]);
  }
  if (r.kernels.length) {
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) lines.push('  ' + row.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
  }
  for (const k of r.kernels) {
    if (k.occupancy) lines.push(`  ${k.name}: occupancy <= ${(k.occupancy.occupancy * 100).toFixed(0)}% (${k.occupancy.blocksPerSm} blocks/SM, limited by ${k.occupancy.limitedBy})`);
    if (!k.estimate && k.estimateUnavailable) lines.push(`  ${k.name}: no estimate: ${k.estimateUnavailable}`);
  }
  if (r.diagnostics.length) {
    lines.push('', 'diagnostics:');
    for (const d of r.diagnostics) lines.push(`  ${r.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`);
  }
  return lines.join('\n');
}
