import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Args, Command } from './args';
import { inputError } from '../errors';
import { GOAL_FRACTION, runValidation, validationRows, validationStats, withinTolerance, type ValidationResult, type ValidationStats } from '../cost/validate';
import { renderValidationTable } from '../report/validation';

const USAGE = `ridgeline validate [options]

Predicts every published measurement of a real engine in the validation table (engine/cost/validation.json:
TensorRT-LLM, NIM, vLLM and llama.cpp results, each with its source) and prints measured against predicted,
the error and the row's stated tolerance, then the error statistics overall, per metric and per engine.
Exits 0 when every row is within its stated tolerance, 1 when one is not.

  --samples DIR          folder with the model configs the rows name (default: the repository's samples/)
  --only TEXT            only rows whose id, engine, model or hardware contains TEXT
  --format table|json    output (default table)
  --out FILE             write the output to FILE`;

/** The repository's samples/ folder, next to the bundle's folder (dist/) or two levels up from this file. */
function defaultSamples(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (const c of [join(here, '..', 'samples'), join(here, '..', '..', 'samples'), join(process.cwd(), 'samples')]) {
    if (existsSync(join(c, 'llama-2-7b.json'))) return c;
  }
  return join(here, '..', 'samples');
}

/** Statistics overall, per metric and per engine, in table order. */
function groups(results: readonly ValidationResult[]): [string, ValidationStats][] {
  const out: [string, ValidationStats][] = [['all', validationStats(results)]];
  const by = (key: (r: ValidationResult) => string, prefix: string) => {
    const m = new Map<string, ValidationResult[]>();
    for (const r of results) {
      const k = key(r);
      let list = m.get(k);
      if (!list) m.set(k, (list = []));
      list.push(r);
    }
    for (const [k, list] of m) out.push([`${prefix}${k}`, validationStats(list)]);
  };
  by((r) => r.row.metric, 'metric ');
  by((r) => r.row.engine, '');
  return out;
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'the cost model against published measurements of real engines (TensorRT-LLM, NIM, vLLM, llama.cpp)',
  usage: USAGE,
  async run(args: Args) {
    args.positionalAtMost(0, 'no positional arguments');
    const format = args.choice('--format', ['table', 'json'] as const, 'table');
    const samples = resolve(args.str('--samples') ?? defaultSamples());
    const only = args.str('--only');
    args.rejectUnknown();
    const needed = [...new Set(validationRows().map((r) => r.model))];
    const missing = needed.filter((m) => !existsSync(join(samples, `${m}.json`)));
    if (missing.length > 0) {
      throw inputError({ field: '--samples', expected: `a folder with the model configs the rows name (${needed.map((m) => `${m}.json`).join(', ')})`, got: `${samples} (missing ${missing.join(', ')})` });
    }
    const needle = only?.toLowerCase();
    const filter = needle === undefined ? undefined : (r: { id: string; engine: string; model: string; hardware: string }) => [r.id, r.engine, r.model, r.hardware].some((f) => f.toLowerCase().includes(needle));
    const results = runValidation(samples, undefined, filter);
    if (results.length === 0) throw inputError({ field: '--only', expected: 'text that matches a row id, engine, model or hardware', got: only });
    const outside = results.filter((r) => !withinTolerance(r)).length;
    const exitCode = outside > 0 ? 1 : 0;
    const notes = outside > 0 ? [`${outside} of ${results.length} rows are outside their stated tolerance`] : [];
    if (format === 'json') {
      const rows = results.map((r) => ({
        id: r.row.id, engine: r.row.engine, servingEngine: r.row.servingEngine, params: r.row.params ?? null, source: r.row.source,
        model: r.row.model, hardware: r.row.hardware,
        batch: r.row.batch, promptTokens: r.row.promptTokens, generateTokens: r.row.generateTokens, tp: r.row.tp,
        weights: r.row.weights, activations: r.row.activations, kv: r.row.kv,
        metric: r.row.metric, measured: r.row.measured, predicted: r.predicted, error: r.error,
        toleranceFraction: r.row.toleranceFraction ?? GOAL_FRACTION, withinTolerance: withinTolerance(r), role: r.row.role ?? null,
      }));
      const summary = Object.fromEntries(groups(results));
      return { text: JSON.stringify({ rows, summary }, null, 2), exitCode, notes };
    }
    return { text: renderValidationTable(results, groups(results)), exitCode, notes };
  },
};
