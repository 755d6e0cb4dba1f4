/**
 * Pure mapping from the engine's result to what the roofline chart draws: roof polylines, ridge points,
 * op points and the per-phase time breakdown. No DOM here (unit-tested in Node). Nothing is recomputed:
 * every op's x is the engine's `intensity`, its y is the engine's FLOPs over the engine's time.
 */
import type { OpResult } from '../../engine/analysis';
import type { RooflineData, Roofs } from '../protocol';

export interface RoofLine {
  /** Device id + dtype, e.g. `h100-sxm fp16`. */
  key: string;
  dtype: string;
  measured: boolean;
  /** Intensity (FLOP/byte) where the bandwidth slope meets this ceiling: peak / bandwidth. */
  ridgeIntensity: number;
  peakFlopsPerS: number;
  /** Polyline in (intensity, FLOP/s): [xMin, bw*xMin], [ridge, peak], [xMax, peak]. */
  points: Array<[number, number]>;
}

export interface OpPoint {
  id: string;
  name: string;
  phase: 'prefill' | 'decode';
  layer?: number;
  layers: number;
  /** The op's layer group, for a model with several ("window 4096", "MoE"). */
  layerGroup?: string;
  intensity: number;
  /** Achieved FLOP/s in the model: flops / timeS. */
  flopsPerS: number;
  flops: number;
  bytes: number;
  timeS: number;
  bound: string;
  /** Share of its phase's time, 0..1. */
  timeShare: number;
}

export interface PhaseBreakdown {
  phase: 'prefill' | 'decode';
  totalS: number;
  /** Per op name, summed over layers; largest first. */
  parts: Array<{ name: string; timeS: number; share: number }>;
}

export interface ChartModel {
  roofs: RoofLine[];
  points: OpPoint[];
  /** Axis domains (log scales): [min, max]. */
  xDomain: [number, number];
  yDomain: [number, number];
  breakdown: PhaseBreakdown[];
  /** Distinct op names in graph order: the color key. */
  kinds: string[];
}

const pow10Floor = (v: number): number => 10 ** Math.floor(Math.log10(v));
const pow10Ceil = (v: number): number => 10 ** Math.ceil(Math.log10(v));

/** Dtypes with the same peak share one ceiling (e.g. fp16 and bf16 tensor cores): one line, one label. */
function mergedPeaks(r: Roofs): Array<{ dtype: string; flopsPerS: number }> {
  const by = new Map<number, string[]>();
  for (const p of r.peaks) by.set(p.flopsPerS, [...(by.get(p.flopsPerS) ?? []), p.dtype]);
  return [...by].map(([flopsPerS, dtypes]) => ({ dtype: dtypes.join('/'), flopsPerS }));
}

function roofLines(r: Roofs, xMin: number, xMax: number): RoofLine[] {
  return mergedPeaks(r).map((p) => {
    const ridge = p.flopsPerS / r.bandwidthBytesPerS;
    const lo = Math.min(xMin, ridge);
    return {
      key: `${r.id} ${p.dtype}`,
      dtype: p.dtype,
      measured: r.measured,
      ridgeIntensity: ridge,
      peakFlopsPerS: p.flopsPerS,
      points: [
        [lo, r.bandwidthBytesPerS * lo],
        [ridge, p.flopsPerS],
        [Math.max(xMax, ridge), p.flopsPerS],
      ],
    };
  });
}

/** Ops that can be placed on a log-log chart: positive intensity, FLOPs and time. */
function plottable(o: OpResult): boolean {
  return o.flops > 0 && o.timeS > 0 && o.intensity > 0 && Number.isFinite(o.intensity);
}

export function buildChartModel(d: RooflineData): ChartModel {
  const ops = d.result.ops;
  const phaseTime = { prefill: 0, decode: 0 };
  for (const o of ops) phaseTime[o.phase] += o.timeS;

  const points: OpPoint[] = ops.filter(plottable).map((o, i) => ({
    id: `${o.phase}:${o.name}:${o.layer ?? 'all'}:${i}`,
    name: o.name,
    phase: o.phase,
    layer: o.layer,
    layers: o.layers,
    layerGroup: o.layerGroup,
    intensity: o.intensity,
    flopsPerS: o.flops / o.timeS,
    flops: o.flops,
    bytes: o.bytes,
    timeS: o.timeS,
    bound: o.bound,
    timeShare: phaseTime[o.phase] > 0 ? o.timeS / phaseTime[o.phase] : 0,
  }));

  const kinds: string[] = [];
  for (const o of ops) if (!kinds.includes(o.name)) kinds.push(o.name);

  const allRoofs = [d.roofs, ...(d.measuredRoofs ? [d.measuredRoofs] : [])];
  const ridges = allRoofs.flatMap((r) => r.peaks.map((p) => p.flopsPerS / r.bandwidthBytesPerS));
  const xs = [...points.map((p) => p.intensity), ...ridges];
  const xMin = pow10Floor(Math.max(1e-3, Math.min(...xs, 1) / 2));
  const xMax = pow10Ceil(Math.max(...xs, 10) * 2);
  const roofs = allRoofs.flatMap((r) => roofLines(r, xMin, xMax));
  const ys = [...points.map((p) => p.flopsPerS), ...roofs.flatMap((r) => r.points.map((q) => q[1]))];
  const yMin = pow10Floor(Math.max(1, Math.min(...ys)));
  const yMax = pow10Ceil(Math.max(...ys) * 1.5);

  const breakdown: PhaseBreakdown[] = (['prefill', 'decode'] as const).map((phase) => {
    const byName = new Map<string, number>();
    for (const o of ops) if (o.phase === phase) byName.set(o.name, (byName.get(o.name) ?? 0) + o.timeS);
    const totalS = phaseTime[phase];
    const parts = [...byName]
      .map(([name, timeS]) => ({ name, timeS, share: totalS > 0 ? timeS / totalS : 0 }))
      .sort((a, b) => b.timeS - a.timeS);
    return { phase, totalS, parts };
  });

  return { roofs, points, xDomain: [xMin, xMax], yDomain: [yMin, yMax], breakdown, kinds };
}

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The ops table as CSV (one row per op row of the result), with units in the header names. */
export function opsCsv(d: RooflineData): string {
  const head = ['phase', 'name', 'layerGroup', 'layer', 'layers', 'flops', 'bytes', 'intensityFlopsPerByte', 'bound', 'timeS'];
  const rows = d.result.ops.map((o) =>
    [o.phase, o.name, o.layerGroup, o.layer, o.layers, o.flops, o.bytes, o.intensity, o.bound, o.timeS].map(csvCell).join(','),
  );
  return [head.join(','), ...rows].join('\n') + '\n';
}
