/**
 * A small language-neutral form of kernel code. The CUDA and WGSL front ends turn tree-sitter trees into
 * it; the analysis (loops, accesses, barriers, FLOPs, lints) runs on it once for both languages.
 * Positions are 0-based rows/columns relative to the start of the top-level unit they came from, so a
 * unit whose text did not change can be reused after an edit elsewhere in the file.
 */

export interface Pos {
  row: number;
  col: number;
  endRow: number;
  endCol: number;
}

export type Expr =
  | { k: 'num'; v: number; float: boolean }
  | { k: 'id'; name: string }
  /** Thread index within the block / workgroup along dim (CUDA threadIdx, WGSL local/global invocation id). */
  | { k: 'tid'; dim: number }
  /** Block / workgroup index. */
  | { k: 'bid'; dim: number }
  /** Block size (CUDA blockDim; WGSL: the workgroup size). */
  | { k: 'bdim'; dim: number }
  | { k: 'gdim'; dim: number }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'un'; op: string; e: Expr }
  | { k: 'mem'; obj: Expr; field: string }
  /** `base[i][j]...`: one node for the whole subscript chain, with the position of the access. */
  | { k: 'idx'; base: Expr; idx: Expr[]; pos: Pos }
  | { k: 'call'; fn: string; args: Expr[] }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr }
  | { k: 'other'; text: string };

export type Stmt =
  | { k: 'decl'; name: string; type: string; init: Expr | null; pos: Pos }
  | { k: 'assign'; target: Expr; op: string; value: Expr; pos: Pos }
  | { k: 'expr'; e: Expr; pos: Pos }
  | { k: 'loop'; var: string | null; trip: Expr | null; body: Stmt[]; pos: Pos; header: Expr[]; seq: LoopSeq | null }
  | { k: 'if'; cond: Expr; then: Stmt[]; else: Stmt[]; pos: Pos }
  | { k: 'barrier'; pos: Pos }
  | { k: 'other'; pos: Pos };

/** How the loop variable moves: `v = init; ...; v = v stepOp step`. */
export interface LoopSeq {
  init: Expr;
  stepOp: string;
  step: Expr;
}

export interface SharedDecl {
  name: string;
  elemType: string;
  /** Byte size of one element; null when the type is unknown. */
  elemBytes: number | null;
  dims: Expr[];
  /** `extern __shared__ T x[]`: sized by the launch. */
  dynamic: boolean;
  pos: Pos;
}

export interface ParamIR {
  name: string;
  type: string;
  kind: 'global' | 'value' | 'constexpr';
  elemType: string | null;
}

export interface FuncIR {
  name: string;
  namePos: Pos;
  pos: Pos;
  kind: 'kernel' | 'device' | 'host';
  /** CUDA template parameter names, in order. */
  templateParams: string[];
  params: ParamIR[];
  body: Stmt[];
  /** CUDA: __shared__ declared in the body. */
  shared: SharedDecl[];
  /** WGSL: @workgroup_size arguments. */
  workgroupSize: Expr[] | null;
  /** WGSL: names of functions called (to follow helpers for module-scope variable use); empty for CUDA. */
  calls: string[];
  /** WGSL: identifiers referenced anywhere in the body; empty for CUDA. */
  idents: string[];
}

export interface LaunchIR {
  kernel: string;
  grid: Expr[];
  block: Expr[];
  smem: Expr | null;
  /** Kernel call arguments, host locals substituted. */
  args: Expr[];
  /** CUDA `k<float, 4><<<...>>>`: template arguments as written. */
  templateArgs: string[];
  text: string;
  pos: Pos;
}

export interface ConstIR {
  name: string;
  value: Expr;
  /** WGSL `override`: a pipeline constant with a default. */
  override: boolean;
}

/** One top-level piece of a file, analyzed once and cached by its text. */
export interface UnitIR {
  consts: ConstIR[];
  funcs: FuncIR[];
  launches: LaunchIR[];
  /** WGSL module-scope variables. */
  globals: Array<{ name: string; space: string; access: string; type: WgslType | null; group: number | null; binding: number | null; pos: Pos }>;
  structs: Array<{ name: string; members: Array<{ name: string; type: WgslType | null }> }>;
  errors: Pos[];
  enables: string[];
  /** WGSL `alias T = f32;` */
  aliases: Array<{ name: string; type: WgslType | null }>;
}

export type WgslType =
  | { k: 'scalar'; name: string }
  | { k: 'vec'; n: number; elem: WgslType }
  | { k: 'mat'; c: number; r: number; elem: WgslType }
  | { k: 'array'; elem: WgslType; count: Expr | null }
  | { k: 'atomic'; elem: WgslType }
  | { k: 'named'; name: string };

export function emptyUnit(): UnitIR {
  return { consts: [], funcs: [], launches: [], globals: [], structs: [], errors: [], enables: [], aliases: [] };
}

export function shiftPos(p: Pos, rows: number): Pos {
  return rows === 0 ? p : { row: p.row + rows, col: p.col, endRow: p.endRow + rows, endCol: p.endCol };
}

// ---------------------------------------------------------------------------------------------------
// Constant evaluation

export type Env = ReadonlyMap<string, number>;

/** Evaluates an integer/float expression with constants; null when something is unknown. */
export function evalExpr(e: Expr | null | undefined, env: Env, depth = 0): number | null {
  if (!e || depth > 64) return null;
  switch (e.k) {
    case 'num':
      return e.v;
    case 'id':
      return env.get(e.name) ?? null;
    case 'mem':
      // a uniform struct member bound to a dim (`params.k` <- K), set up by the analysis
      return e.obj.k === 'id' ? env.get(`${e.obj.name}.${e.field}`) ?? null : null;
    case 'tid':
    case 'bid':
    case 'bdim':
    case 'gdim':
      return env.get(BUILTIN_KEYS[e.k][e.dim]!) ?? null;
    case 'un': {
      const v = evalExpr(e.e, env, depth + 1);
      if (v === null) return null;
      if (e.op === '-') return -v;
      if (e.op === '+') return v;
      if (e.op === '!') return v ? 0 : 1;
      if (e.op === '~') return ~v;
      return null;
    }
    case 'bin': {
      const a = evalExpr(e.l, env, depth + 1);
      if (a === null) return null;
      const b = evalExpr(e.r, env, depth + 1);
      if (b === null) return null;
      switch (e.op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/': return b === 0 ? null : Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b;
        case '//': return b === 0 ? null : Math.floor(a / b);
        case '%': return b === 0 ? null : a % b;
        case '<<': return a * 2 ** b;
        case '>>': return Math.floor(a / 2 ** b);
        case '**': return a ** b;
        case '<': return a < b ? 1 : 0;
        case '>': return a > b ? 1 : 0;
        case '<=': return a <= b ? 1 : 0;
        case '>=': return a >= b ? 1 : 0;
        case '==': return a === b ? 1 : 0;
        case '!=': return a !== b ? 1 : 0;
        case '&': return a & b;
        case '|': return a | b;
        case '&&': return a && b ? 1 : 0;
        case '||': return a || b ? 1 : 0;
        default: return null;
      }
    }
    case 'cond': {
      const c = evalExpr(e.c, env, depth + 1);
      if (c === null) return null;
      return evalExpr(c ? e.a : e.b, env, depth + 1);
    }
    case 'call': {
      const args = e.args.map((a) => evalExpr(a, env, depth + 1));
      if (args.some((a) => a === null)) return null;
      const v = args as number[];
      const fn = e.fn.replace(/^(std::|triton\.|tl\.|math\.)/, '');
      if ((fn === 'cdiv' || fn === 'ceil_div' || fn === 'DIV_UP' || fn === 'CEIL_DIV') && v.length === 2 && v[1]) return Math.ceil(v[0]! / v[1]!);
      if (fn === 'min' && v.length >= 1) return Math.min(...v);
      if (fn === 'max' && v.length >= 1) return Math.max(...v);
      if ((fn === 'u32' || fn === 'i32' || fn === 'int' || fn === 'unsigned' || fn === 'size_t') && v.length === 1) return Math.trunc(v[0]!);
      if (fn === 'f32' || fn === 'float' || fn === 'f16') return v[0] ?? null;
      if (fn === 'next_power_of_2' && v.length === 1) return 2 ** Math.ceil(Math.log2(Math.max(1, v[0]!)));
      return null;
    }
    default:
      return null;
  }
}

/** Environment keys of the built-in thread and block indices and sizes, per dimension (`tid.x`, ...). */
export const BUILTIN_KEYS = {
  tid: ['tid.x', 'tid.y', 'tid.z'],
  bid: ['bid.x', 'bid.y', 'bid.z'],
  bdim: ['bdim.x', 'bdim.y', 'bdim.z'],
  gdim: ['gdim.x', 'gdim.y', 'gdim.z'],
} as const;

/** Identifiers an expression needs (for messages such as "needs K"). */
export function freeIdents(e: Expr | null | undefined, out: Set<string> = new Set()): Set<string> {
  if (!e) return out;
  switch (e.k) {
    case 'id': out.add(e.name); break;
    case 'bin': freeIdents(e.l, out); freeIdents(e.r, out); break;
    case 'un': freeIdents(e.e, out); break;
    case 'mem': freeIdents(e.obj, out); break;
    case 'idx': freeIdents(e.base, out); for (const i of e.idx) freeIdents(i, out); break;
    case 'call': for (const a of e.args) freeIdents(a, out); break;
    case 'cond': freeIdents(e.c, out); freeIdents(e.a, out); freeIdents(e.b, out); break;
    default: break;
  }
  return out;
}

/** Whether an expression names identifier `name` (freeIdents(e).has(name) without building the set). */
export function mentions(e: Expr | null | undefined, name: string): boolean {
  if (!e) return false;
  switch (e.k) {
    case 'id': return e.name === name;
    case 'bin': return mentions(e.l, name) || mentions(e.r, name);
    case 'un': return mentions(e.e, name);
    case 'mem': return mentions(e.obj, name);
    case 'idx': return mentions(e.base, name) || e.idx.some((i) => mentions(i, name));
    case 'call': return e.args.some((a) => mentions(a, name));
    case 'cond': return mentions(e.c, name) || mentions(e.a, name) || mentions(e.b, name);
    default: return false;
  }
}

/** Source-like text of an expression (normalized, for comparing indices). */
export function exprText(e: Expr): string {
  switch (e.k) {
    case 'num': return String(e.v);
    case 'id': return e.name;
    case 'tid':
    case 'bid':
    case 'bdim':
    case 'gdim':
      return BUILTIN_KEYS[e.k][e.dim]!;
    case 'bin': return `(${exprText(e.l)}${e.op}${exprText(e.r)})`;
    case 'un': return `${e.op}${exprText(e.e)}`;
    case 'mem': return `${exprText(e.obj)}.${e.field}`;
    case 'idx': return `${exprText(e.base)}${e.idx.map((i) => `[${exprText(i)}]`).join('')}`;
    case 'call': return `${e.fn}(${e.args.map(exprText).join(',')})`;
    case 'cond': return `(${exprText(e.c)}?${exprText(e.a)}:${exprText(e.b)})`;
    case 'other': return e.text.replace(/\s+/g, '');
  }
}

/** Trip count of `for (v = init; v OP bound; v STEP)`; a log count for `v >>= 1` / `v *= 2`. */
export function tripFromParts(
  init: Expr | null,
  op: string | null,
  bound: Expr | null,
  stepOp: string | null,
  step: Expr | null,
): Expr | null {
  if (!init || !op || !bound || !stepOp) return null;
  const s = step ?? { k: 'num', v: 1, float: false };
  const bin = (o: string, l: Expr, r: Expr): Expr => ({ k: 'bin', op: o, l, r });
  const one: Expr = { k: 'num', v: 1, float: false };
  if (stepOp === '+') {
    // ceil((bound - init) / step) for <, +1 for <=
    const span = op === '<=' ? bin('+', bin('-', bound, init), one) : op === '<' || op === '!=' ? bin('-', bound, init) : null;
    if (!span) return null;
    return { k: 'call', fn: 'ceil_div', args: [span, s] };
  }
  if (stepOp === '-') {
    const span = op === '>=' ? bin('+', bin('-', init, bound), one) : op === '>' || op === '!=' ? bin('-', init, bound) : null;
    if (!span) return null;
    return { k: 'call', fn: 'ceil_div', args: [span, s] };
  }
  if (stepOp === '>>' || stepOp === '/') {
    // v = init; v > bound; v >>= 1  ->  count of halvings while v > bound
    return { k: 'call', fn: '__logdown', args: [init, bound, s, { k: 'num', v: stepOp === '>>' ? 1 : 0, float: false }, { k: 'num', v: op === '>=' ? 1 : 0, float: false }] };
  }
  if (stepOp === '*' || stepOp === '<<') {
    return { k: 'call', fn: '__logup', args: [init, bound, s, { k: 'num', v: stepOp === '<<' ? 1 : 0, float: false }, { k: 'num', v: op === '<=' ? 1 : 0, float: false }] };
  }
  return null;
}

/** evalExpr plus the loop helpers produced by tripFromParts. */
export function evalTrip(e: Expr | null, env: Env): number | null {
  if (!e) return null;
  if (e.k === 'call' && (e.fn === '__logdown' || e.fn === '__logup')) {
    const [init, bound, step, shift, inclusive] = e.args.map((a) => evalExpr(a, env));
    if (init == null || bound == null || step == null || shift == null || inclusive == null) return null;
    const factor = shift ? 2 ** step : step;
    if (factor <= 1) return null;
    let n = 0;
    let v = init;
    if (e.fn === '__logdown') {
      while ((inclusive ? v >= bound : v > bound) && n < 64) { v = Math.floor(v / factor); n++; }
    } else {
      if (v <= 0) return null;
      while ((inclusive ? v <= bound : v < bound) && n < 64) { v = v * factor; n++; }
    }
    return n;
  }
  const v = evalExpr(e, env);
  if (v === null) return null;
  return Math.max(0, Math.ceil(v));
}

// ---------------------------------------------------------------------------------------------------
// Walking

export function forEachExpr(e: Expr, fn: (e: Expr) => void): void {
  fn(e);
  switch (e.k) {
    case 'bin': forEachExpr(e.l, fn); forEachExpr(e.r, fn); break;
    case 'un': forEachExpr(e.e, fn); break;
    case 'mem': forEachExpr(e.obj, fn); break;
    case 'idx': forEachExpr(e.base, fn); for (const i of e.idx) forEachExpr(i, fn); break;
    case 'call': for (const a of e.args) forEachExpr(a, fn); break;
    case 'cond': forEachExpr(e.c, fn); forEachExpr(e.a, fn); forEachExpr(e.b, fn); break;
    default: break;
  }
}

export function stmtExprs(s: Stmt): Expr[] {
  switch (s.k) {
    case 'decl': return s.init ? [s.init] : [];
    case 'assign': return [s.target, s.value];
    case 'expr': return [s.e];
    case 'loop': return s.header;
    case 'if': return [s.cond];
    default: return [];
  }
}

export function forEachStmt(body: Stmt[], fn: (s: Stmt, depth: number) => void, depth = 0): void {
  for (const s of body) {
    fn(s, depth);
    if (s.k === 'loop') forEachStmt(s.body, fn, depth + 1);
    else if (s.k === 'if') {
      forEachStmt(s.then, fn, depth);
      forEachStmt(s.else, fn, depth);
    }
  }
}

export function baseName(e: Expr): string | null {
  if (e.k === 'id') return e.name;
  if (e.k === 'mem') return baseName(e.obj);
  if (e.k === 'idx') return baseName(e.base);
  return null;
}
