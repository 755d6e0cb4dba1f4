import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Args, Command } from './args';
import { inputError } from '../errors';
import { GOAL_FRACTION, recordedError, runValidation, validationRows, validationStats, withinTolerance, type ValidationResult, type ValidationRow, type ValidationStats } from '../cost/validate';
import { getDevice } from '../hardware/index';
import { servingEngine, servingEngines } from '../cost/engines';
import { renderValidationTable } from '../report/validation';

const USAGE = `ridgeline validate [options]

Predicts every published measurement of a real engine in the validation table (engine/cost/validation.json:
TensorRT-LLM, NIM, vLLM and llama.cpp results, each with its source) and prints measured against predicted,
the error and the row's stated tolerance, then the error statistics overall, per metric and per engine.
Exits 0 when every row is within its stated tolerance, 1 when one is not.

  --samples DIR          folder with the model configs the rows name (default: the repository's samples/)
  --only TEXT            only rows whose id, engine, model or hardware contains TEXT
  --hardware ID          only rows measured on this device id (\`ridgeline hardware\` lists them)
  --engine ID            only rows run with this serving engine profile: ${servingEngines().map((e) => e.id).join(', ')}
  --record               write each row's current error to the table (predictionErrorAtCommit in
                         engine/cost/validation.json), after a change to the cost model; tolerances stay as they are
  --table FILE           the table file --record writes (default: the repository's engine/cost/validation.json)
  --format table|json    output (default table)
  --out FILE             write the output to FILE`;

/** This file's folder (the bundle's dist/ once built). */
const HERE = typeof __dirname === 'string' ? __dirname : process.cwd();

/**
 * A path of the repository checkout, next to the bundle's folder (dist/), two levels up from this file or under
 * the working directory: the first where `probe` (a file under it) exists; null when none has it.
 */
function inRepository(rel: string[], probe: string[] = []): string | null {
  for (const root of [join(HERE, '..'), join(HERE, '..', '..'), process.cwd()]) {
    const c = join(root, ...rel);
    if (existsSync(join(c, ...probe))) return c;
  }
  return null;
}

/** The repository's samples/ folder. */
function defaultSamples(): string {
  return inRepository(['samples'], ['llama-2-7b.json']) ?? join(HERE, '..', 'samples');
}

/** The validation table in the repository (engine/cost/validation.json), found like the samples folder. */
function tablePath(): string {
  const path = inRepository(['engine', 'cost', 'validation.json']);
  if (path === null) throw inputError({ field: '--record', expected: 'a repository checkout with engine/cost/validation.json', got: HERE });
  return path;
}

/**
 * Writes each row's error (rounded to 0.1%, as the table records it) into the table file, in place; other
 * fields and the file's layout stay as they are.
 */
function recordErrors(results: readonly ValidationResult[], path: string): void {
  let table: { rows: ValidationRow[] };
  try {
    table = JSON.parse(readFileSync(path, 'utf8')) as { rows: ValidationRow[] };
  } catch (e) {
    throw inputError({ field: '--table', expected: 'a readable validation table (JSON with rows)', got: `${path}: ${(e as Error).message}` });
  }
  if (!Array.isArray(table?.rows)) throw inputError({ field: '--table', expected: 'a validation table: { "rows": [...] }', got: path });
  const byId = new Map(table.rows.map((r) => [r.id, r]));
  for (const r of results) {
    const row = byId.get(r.row.id);
    if (!row) throw inputError({ field: '--table', expected: `the table the CLI was built with (${path} lacks row ${r.row.id}; run \`npm run build\`)`, got: path });
    row.predictionErrorAtCommit = recordedError(r.error);
  }
  writeFileSync(path, JSON.stringify(table, null, 1) + '\n');
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
  booleanFlags: ['--record'],
  async run(args: Args) {
    args.positionalAtMost(0, 'no positional arguments');
    const format = args.choice('--format', ['table', 'json'] as const, 'table');
    const samples = resolve(args.str('--samples') ?? defaultSamples());
    const only = args.str('--only');
    const hardwareArg = args.str('--hardware');
    const engineArg = args.str('--engine');
    const record = args.flag('--record');
    const tableArg = args.str('--table');
    args.rejectUnknown();
    if (tableArg !== undefined && !record) throw inputError({ field: '--table', expected: 'with --record (the file it writes)', got: tableArg });
    const hardware = hardwareArg === undefined ? undefined : getDevice(hardwareArg).id;
    const engine = engineArg === undefined ? undefined : servingEngine(engineArg).id;
    const needed = [...new Set(validationRows().map((r) => r.model))];
    const missing = needed.filter((m) => !existsSync(join(samples, `${m}.json`)));
    if (missing.length > 0) {
      throw inputError({ field: '--samples', expected: `a folder with the model configs the rows name (${needed.map((m) => `${m}.json`).join(', ')})`, got: `${samples} (missing ${missing.join(', ')})` });
    }
    const needle = only?.toLowerCase();
    const filter = (r: ValidationRow) =>
      (needle === undefined || [r.id, r.engine, r.model, r.hardware].some((f) => f.toLowerCase().includes(needle))) &&
      (hardware === undefined || r.hardware === hardware) &&
      (engine === undefined || r.servingEngine === engine);
    const results = runValidation(samples, undefined, filter);
    if (results.length === 0) {
      const field = only !== undefined ? '--only' : hardware !== undefined ? '--hardware' : '--engine';
      const onlyText = hardware === undefined && engine === undefined;
      throw inputError({ field, expected: onlyText ? 'text that matches a row id, engine, model or hardware' : 'filters that some row of the table matches (`ridgeline validate` lists them all)', got: [only, hardwareArg, engineArg].filter((x) => x !== undefined).join(' ') });
    }
    const table = record ? (tableArg === undefined ? tablePath() : resolve(tableArg)) : undefined;
    if (table !== undefined) recordErrors(results, table);
    const outside = results.filter((r) => !withinTolerance(r)).length;
    const exitCode = outside > 0 ? 1 : 0;
    const notes = outside > 0 ? [`${outside} of ${results.length} rows are outside their stated tolerance`] : [];
    if (record) notes.push(`recorded the errors of ${results.length} rows in ${table}; run \`npm run build\` for the bundled CLI to read them`);
    if (format === 'json') {
      const rows = results.map((r) => ({
        id: r.row.id, engine: r.row.engine, servingEngine: r.row.servingEngine, params: r.row.params ?? null, source: r.row.source,
        model: r.row.model, hardware: r.row.hardware,
        batch: r.row.batch, promptTokens: r.row.promptTokens, cachedPromptTokens: r.row.cachedPromptTokens ?? 0, generateTokens: r.row.generateTokens, tp: r.row.tp,
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
