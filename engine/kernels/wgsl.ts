/**
 * WGSL front end for tree-sitter-wgsl 0.0.6 (its node names: `ident`, `function_decl`, layered
 * `*_expression` nodes): a top-level declaration -> UnitIR. Also WGSL memory layout (size and
 * alignment rules of the WGSL spec, section "Memory Layout") for sizing `var<workgroup>`.
 */
import type { SyntaxNode as Node } from './syntax';
import { collectErrors } from './cuda';
import { emptyUnit, evalExpr, tripFromParts, type Env, type Expr, type ParamIR, type Stmt, type UnitIR, type WgslType } from './ir';

type Ctx = { base: number; builtins: Map<string, string>; calls: Set<string>; idents: Set<string> };

function num(text: string): Expr {
  const t = text.replace(/[uif]$|h$/i, '');
  const float = /[.eEpP]/.test(text) && !/^0[xX]/.test(text) || /[fh]$/.test(text);
  const v = Number(t);
  return Number.isFinite(v) ? { k: 'num', v, float } : { k: 'other', text };
}

function builtinExpr(kind: string, field: string | null): Expr | null {
  const dim = field === null || field === 'x' ? 0 : field === 'y' ? 1 : field === 'z' ? 2 : undefined;
  if (dim === undefined) return null;
  switch (kind) {
    case 'local_invocation_id': return { k: 'tid', dim };
    case 'local_invocation_index': return { k: 'tid', dim: 0 };
    case 'global_invocation_id':
      return { k: 'bin', op: '+', l: { k: 'bin', op: '*', l: { k: 'bid', dim }, r: { k: 'bdim', dim } }, r: { k: 'tid', dim } };
    case 'workgroup_id': return { k: 'bid', dim };
    case 'num_workgroups': return { k: 'gdim', dim };
    default: return null;
  }
}

function applyPostfix(baseE: Expr, post: Node | null, ctx: Ctx, whole: Node): Expr {
  let e = baseE;
  let cur = post;
  while (cur && cur.type === 'postfix_expression') {
    const first = cur.children[0];
    if (first?.type === 'period') {
      const field = cur.children.find((c) => c.type === 'ident')?.text ?? '';
      if (e.k === 'id' && ctx.builtins.has(e.name)) {
        const b = builtinExpr(ctx.builtins.get(e.name)!, field);
        e = b ?? { k: 'mem', obj: e, field };
      } else e = { k: 'mem', obj: e, field };
    } else if (first?.type === 'bracket_left') {
      const ix = cur.children.find((c) => c.type === 'expression');
      const idxE = wExpr(ix ?? null, ctx);
      if (e.k === 'idx') e = { ...e, idx: [...e.idx, idxE], pos: whole.pos(ctx.base) };
      else e = { k: 'idx', base: e, idx: [idxE], pos: whole.pos(ctx.base) };
    }
    cur = cur.children.find((c) => c.type === 'postfix_expression') ?? null;
  }
  return e;
}

export function wExpr(n: Node | null, ctx: Ctx): Expr {
  if (!n) return { k: 'other', text: '' };
  const ch = n.codeChildren;
  switch (n.type) {
    case 'int_literal':
    case 'decimal_float_literal':
    case 'hex_float_literal':
      return num(n.text);
    case 'float_literal':
    case 'const_literal':
      return ch[0] ? wExpr(ch[0], ctx) : n.text === 'true' ? { k: 'num', v: 1, float: false } : n.text === 'false' ? { k: 'num', v: 0, float: false } : num(n.text);
    case 'bool_literal':
      return { k: 'num', v: n.text === 'true' ? 1 : 0, float: false };
    case 'ident': {
      ctx.idents.add(n.text);
      if (ctx.builtins.get(n.text) === 'local_invocation_index') return { k: 'tid', dim: 0 };
      return { k: 'id', name: n.text };
    }
    case 'paren_expression':
      return wExpr(ch.find((c) => c.type === 'expression') ?? null, ctx);
    case 'singular_expression': {
      const prim = ch.find((c) => c.type === 'primary_expression') ?? ch[0] ?? null;
      const post = ch.find((c) => c.type === 'postfix_expression') ?? null;
      return applyPostfix(wExpr(prim, ctx), post, ctx, n);
    }
    case 'lhs_expression': {
      const all = n.children;
      const core = all.find((c) => c.type === 'core_lhs_expression') ?? null;
      const post = all.find((c) => c.type === 'postfix_expression') ?? null;
      const prefix = all.filter((c) => !c.isNamed || c.type === 'star' || c.type === 'and').map((c) => c.text).join('');
      const e = applyPostfix(wExpr(core, ctx), post, ctx, n);
      return prefix ? { k: 'un', op: prefix, e } : e;
    }
    case 'core_lhs_expression':
      return wExpr(ch.find((c) => c.type === 'ident' || c.type === 'lhs_expression') ?? ch[0] ?? null, ctx);
    case 'primary_expression': {
      const callable = ch.find((c) => c.type === 'callable');
      const args = ch.find((c) => c.type === 'argument_expression_list');
      if (callable && args) {
        const fn = callable.text.replace(/\s+/g, '');
        ctx.calls.add(fn);
        return { k: 'call', fn, args: args.codeChildren.filter((a) => a.type === 'expression').map((a) => wExpr(a, ctx)) };
      }
      if (ch[0]?.type === 'bitcast') {
        const e = ch.find((c) => c.type === 'paren_expression');
        return { k: 'call', fn: 'bitcast', args: [wExpr(e ?? null, ctx)] };
      }
      return wExpr(ch[0] ?? null, ctx);
    }
    case 'unary_expression': {
      const all = n.children;
      if (all.length === 2) return { k: 'un', op: all[0]!.text, e: wExpr(all[1]!, ctx) };
      return wExpr(ch[0] ?? null, ctx);
    }
    case 'func_call_statement': {
      const fn = ch.find((c) => c.type === 'ident')?.text ?? '';
      ctx.calls.add(fn);
      const args = ch.find((c) => c.type === 'argument_expression_list');
      return { k: 'call', fn, args: args ? args.codeChildren.filter((a) => a.type === 'expression').map((a) => wExpr(a, ctx)) : [] };
    }
    default: {
      const all = n.children;
      if (all.length === 3 && n.codeChildren.length >= 2 && n.type.endsWith('expression')) {
        return { k: 'bin', op: all[1]!.text, l: wExpr(all[0]!, ctx), r: wExpr(all[2]!, ctx) };
      }
      if (ch.length === 1) return wExpr(ch[0]!, ctx);
      if (ch.length > 1) return { k: 'call', fn: `<${n.type}>`, args: ch.map((c) => wExpr(c, ctx)) };
      return { k: 'other', text: n.text };
    }
  }
}

export function wType(n: Node | null): WgslType | null {
  if (!n) return null;
  if (n.type === 'type_decl') return wType(n.codeChildren[0] ?? null);
  if (n.type !== 'type_decl_without_ident') {
    if (n.type === 'ident') return aliasType(n.text);
    return null;
  }
  const ch = n.codeChildren;
  const first = ch[0];
  if (!first) return null;
  switch (first.type) {
    case 'float32': return { k: 'scalar', name: 'f32' };
    case 'float16': return { k: 'scalar', name: 'f16' };
    case 'int32': return { k: 'scalar', name: 'i32' };
    case 'uint32': return { k: 'scalar', name: 'u32' };
    case 'bool': return { k: 'scalar', name: 'bool' };
    case 'vec_prefix': {
      const elem = wType(ch.find((c) => c.type === 'type_decl') ?? null);
      return elem ? { k: 'vec', n: Number(first.text.slice(3)), elem } : null;
    }
    case 'mat_prefix': {
      const m = /mat(\d)x(\d)/.exec(first.text);
      const elem = wType(ch.find((c) => c.type === 'type_decl') ?? null);
      return m && elem ? { k: 'mat', c: Number(m[1]), r: Number(m[2]), elem } : null;
    }
    case 'array_type_decl': {
      const a = first.codeChildren;
      const elem = wType(a.find((c) => c.type === 'type_decl') ?? null);
      const cnt = a.find((c) => c.type === 'element_count_expression');
      const ctx: Ctx = { base: 0, builtins: new Map(), calls: new Set(), idents: new Set() };
      return elem ? { k: 'array', elem, count: cnt ? wExpr(cnt, ctx) : null } : null;
    }
    case 'atomic': {
      const elem = wType(ch.find((c) => c.type === 'type_decl') ?? null);
      return elem ? { k: 'atomic', elem } : null;
    }
    case 'ident':
      return aliasType(first.text);
    default:
      if (/^atomic/.test(n.text)) {
        const inner = /<\s*(\w+)\s*>/.exec(n.text)?.[1];
        return inner ? { k: 'atomic', elem: aliasType(inner) } : null;
      }
      return aliasType(n.text.replace(/\s+/g, ''));
  }
}

/** Predeclared aliases (vec4f, mat4x4h...) and scalars written as identifiers. */
function aliasType(name: string): WgslType {
  const s = (c: string): WgslType => ({ k: 'scalar', name: c === 'f' ? 'f32' : c === 'h' ? 'f16' : c === 'i' ? 'i32' : 'u32' });
  let m = /^vec([234])([fhiu])$/.exec(name);
  if (m) return { k: 'vec', n: Number(m[1]), elem: s(m[2]!) };
  m = /^mat([234])x([234])([fh])$/.exec(name);
  if (m) return { k: 'mat', c: Number(m[1]), r: Number(m[2]), elem: s(m[3]!) };
  if (['f32', 'f16', 'i32', 'u32', 'bool'].includes(name)) return { k: 'scalar', name };
  return { k: 'named', name };
}

/**
 * Rewrites newer WGSL that tree-sitter-wgsl 0.0.6 predates into forms it parses, keeping every offset and
 * line: `alias` -> `type `, and `const_assert ...;`, `requires ...;`, `diagnostic(...);` blanked out.
 */
export function wgslCompat(source: string): string {
  if (!/\b(alias|const_assert|requires|diagnostic)\b/.test(source)) return source;
  const blank = (m: string) => m.replace(/[^\n]/g, ' ');
  return source
    .replace(/^(\s*)alias(\s)/gm, '$1type$2 ')
    .replace(/^\s*(const_assert|requires)\b[^;]*;/gm, blank)
    .replace(/^\s*diagnostic\s*\([^)]*\)\s*;/gm, blank);
}

export interface Layout {
  size: number;
  align: number;
}

/** WGSL size and alignment (WGSL spec, "Alignment and Size" table). null when a count or struct is unknown. */
export function wgslLayout(t: WgslType, env: Env, structs: Map<string, Array<{ type: WgslType | null }>>, depth = 0): Layout | null {
  if (depth > 16) return null;
  const roundUp = (k: number, n: number) => Math.ceil(n / k) * k;
  switch (t.k) {
    case 'scalar':
      return t.name === 'f16' ? { size: 2, align: 2 } : { size: 4, align: 4 };
    case 'atomic':
      return { size: 4, align: 4 };
    case 'vec': {
      const e = wgslLayout(t.elem, env, structs, depth + 1);
      if (!e) return null;
      return { size: t.n * e.size, align: (t.n === 3 ? 4 : t.n) * e.size };
    }
    case 'mat': {
      const col = wgslLayout({ k: 'vec', n: t.r, elem: t.elem }, env, structs, depth + 1);
      if (!col) return null;
      return { size: t.c * roundUp(col.align, col.size), align: col.align };
    }
    case 'array': {
      const e = wgslLayout(t.elem, env, structs, depth + 1);
      if (!e || !t.count) return null;
      const n = evalExpr(t.count, env);
      if (n === null || n <= 0) return null;
      return { size: n * roundUp(e.align, e.size), align: e.align };
    }
    case 'named': {
      const members = structs.get(t.name);
      if (!members) return null;
      let offset = 0;
      let align = 1;
      for (const m of members) {
        if (!m.type) return null;
        const l = wgslLayout(m.type, env, structs, depth + 1);
        if (!l) return null;
        offset = roundUp(l.align, offset) + l.size;
        align = Math.max(align, l.align);
      }
      return { size: roundUp(align, offset), align };
    }
  }
}

export function wgslTypeText(t: WgslType | null): string {
  if (!t) return '';
  switch (t.k) {
    case 'scalar': return t.name;
    case 'atomic': return `atomic<${wgslTypeText(t.elem)}>`;
    case 'vec': return `vec${t.n}<${wgslTypeText(t.elem)}>`;
    case 'mat': return `mat${t.c}x${t.r}<${wgslTypeText(t.elem)}>`;
    case 'array': return `array<${wgslTypeText(t.elem)}${t.count ? ', …' : ''}>`;
    case 'named': return t.name;
  }
}

/** Scalar element of a type (the f32 of array<vec4<f32>>). */
export function scalarOf(t: WgslType | null): string | null {
  if (!t) return null;
  if (t.k === 'scalar') return t.name;
  if (t.k === 'vec' || t.k === 'mat' || t.k === 'array' || t.k === 'atomic') return scalarOf(t.elem);
  return null;
}

const BARRIERS = new Set(['workgroupBarrier', 'storageBarrier', 'textureBarrier', 'workgroupUniformLoad']);

function wStmts(n: Node | null, ctx: Ctx, out: Stmt[]): void {
  if (!n) return;
  switch (n.type) {
    case 'compound_statement':
    case 'continuing_statement':
      for (const c of n.codeChildren) wStmts(c, ctx, out);
      return;
    case 'statement':
      for (const c of n.codeChildren) wStmts(c, ctx, out);
      return;
    case 'variable_statement': {
      const vd = n.codeChildren.find((c) => c.type === 'variable_decl');
      const vid = (vd ? vd.codeChildren : n.codeChildren).find((c) => c.type === 'variable_ident_decl');
      const name = (vid ? vid.codeChildren.find((c) => c.type === 'ident') : (vd ? vd.codeChildren : n.codeChildren).find((c) => c.type === 'ident'))?.text ?? '';
      const t = vid ? wType(vid.codeChildren.find((c) => c.type === 'type_decl') ?? null) : null;
      const init = n.codeChildren.find((c) => c.type === 'expression');
      ctx.idents.add(name);
      out.push({ k: 'decl', name, type: t ? wgslTypeText(t) : '', init: init ? wExpr(init, ctx) : null, pos: n.pos(ctx.base) });
      return;
    }
    case 'assignment_statement': {
      const lhs = n.codeChildren.find((c) => c.type === 'lhs_expression');
      const opNode = n.children.find((c) => c.type === 'compound_assignment_operator' || c.type === 'equal');
      const value = n.codeChildren.find((c) => c.type === 'expression');
      out.push({ k: 'assign', target: wExpr(lhs ?? null, ctx), op: opNode?.text ?? '=', value: wExpr(value ?? null, ctx), pos: n.pos(ctx.base) });
      return;
    }
    case 'increment_statement':
    case 'decrement_statement': {
      const lhs = n.codeChildren.find((c) => c.type === 'lhs_expression');
      out.push({ k: 'assign', target: wExpr(lhs ?? null, ctx), op: n.type === 'increment_statement' ? '+=' : '-=', value: { k: 'num', v: 1, float: false }, pos: n.pos(ctx.base) });
      return;
    }
    case 'func_call_statement': {
      const fn = n.codeChildren.find((c) => c.type === 'ident')?.text ?? '';
      if (BARRIERS.has(fn)) {
        out.push({ k: 'barrier', pos: n.pos(ctx.base) });
        if (fn !== 'workgroupUniformLoad') return;
      }
      out.push({ k: 'expr', e: wExpr(n, ctx), pos: n.pos(ctx.base) });
      return;
    }
    case 'return_statement': {
      const e = n.codeChildren.find((c) => c.type === 'expression');
      if (e) out.push({ k: 'expr', e: wExpr(e, ctx), pos: n.pos(ctx.base) });
      return;
    }
    case 'if_statement':
    case 'elseif_statement': {
      const cond = n.codeChildren.find((c) => c.type === 'expression');
      const then: Stmt[] = [];
      const els: Stmt[] = [];
      wStmts(n.codeChildren.find((c) => c.type === 'compound_statement') ?? null, ctx, then);
      for (const c of n.codeChildren) {
        if (c.type === 'else_statement' || c.type === 'elseif_statement') wStmts(c, ctx, els);
      }
      out.push({ k: 'if', cond: wExpr(cond ?? null, ctx), then, else: els, pos: n.pos(ctx.base) });
      return;
    }
    case 'else_statement':
      for (const c of n.codeChildren) wStmts(c, ctx, out);
      return;
    case 'for_statement': {
      const header = n.codeChildren.find((c) => c.type === 'for_header');
      const hs: Stmt[] = [];
      let condE: Expr | null = null;
      let update: Stmt[] = [];
      if (header) {
        for (const c of header.codeChildren) {
          if (c.type === 'for_init') for (const x of c.codeChildren) wStmts(x, ctx, hs);
          else if (c.type === 'expression') condE = wExpr(c, ctx);
          else if (c.type === 'for_update') { update = []; for (const x of c.codeChildren) wStmts(x, ctx, update); }
        }
      }
      const h0 = hs[0];
      const variable = h0?.k === 'decl' ? h0.name : h0?.k === 'assign' && h0.target.k === 'id' ? h0.target.name : null;
      const initE = h0?.k === 'decl' ? h0.init : h0?.k === 'assign' ? h0.value : null;
      let op: string | null = null;
      let bound: Expr | null = null;
      if (condE && condE.k === 'bin' && variable) {
        if (condE.l.k === 'id' && condE.l.name === variable) { op = condE.op; bound = condE.r; }
        else if (condE.r.k === 'id' && condE.r.name === variable) { op = ({ '<': '>', '>': '<', '<=': '>=', '>=': '<=' } as Record<string, string>)[condE.op] ?? condE.op; bound = condE.l; }
      }
      let stepOp: string | null = null;
      let step: Expr | null = null;
      const u = update[0];
      if (u && u.k === 'assign' && u.target.k === 'id' && u.target.name === variable) {
        if (u.op === '=' && u.value.k === 'bin' && u.value.l.k === 'id' && u.value.l.name === variable) { stepOp = u.value.op; step = u.value.r; }
        else if (u.op.length >= 2) { stepOp = u.op.slice(0, -1); step = u.value; }
      }
      const body: Stmt[] = [];
      wStmts(n.codeChildren.find((c) => c.type === 'compound_statement') ?? null, ctx, body);
      out.push(...hs); // the initializer runs once, before the loop
      out.push({
        k: 'loop', var: variable, trip: tripFromParts(initE, op, bound, stepOp, step), body, pos: n.pos(ctx.base), header: condE ? [condE] : [],
        seq: initE && stepOp ? { init: initE, stepOp, step: step ?? { k: 'num', v: 1, float: false } } : null,
      });
      return;
    }
    case 'while_statement':
    case 'loop_statement': {
      const body: Stmt[] = [];
      for (const c of n.codeChildren) if (c.type !== 'expression') wStmts(c, ctx, body);
      const cond = n.codeChildren.find((c) => c.type === 'expression');
      out.push({ k: 'loop', var: null, trip: null, body, pos: n.pos(ctx.base), header: cond ? [wExpr(cond, ctx)] : [], seq: null });
      return;
    }
    case 'switch_statement': {
      for (const c of n.codeChildren) if (c.type !== 'expression') wStmts(c, ctx, out);
      return;
    }
    default:
      for (const c of n.codeChildren) {
        if (c.type.endsWith('statement') || c.type === 'case_selectors' || c.type.startsWith('switch_body') || c.type.endsWith('_body')) wStmts(c, ctx, out);
      }
      return;
  }
}

function attrs(n: Node): Array<{ name: string; args: Node[] }> {
  return n.codeChildren
    .filter((c) => c.type === 'attribute')
    .map((a) => ({ name: a.codeChildren.find((c) => c.type === 'ident')?.text ?? '', args: a.codeChildren.filter((c) => c.type === 'literal_or_ident' || c.type === 'expression') }));
}

function litOrIdent(n: Node, ctx: Ctx): Expr {
  const c = n.codeChildren[0];
  if (!c) return { k: 'other', text: n.text };
  if (c.type === 'ident') return { k: 'id', name: c.text };
  if (c.type === 'int_literal' || c.type === 'float_literal') return num(c.text);
  return wExpr(c, ctx);
}

function wFunction(n: Node, base: number, unit: UnitIR): void {
  const header = n.codeChildren.find((c) => c.type === 'function_header');
  if (!header) return;
  const nameNode = header.codeChildren.find((c) => c.type === 'ident');
  if (!nameNode) return;
  const at = attrs(n);
  const isCompute = at.some((a) => a.name === 'compute');
  const ctx: Ctx = { base, builtins: new Map(), calls: new Set(), idents: new Set() };
  const wg = at.find((a) => a.name === 'workgroup_size');
  const params: ParamIR[] = [];
  const plist = header.codeChildren.find((c) => c.type === 'param_list');
  for (const p of plist ? plist.codeChildren.filter((c) => c.type === 'param') : []) {
    const vid = p.codeChildren.find((c) => c.type === 'variable_ident_decl');
    const pname = vid ? vid.codeChildren.find((c) => c.type === 'ident')?.text ?? '' : '';
    const t = vid ? vid.codeChildren.find((c) => c.type === 'type_decl') : null;
    const b = attrs(p).find((a) => a.name === 'builtin');
    if (b && b.args[0]) ctx.builtins.set(pname, b.args[0].text);
    params.push({ name: pname, type: (b ? `@builtin(${b.args[0]?.text ?? ''}) ` : '') + (t?.text ?? ''), kind: 'value', elemType: null });
  }
  const body: Stmt[] = [];
  wStmts(n.codeChildren.find((c) => c.type === 'compound_statement') ?? null, ctx, body);
  unit.funcs.push({
    name: nameNode.text,
    namePos: nameNode.pos(base),
    pos: n.pos(base),
    kind: isCompute ? 'kernel' : 'device',
    templateParams: [],
    params,
    body,
    shared: [],
    workgroupSize: wg ? wg.args.map((a) => litOrIdent(a, ctx)) : null,
    calls: [...ctx.calls],
    idents: [...ctx.idents],
  });
}

/** One top-level node of a WGSL module. */
export function wgslUnit(n: Node): UnitIR {
  const unit = emptyUnit();
  const base = n.startPosition.row;
  const ctx: Ctx = { base, builtins: new Map(), calls: new Set(), idents: new Set() };
  const visit = (m: Node) => {
    switch (m.type) {
      case 'function_decl':
        wFunction(m, base, unit);
        return;
      case 'global_constant_decl': {
        const isOverride = m.children.some((c) => c.type === 'override');
        const vid = m.codeChildren.find((c) => c.type === 'variable_ident_decl');
        const name = (vid ? vid.codeChildren.find((c) => c.type === 'ident') : m.codeChildren.find((c) => c.type === 'ident'))?.text;
        const e = m.codeChildren.find((c) => c.type === 'expression');
        if (name) unit.consts.push({ name, value: e ? wExpr(e, ctx) : { k: 'other', text: '' }, override: isOverride });
        return;
      }
      case 'global_variable_decl': {
        const vd = m.codeChildren.find((c) => c.type === 'variable_decl');
        if (!vd) return;
        const q = vd.codeChildren.find((c) => c.type === 'variable_qualifier');
        const space = q ? (q.codeChildren.find((c) => c.type === 'address_space')?.text ?? '') : 'handle';
        const vid = vd.codeChildren.find((c) => c.type === 'variable_ident_decl');
        const name = vid ? vid.codeChildren.find((c) => c.type === 'ident')?.text : undefined;
        const t = vid ? wType(vid.codeChildren.find((c) => c.type === 'type_decl') ?? null) : null;
        const access = q ? (q.codeChildren.find((c) => c.type === 'access_mode')?.text ?? '') : '';
        const at = attrs(m);
        const num = (k: string) => {
          const a = at.find((x) => x.name === k)?.args[0];
          return a && /^\d+$/.test(a.text) ? Number(a.text) : null;
        };
        if (name) unit.globals.push({ name, space, access, type: t, group: num('group'), binding: num('binding'), pos: (vid ?? m).pos(base) });
        return;
      }
      case 'struct_decl': {
        const name = m.codeChildren.find((c) => c.type === 'ident')?.text ?? '';
        const body = m.codeChildren.find((c) => c.type === 'struct_body_decl');
        const members = (body ? body.codeChildren.filter((c) => c.type === 'struct_member') : []).map((sm) => {
          const vid = sm.codeChildren.find((c) => c.type === 'variable_ident_decl');
          return { name: vid ? vid.codeChildren.find((c) => c.type === 'ident')?.text ?? '' : '', type: vid ? wType(vid.codeChildren.find((c) => c.type === 'type_decl') ?? null) : null };
        });
        unit.structs.push({ name, members });
        return;
      }
      case 'global_directive': {
        const t = m.text.match(/enable\s+([\w\s,]+);/);
        if (t) unit.enables.push(...t[1]!.split(',').map((s) => s.trim()).filter(Boolean));
        return;
      }
      case 'type_alias':
      case 'type_alias_decl': {
        const name = m.codeChildren.find((c) => c.type === 'ident')?.text;
        if (name) unit.aliases.push({ name, type: wType(m.codeChildren.find((c) => c.type === 'type_decl') ?? null) });
        return;
      }
      case 'ERROR':
        unit.errors.push(m.pos(base));
        for (const c of m.codeChildren) visit(c);
        return;
      case 'translation_unit':
        for (const c of m.codeChildren) visit(c);
        return;
      default:
        return;
    }
  };
  visit(n);
  if (n.hasError && unit.errors.length === 0) collectErrors(n, base, unit.errors);
  return unit;
}
