import { GOAL_FRACTION, withinGoal, withinTolerance, type ValidationResult, type ValidationStats } from '../cost/validate';
import { fmtInt, fmtTime, textTable } from './format';

/** A measured or predicted value in the metric's unit. */
function fmtMetric(metric: string, v: number): string {
  if (metric === 'outputTokensPerS') return `${fmtInt(v)} tok/s`;
  if (metric === 'outputTokensPerSPerDevice') return `${fmtInt(v)} tok/s/GPU`;
  return fmtTime(v);
}

function pct(f: number): string {
  return `${f >= 0 ? '+' : ''}${(f * 100).toFixed(1)}%`;
}

function statsLine(label: string, s: ValidationStats): string[] {
  return [label, String(s.rows), `${(s.medianAbsError * 100).toFixed(1)}%`, `${(s.maxAbsError * 100).toFixed(1)}%`, String(s.within15), String(s.withinTolerance)];
}

/**
 * One line per published measurement (predicted against measured, error, the row's tolerance), then the error
 * statistics overall and per group.
 */
export function renderValidationTable(results: readonly ValidationResult[], groups: readonly [string, ValidationStats][]): string {
  const rows = results.map((r) => {
    const tol = r.row.toleranceFraction ?? GOAL_FRACTION;
    return [
      r.row.id,
      r.row.metric,
      fmtMetric(r.row.metric, r.row.measured),
      fmtMetric(r.row.metric, r.predicted),
      pct(r.error),
      `${(tol * 100).toFixed(0)}%`,
      withinTolerance(r) ? (withinGoal(r.error) ? 'ok' : 'known miss') : 'OUT',
    ];
  });
  return [
    'Published measurements of real engines (engine/cost/validation.json) against the cost model. error = (predicted - measured) / measured;',
    'tolerance: the row\'s stated bound (15% where the model reaches it); known miss = over 15%, within that bound; OUT = outside it.',
    '',
    textTable(['row', 'metric', 'measured', 'predicted', 'error', 'tolerance', 'status'], rows),
    '',
    textTable(['rows', 'count', 'median |error|', 'max |error|', 'within 15%', 'within tolerance'], groups.map(([label, s]) => statsLine(label, s))),
  ].join('\n');
}
