/** Display formatting shared by the webviews. Units follow the value's name (bytes, seconds, FLOP/s). */
import { fmtRate } from '../../engine/report/format';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  const sign = bytes < 0 ? '-' : '';
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${sign}${u === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${BYTE_UNITS[u]}`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '–';
  const a = Math.abs(s);
  if (a >= 3600) return `${(s / 3600).toFixed(2)} h`;
  if (a >= 1) return `${s.toFixed(a >= 100 ? 0 : 2)} s`;
  if (a >= 1e-3) return `${(s * 1e3).toFixed(a >= 0.1 ? 0 : 2)} ms`;
  if (a >= 1e-6) return `${(s * 1e6).toFixed(a >= 1e-4 ? 0 : 2)} µs`;
  return `${(s * 1e9).toFixed(1)} ns`;
}

const SI = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
] as const;

/** 3 significant digits with an SI prefix: 989e12 -> "989 T". */
export function formatSi(v: number): string {
  if (!Number.isFinite(v)) return '–';
  for (const [f, p] of SI) if (Math.abs(v) >= f) return `${trim(v / f)} ${p}`;
  return trim(v);
}

function trim(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export const formatFlopsPerS = (v: number): string => `${formatSi(v)}FLOP/s`;
export const formatBytesPerS = (v: number): string => `${formatSi(v)}B/s`;

/** Tokens per second: one decimal from 100 up, three significant digits below (a slow device's 0.0283, not 0.0), as the CLI's reports. */
export const formatRate = (v: number): string => fmtRate(v, 1);

export function formatTokens(n: number): string {
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}k`;
  return String(n);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
