/**
 * Errors the user can act on. The CLI prints `message` as one line and exits with `exitCode`;
 * the extension shows it as a notification or diagnostic. Never carries a stack trace to the user.
 */
export class RidgelineError extends Error {
  /** 2 = bad input (file, field, option); 3 = no GPU adapter; 1 = anything else. */
  readonly exitCode: number;
  /** File the problem is in, when there is one. */
  readonly file?: string;
  /** Field or option name, when there is one (e.g. `num_hidden_layers`, `--batch`). */
  readonly field?: string;

  constructor(message: string, opts: { exitCode?: number; file?: string; field?: string } = {}) {
    super(message);
    this.name = 'RidgelineError';
    this.exitCode = opts.exitCode ?? 2;
    this.file = opts.file;
    this.field = opts.field;
  }
}

/** Bad input: names the file (if any), the field and what was expected. Exit code 2. */
export function inputError(what: { file?: string; field?: string; expected: string; got?: unknown }): RidgelineError {
  const where = [what.file, what.field].filter(Boolean).join(': ');
  const got = what.got === undefined ? '' : ` (got ${formatGot(what.got)})`;
  return new RidgelineError(`${where ? where + ': ' : ''}expected ${what.expected}${got}`, {
    exitCode: 2,
    file: what.file,
    field: what.field,
  });
}

function formatGot(v: unknown): string {
  // JSON.stringify writes Infinity and NaN (a JSON number too large for a double, such as 1e400) as null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
  } catch {
    return String(v);
  }
}
