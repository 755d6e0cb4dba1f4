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
 */
import { parseMiniExpr } from './miniexpr';
import type { Expr } from './ir';
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
          if (e) a.dims[key] = e;
          else bad(tok, 'a number or a formula of other dims');
        }
      }
    }
    out.push(a);
  }
  return out;
}

/** Parses `M=4096,N=4096` / `M=4096 N=4096` (CLI --dims, settings). Throws a message naming the bad pair. */
export function parseDimsOption(text: string): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const pair of text.split(/[,\s]+/).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\d+(?:\.\d+)?(?:[eE]\d+)?)$/.exec(pair);
    if (!m) return pair;
    const v = Number(m[2]);
    if (!Number.isFinite(v) || v <= 0) return pair;
    out[m[1]!] = v;
  }
  return out;
}
