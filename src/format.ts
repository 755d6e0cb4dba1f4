/** Display formatting for editor text (lenses, hovers, messages). Binary units for bytes. */
import { fmtRate } from '../engine/report/format';

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  const units: Array<[number, string]> = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  // A value that rounds up to 1024 of a unit is shown in the next one (1 GiB, not 1024 MiB).
  for (const [u, name] of units) if (a >= u * ROUNDS_UP) return `${trim(n / u)} ${name}`;
  return `${Math.round(n)} B`;
}

/** The share of a unit from which trim() rounds to 1000 (or 1024) of the unit below. */
const ROUNDS_UP = 0.9995;

export function count(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  // 999,885,952 is "1 B", not "1000 M".
  if (a >= 1e12 * ROUNDS_UP) return `${trim(n / 1e12)} T`;
  if (a >= 1e9 * ROUNDS_UP) return `${trim(n / 1e9)} B`;
  if (a >= 1e6 * ROUNDS_UP) return `${trim(n / 1e6)} M`;
  if (a >= 1e3 * ROUNDS_UP) return `${trim(n / 1e3)} K`;
  return String(Math.round(n));
}

export function seconds(s: number): string {
  if (!Number.isFinite(s)) return 'n/a';
  const a = Math.abs(s);
  if (a >= 3600) return `${trim(s / 3600)} h`;
  if (a >= 1) return `${trim(s)} s`;
  if (a >= 1e-3) return `${trim(s * 1e3)} ms`;
  if (a >= 1e-6) return `${trim(s * 1e6)} µs`;
  return `${trim(s * 1e9)} ns`;
}

export function rate(perS: number, unit: string): string {
  if (!Number.isFinite(perS)) return 'n/a';
  if (perS >= 1e12) return `${trim(perS / 1e12)} T${unit}/s`;
  if (perS >= 1e9) return `${trim(perS / 1e9)} G${unit}/s`;
  if (perS >= 1e6) return `${trim(perS / 1e6)} M${unit}/s`;
  if (perS >= 1e3) return `${trim(perS / 1e3)} K${unit}/s`;
  return `${trim(perS)} ${unit}/s`;
}

export function tokensPerS(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  // Whole numbers from 100 up, three significant digits below (a slow device's 0.0283 tok/s), as the CLI's reports.
  return `${fmtRate(n, 0)} tok/s`;
}

/** Signed difference with the same formatter, e.g. "-64 MiB", "+1.2 ms". */
export function delta(d: number, fmt: (n: number) => string): string {
  if (d === 0) return 'no change';
  return `${d > 0 ? '+' : '-'}${fmt(Math.abs(d))}`;
}

export function percent(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  const p = ratio * 100;
  return `${p > 0 ? '+' : ''}${Math.abs(p) >= 10 ? Math.round(p) : p.toFixed(1)}%`;
}

function trim(x: number): string {
  const a = Math.abs(x);
  const s = a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
