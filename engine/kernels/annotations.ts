/**
 * `ridgeline:` annotation comments. One comment line (`//` in CUDA/WGSL, `#` in Python) holds
 * space-separated `key=value` pairs:
 *
 *   // ridgeline: M=4096 N=4096 K=4096          problem dims (any identifier the code uses)
 *   // ridgeline: flops=2*M*N*K bytes=4*(M*K+K*N+M*N)   formulas that replace the counted figures
 *   // ridgeline: grid=N/16,M/16 block=16,16     launch shape when the file has no launch site
 *   // ridgeline: dispatch=64,1,1                WGSL: workgroups per dispatch (x,y,z)
 *   // ridgeline: buffers=0:N,1:N,2:N            WGSL: binding:elements for profiling (group 0)
 *   // ridgeline: dtype=fp16                     element type for untyped (Triton) pointers
 *
 * An annotation applies to the kernel that follows it; dims are shared by the whole file.
 * A dim is a tensor extent: a positive integer up to MAX_DIM (see isDimValue).
 */
import { parseMiniExpr } from './miniexpr';
import { evalExpr, freeIdents, type Expr } from './ir';
import type { KernelDiagnostic } from './types';

export interface Annotation {
  /** 0-based row of the comment. */
  row: number;
  /** The comment's key=value text (a cheap identity for reuse checks). */
  text?: string;
  /** Problem dims with numeric values (formulas of other dims are resolved in order). */
  dims: Record<string, Expr>;
  flops?: Expr;
  bytes?: Expr;
  grid?: Expr[];
  block?: Expr[];
  dispatch?: Expr[];
  buffers?: Array<{ binding: number; elements: Expr }>;
  dtype?: string;
}

/**
 * Largest dim accepted: 2^40 (1,099,511,627,776). Dims are tensor extents; 2^40 one-byte elements are
 * 1 TiB, more than any single GPU holds, so a larger value is a typo. (2^31 - 1 would reject real
 * flattened sizes: 2^32 fp16 elements are 8 GiB.)
 */
export const MAX_DIM = 2 ** 40;

/** What a dim must be, for messages. */
export const DIM_EXPECTED = 'a positive integer dim from 1 to 2^40 (1099511627776)';

/** True for a valid dim value: an integer from 1 to MAX_DIM. */
export function isDimValue(v: number): boolean {
  return Number.isInteger(v) && v >= 1 && v <= MAX_DIM;
}

const RE = /^\s*(?:\/\/+|#)\s*ridgeline\s*:(.*)$/;
const DTYPES = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'tf32'];

export function parseAnnotations(source: string, diagnostics: KernelDiagnostic[]): Annotation[] {
  const out: Annotation[] = [];
  if (!source.includes('ridgeline')) return out;
  const lines: string[] = [];
  const rows: number[] = [];
  // only lines that mention `ridgeline` are split out; rows are counted by newlines before them
  // (the line regex is tried only at the start of lines that contain the word: one pass of indexOf)
  const scan = /^.*ridgeline\s*:.*$/my;
  const next = (from: number): RegExpExecArray | null => {
    for (let i = source.indexOf('ridgeline', from); i !== -1; i = source.indexOf('ridgeline', i + 1)) {
      scan.lastIndex = i === 0 ? 0 : source.lastIndexOf('\n', i - 1) + 1;
      const m = scan.exec(source);
      if (m) return m;
    }
    return null;
  };
  let lastIndex = 0;
  let row = 0;
  for (let m = next(0); m; m = next(m.index + m[0].length)) {
    for (let i = source.indexOf('\n', lastIndex); i !== -1 && i < m.index; i = source.indexOf('\n', i + 1)) row++;
    lastIndex = m.index;
    lines[row] = m[0];
    rows.push(row);
  }
  for (const row of rows) {
    const m = RE.exec(lines[row]!);
    if (!m) continue;
    const a: Annotation = { row, dims: {}, text: m[1]!.trim() };
    const body = m[1]!.replace(/\*\/\s*$/, '');
    const col0 = lines[row]!.indexOf(m[1]!) + 1;
    const bad = (tok: string, expected: string) => {
      diagnostics.push({
        line: row + 1,
        column: col0 + Math.max(0, body.indexOf(tok)),
        code: 'RL008',
        severity: 'warning',
        message: `ridgeline annotation: "${tok}": expected ${expected}`,
      });
    };
    for (const tok of body.trim().split(/\s+/).filter(Boolean)) {
      const eq = tok.indexOf('=');
      if (eq <= 0) {
        bad(tok, 'key=value');
        continue;
      }
      const key = tok.slice(0, eq);
      const value = tok.slice(eq + 1);
      const list = (): Expr[] | null => {
        const parts = value.split(',').map((p) => parseMiniExpr(p));
        return parts.every((p) => p !== null) && parts.length >= 1 && parts.length <= 3 ? (parts as Expr[]) : null;
      };
      switch (key) {
        case 'flops':
        case 'bytes': {
          const e = parseMiniExpr(value);
          if (e) a[key] = e;
          else bad(tok, 'an arithmetic formula of dims');
          break;
        }
        case 'grid':
        case 'block':
        case 'dispatch': {
          const l = list();
          if (l) a[key] = l;
          else bad(tok, 'one to three comma-separated numbers or formulas');
          break;
        }
        case 'buffers': {
          const items = value.split(',').map((p) => {
            const [b, n] = p.split(':');
            const e = n ? parseMiniExpr(n) : null;
            return b !== undefined && /^\d+$/.test(b) && e ? { binding: Number(b), elements: e } : null;
          });
          if (items.every((i) => i !== null) && items.length > 0) a.buffers = items as Annotation['buffers'];
          else bad(tok, 'binding:elements pairs such as 0:4096,1:4096');
          break;
        }
        case 'dtype': {
          const d = value.toLowerCase().replace(/^float(16|32)$/, 'fp$1').replace(/^f(16|32)$/, 'fp$1').replace(/^half$/, 'fp16').replace(/^bfloat16$/, 'bf16');
          if (DTYPES.includes(d)) a.dtype = d;
          else bad(tok, `one of ${DTYPES.join(', ')}`);
          break;
        }
        default: {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
            bad(tok, 'an identifier before "="');
            break;
          }
          const e = parseMiniExpr(value);
          if (!e) {
            bad(tok, 'a number or a formula of other dims');
            break;
          }
          // a value without dims is checked here; formulas of dims are checked once resolved (resolveDims)
          const v = freeIdents(e).size === 0 ? evalExpr(e, new Map()) : null;
          if (v !== null && !isDimValue(v)) bad(tok, DIM_EXPECTED);
          else a.dims[key] = e;
        }
      }
    }
    out.push(a);
  }
  return out;
}

const PAIRS_EXPECTED = 'NAME=VALUE pairs such as M=4096,N=4096';

/** A parsed `--dims` value, or what is wrong with it (for inputError). */
export type DimsOption = { ok: true; dims: Record<string, number> } | { ok: false; field: string; expected: string; got: string };

/**
 * Parses `M=4096,N=4096` / `M=4096 N=4096` (CLI --dims). Every value is a dim (isDimValue); a name may be
 * given once; an empty list is an error. `field` names the option in the error.
 */
export function parseDimsOption(text: string, field = '--dims'): DimsOption {
  const pairs = text.split(/[,\s]+/).filter(Boolean);
  if (pairs.length === 0) return { ok: false, field, expected: PAIRS_EXPECTED, got: text };
  const dims: Record<string, number> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
    if (!m) return { ok: false, field, expected: PAIRS_EXPECTED, got: pair };
    const name = m[1]!;
    const raw = m[2]!;
    if (Object.hasOwn(dims, name)) return { ok: false, field, expected: `${name} once, not twice`, got: text };
    const v = /^\d+(?:\.\d+)?(?:[eE]\+?\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!isDimValue(v)) return { ok: false, field: `${field} ${name}`, expected: DIM_EXPECTED, got: raw };
    // defined, not assigned: a name such as __proto__ stays an own property
    Object.defineProperty(dims, name, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return { ok: true, dims };
}

/**
 * The names among `names` that `source` never mentions as an identifier (comments and annotations
 * included), so they cannot bind anything. WGSL ignores case: dims bind uniform struct members by name.
 */
export function dimsNotInSource(source: string, names: string[], ignoreCase: boolean): string[] {
  const esc = (n: string) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return names.filter((n) => !new RegExp(`(?<![A-Za-z0-9_])${esc(n)}(?![A-Za-z0-9_])`, ignoreCase ? 'i' : '').test(source));
}
