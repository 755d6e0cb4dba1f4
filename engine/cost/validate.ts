import { join } from 'node:path';
import type { AnalysisResult } from '../analysis';
import type { OpClass, Workload } from '../model/types';
import { loadConfigFile } from '../model/parse';
import { withPrefixHit } from '../model/graph';
import { getDevice } from '../hardware/index';
import { analyze } from '../analyze';
import { defaultCostParams, type ClassEfficiency, type CostParams } from './params';
import data from './validation.json';
import { GOAL_FRACTION, medianOfSorted, recordedError, withinGoal } from './evidence';

export { GOAL_FRACTION, recordedError, withinGoal };

/** One published measurement of a real engine (engine/cost/validation.json). */
export interface ValidationRow {
  id: string;
  engine: string;
  source: string;
  model: string;
  hardware: string;
  batch: number;
  promptTokens: number;
  /** Prompt tokens per sequence the run served from the engine's prefix cache (Workload.cachedPromptTokens). */
  cachedPromptTokens?: number;
  generateTokens: number;
  tp: number;
  weights: string;
  activations: string;
  kv: string;
  metric: 'ttftS' | 'tpotS' | 'outputTokensPerS' | 'outputTokensPerSPerDevice' | 'e2eS';
  measured: number;
  role?: 'calibration' | 'holdout';
  toleranceFraction?: number;
  /** The model's error on this row, (predicted - measured) / measured rounded to 0.1%, as of the table's last change. */
  predictionErrorAtCommit?: number;
  /** The engine's profile (engine/cost/engines.json): its cost parameters over the defaults. */
  servingEngine: string;
  /**
   * Cost-model settings of the row's own release over the profile's (e.g. its decode attention kernel); `efficiency`
   * names only the classes and sides it changes.
   */
  params?: RowParams;
  notes?: string;
}

export interface ValidationResult {
  row: ValidationRow;
  predicted: number;
  /** (predicted - measured) / measured. */
  error: number;
}

export function validationRows(): ValidationRow[] {
  return (data as unknown as { rows: ValidationRow[] }).rows;
}

/** The metric a row checks, read from an analysis. */
export function metricOf(r: AnalysisResult, metric: ValidationRow['metric']): number {
  switch (metric) {
    case 'ttftS': return r.prefill.timeS;
    case 'tpotS': return r.decode.timeS;
    case 'outputTokensPerS': return r.e2e.outputTokensPerS;
    case 'outputTokensPerSPerDevice': return r.e2e.outputTokensPerS / r.workload.tp;
    case 'e2eS': return r.e2e.timeS;
  }
}

/** A row's release settings: cost parameters, with `efficiency` given per class and side. */
export type RowParams = Partial<Omit<CostParams, 'efficiency'>> & { efficiency?: Partial<Record<OpClass, Partial<ClassEfficiency>>> };

/** The row's engine settings over the caller's parameters (dtype scales merged per dtype, efficiencies per class and side). */
export function withRowParams(params: Partial<CostParams> | undefined, row: RowParams): Partial<CostParams> {
  const { efficiency, ...rest } = row;
  const out: Partial<CostParams> = { ...params, ...rest };
  if (row.dtypeComputeScale) out.dtypeComputeScale = { ...(params?.dtypeComputeScale ?? defaultCostParams().dtypeComputeScale), ...row.dtypeComputeScale };
  if (efficiency) {
    const base = params?.efficiency ?? defaultCostParams().efficiency;
    const merged = { ...base };
    for (const [cls, e] of Object.entries(efficiency) as Array<[OpClass, Partial<ClassEfficiency>]>) {
      if (!(cls in base)) throw new Error(`validation row params: no op class '${cls}' in efficiency`);
      merged[cls] = { ...base[cls], ...e };
    }
    out.efficiency = merged;
  }
  return out;
}

/** Predicts every row, or the rows `filter` keeps (samplesDir: the repository's samples/ folder). */
export function runValidation(samplesDir: string, params?: Partial<CostParams>, filter?: (row: ValidationRow) => boolean): ValidationResult[] {
  return validationRows().filter((row) => !filter || filter(row)).map((row) => {
    const spec = loadConfigFile(join(samplesDir, `${row.model}.json`));
    const w: Workload = withPrefixHit({
      batch: row.batch, promptTokens: row.promptTokens, generateTokens: row.generateTokens,
      weights: row.weights, activations: row.activations, kv: row.kv, tp: row.tp,
    }, row.cachedPromptTokens);
    const r = analyze(spec, w, getDevice(row.hardware), {
      servingEngine: row.servingEngine,
      params: row.params ? withRowParams(params, row.params) : params,
      sweeps: false,
    });
    const predicted = metricOf(r, row.metric);
    return { row, predicted, error: (predicted - row.measured) / row.measured };
  });
}

/** Error statistics over a set of rows: |error| median and max, rows within 15% and within their own tolerance. */
export interface ValidationStats {
  rows: number;
  medianAbsError: number;
  maxAbsError: number;
  within15: number;
  withinTolerance: number;
}

export function validationStats(results: readonly ValidationResult[]): ValidationStats {
  // Errors at the 0.1% the table records them in, as the evidence of every analysis reads them: the same median
  // from `validate` and from `analyze`'s evidence line.
  const errs = results.map((r) => Math.abs(recordedError(r.error))).sort((a, b) => a - b);
  const n = errs.length;
  return {
    rows: n,
    // The mean of two 0.1% values, without float noise (0.0565, not 0.056499999999999995).
    medianAbsError: Math.round(medianOfSorted(errs) * 1e4) / 1e4,
    maxAbsError: n === 0 ? 0 : errs[n - 1]!,
    within15: errs.filter(withinGoal).length,
    withinTolerance: results.filter(withinTolerance).length,
  };
}

/** True when the row's prediction is within its stated tolerance (the goal when it states none). */
export function withinTolerance(r: ValidationResult): boolean {
  // At the 0.1% errors are stated in, as "within 15%" judges them.
  return Math.abs(recordedError(r.error)) <= (r.row.toleranceFraction ?? GOAL_FRACTION);
}
