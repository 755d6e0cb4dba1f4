import { inputError } from '../errors';

/**
 * Parsed command line: `positional` arguments and `--name value` / `--flag` options.
 * Each command declares the options it accepts; anything else is an error naming the option.
 */
export class Args {
  readonly positional: string[] = [];
  private readonly options = new Map<string, string | true>();
  private readonly used = new Set<string>();

  /** Options given without a value (`--batch` last, or followed by another option): an error once read. */
  private readonly missingValue = new Set<string>();

  constructor(argv: string[], booleanFlags: readonly string[] = []) {
    const seen = new Set<string>();
    const set = (name: string, value: string | true) => {
      if (seen.has(name)) throw inputError({ field: name, expected: 'the option once (it was given twice)' });
      seen.add(name);
      this.options.set(name, value);
    };
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a.startsWith('--') && a.length > 2) {
        const eq = a.indexOf('=');
        if (eq > 0) {
          set(a.slice(0, eq), a.slice(eq + 1));
        } else if (booleanFlags.includes(a)) {
          set(a, true);
        } else {
          const next = argv[i + 1];
          if (next === undefined || (next.startsWith('--') && next.length > 2)) {
            // Unknown options are reported as such (rejectUnknown); a known one without its value when read.
            set(a, true);
            this.missingValue.add(a);
          } else {
            set(a, next);
            i++;
          }
        }
      } else if (a === '-h' && booleanFlags.includes('--help')) {
        set('--help', true);
      } else if (/^-[A-Za-z]/.test(a)) {
        throw inputError({ field: a, expected: 'an option spelled with two dashes (`ridgeline help <command>` lists them)' });
      } else {
        this.positional.push(a);
      }
    }
  }

  has(name: string): boolean {
    this.used.add(name);
    return this.options.has(name);
  }

  flag(name: string): boolean {
    this.used.add(name);
    return this.options.get(name) === true || this.options.get(name) === 'true';
  }

  str(name: string): string | undefined;
  str(name: string, fallback: string): string;
  str(name: string, fallback?: string): string | undefined {
    this.used.add(name);
    const v = this.options.get(name);
    if (v === undefined) return fallback;
    if (v === true) throw inputError({ field: name, expected: this.missingValue.has(name) ? 'a value after the option' : 'a value' });
    return v;
  }

  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.str(name, fallback);
    if (!(allowed as readonly string[]).includes(v)) {
      throw inputError({ field: name, expected: `one of ${allowed.join(', ')}`, got: v });
    }
    return v as T;
  }

  /** One of `allowed`, or undefined when the option is not given (the caller's default applies later). */
  optionalChoice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    return this.options.has(name) ? this.choice(name, allowed, allowed[0]!) : (this.used.add(name), undefined);
  }

  /** A positive integer option within [min, max]. */
  int(name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    const min = opts.min ?? 1;
    const max = opts.max ?? 1e9;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw inputError({ field: name, expected: `an integer from ${min} to ${max}`, got: raw });
    }
    return n;
  }

  /** An integer option within [min, max], or undefined when it is not given (the caller's default applies later). */
  optionalInt(name: string, opts: { min?: number; max?: number } = {}): number | undefined {
    return this.options.has(name) ? this.int(name, 0, opts) : (this.used.add(name), undefined);
  }

  /** A finite number option within [min, max]. */
  num(name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    const min = opts.min ?? -Infinity;
    const max = opts.max ?? Infinity;
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw inputError({ field: name, expected: `a number from ${min} to ${max}`, got: raw });
    }
    return n;
  }

  /** Throws when more than `max` positional arguments were given; `expected` names what is accepted. */
  positionalAtMost(max: number, expected: string): void {
    if (this.positional.length > max) throw inputError({ field: 'arguments', expected, got: this.positional.join(' ') });
  }

  /** Throws on an option the command did not read: catches typos such as `--bach`. */
  rejectUnknown(): void {
    for (const k of this.options.keys()) {
      if (!this.used.has(k)) throw inputError({ field: k, expected: 'a known option (see `ridgeline help`)' });
    }
  }
}

/** What a command hands back to the CLI shell: text for stdout (or --out) and an exit code. */
export interface CommandOutput {
  text: string;
  exitCode?: number;
  /** Extra lines for stderr (warnings), printed before text. */
  notes?: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  booleanFlags?: readonly string[];
  run(args: Args): Promise<CommandOutput>;
}
