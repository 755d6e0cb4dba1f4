import { inputError } from '../errors';
import { parseJsonInput } from '../textfile';

/**
 * Typed, validated reads from a raw Hugging Face `config.json` object. Every failure is one line naming
 * the file, the field and what was expected.
 */

/** Upper bounds that catch absurd sizes (typos, overflow) long before they turn into NaN or Infinity. */
export const LIMITS = {
  layers: 10_000,
  hidden: 1 << 20,
  heads: 1 << 16,
  headDim: 1 << 14,
  vocab: 1 << 24,
  intermediate: 1 << 22,
  experts: 1 << 16,
  positions: 1 << 30,
  window: 1 << 30,
} as const;

export class ConfigReader {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly file: string | undefined,
    /** Prefix of field names in messages (`text_config.` when reading a nested language-model config). */
    readonly prefix = '',
  ) {}

  /** The field's name as the user sees it in the file. */
  name(field: string): string {
    return this.prefix + field;
  }

  has(field: string): boolean {
    const v = this.raw[field];
    return v !== undefined && v !== null;
  }

  /** First of `fields` that is present (not undefined/null), or undefined. */
  pick(fields: readonly string[]): string | undefined {
    for (const f of fields) if (this.has(f)) return f;
    return undefined;
  }

  /** A required positive integer in [min, max], read from the first present alias. */
  int(fields: string | readonly string[], max: number, min = 1): number {
    const list = typeof fields === 'string' ? [fields] : fields;
    const f = this.pick(list);
    if (f === undefined) {
      throw inputError({
        file: this.file,
        field: this.name(list[0]!),
        expected: `an integer from ${min} to ${max} (required field is missing${list.length > 1 ? `; also looked for ${list.slice(1).join(', ')}` : ''})`,
      });
    }
    return this.checkInt(f, this.raw[f], min, max);
  }

  /** An optional integer: `fallback` when absent or null. */
  optInt<T extends number | null>(fields: string | readonly string[], max: number, fallback: T, min = 1): number | T {
    const list = typeof fields === 'string' ? [fields] : fields;
    const f = this.pick(list);
    if (f === undefined) return fallback;
    return this.checkInt(f, this.raw[f], min, max);
  }

  checkInt(field: string, v: unknown, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw inputError({ file: this.file, field: this.name(field), expected: `an integer from ${min} to ${max}`, got: v });
    }
    return v;
  }

  /** An optional finite number in [min, max]. */
  optNum<T extends number | null>(field: string, fallback: T, min = -Infinity, max = Infinity): number | T {
    if (!this.has(field)) return fallback;
    const v = this.raw[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      const range = max === Infinity ? (min === -Infinity ? 'a finite number' : `a finite number of at least ${min}`) : `a number from ${min} to ${max}`;
      throw inputError({ file: this.file, field: this.name(field), expected: range, got: v });
    }
    return v;
  }

  optBool(field: string, fallback: boolean): boolean {
    if (!this.has(field)) return fallback;
    const v = this.raw[field];
    if (typeof v !== 'boolean') throw inputError({ file: this.file, field: this.name(field), expected: 'true or false', got: v });
    return v;
  }

  optStr(field: string, fallback: string): string {
    if (!this.has(field)) return fallback;
    const v = this.raw[field];
    if (typeof v !== 'string') throw inputError({ file: this.file, field: this.name(field), expected: 'a string', got: v });
    return v;
  }

  /** An optional list of non-negative integers (e.g. Qwen2-MoE `mlp_only_layers`). */
  optIntList(field: string, max: number): number[] {
    if (!this.has(field)) return [];
    const v = this.raw[field];
    if (!Array.isArray(v)) throw inputError({ file: this.file, field: this.name(field), expected: 'a list of layer indices', got: v });
    for (const x of v) this.checkInt(field, x, 0, max);
    return v as number[];
  }

  /** An optional list of strings (e.g. `layer_types`). */
  optStrList(field: string): string[] | null {
    if (!this.has(field)) return null;
    const v = this.raw[field];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      throw inputError({ file: this.file, field: this.name(field), expected: 'a list of strings', got: v });
    }
    return v as string[];
  }

  fail(field: string, expected: string, got?: unknown): never {
    throw inputError({ file: this.file, field: this.name(field), expected, got });
  }
}

/** Parses a config.json's text; a syntax error becomes one line naming the file, line and column. */
export function parseJsonText(text: string, file: string | undefined): unknown {
  return parseJsonInput(text, file ?? 'config', 'a Hugging Face config.json');
}
