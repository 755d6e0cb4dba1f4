/** Number formatting shared by the renderers. Never prints NaN: non-finite values print as `n/a`. */

export function fmtSi(v: number, unit = '', digits = 3): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  const steps: [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [f, p] of steps) if (a >= f) return `${(v / f).toPrecision(digits)} ${p}${unit}`;
  return `${Number(v.toPrecision(digits))} ${unit}`.trim();
}

export function fmtBytes(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  const steps: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [f, p] of steps) if (a >= f) return `${(v / f).toFixed(2)} ${p}`;
  return `${Math.round(v)} B`;
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return 'n/a';
  const a = Math.abs(s);
  // A software adapter's prefill can take hours: 3.58 h, not 12903.321 s.
  if (a >= 3600) return `${(s / 3600).toFixed(2)} h`;
  if (a >= 1) return `${s.toFixed(3)} s`;
  if (a >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  if (a >= 1e-6) return `${(s * 1e6).toFixed(2)} us`;
  return `${(s * 1e9).toFixed(1)} ns`;
}

export function fmtPct(f: number): string {
  return Number.isFinite(f) ? `${(f * 100).toFixed(1)}%` : 'n/a';
}

export function fmtNum(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * A rate (tokens/s): `digits` decimals from 100 up, three significant digits below, so a slow device's 0.0127 tok/s
 * does not read 0.0.
 */
export function fmtRate(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return fmtNum(0, digits);
  const a = Math.abs(v);
  if (a < 1e-3) return v.toExponential(2);
  // Three significant digits, unless they round to 100 or more (99.96 reads as 100.0, like 100).
  const three = Number(v.toPrecision(3));
  return Math.abs(three) >= 100 ? fmtNum(v, digits) : three.toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

export function fmtInt(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
}

/** Left-aligned text table with a header rule; numeric-looking columns right-aligned. */
export function textTable(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const right = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+\s?\S*%?$|^n\/a$|^-$/.test(r[i] ?? '')));
  const line = (cells: string[]) => cells.map((c, i) => (right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
