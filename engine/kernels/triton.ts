/**
 * Triton front end and analysis (tree-sitter-python). A kernel is a function decorated with
 * `@triton.jit` (or `@jit`), possibly under `@triton.autotune` / `@triton.heuristics`. Triton programs
 * work on blocks, so the analysis infers block shapes (`tl.arange`, `[:, None]` broadcasting, `tl.dot`,
 * reductions) and counts FLOPs and bytes per program; a launch `kernel[grid](...)` gives the programs.
 */
import type { SyntaxNode as Node } from './syntax';
import type { Dtype } from '../model/types';
import type { Device } from '../hardware/types';
import type { Annotation } from './annotations';
import { effectiveAnnotation } from './analyze';
import { evalExpr, evalTrip, exprText, freeIdents, shiftPos, type Env, type Expr, type Pos } from './ir';
import { rule } from './lints';
import { peakFor } from '../cost/roofline';
import type { KernelDiagnostic, KernelEstimate, KernelInfo, KernelLaunch, KernelLoop, KernelParam } from './types';

type PyStmt =
  | { k: 'assign'; targets: string[]; op: string; value: Expr; pos: Pos }
  | { k: 'expr'; e: Expr; pos: Pos }
  | { k: 'for'; var: string | null; range: Expr[] | null; body: PyStmt[]; pos: Pos }
  | { k: 'while'; body: PyStmt[]; pos: Pos }
  | { k: 'if'; then: PyStmt[]; else: PyStmt[]; pos: Pos };

interface TritonConfig {
  values: Record<string, number>;
  numWarps: number | null;
  numStages: number | null;
}

interface TritonFunc {
  name: string;
  namePos: Pos;
  pos: Pos;
  kernel: boolean;
  autotune: TritonConfig[] | null;
  /** Name of a module-level list of configs (`configs=CONFIGS`). */
  autotuneRef: string | null;
  heuristics: string[];
  params: KernelParam[];
  body: PyStmt[];
  /** Local assignments (for `grid = lambda META: ...` in host functions). */
  locals: Array<{ name: string; value: Expr }>;
}

interface TritonLaunch {
  kernel: string;
  grid: Expr;
  args: Expr[];
  kwargs: Record<string, Expr>;
  pos: Pos;
  text: string;
  locals: Array<{ name: string; value: Expr }>;
}

export interface TritonUnit {
  funcs: TritonFunc[];
  launches: TritonLaunch[];
  consts: Array<{ name: string; value: Expr }>;
  configLists: Array<{ name: string; configs: TritonConfig[] }>;
  errors: Pos[];
}

function dotted(n: Node): string | null {
  if (n.type === 'identifier') return n.text;
  if (n.type === 'attribute') {
    const o = n.childForFieldName('object');
    const a = n.childForFieldName('attribute');
    const b = o ? dotted(o) : null;
    return b && a ? `${b}.${a.text}` : null;
  }
  return null;
}

export function pyExpr(n: Node | null, base: number): Expr {
  if (!n) return { k: 'other', text: '' };
  switch (n.type) {
    case 'integer': {
      const v = Number(n.text.replace(/_/g, ''));
      return Number.isFinite(v) ? { k: 'num', v, float: false } : { k: 'other', text: n.text };
    }
    case 'float':
      return { k: 'num', v: Number(n.text.replace(/_/g, '')), float: true };
    case 'true':
      return { k: 'num', v: 1, float: false };
    case 'false':
      return { k: 'num', v: 0, float: false };
    case 'none':
      return { k: 'id', name: 'None' };
    case 'identifier':
      return { k: 'id', name: n.text };
    case 'attribute': {
      const d = dotted(n);
      if (d) return { k: 'id', name: d };
      return { k: 'mem', obj: pyExpr(n.childForFieldName('object'), base), field: n.childForFieldName('attribute')?.text ?? '' };
    }
    case 'parenthesized_expression':
      return pyExpr(n.codeChildren[0] ?? null, base);
    case 'binary_operator':
      return { k: 'bin', op: n.childForFieldName('operator')?.text ?? '?', l: pyExpr(n.childForFieldName('left'), base), r: pyExpr(n.childForFieldName('right'), base) };
    case 'boolean_operator':
      return { k: 'bin', op: n.childForFieldName('operator')?.text === 'and' ? '&&' : '||', l: pyExpr(n.childForFieldName('left'), base), r: pyExpr(n.childForFieldName('right'), base) };
    case 'comparison_operator': {
      const c = n.codeChildren;
      const op = n.children.find((x) => x && !x.isNamed)?.text ?? '<';
      return { k: 'bin', op, l: pyExpr(c[0] ?? null, base), r: pyExpr(c[1] ?? null, base) };
    }
    case 'unary_operator':
      return { k: 'un', op: n.childForFieldName('operator')?.text ?? '-', e: pyExpr(n.childForFieldName('argument'), base) };
    case 'not_operator':
      return { k: 'un', op: '!', e: pyExpr(n.childForFieldName('argument'), base) };
    case 'conditional_expression': {
      const c = n.codeChildren;
      return { k: 'cond', c: pyExpr(c[1] ?? null, base), a: pyExpr(c[0] ?? null, base), b: pyExpr(c[2] ?? null, base) };
    }
    case 'call': {
      const f = n.childForFieldName('function');
      const fn = (f && dotted(f)) ?? (f?.type === 'attribute' ? `${exprText(pyExpr(f.childForFieldName('object'), base))}.${f.childForFieldName('attribute')?.text}` : f?.text ?? '');
      const args: Expr[] = [];
      const al = n.childForFieldName('arguments');
      for (const a of al ? al.codeChildren : []) {
        if (a.type === 'keyword_argument') {
          args.push({ k: 'bin', op: 'kw=', l: { k: 'id', name: a.childForFieldName('name')?.text ?? '' }, r: pyExpr(a.childForFieldName('value'), base) });
        } else args.push(pyExpr(a, base));
      }
      return { k: 'call', fn, args };
    }
    case 'subscript': {
      const v = n.childForFieldName('value');
      const subs = n.childrenForFieldName('subscript');
      // META['BLOCK_M'] / args['K'] -> the name itself
      if (subs.length === 1 && subs[0]!.type === 'string') {
        const s = subs[0]!.codeChildren.find((c) => c.type === 'string_content')?.text;
        if (s) return { k: 'id', name: s };
      }
      return {
        k: 'idx',
        base: pyExpr(v, base),
        idx: subs.map((s) => (s.type === 'slice' ? { k: 'other', text: ':' } : pyExpr(s, base))),
        pos: n.pos(base),
      };
    }
    case 'tuple':
    case 'list':
    case 'expression_list':
      return { k: 'call', fn: '()', args: n.codeChildren.map((c) => pyExpr(c, base)) };
    case 'lambda': {
      const body = n.childForFieldName('body');
      return { k: 'call', fn: 'lambda', args: [pyExpr(body, base)] };
    }
    case 'string':
      return { k: 'other', text: n.text };
    default:
      return { k: 'other', text: n.text };
  }
}

function kw(args: Expr[], name: string): Expr | undefined {
  for (const a of args) if (a.k === 'bin' && a.op === 'kw=' && a.l.k === 'id' && a.l.name === name) return a.r;
  return undefined;
}
function positional(args: Expr[]): Expr[] {
  return args.filter((a) => !(a.k === 'bin' && a.op === 'kw='));
}

function pyStmts(n: Node | null, base: number, out: PyStmt[], unit: TritonUnit, locals: TritonFunc['locals'], host: boolean): void {
  if (!n) return;
  for (const s of n.type === 'block' || n.type === 'module' ? n.codeChildren : [n]) {
    switch (s.type) {
      case 'expression_statement': {
        for (const e of s.codeChildren) {
          if (e.type === 'assignment' || e.type === 'augmented_assignment') {
            const left = e.childForFieldName('left');
            const right = e.childForFieldName('right');
            const targets = left ? (left.type === 'pattern_list' || left.type === 'tuple_pattern' ? left.codeChildren.map((x) => x.text) : [left.text]) : [];
            const value = pyExpr(right, base);
            const op = e.type === 'assignment' ? '=' : e.childForFieldName('operator')?.text ?? '+=';
            out.push({ k: 'assign', targets, op, value, pos: e.pos(base) });
            if (targets.length === 1 && op === '=') locals.push({ name: targets[0]!, value });
            if (right) findLaunches(right, base, unit, locals);
          } else {
            out.push({ k: 'expr', e: pyExpr(e, base), pos: e.pos(base) });
            findLaunches(e, base, unit, locals);
          }
        }
        break;
      }
      case 'for_statement': {
        const left = s.childForFieldName('left');
        const right = s.childForFieldName('right');
        const r = pyExpr(right, base);
        const range = r.k === 'call' && /(^|\.)(range|static_range)$/.test(r.fn) ? positional(r.args) : null;
        const body: PyStmt[] = [];
        pyStmts(s.childForFieldName('body'), base, body, unit, locals, host);
        out.push({ k: 'for', var: left?.type === 'identifier' ? left.text : null, range, body, pos: s.pos(base) });
        break;
      }
      case 'while_statement': {
        const body: PyStmt[] = [];
        pyStmts(s.childForFieldName('body'), base, body, unit, locals, host);
        out.push({ k: 'while', body, pos: s.pos(base) });
        break;
      }
      case 'if_statement': {
        const then: PyStmt[] = [];
        const els: PyStmt[] = [];
        pyStmts(s.childForFieldName('consequence'), base, then, unit, locals, host);
        for (const alt of s.childrenForFieldName('alternative')) {
          pyStmts(alt.childForFieldName('body') ?? alt.childForFieldName('consequence') ?? alt.codeChildren.find((c) => c.type === 'block') ?? null, base, els, unit, locals, host);
        }
        out.push({ k: 'if', then, else: els, pos: s.pos(base) });
        break;
      }
      case 'with_statement': {
        pyStmts(s.childForFieldName('body'), base, out, unit, locals, host);
        break;
      }
      case 'return_statement': {
        for (const e of s.codeChildren) findLaunches(e, base, unit, locals);
        break;
      }
      case 'function_definition':
      case 'decorated_definition':
        tritonDef(s, base, unit);
        break;
      case 'ERROR':
        unit.errors.push(s.pos(base));
        pyStmts(s, base, out, unit, locals, host);
        break;
      default:
        break;
    }
  }
}

/** `kernel[grid](args)` anywhere inside `n`. */
function findLaunches(n: Node, base: number, unit: TritonUnit, locals: TritonFunc['locals']): void {
  if (n.type === 'call') {
    const f = n.childForFieldName('function');
    if (f?.type === 'subscript') {
      const v = f.childForFieldName('value');
      const sub = f.childrenForFieldName('subscript');
      const name = v ? dotted(v) : null;
      if (name && sub.length >= 1) {
        const gridE = sub.length === 1 ? pyExpr(sub[0]!, base) : { k: 'call', fn: '()', args: sub.map((s) => pyExpr(s, base)) } as Expr;
        const call = pyExpr(n, base);
        const args = call.k === 'call' ? call.args : [];
        const kwargs: Record<string, Expr> = {};
        for (const a of args) if (a.k === 'bin' && a.op === 'kw=' && a.l.k === 'id') kwargs[a.l.name] = a.r;
        unit.launches.push({ kernel: name.replace(/^.*\./, ''), grid: gridE, args: positional(args), kwargs, pos: n.pos(base), text: f.text, locals });
      }
    }
  }
  for (const c of n.codeChildren) findLaunches(c, base, unit, locals);
}

function parseConfigs(e: Expr | undefined): TritonConfig[] | null {
  if (!e || e.k !== 'call' || e.fn !== '()') return null;
  const out: TritonConfig[] = [];
  for (const c of e.args) {
    if (c.k !== 'call' || !/(^|\.)Config$/.test(c.fn)) continue;
    const values: Record<string, number> = {};
    const first = positional(c.args)[0];
    if (first && first.k === 'call' && first.fn === '{}') {
      for (const p of first.args) if (p.k === 'bin' && p.op === 'pair' && p.l.k === 'id') {
        const v = evalExpr(p.r, new Map());
        if (v !== null) values[p.l.name] = v;
      }
    }
    const nw = kw(c.args, 'num_warps');
    const ns = kw(c.args, 'num_stages');
    out.push({ values, numWarps: nw ? evalExpr(nw, new Map()) : null, numStages: ns ? evalExpr(ns, new Map()) : null });
  }
  return out;
}

/** Dictionaries are not in pyExpr's general path: convert `{'A': 1}` here. */
function withDicts(n: Node, base: number): Expr {
  if (n.type === 'dictionary') {
    return {
      k: 'call',
      fn: '{}',
      args: n.codeChildren.filter((p) => p.type === 'pair').map((p) => {
        const key = p.childForFieldName('key');
        const s = key ? key.codeChildren.find((c) => c.type === 'string_content')?.text ?? key.text : '';
        return { k: 'bin', op: 'pair', l: { k: 'id', name: s }, r: pyExpr(p.childForFieldName('value'), base) } as Expr;
      }),
    };
  }
  if (n.type === 'call') {
    const e = pyExpr(n, base);
    const al = n.childForFieldName('arguments');
    if (e.k === 'call' && al) {
      const args: Expr[] = [];
      for (const a of al.codeChildren) {
        if (a.type === 'keyword_argument') args.push({ k: 'bin', op: 'kw=', l: { k: 'id', name: a.childForFieldName('name')?.text ?? '' }, r: withDicts(a.childForFieldName('value')!, base) });
        else args.push(withDicts(a, base));
      }
      return { ...e, args };
    }
    return e;
  }
  if (n.type === 'list' || n.type === 'tuple') return { k: 'call', fn: '()', args: n.codeChildren.map((c) => withDicts(c, base)) };
  if (n.type === 'list_comprehension') return { k: 'other', text: n.text };
  return pyExpr(n, base);
}

function tritonDef(n: Node, base: number, unit: TritonUnit): void {
  const decorators = n.type === 'decorated_definition' ? n.codeChildren.filter((c) => c.type === 'decorator') : [];
  const def = n.type === 'decorated_definition' ? n.childForFieldName('definition') : n;
  if (!def || def.type !== 'function_definition') {
    if (def?.type === 'class_definition') pyStmts(def.childForFieldName('body'), base, [], unit, [], true);
    return;
  }
  const nameNode = def.childForFieldName('name');
  if (!nameNode) return;
  let kernel = false;
  let autotune: TritonConfig[] | null = null;
  let autotuneRef: string | null = null;
  const heuristics: string[] = [];
  for (const d of decorators) {
    const e = d.codeChildren[0];
    if (!e) continue;
    const head = e.type === 'call' ? e.childForFieldName('function') : e;
    const name = head ? dotted(head) ?? '' : '';
    if (/(^|\.)jit$/.test(name)) kernel = true;
    if (/(^|\.)autotune$/.test(name) && e.type === 'call') {
      const x = withDicts(e, base);
      const cfg = x.k === 'call' ? kw(x.args, 'configs') ?? positional(x.args)[0] : undefined;
      autotune = parseConfigs(cfg);
      if (cfg && cfg.k === 'id') autotuneRef = cfg.name;
    }
    if (/(^|\.)heuristics$/.test(name) && e.type === 'call') {
      const x = withDicts(e, base);
      const d0 = x.k === 'call' ? positional(x.args)[0] ?? kw(x.args, 'values') : undefined;
      if (d0 && d0.k === 'call' && d0.fn === '{}') for (const p of d0.args) if (p.k === 'bin' && p.l.k === 'id') heuristics.push(p.l.name);
    }
  }
  const params: KernelParam[] = [];
  const plist = def.childForFieldName('parameters');
  for (const p of plist ? plist.codeChildren : []) {
    const id = p.type === 'identifier' ? p : p.codeChildren.find((c) => c.type === 'identifier');
    const t = p.childForFieldName('type')?.text ?? '';
    if (!id) continue;
    const constexpr = /constexpr/.test(t);
    params.push({ name: id.text, type: t, kind: constexpr ? 'constexpr' : /ptr|_p$|^p_|^x$|^y$|^out$|^in$/.test(id.text) ? 'global' : 'value' });
  }
  const body: PyStmt[] = [];
  const locals: TritonFunc['locals'] = [];
  pyStmts(def.childForFieldName('body'), base, body, unit, locals, !kernel);
  unit.funcs.push({ name: nameNode.text, namePos: nameNode.pos(base), pos: n.pos(base), kernel, autotune, autotuneRef, heuristics, params, body, locals });
}

/** One top-level statement of a Python file. */
export function tritonUnit(n: Node): TritonUnit {
  const unit: TritonUnit = { funcs: [], launches: [], consts: [], configLists: [], errors: [] };
  const base = n.startPosition.row;
  if (n.type === 'decorated_definition' || n.type === 'function_definition' || n.type === 'class_definition') tritonDef(n, base, unit);
  else if (n.type === 'expression_statement') {
    const a = n.codeChildren[0];
    if (a?.type === 'assignment') {
      const left = a.childForFieldName('left');
      const right = a.childForFieldName('right');
      if (left?.type === 'identifier' && right) {
        const v = withDicts(right, base);
        const cfgs = parseConfigs(v);
        if (cfgs && cfgs.length) unit.configLists.push({ name: left.text, configs: cfgs });
        else unit.consts.push({ name: left.text, value: v });
      }
    }
    pyStmts(n, base, [], unit, [], true);
  } else if (n.type === 'ERROR') {
    unit.errors.push(n.pos(base));
    for (const c of n.codeChildren) {
      const u = tritonUnit(c);
      const d = c.startPosition.row - base;
      unit.funcs.push(...u.funcs.map((f) => ({ ...f, namePos: shiftPos(f.namePos, d), pos: shiftPos(f.pos, d), body: shiftBody(f.body, d) })));
      unit.launches.push(...u.launches.map((l) => ({ ...l, pos: shiftPos(l.pos, d) })));
    }
  } else if (n.type === 'if_statement' || n.type === 'with_statement' || n.type === 'for_statement') {
    pyStmts(n, base, [], unit, [], true);
  }
  if (n.hasError && n.type !== 'ERROR') {
    const errs: Pos[] = [];
    const walk = (m: Node) => {
      if (errs.length > 20) return;
      if (m.type === 'ERROR' || m.isMissing) errs.push(m.pos(base));
      else if (m.hasError) for (const c of m.codeChildren) walk(c);
      if (m.isMissing) return;
    };
    walk(n);
    if (errs.length === 0) errs.push(n.pos(base));
    unit.errors.push(...errs);
  }
  return unit;
}

function shiftBody(body: PyStmt[], d: number): PyStmt[] {
  return body.map((s) => {
    const p = shiftPos(s.pos, d);
    if (s.k === 'for' || s.k === 'while') return { ...s, pos: p, body: shiftBody(s.body, d) };
    if (s.k === 'if') return { ...s, pos: p, then: shiftBody(s.then, d), else: shiftBody(s.else, d) };
    return { ...s, pos: p };
  });
}

// ---------------------------------------------------------------------------------------------------
// Analysis

interface Val { shape: number[] | null; float: boolean }

interface TCtx {
  env: Map<string, number>;
  vals: Map<string, Val>;
  elemBytes: number;
  flops: number;
  loads: number;
  stores: number;
  bytes: number;
  dots: number;
  unknown: string | null;
  loops: KernelLoop[];
  diags: KernelDiagnostic[];
  fn: TritonFunc;
  at: (p: Pos) => Pos;
}

const numel = (s: number[] | null) => (s ? s.reduce((a, b) => a * b, 1) : 1);

function broadcast(a: number[] | null, b: number[] | null): number[] | null {
  if (!a || !b) return a ?? b;
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

const ELEMENTWISE = /^(tl\.)?(exp|exp2|log|log2|sqrt|rsqrt|sin|cos|sigmoid|abs|maximum|minimum|where|fma|erf|softmax|math\.\w+|libdevice\.\w+|extra\.\w+)$/;
const REDUCE = /^(tl\.)?(sum|max|min|argmax|argmin|reduce|xor_sum)$/;

function val(e: Expr, cx: TCtx, mult: number): Val {
  switch (e.k) {
    case 'num': return { shape: [], float: e.float };
    case 'id': return cx.vals.get(e.name) ?? { shape: [], float: false };
    case 'un': return val(e.e, cx, mult);
    case 'cond': return val(e.a, cx, mult);
    case 'bin': {
      if (e.op === 'kw=') return val(e.r, cx, mult);
      const a = val(e.l, cx, mult);
      const b = val(e.r, cx, mult);
      const shape = broadcast(a.shape, b.shape);
      const cmp = ['<', '>', '<=', '>=', '==', '!=', '&&', '||', '&', '|'].includes(e.op);
      const float = !cmp && (a.float || b.float);
      if (float && ['+', '-', '*', '/'].includes(e.op)) cx.flops += mult * numel(shape);
      return { shape, float };
    }
    case 'idx': {
      const b = val(e.base, cx, mult);
      if (!b.shape) return b;
      const out: number[] = [];
      let j = 0;
      for (const i of e.idx) {
        if (i.k === 'id' && i.name === 'None') out.push(1);
        else if (i.k === 'other' && i.text === ':') out.push(b.shape[j++] ?? 1);
        else j++;
      }
      while (j < b.shape.length) out.push(b.shape[j++]!);
      return { shape: out, float: b.float };
    }
    case 'call': {
      const args = positional(e.args);
      const fn = e.fn.replace(/^triton\.language\./, 'tl.');
      const ev = (x: Expr | undefined) => (x ? evalExpr(x, cx.env) : null);
      if (/(^|\.)arange$/.test(fn)) {
        const lo = ev(args[0]);
        const hi = ev(args[1]);
        if (lo === null || hi === null) {
          cx.unknown ??= `tl.arange bounds need ${[...freeIdents(args[1] ?? args[0]!)].filter((n) => !cx.env.has(n)).join(', ')}`;
          return { shape: null, float: false };
        }
        const n = hi - lo;
        if (n > 0 && (n & (n - 1)) !== 0) {
          const a = args[1]!;
          cx.diags.push({ line: 0, column: 0, code: 'RL011', severity: 'error', message: `${cx.fn.name}: tl.arange(${exprText(args[0]!)}, ${exprText(a)}) spans ${n}, not a power of two; Triton rejects it`, kernel: cx.fn.name, fix: `use triton.next_power_of_2(...) for the block size and mask the tail` });
        }
        return { shape: [n], float: false };
      }
      if (/(^|\.)(zeros|full|empty)$/.test(fn)) {
        const s = args[0];
        const dims = s && s.k === 'call' && s.fn === '()' ? s.args.map((x) => ev(x)) : s ? [ev(s)] : [];
        if (dims.some((d: number | null) => d === null)) return { shape: null, float: true };
        const dt = kw(e.args, 'dtype') ?? args[fn.endsWith('full') ? 2 : 1];
        return { shape: dims as number[], float: !dt || /float|bf16|fp/.test(exprText(dt)) };
      }
      if (/(^|\.)load$/.test(fn)) {
        const p = args[0] ? val(args[0], cx, mult) : { shape: [], float: false };
        for (const a of e.args.slice(1)) val(a, cx, 0);
        cx.loads += mult;
        cx.bytes += mult * numel(p.shape) * cx.elemBytes;
        return { shape: p.shape, float: true };
      }
      if (/(^|\.)store$/.test(fn)) {
        const p = args[0] ? val(args[0], cx, mult) : { shape: [], float: false };
        if (args[1]) val(args[1], cx, mult);
        cx.stores += mult;
        cx.bytes += mult * numel(p.shape) * cx.elemBytes;
        return { shape: [], float: false };
      }
      if (/(^|\.)dot$/.test(fn)) {
        const a = args[0] ? val(args[0], cx, mult) : { shape: null, float: true };
        const b = args[1] ? val(args[1], cx, mult) : { shape: null, float: true };
        cx.dots++;
        if (a.shape && b.shape && a.shape.length === 2 && b.shape.length === 2) {
          cx.flops += mult * 2 * a.shape[0]! * a.shape[1]! * b.shape[1]!;
          return { shape: [a.shape[0]!, b.shape[1]!], float: true };
        }
        cx.unknown ??= 'tl.dot operand shapes are not known';
        return { shape: null, float: true };
      }
      if (REDUCE.test(fn)) {
        const x = args[0] ? val(args[0], cx, mult) : { shape: null, float: true };
        if (x.float) cx.flops += mult * numel(x.shape);
        const axisE = kw(e.args, 'axis') ?? args[1];
        const axis = axisE ? ev(axisE) : null;
        if (!x.shape) return x;
        if (axis === null) return { shape: [], float: x.float };
        const ax = axis < 0 ? x.shape.length + axis : axis;
        return { shape: x.shape.filter((_, i) => i !== ax), float: x.float };
      }
      if (/(^|\.)trans$/.test(fn)) {
        const x = args[0] ? val(args[0], cx, mult) : { shape: null, float: true };
        return { shape: x.shape ? [...x.shape].reverse() : null, float: x.float };
      }
      if (/\.to$/.test(fn) || /(^|\.)(cast|reshape|view|broadcast_to|expand_dims|max_contiguous|multiple_of)$/.test(fn)) {
        const baseName = fn.replace(/\.(to|view)$/, '');
        const x = /\.(to|view)$/.test(fn) ? cx.vals.get(baseName) ?? { shape: [], float: true } : args[0] ? val(args[0], cx, mult) : { shape: null, float: true };
        if (/(reshape|view|broadcast_to)$/.test(fn) && args[1]) {
          const s = args[1];
          const dims = s.k === 'call' && s.fn === '()' ? s.args.map((d) => ev(d)) : [ev(s)];
          if (dims.every((d) => d !== null)) return { shape: dims as number[], float: x.float };
        }
        return { shape: x.shape, float: /\.to$/.test(fn) ? !/int/.test(exprText(args[0] ?? e)) : x.float };
      }
      if (ELEMENTWISE.test(fn)) {
        let shape: number[] | null = [];
        let float = false;
        for (const a of args) {
          const v = val(a, cx, mult);
          shape = broadcast(shape, v.shape);
          float ||= v.float;
        }
        if (float || !/where|maximum|minimum/.test(fn)) cx.flops += mult * numel(shape);
        return { shape, float: true };
      }
      for (const a of e.args) val(a, cx, mult);
      return { shape: [], float: false };
    }
    default:
      return { shape: [], float: false };
  }
}

function walkBody(body: PyStmt[], cx: TCtx, mult: number, depth: number): void {
  for (const s of body) {
    switch (s.k) {
      case 'assign': {
        const v = val(s.value, cx, mult);
        // `acc += tl.dot(a, b)` accumulates inside the MMA: the 2*M*N*K of the dot already counts it
        const fusedDot = s.value.k === 'call' && /(^|\.)dot$/.test(s.value.fn);
        if (s.op !== '=' && v.float && !fusedDot) cx.flops += mult * numel(v.shape);
        if (s.targets.length === 1) {
          const prev = cx.vals.get(s.targets[0]!);
          cx.vals.set(s.targets[0]!, s.op === '=' ? v : { shape: broadcast(prev?.shape ?? [], v.shape), float: (prev?.float ?? false) || v.float });
          const n = evalExpr(s.value, cx.env);
          if (s.op === '=' && n !== null && !cx.env.has(s.targets[0]!)) cx.env.set(s.targets[0]!, n);
        }
        break;
      }
      case 'expr':
        val(s.e, cx, mult);
        break;
      case 'for': {
        let trip: number | null = null;
        if (s.range) {
          const [a, b, c] = s.range.length === 1 ? [{ k: 'num', v: 0, float: false } as Expr, s.range[0]!, undefined] : [s.range[0]!, s.range[1]!, s.range[2]];
          const t = { k: 'call', fn: 'ceil_div', args: [{ k: 'bin', op: '-', l: b, r: a }, c ?? { k: 'num', v: 1, float: false }] } as Expr;
          trip = evalTrip(t, cx.env);
          if (trip === null) cx.unknown ??= `the trip count of the loop at line ${cx.at(s.pos).row + 1} needs ${[...freeIdents(t)].filter((n) => !cx.env.has(n)).join(', ')}`;
        } else cx.unknown ??= `the loop at line ${cx.at(s.pos).row + 1} is not a range()`;
        cx.loops.push({ line: cx.at(s.pos).row + 1, variable: s.var, tripCount: trip, constant: false, depth: depth + 1 });
        walkBody(s.body, cx, trip === null ? 0 : mult * trip, depth + 1);
        break;
      }
      case 'while':
        cx.unknown ??= `the while loop at line ${cx.at(s.pos).row + 1} has no trip count`;
        cx.loops.push({ line: cx.at(s.pos).row + 1, variable: null, tripCount: null, constant: false, depth: depth + 1 });
        walkBody(s.body, cx, 0, depth + 1);
        break;
      case 'if':
        walkBody(s.then, cx, mult, depth);
        walkBody(s.else, cx, mult, depth);
        break;
    }
  }
}

export interface TritonContext {
  annotations: Annotation[];
  dims: Record<string, number>;
  device: Device | null;
}

export function analyzeTriton(units: Array<{ unit: TritonUnit; row: number }>, tc: TritonContext): { kernels: KernelInfo[]; diagnostics: KernelDiagnostic[] } {
  const funcs: Array<TritonFunc & { off: number }> = [];
  const launches: Array<TritonLaunch & { off: number }> = [];
  const configLists = new Map<string, TritonConfig[]>();
  const moduleEnv = new Map<string, number>(Object.entries(tc.dims));
  for (const { unit, row } of units) {
    for (const f of unit.funcs) funcs.push({ ...f, off: row });
    for (const l of unit.launches) launches.push({ ...l, off: row });
    for (const c of unit.configLists) configLists.set(c.name, c.configs);
    for (const c of unit.consts) {
      const v = evalExpr(c.value, moduleEnv);
      if (v !== null && !moduleEnv.has(c.name)) moduleEnv.set(c.name, v);
    }
  }
  const kernels: KernelInfo[] = [];
  const diagnostics: KernelDiagnostic[] = [];
  const kfs = funcs.filter((f) => f.kernel).sort((a, b) => a.namePos.row + a.off - (b.namePos.row + b.off));
  let prevEnd = -1;
  for (const f of kfs) {
    const at = (p: Pos) => shiftPos(p, f.off);
    const namePos = at(f.namePos);
    const ann = effectiveAnnotation(tc.annotations, namePos.row, prevEnd, kfs[0]!.pos.row + kfs[0]!.off);
    prevEnd = at(f.pos).endRow;
    const configs = f.autotune ?? (f.autotuneRef ? configLists.get(f.autotuneRef) ?? null : null);
    const env = new Map(moduleEnv);
    const myLaunches = launches.filter((l) => l.kernel === f.name);
    const first = myLaunches[0];
    const constexprs: Record<string, number> = {};
    if (configs?.[0]) Object.assign(constexprs, configs[0].values);
    let numWarps: number | null = configs?.[0]?.numWarps ?? null;
    if (first) {
      // positional arguments bind parameters; keywords bind constexprs and launch options
      const hostEnv = new Map(env);
      for (const l of first.locals) {
        const v = evalExpr(l.value, hostEnv);
        if (v !== null) hostEnv.set(l.name, v);
      }
      first.args.forEach((a, i) => {
        const p = f.params[i];
        const v = evalExpr(a, hostEnv);
        if (p && v !== null && !(p.name in tc.dims)) env.set(p.name, v);
      });
      for (const [k, e] of Object.entries(first.kwargs)) {
        const v = evalExpr(e, hostEnv);
        if (v === null) continue;
        if (k === 'num_warps') numWarps = v;
        else if (k !== 'num_stages') {
          constexprs[k] = v;
        }
      }
    }
    for (const [k, v] of Object.entries(constexprs)) env.set(k, v);
    const dtype = ann?.dtype ?? null;
    const elemBytes = dtype === 'fp16' || dtype === 'bf16' ? 2 : dtype === 'fp8' || dtype === 'int8' ? 1 : 4;
    const cx: TCtx = { env, vals: new Map(), elemBytes, flops: 0, loads: 0, stores: 0, bytes: 0, dots: 0, unknown: null, loops: [], diags: [], fn: f, at };
    for (const p of f.params) cx.vals.set(p.name, { shape: [], float: false });
    walkBody(f.body, cx, 1, 0);
    for (const d of cx.diags) {
      diagnostics.push({ ...d, line: namePos.row + 1, column: namePos.col + 1, endLine: namePos.endRow + 1, endColumn: namePos.endCol + 1 });
    }
    // grid
    const kl: KernelLaunch[] = [];
    let programs: number | null = null;
    for (const l of myLaunches) {
      const hostEnv = new Map(env);
      for (const x of l.locals) {
        const v = evalExpr(x.value, hostEnv);
        if (v !== null) hostEnv.set(x.name, v);
      }
      let g: Expr = l.grid;
      if (g.k === 'id') {
        const gname = g.name;
        g = [...l.locals].reverse().find((x) => x.name === gname)?.value ?? g;
      }
      if (g.k === 'call' && g.fn === 'lambda') g = g.args[0]!;
      const dims = g.k === 'call' && g.fn === '()' ? g.args : [g];
      const vals = dims.map((d) => evalExpr(d, hostEnv));
      const grid = vals.length >= 1 && vals.length <= 3 && vals.every((v) => v !== null && v > 0) ? ([0, 1, 2].map((i) => Math.ceil(vals[i] ?? 1)) as [number, number, number]) : null;
      kl.push({ line: shiftPos(l.pos, l.off).row + 1, grid, block: null, dynamicSharedMemoryBytes: null, text: l.text });
      if (programs === null && grid) programs = grid[0] * grid[1] * grid[2];
    }
    if (programs === null && ann?.grid) {
      const vals = ann.grid.map((d) => evalExpr(d, env));
      if (vals.every((v) => v !== null && v > 0)) {
        programs = vals.reduce((a, b) => a! * Math.ceil(b!), 1)!;
        kl.push({ line: ann.row + 1, grid: [0, 1, 2].map((i) => Math.ceil(vals[i] ?? 1)) as [number, number, number], block: null, dynamicSharedMemoryBytes: null, text: 'annotation' });
      }
    }
    const nw = numWarps ?? 4;
    const notes: string[] = [];
    if (numWarps === null) notes.push('num_warps not given: Triton default 4');
    if (!dtype) notes.push('pointer element type not known from source: 4 bytes (fp32) assumed; set `# ridgeline: dtype=fp16` to change');
    const dt: Dtype = dtype === 'fp16' || dtype === 'bf16' ? (dtype as Dtype) : dtype === 'fp8' ? 'fp8' : dtype === 'int8' ? 'int8' : cx.dots > 0 ? 'tf32' : 'fp32';
    if (dt === 'tf32') notes.push('tl.dot on fp32 inputs runs in tf32 by default (input_precision="tf32")');
    let estimate: KernelEstimate | undefined;
    let estimateUnavailable: string | undefined;
    const annFlops = ann?.flops ? evalExpr(ann.flops, env) : null;
    const annBytes = ann?.bytes ? evalExpr(ann.bytes, env) : null;
    const flops = annFlops ?? (programs !== null && !cx.unknown ? cx.flops * programs : null);
    const bytes = annBytes ?? (programs !== null && !cx.unknown ? cx.bytes * programs : null);
    if (annFlops !== null) notes.push('FLOPs from the annotation formula');
    else if (flops !== null) notes.push(`FLOPs counted from block shapes: ${cx.flops.toLocaleString('en-US')} per program x ${programs} programs`);
    if (annBytes !== null) notes.push('bytes from the annotation formula');
    else if (bytes !== null) notes.push(`bytes: ${cx.bytes.toLocaleString('en-US')} per program (tl.load/tl.store block sizes, masks ignored)`);
    if (flops !== null && bytes !== null && bytes > 0) {
      estimate = { flops, bytes, intensity: flops / bytes, dtype: dt, threads: programs ?? 0, notes };
      const dev = tc.device;
      if (dev) {
        // The dtype's peak, or the one the cost model falls back to (named in the notes) on a device without it.
        const choice = peakFor(dev, dt);
        if (choice.note) notes.push(choice.note);
        const peak = choice.flopsPerS;
        if (peak && dev.memoryBandwidthBytesPerS > 0) {
          const ridge = peak / dev.memoryBandwidthBytesPerS;
          estimate.device = { id: dev.id, peakFlopsPerS: peak, bandwidthBytesPerS: dev.memoryBandwidthBytesPerS, ridgeIntensity: ridge, bound: estimate.intensity < ridge ? 'memory' : 'compute', timeS: Math.max(flops / peak, bytes / dev.memoryBandwidthBytesPerS) };
          if (estimate.device.bound === 'memory' && (dt === 'fp32' || dt === 'tf32') && (dev.peakFlopsPerS.fp16 !== undefined || dev.peakFlopsPerS.bf16 !== undefined)) {
            diagnostics.push({ line: namePos.row + 1, column: namePos.col + 1, endLine: namePos.endRow + 1, endColumn: namePos.endCol + 1, code: 'RL007', severity: rule('RL007').severity, kernel: f.name, message: `${f.name}: memory-bound on ${dev.name} (${estimate.intensity.toFixed(2)} FLOP/byte < ridge ${ridge.toFixed(1)}) moving 4-byte elements; fp16/bf16 tensors halve the bytes`, fix: 'pass fp16/bf16 tensors and accumulate in tl.float32' });
          }
        }
      }
    } else {
      const reasons: string[] = [];
      if (programs === null) reasons.push('no launch `kernel[grid](...)` whose grid resolves (add dims such as `# ridgeline: N=4096`, or `# ridgeline: grid=...`)');
      if (cx.unknown) reasons.push(cx.unknown);
      estimateUnavailable = reasons.join('; ') || 'no global memory traffic found';
    }
    kernels.push({
      name: f.name,
      line: namePos.row + 1,
      column: namePos.col + 1,
      endLine: at(f.pos).endRow + 1,
      language: 'triton',
      params: f.params,
      workgroupSize: [nw * 32, 1, 1],
      sharedMemoryBytes: null,
      constexprs,
      ...(configs ? { configs } : {}),
      launches: kl,
      loops: cx.loops,
      globalLoadsPerThread: cx.unknown && cx.loops.some((l) => l.tripCount === null) ? null : cx.loads,
      globalStoresPerThread: cx.unknown && cx.loops.some((l) => l.tripCount === null) ? null : cx.stores,
      ...(estimate ? { estimate } : { estimateUnavailable }),
    });
  }
  return { kernels, diagnostics };
}

export type { Env };
