/**
 * A tiny C-like expression parser for text that is not a tree: `#define` bodies and the formulas in
 * `ridgeline:` annotations (`flops=2*M*N*K`). Numbers, identifiers, + - * / % << >> **, parentheses,
 * unary minus, function calls (`cdiv(M, 64)`), `sizeof(float)`. Anything else gives null.
 */
import type { Expr } from './ir';

const TYPE_BYTES: Record<string, number> = {
  char: 1, bool: 1, int8_t: 1, uint8_t: 1, short: 2, half: 2, __half: 2, __nv_bfloat16: 2, nv_bfloat16: 2,
  int16_t: 2, int: 4, unsigned: 4, float: 4, int32_t: 4, uint32_t: 4, double: 8, long: 8, size_t: 8,
  int64_t: 8, uint64_t: 8, float2: 8, float4: 16, half2: 4, int2: 8, int4: 16, double2: 16,
};

/** ctypeBytes results by type text (kernels repeat a handful of type spellings many times). */
const typeBytesMemo = new Map<string, number | null>();

export function ctypeBytes(t: string): number | null {
  let v = typeBytesMemo.get(t);
  if (v === undefined) {
    v = ctypeBytesUncached(t);
    if (typeBytesMemo.size > 4096) typeBytesMemo.clear();
    typeBytesMemo.set(t, v);
  }
  return v;
}

function ctypeBytesUncached(t: string): number | null {
  const clean = t.replace(/\b(const|volatile|unsigned|signed|__restrict__|struct)\b/g, (m) => (m === 'unsigned' ? 'unsigned' : '')).trim();
  const words = clean.split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  if (words.length > 1 && words[0] === 'unsigned') return TYPE_BYTES[words[1]!] ?? 4;
  if (words.join(' ') === 'long long') return 8;
  return TYPE_BYTES[words[words.length - 1]!] ?? null;
}

type Tok = { t: 'num'; v: number; float: boolean } | { t: 'id'; v: string } | { t: 'op'; v: string };

function lex(src: string): Tok[] | null {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const num = /^(0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)([uUlLfFhHiI]*)/.exec(src.slice(i));
    if (num) {
      const body = num[1]!;
      const float = /[.eE]/.test(body) && !/^0[xX]/.test(body) || /[fFhH]/.test(num[2]!);
      out.push({ t: 'num', v: Number(body), float });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(?:(?:::|\.)[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i));
    if (id) { out.push({ t: 'id', v: id[0] }); i += id[0].length; continue; }
    const op = /^(\*\*|<<|>>|<=|>=|==|!=|&&|\|\||\/\/|[-+*/%(),<>&|^~!?:\[\]])/.exec(src.slice(i));
    if (op) { out.push({ t: 'op', v: op[0] }); i += op[0].length; continue; }
    return null;
  }
  return out;
}

const PREC: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '//': 10, '%': 10, '**': 11,
};

export function parseMiniExpr(src: string): Expr | null {
  const lexed = lex(src);
  if (!lexed || lexed.length === 0) return null;
  const toks: Tok[] = lexed;
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => { const t = toks[p]; return !!t && t.t === 'op' && t.v === v; };
  function primary(): Expr | null {
    const t = toks[p++];
    if (!t) return null;
    if (t.t === 'num') return { k: 'num', v: t.v, float: t.float };
    if (t.t === 'id') {
      if (isOp('(')) {
        p++;
        if (t.v === 'sizeof') {
          let depth = 1;
          const words: string[] = [];
          while (p < toks.length && depth > 0) {
            const x = toks[p++]!;
            if (x.t === 'op' && x.v === '(') depth++;
            else if (x.t === 'op' && x.v === ')') depth--;
            else words.push(String(x.v));
          }
          const b = ctypeBytes(words.join(' '));
          return b === null ? null : { k: 'num', v: b, float: false };
        }
        const args: Expr[] = [];
        if (!isOp(')')) {
          for (;;) {
            const a = expr(0);
            if (!a) return null;
            args.push(a);
            if (isOp(',')) { p++; continue; }
            break;
          }
        }
        if (!isOp(')')) return null;
        p++;
        return { k: 'call', fn: t.v, args };
      }
      return { k: 'id', name: t.v };
    }
    if (t.v === '(') {
      // C cast `(int)x` / `(float)(...)`
      const n = toks[p];
      if (n && n.t === 'id' && ctypeBytes(n.v) !== null && toks[p + 1]?.t === 'op' && toks[p + 1]!.v === ')') {
        p += 2;
        const inner = unary();
        return inner ? { k: 'call', fn: n.v, args: [inner] } : null;
      }
      const e = expr(0);
      if (!e || !isOp(')')) return null;
      p++;
      return e;
    }
    return null;
  }
  function unary(): Expr | null {
    const t = peek();
    if (t && t.t === 'op' && (t.v === '-' || t.v === '+' || t.v === '!' || t.v === '~')) {
      p++;
      const e = unary();
      return e ? { k: 'un', op: t.v, e } : null;
    }
    return primary();
  }
  function expr(min: number): Expr | null {
    let l = unary();
    if (!l) return null;
    for (;;) {
      const t = peek();
      if (!t || t.t !== 'op') break;
      if (t.v === '?' && min === 0) {
        p++;
        const a = expr(0);
        if (!a || !isOp(':')) return null;
        p++;
        const b = expr(0);
        if (!b) return null;
        l = { k: 'cond', c: l, a, b };
        continue;
      }
      const prec = PREC[t.v];
      if (prec === undefined || prec <= min) break;
      p++;
      const r = expr(t.v === '**' ? prec - 1 : prec);
      if (!r) return null;
      l = { k: 'bin', op: t.v, l, r };
    }
    return l;
  }
  const e = expr(0);
  return e && p === toks.length ? e : null;
}
