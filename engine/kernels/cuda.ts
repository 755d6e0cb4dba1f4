/**
 * CUDA front end: a tree-sitter-cuda top-level node -> UnitIR (kernels, device/host functions,
 * `#define` / `constexpr` constants, `<<<>>>` launch sites with `dim3` locals substituted).
 */
import type { SyntaxNode as Node } from './syntax';
import { ctypeBytes, parseMiniExpr } from './miniexpr';
import { emptyUnit, type Expr, type ParamIR, type Pos, type SharedDecl, type Stmt, type UnitIR, tripFromParts } from './ir';

type Ctx = { base: number; shared: SharedDecl[]; locals: Map<string, Expr | Expr[]> };

export function parseCNumber(text: string): Expr {
  // plain decimal integers (most literals) without the pattern below
  let digits = text.length > 0 && text.length < 16;
  for (let i = 0; digits && i < text.length; i++) {
    const c = text.charCodeAt(i);
    digits = c >= 48 && c <= 57;
  }
  if (digits) return { k: 'num', v: Number(text), float: false };
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?\.?)([uUlLfF]*)$/.exec(text.replace(/'/g, ''));
  if (!m) return { k: 'other', text };
  const body = m[1]!;
  const float = (/[.eE]/.test(body) && !/^0[xX]/.test(body)) || /[fF]/.test(m[2]!);
  const v = /^0[bB]/.test(body) ? parseInt(body.slice(2), 2) : Number(body);
  return Number.isFinite(v) ? { k: 'num', v, float } : { k: 'other', text };
}

/**
 * Text of an operator token: an anonymous token's type is its text, a string the language tables share, where
 * `text` would copy it out of the source for every operator of the file.
 */
function tokenText(n: Node): string {
  return n.isNamed ? n.text : n.type;
}

/** `threadIdx.x` and the like: one expression per built-in and dimension, shared (the IR is never mutated). */
const builtinDims = (k: 'tid' | 'bid' | 'bdim' | 'gdim'): readonly Expr[] => [0, 1, 2].map((dim): Expr => ({ k, dim }));
const BUILTIN_EXPRS = new Map<string, readonly Expr[]>([
  ['threadIdx', builtinDims('tid')],
  ['blockIdx', builtinDims('bid')],
  ['blockDim', builtinDims('bdim')],
  ['gridDim', builtinDims('gdim')],
]);
const DIM_OF_FIELD = new Map([['x', 0], ['y', 1], ['z', 2]]);

export function cExpr(n: Node | null, ctx: Ctx): Expr {
  if (!n) return { k: 'other', text: '' };
  switch (n.type) {
    case 'number_literal':
      return parseCNumber(n.text);
    case 'true':
      return { k: 'num', v: 1, float: false };
    case 'false':
      return { k: 'num', v: 0, float: false };
    case 'identifier':
    case 'qualified_identifier':
      return { k: 'id', name: n.text };
    case 'parenthesized_expression': {
      const inner = n.codeChildren[0];
      return inner ? cExpr(inner, ctx) : { k: 'other', text: n.text };
    }
    case 'field_expression': {
      // children: argument, '.' or '->', field (one call instead of one per field)
      const ch = n.children;
      const arg = ch[0] ?? null;
      const field = ch[2]?.text ?? '';
      if (arg && arg.type === 'identifier') {
        const builtin = BUILTIN_EXPRS.get(arg.text)?.[DIM_OF_FIELD.get(field) ?? 3];
        if (builtin) return builtin;
      }
      return { k: 'mem', obj: cExpr(arg, ctx), field };
    }
    case 'binary_expression': {
      const ch = n.children; // left, operator, right
      return ch.length === 3 ? { k: 'bin', op: tokenText(ch[1]!), l: cExpr(ch[0]!, ctx), r: cExpr(ch[2]!, ctx) } : { k: 'other', text: n.text };
    }
    case 'unary_expression':
    case 'pointer_expression': {
      const op = n.childForFieldName('operator') ?? n.children[0];
      return { k: 'un', op: op ? tokenText(op) : '?', e: cExpr(n.childForFieldName('argument'), ctx) };
    }
    case 'update_expression':
      return cExpr(n.childForFieldName('argument'), ctx);
    case 'subscript_expression': {
      const idx: Expr[] = [];
      let cur: Node | null = n;
      while (cur && cur.type === 'subscript_expression') {
        const ch: Node[] = cur.children; // argument, indices
        const list = ch[1] ?? null;
        const inner = list ? (list.type === 'subscript_argument_list' ? list.codeChildren[0] ?? null : list) : null;
        idx.push(cExpr(inner, ctx));
        cur = ch[0] ?? null;
      }
      idx.reverse(); // read from the outermost subscript in
      return { k: 'idx', base: cExpr(cur, ctx), idx, pos: n.pos(ctx.base) };
    }
    case 'call_expression': {
      const f = n.childForFieldName('function');
      const fname = f ? (f.type === 'template_function' ? f.childForFieldName('name')?.text ?? f.text : f.text) : '';
      const argsNode = n.childForFieldName('arguments');
      const args = argsNode ? argsNode.codeChildren.map((a) => cExpr(a, ctx)) : [];
      return { k: 'call', fn: fname, args };
    }
    case 'conditional_expression':
      return { k: 'cond', c: cExpr(n.childForFieldName('condition'), ctx), a: cExpr(n.childForFieldName('consequence'), ctx), b: cExpr(n.childForFieldName('alternative'), ctx) };
    case 'cast_expression': {
      const t = n.childForFieldName('type')?.text ?? '';
      return { k: 'call', fn: t.replace(/\s+/g, ' '), args: [cExpr(n.childForFieldName('value'), ctx)] };
    }
    case 'sizeof_expression': {
      const b = ctypeBytes((n.childForFieldName('type') ?? n.childForFieldName('value'))?.text ?? '');
      return b === null ? { k: 'other', text: n.text } : { k: 'num', v: b, float: false };
    }
    case 'assignment_expression':
      // value of an assignment used as an expression: the right side
      return cExpr(n.childForFieldName('right'), ctx);
    case 'initializer_list':
    case 'argument_list':
      return { k: 'call', fn: '{}', args: n.codeChildren.map((a) => cExpr(a, ctx)) };
    default: {
      // walk into unknown nodes so that accesses inside them are still seen
      const inner = n.codeChildren;
      if (inner.length === 1) return cExpr(inner[0]!, ctx);
      if (inner.length > 1) return { k: 'call', fn: `<${n.type}>`, args: inner.map((a) => cExpr(a, ctx)) };
      return { k: 'other', text: n.text };
    }
  }
}

function declName(d: Node | null): { name: string; dims: Node[]; pointer: boolean } | null {
  const dims: Node[] = [];
  let pointer = false;
  let cur = d;
  while (cur) {
    if (cur.type === 'identifier' || cur.type === 'field_identifier') return { name: cur.text, dims, pointer };
    if (cur.type === 'array_declarator') {
      const size = cur.childForFieldName('size');
      dims.unshift(size as Node);
      cur = cur.childForFieldName('declarator');
    } else if (cur.type === 'pointer_declarator' || cur.type === 'reference_declarator') {
      pointer = true;
      cur = cur.childForFieldName('declarator') ?? cur.codeChildren.find((c) => c.type.endsWith('declarator') || c.type === 'identifier') ?? null;
    } else if (cur.type === 'init_declarator' || cur.type === 'function_declarator' || cur.type === 'parenthesized_declarator') {
      cur = cur.childForFieldName('declarator') ?? cur.codeChildren[0] ?? null;
    } else return null;
  }
  return null;
}

/** Whether a declaration names `__shared__` and `extern` among its specifiers (one pass over its children). */
function storageOf(n: Node): { shared: boolean; extern: boolean } {
  let shared = false;
  let extern = false;
  for (const c of n.children) {
    const t = c.type;
    if (t === 'type_qualifier' || t === 'storage_class_specifier' || t === 'attribute_specifier') {
      const text = c.text;
      shared ||= text.includes('__shared__');
      extern ||= text.includes('extern');
    } else {
      shared ||= t === '__shared__';
      extern ||= t === 'extern';
    }
  }
  return { shared, extern };
}

/** A declaration statement: locals, `__shared__` arrays, `dim3 b(x, y)`. */
function cDecl(n: Node, ctx: Ctx, out: Stmt[]): void {
  const type = n.childForFieldName('type')?.text ?? '';
  const { shared, extern: isExtern } = storageOf(n);
  for (const d of n.childrenForFieldName('declarator')) {
    const info = declName(d);
    if (!info) continue;
    if (shared) {
      const dims = info.dims.map((s) => (s ? cExpr(s, ctx) : { k: 'other', text: '' } as Expr));
      ctx.shared.push({
        name: info.name,
        elemType: type,
        elemBytes: ctypeBytes(type),
        dims,
        dynamic: isExtern || info.dims.some((s) => !s),
        pos: d.pos(ctx.base),
      });
      continue;
    }
    let init: Expr | null = null;
    if (d.type === 'init_declarator') init = cExpr(d.childForFieldName('value'), ctx);
    else if (d.type === 'function_declarator' && /\bdim3\b/.test(type)) {
      // `dim3 block(TILE, TILE)` parses as a function declarator: its "parameters" are the arguments.
      const params = d.childForFieldName('parameters');
      const args = params ? params.codeChildren.map((p) => parseMiniExpr(p.text) ?? ({ k: 'other', text: p.text } as Expr)) : [];
      init = { k: 'call', fn: 'dim3', args };
    }
    if (init && /\bdim3\b/.test(type) && init.k === 'call' && init.fn === '{}') init = { k: 'call', fn: 'dim3', args: init.args };
    if (info.dims.length > 0) {
      out.push({ k: 'decl', name: info.name, type: `${type}[]`, init: null, pos: d.pos(ctx.base) });
      continue;
    }
    out.push({ k: 'decl', name: info.name, type: (info.pointer ? type + '*' : type), init, pos: d.pos(ctx.base) });
    if (init) ctx.locals.set(info.name, init);
  }
}

const BARRIERS = new Set(['__syncthreads', '__syncthreads_count', '__syncthreads_and', '__syncthreads_or', 'sync', '__barrier_sync', 'barrier.sync']);

function cStmts(n: Node | null, ctx: Ctx, out: Stmt[], launches: UnitIR['launches']): void {
  if (!n) return;
  switch (n.type) {
    case 'compound_statement':
    case 'translation_unit':
      for (const c of n.codeChildren) cStmts(c, ctx, out, launches);
      return;
    case 'declaration':
      cDecl(n, ctx, out);
      return;
    case 'expression_statement': {
      const e = n.codeChildren[0];
      if (!e) return;
      cExprStmt(e, ctx, out, launches);
      return;
    }
    case 'for_statement': {
      const init = n.childForFieldName('initializer');
      const cond = n.childForFieldName('condition');
      const upd = n.childForFieldName('update');
      const header: Stmt[] = [];
      if (init) {
        if (init.type === 'declaration') cDecl(init, ctx, header);
        else cExprStmt(init, ctx, header, launches);
      }
      let variable: string | null = null;
      let initE: Expr | null = null;
      const h0 = header[0];
      if (h0 && h0.k === 'decl') { variable = h0.name; initE = h0.init; }
      if (h0 && h0.k === 'assign' && h0.target.k === 'id') { variable = h0.target.name; initE = h0.value; }
      let op: string | null = null;
      let bound: Expr | null = null;
      const condE = cond ? cExpr(cond, ctx) : null;
      if (condE && condE.k === 'bin' && variable) {
        if (condE.l.k === 'id' && condE.l.name === variable) { op = condE.op; bound = condE.r; }
        else if (condE.r.k === 'id' && condE.r.name === variable) {
          op = ({ '<': '>', '>': '<', '<=': '>=', '>=': '<=' } as Record<string, string>)[condE.op] ?? condE.op;
          bound = condE.l;
        }
      }
      let stepOp: string | null = null;
      let step: Expr | null = null;
      if (upd) {
        if (upd.type === 'update_expression') {
          stepOp = upd.text.includes('++') ? '+' : '-';
        } else if (upd.type === 'assignment_expression') {
          const o = upd.childForFieldName('operator')?.text ?? '';
          const r = cExpr(upd.childForFieldName('right'), ctx);
          if (o === '=' && r.k === 'bin' && r.l.k === 'id' && r.l.name === variable) { stepOp = r.op; step = r.r; }
          else if (o.length === 2 || o.length === 3) { stepOp = o.slice(0, -1); step = r; }
        }
      }
      const body: Stmt[] = [];
      cStmts(n.childForFieldName('body'), ctx, body, launches);
      out.push(...header); // the initializer runs once, before the loop
      out.push({
        k: 'loop',
        var: variable,
        trip: tripFromParts(initE, op, bound, stepOp, step),
        body,
        pos: n.pos(ctx.base),
        header: condE ? [condE] : [],
        seq: initE && stepOp ? { init: initE, stepOp, step: step ?? { k: 'num', v: 1, float: false } } : null,
      });
      return;
    }
    case 'while_statement':
    case 'do_statement': {
      const body: Stmt[] = [];
      cStmts(n.childForFieldName('body'), ctx, body, launches);
      const c = n.childForFieldName('condition');
      out.push({ k: 'loop', var: null, trip: null, body, pos: n.pos(ctx.base), header: c ? [cExpr(c, ctx)] : [], seq: null });
      return;
    }
    case 'if_statement': {
      const c = n.childForFieldName('condition');
      const then: Stmt[] = [];
      const els: Stmt[] = [];
      cStmts(n.childForFieldName('consequence'), ctx, then, launches);
      const alt = n.childForFieldName('alternative');
      if (alt) for (const a of alt.type === 'else_clause' ? alt.codeChildren : [alt]) cStmts(a, ctx, els, launches);
      out.push({ k: 'if', cond: c ? cExpr(c.codeChildren[0] ?? c, ctx) : { k: 'other', text: '' }, then, else: els, pos: n.pos(ctx.base) });
      return;
    }
    case 'return_statement': {
      const e = n.codeChildren[0];
      if (e) out.push({ k: 'expr', e: cExpr(e, ctx), pos: n.pos(ctx.base) });
      return;
    }
    case 'comment':
      return;
    default: {
      // labeled statements, switch, preprocessor blocks inside bodies, ...: descend
      for (const c of n.codeChildren) {
        if (c.type.endsWith('statement') || c.type === 'declaration' || c.type === 'compound_statement' || c.type.startsWith('preproc') || c.type === 'case_statement') cStmts(c, ctx, out, launches);
      }
      if (n.type.startsWith('preproc')) return;
      return;
    }
  }
}

function cExprStmt(e: Node, ctx: Ctx, out: Stmt[], launches: UnitIR['launches']): void {
  const p = e.pos(ctx.base);
  if (e.type === 'assignment_expression') {
    const ch = e.children; // left, operator, right
    const value = cExpr(ch[2] ?? null, ctx);
    out.push({ k: 'assign', target: cExpr(ch[0] ?? null, ctx), op: ch[1] ? tokenText(ch[1]) : '=', value, pos: p });
    if (ch[0]?.type === 'identifier') ctx.locals.set(ch[0].text, value);
    return;
  }
  if (e.type === 'update_expression') {
    out.push({ k: 'assign', target: cExpr(e.childForFieldName('argument'), ctx), op: e.text.includes('++') ? '+=' : '-=', value: { k: 'num', v: 1, float: false }, pos: p });
    return;
  }
  if (e.type === 'call_expression') {
    const f = e.childForFieldName('function');
    const fname = f ? (f.type === 'template_function' ? f.childForFieldName('name')?.text ?? f.text : f.type === 'field_expression' ? f.childForFieldName('field')?.text ?? '' : f.text) : '';
    const cfg = e.children.find((c) => c.type === 'kernel_call_syntax');
    if (cfg) {
      const args = cfg.codeChildren.map((a) => substituteLocals(cExpr(a, ctx), ctx.locals));
      const dims = (x: Expr | undefined): Expr[] => {
        if (!x) return [];
        if (x.k === 'call' && (x.fn === 'dim3' || x.fn === '{}')) return x.args;
        return [x];
      };
      const targs = f?.type === 'template_function' ? (f.childForFieldName('arguments') ?? f).codeChildren.filter((a) => a.id !== f.childForFieldName('name')?.id).map((a) => a.text) : [];
      const argList = e.childForFieldName('arguments');
      const callArgs = argList ? argList.codeChildren.map((a) => substituteLocals(cExpr(a, ctx), ctx.locals)) : [];
      launches.push({ kernel: fname.replace(/^.*::/, ''), grid: dims(args[0]), block: dims(args[1]), smem: args[2] ?? null, args: callArgs, templateArgs: targs, text: cfg.text, pos: p });
      return;
    }
    if (BARRIERS.has(fname) && !(fname === 'sync' && f?.type === 'identifier')) {
      out.push({ k: 'barrier', pos: p });
      return;
    }
  }
  out.push({ k: 'expr', e: cExpr(e, ctx), pos: p });
}

/** Replaces host locals (`dim3 grid(...)`, `int threads = 256`) in launch arguments by their initializers. */
function substituteLocals(e: Expr, locals: Map<string, Expr | Expr[]>, depth = 0): Expr {
  if (depth > 8) return e;
  switch (e.k) {
    case 'id': {
      const v = locals.get(e.name);
      return v && !Array.isArray(v) ? substituteLocals(v, locals, depth + 1) : e;
    }
    case 'mem': {
      // grid.x where grid is a dim3 local
      if (e.obj.k === 'id') {
        const v = locals.get(e.obj.name);
        if (v && !Array.isArray(v) && v.k === 'call' && v.fn === 'dim3') {
          const d = DIM_OF_FIELD.get(e.field);
          if (d !== undefined) return v.args[d] ? substituteLocals(v.args[d]!, locals, depth + 1) : { k: 'num', v: 1, float: false };
        }
      }
      return e;
    }
    case 'bin':
      return { ...e, l: substituteLocals(e.l, locals, depth + 1), r: substituteLocals(e.r, locals, depth + 1) };
    case 'un':
      return { ...e, e: substituteLocals(e.e, locals, depth + 1) };
    case 'call':
      return { ...e, args: e.args.map((a) => substituteLocals(a, locals, depth + 1)) };
    case 'cond':
      return { ...e, c: substituteLocals(e.c, locals, depth + 1), a: substituteLocals(e.a, locals, depth + 1), b: substituteLocals(e.b, locals, depth + 1) };
    default:
      return e;
  }
}

/** Runs of white space as one space (the text itself when it has none to fold, as most parameters). */
function foldSpace(s: string): string {
  return /\s\s|[^\S ]/.test(s) ? s.replace(/\s+/g, ' ') : s;
}

function cParams(list: Node | null): ParamIR[] {
  if (!list) return [];
  const out: ParamIR[] = [];
  for (const p of list.codeChildren) {
    if (p.type !== 'parameter_declaration' && p.type !== 'optional_parameter_declaration') continue;
    const d = p.childForFieldName('declarator');
    const info = declName(d);
    const text = p.text;
    const type = text.slice(0, d ? d.startIndex - p.startIndex : undefined).trim();
    const full = d ? foldSpace(text) : type;
    const pointer = !!info?.pointer || (info?.dims.length ?? 0) > 0;
    const base = p.childForFieldName('type')?.text ?? type;
    const cut = info ? full.lastIndexOf(info.name) : -1;
    out.push({
      name: info?.name ?? '',
      type: cut >= 0 ? foldSpace(full.slice(0, cut) + full.slice(cut + info!.name.length)).trim() : full,
      kind: pointer ? 'global' : 'value',
      elemType: base,
    });
  }
  return out;
}

function findFunctionDeclarator(d: Node | null): Node | null {
  let cur = d;
  while (cur) {
    if (cur.type === 'function_declarator') return cur;
    cur = cur.childForFieldName('declarator');
  }
  return null;
}

function cFunction(fn: Node, base: number, unit: UnitIR, templateParams: string[]): void {
  const fd = findFunctionDeclarator(fn.childForFieldName('declarator'));
  if (!fd) return;
  const nameNode = fd.childForFieldName('declarator');
  if (!nameNode) return;
  const head = fn.text.slice(0, Math.max(0, (fn.childForFieldName('body')?.startIndex ?? fn.endIndex) - fn.startIndex));
  const ctx: Ctx = { base, shared: [], locals: new Map() };
  const body: Stmt[] = [];
  cStmts(fn.childForFieldName('body'), ctx, body, unit.launches);
  // host and device functions count only for their launch sites, now in unit.launches: their IR is not kept
  if (!/\b__global__\b/.test(head)) return;
  unit.funcs.push({
    name: nameNode.text.replace(/^.*::/, ''),
    namePos: nameNode.pos(base),
    pos: fn.pos(base),
    kind: 'kernel',
    templateParams,
    params: cParams(fd.childForFieldName('parameters')),
    body,
    shared: ctx.shared,
    workgroupSize: null,
    // (followed for WGSL only: CUDA kernels are analyzed from their own body)
    calls: [],
    idents: [],
  });
}

function cConstDecl(n: Node, base: number, unit: UnitIR): void {
  const head = n.text;
  if (!/\b(constexpr|const)\b/.test(head.split('=')[0] ?? '')) return;
  const ctx: Ctx = { base, shared: [], locals: new Map() };
  for (const d of n.childrenForFieldName('declarator')) {
    if (d.type !== 'init_declarator') continue;
    const name = d.childForFieldName('declarator');
    if (name?.type !== 'identifier') continue;
    unit.consts.push({ name: name.text, value: cExpr(d.childForFieldName('value'), ctx), override: false });
  }
}

/** One top-level node of a CUDA file. */
export function cudaUnit(n: Node): UnitIR {
  const unit = emptyUnit();
  const base = n.startPosition.row;
  const visit = (m: Node, templateParams: string[]) => {
    switch (m.type) {
      case 'preproc_def': {
        const name = m.childForFieldName('name')?.text;
        const value = m.childForFieldName('value')?.text;
        if (name && value) {
          const e = parseMiniExpr(value.trim());
          if (e) unit.consts.push({ name, value: e, override: false });
        }
        return;
      }
      case 'function_definition': {
        // only kernels and functions with launch sites matter; skip the rest without walking them
        const t = m.text;
        if (t.includes('__global__') || t.includes('<<<')) cFunction(m, base, unit, templateParams);
        return;
      }
      case 'template_declaration': {
        const params = m.childForFieldName('parameters');
        const names = params ? params.codeChildren.map((p) => (p.childForFieldName('declarator') ?? p.codeChildren.at(-1))?.text ?? '').filter(Boolean) : [];
        for (const c of m.codeChildren) if (c.id !== params?.id) visit(c, names);
        return;
      }
      case 'declaration':
        cConstDecl(m, base, unit);
        return;
      case 'ERROR':
        unit.errors.push(m.pos(base));
        for (const c of m.codeChildren) visit(c, templateParams);
        return;
      case 'linkage_specification':
      case 'namespace_definition':
      case 'declaration_list':
      case 'preproc_ifdef':
      case 'preproc_if':
      case 'preproc_else':
      case 'preproc_elif':
      case 'translation_unit':
        for (const c of m.codeChildren) visit(c, templateParams);
        return;
      default:
        return;
    }
  };
  visit(n, []);
  if (n.hasError && unit.errors.length === 0) collectErrors(n, base, unit.errors);
  return unit;
}

export function collectErrors(n: Node, base: number, out: Pos[]): void {
  if (out.length > 20) return;
  if (n.type === 'ERROR' || n.isMissing) {
    out.push(n.pos(base));
    return;
  }
  if (!n.hasError) return;
  for (const c of n.children) collectErrors(c, base, out);
}
