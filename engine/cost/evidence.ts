import type { Device } from '../hardware/types';
import { isBuiltInDevice } from '../hardware/index';
import data from './validation.json';

/** The goal of the cost model: every prediction within 15% of the published measurement. */
export const GOAL_FRACTION = 0.15;

/** An error (predicted - measured) / measured as the validation table records it: rounded to 0.1% (no -0). */
export function recordedError(errorFraction: number): number {
  return Math.round(errorFraction * 1000) / 1000 || 0;
}

/**
 * Whether an error meets the goal, judged at the 0.1% the table states errors in (a +15.04% error reads +15.0%):
 * the same answer from a live prediction and from a row's recorded error.
 */
export function withinGoal(errorFraction: number): boolean {
  return Math.abs(recordedError(errorFraction)) <= GOAL_FRACTION;
}

/** The median of values sorted ascending; 0 for none. */
export function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  return n === 0 ? 0 : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Rows and how many of them the model predicts within GOAL_FRACTION. */
export interface EvidenceCount {
  rows: number;
  within15: number;
}

/** How the cost model fares against the validation table's published measurements on some slice of it. */
export interface EvidenceStats extends EvidenceCount {
  /** Median |predicted - measured| / measured over the rows (0 when there are none). */
  medianAbsError: number;
  /** By what the row measures: time to first token, time per output token, end to end (throughput or batch latency). */
  byMetric: { ttft: EvidenceCount; tpot: EvidenceCount; e2e: EvidenceCount };
}

/**
 * What backs an analysis: the rows of the validation table (engine/cost/validation.json) on its device, and
 * those of them run with its serving engine profile. Figures are the errors each row records, which the
 * validation test keeps equal to the model's current ones.
 */
export interface Evidence {
  /** Rows on this device, any engine; null when the device is not the database's (measured, user-defined or edited). */
  hardware: EvidenceStats | null;
  /**
   * Rows on this device run with the analysis's serving engine profile (no profile: the defaults, which are the
   * TensorRT-LLM profile); null when hardware is.
   */
  servingEngine: (EvidenceStats & { id: string }) | null;
}

interface Row {
  hardware: string;
  servingEngine: string;
  metric: string;
  predictionErrorAtCommit?: number;
}

/** The profile whose rows stand for the cost model's defaults (its parameters are the defaults). */
const DEFAULTS_ENGINE = 'tensorrt-llm';

function metricGroup(metric: string): keyof EvidenceStats['byMetric'] {
  if (metric === 'ttftS') return 'ttft';
  if (metric === 'tpotS') return 'tpot';
  return 'e2e';
}

function stats(rows: readonly Row[]): EvidenceStats {
  const byMetric = { ttft: { rows: 0, within15: 0 }, tpot: { rows: 0, within15: 0 }, e2e: { rows: 0, within15: 0 } };
  const errs: number[] = [];
  for (const r of rows) {
    const e = Math.abs(r.predictionErrorAtCommit ?? Number.NaN);
    errs.push(e);
    const g = byMetric[metricGroup(r.metric)];
    g.rows++;
    if (withinGoal(e)) g.within15++;
  }
  errs.sort((a, b) => a - b);
  const within15 = byMetric.ttft.within15 + byMetric.tpot.within15 + byMetric.e2e.within15;
  // Shared by every analysis of the device: read-only.
  for (const g of Object.values(byMetric)) Object.freeze(g);
  return Object.freeze({ rows: errs.length, within15, medianAbsError: Math.round(medianOfSorted(errs) * 1e4) / 1e4, byMetric: Object.freeze(byMetric) });
}

/** Per device id, then per engine id; built on first use (analyze() runs in slider loops). */
let index: Map<string, { all: EvidenceStats; byEngine: Map<string, EvidenceStats> }> | null = null;
const NONE = stats([]);

function build(): NonNullable<typeof index> {
  const byDevice = new Map<string, Row[]>();
  for (const r of (data as unknown as { rows: Row[] }).rows) {
    let list = byDevice.get(r.hardware);
    if (!list) byDevice.set(r.hardware, (list = []));
    list.push(r);
  }
  const out: NonNullable<typeof index> = new Map();
  for (const [id, rows] of byDevice) {
    const byEngine = new Map<string, EvidenceStats>();
    for (const e of new Set(rows.map((r) => r.servingEngine))) byEngine.set(e, stats(rows.filter((r) => r.servingEngine === e)));
    out.set(id, { all: stats(rows), byEngine });
  }
  return out;
}

/** The evidence behind an analysis of `device` with the serving engine profile `engineId` (null: the defaults). */
export function evidenceFor(device: Device, engineId: string | null): Evidence {
  if (!isBuiltInDevice(device)) return { hardware: null, servingEngine: null };
  index ??= build();
  const entry = index.get(device.id);
  const id = engineId ?? DEFAULTS_ENGINE;
  return {
    hardware: entry?.all ?? NONE,
    servingEngine: { id, ...(entry?.byEngine.get(id) ?? NONE) },
  };
}
