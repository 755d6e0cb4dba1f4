/**
 * Analysis of CUDA and WGSL kernels on the language-neutral IR: launch shape, shared memory, loops,
 * global loads/stores, FLOPs and bytes per launch, occupancy, and the lint rules of lints.ts.
 */
import type { Dtype } from '../model/types';
import type { Device } from '../hardware/types';
import { isDimValue, type Annotation } from './annotations';
import { ctypeBytes } from './miniexpr';
import {
  BUILTIN_KEYS, baseName, evalExpr, evalTrip, exprText, forEachExpr, freeIdents, mentions, shiftPos, stmtExprs,
  type ConstIR, type Env, type Expr, type FuncIR, type LaunchIR, type Pos, type Stmt, type UnitIR, type WgslType,
} from './ir';
import { rule } from './lints';
import { peakFor } from '../cost/roofline';
import { scalarOf, wgslLayout, wgslTypeText } from './wgsl';
import type { KernelBinding, KernelDiagnostic, KernelEstimate, KernelInfo, KernelLanguage, KernelLaunch, KernelLoop, Occupancy, Severity } from './types';

/** Limits used when the device does not state them. */
export const CUDA_DEFAULTS = {
  /** CUDA C++ Programming Guide, "Technical Specifications per Compute Capability" (cc 7.0-9.0). */
  maxThreadsPerBlock: 1024,
  maxBlockDim: [1024, 1024, 64] as const,
  /** cc 8.0 (A100); 1536 on cc 8.6/8.9, 2048 on 9.0. */
  maxThreadsPerSm: 2048,
  maxBlocksPerSm: 32,
  /** cc 8.0: 164 KiB shared memory per SM, 163 KiB opt-in per block. */
  sharedMemoryPerSmBytes: 164 * 1024,
  maxSharedMemoryPerBlockBytes: 163 * 1024,
  /** Static `__shared__` arrays are capped at 48 KiB; beyond that needs dynamic memory and an opt-in. */
  staticSharedMemoryBytes: 48 * 1024,
  /** cc 8.0+: 1 KiB of shared memory per block is reserved for system use. */
  reservedSharedPerBlockBytes: 1024,
  warpSize: 32,
  source: 'CUDA C++ Programming Guide, Technical Specifications per Compute Capability (cc 8.0)',
};

/** WebGPU spec, "Limits": defaults every adapter guarantees. */
export const WEBGPU_DEFAULTS = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSize: [256, 256, 64] as const,
  maxComputeWorkgroupStorageSize: 16384,
  source: 'WebGPU spec, Limits (default values)',
};

export interface FileIR {
  language: KernelLanguage;
  consts: ConstIR[];
  funcs: FuncIR[];
  launches: LaunchIR[];
  globals: UnitIR['globals'];
  structs: UnitIR['structs'];
  errors: Pos[];
  enables: string[];
  aliases: UnitIR['aliases'];
}

export function combineUnits(language: KernelLanguage, units: Array<{ unit: UnitIR; row: number }>): FileIR {
  const ir: FileIR = { language, consts: [], funcs: [], launches: [], globals: [], structs: [], errors: [], enables: [], aliases: [] };
  for (const { unit, row } of units) {
    ir.consts.push(...unit.consts);
    ir.structs.push(...unit.structs);
    ir.enables.push(...unit.enables);
    ir.aliases.push(...unit.aliases);
    const placed = placedUnit(unit, row);
    for (const f of placed.funcs) ir.funcs.push(f);
    for (const l of placed.launches) ir.launches.push(l);
    for (const g of placed.globals) ir.globals.push(g);
    for (const e of placed.errors) ir.errors.push(e);
  }
  return ir;
}

type Placed = { row: number; funcs: FuncIR[]; launches: LaunchIR[]; globals: FileIR['globals']; errors: Pos[] };
/** A cached unit's functions, launches, globals and errors placed at `row`; kept while the unit stays there. */
const placedUnits = new WeakMap<UnitIR, Placed>();

function placedUnit(unit: UnitIR, row: number): Placed {
  const hit = placedUnits.get(unit);
  if (hit && hit.row === row) return hit;
  const placed: Placed = {
    row,
    // function positions stay unit-relative (the IR is shared with the cache); rowOffset places them.
    // (the CUDA front end keeps kernels only: other functions matter for their launch sites, in unit.launches)
    funcs: unit.funcs.map((f) => placeFunc(f, row)),
    launches: unit.launches.map((l) => placeLaunch(l, row)),
    globals: unit.globals.map((g) => ({ ...g, pos: shiftPos(g.pos, row) })),
    errors: unit.errors.map((e) => shiftPos(e, row)),
  };
  placedUnits.set(unit, placed);
  return placed;
}

// Placed copies list every field (Required<>: none is left out when one is added): an object spread of
// these records costs several times more.
/** A function at `row`: its positions stay unit-relative (`rowOffset` places them); `orig` is the cached IR. */
function placeFunc(f: FuncIR, row: number): FuncIR {
  const placed: Required<FuncIR> & { rowOffset: number; orig: FuncIR } = {
    name: f.name, namePos: f.namePos, pos: f.pos, kind: f.kind, templateParams: f.templateParams, params: f.params, body: f.body,
    shared: f.shared, workgroupSize: f.workgroupSize, calls: f.calls, idents: f.idents, rowOffset: row, orig: f,
  };
  return placed;
}

/** A launch site moved to `row`; `orig` is the cached IR. */
function placeLaunch(l: LaunchIR, row: number): LaunchIR {
  const placed: Required<LaunchIR> & { orig: LaunchIR } = {
    kernel: l.kernel, grid: l.grid, block: l.block, smem: l.smem, args: l.args, templateArgs: l.templateArgs, text: l.text, pos: shiftPos(l.pos, row), orig: l,
  };
  return placed;
}

/** Row offset of statement positions inside a function (set by combineUnits for cached units). */
function rowOffset(f: FuncIR): number {
  return (f as FuncIR & { rowOffset?: number }).rowOffset ?? 0;
}

/** Constants resolved to numbers in dependency order; dims (from annotations and options) win. */
export function buildEnv(consts: ConstIR[], dims: Record<string, number>): Map<string, number> {
  const env = new Map<string, number>(Object.entries(dims));
  let changed = true;
  for (let pass = 0; pass < 8 && changed; pass++) {
    changed = false;
    for (const c of consts) {
      if (env.has(c.name)) continue;
      const v = evalExpr(c.value, env);
      if (v !== null && Number.isFinite(v)) {
        env.set(c.name, v);
        changed = true;
      }
    }
  }
  return env;
}

/**
 * Annotation dims that resolve to a number which is not a dim (isDimValue: 0, negative, fractional, over
 * MAX_DIM) are left out and listed in `rejected`, once per annotation and key.
 */
export function resolveDims(
  anns: Annotation[],
  opts: Record<string, number>,
  base: Env = new Map(),
  rejected: Array<{ ann: Annotation; key: string; value: number }> = [],
): Record<string, number> {
  const out: Record<string, number> = {};
  const env = new Map<string, number>(base);
  for (const [k, v] of Object.entries(opts)) env.set(k, v);
  for (let pass = 0; pass < 4; pass++) {
    for (const a of anns) {
      for (const [k, e] of Object.entries(a.dims)) {
        if (Object.hasOwn(opts, k) || Object.hasOwn(out, k)) continue;
        const v = evalExpr(e, env);
        if (v === null) continue;
        if (!isDimValue(v)) {
          if (!rejected.some((r) => r.ann === a && r.key === k)) rejected.push({ ann: a, key: k, value: v });
          continue;
        }
        out[k] = v;
        env.set(k, v);
      }
    }
  }
  return { ...out, ...opts };
}

type Space = 'global' | 'shared' | 'local' | 'uniform';
interface BufferInfo {
  space: Space;
  elemBytes: number | null;
  float: boolean;
  lanes: number;
  /** Scalar type name for dtype choice (`float`, `half`, `f32`, `f16`, ...). */
  scalar: string;
}

const FLOAT_TYPES = /\b(float\d?|double\d?|half\d?|__half2?|__nv_bfloat16\d?|nv_bfloat16|bfloat16|f32|f16|f64|vec\d<f(16|32)>|vec\d[fh]|mat\dx\d[fh]?|T)\b/;
/** What the analysis reads from a type's text, worked out once per distinct text (the same few types recur). */
interface TypeFacts {
  float: boolean;
  /** Lanes of a buffer element (`float4` -> 4, `half2` -> 2). */
  bufferLanes: number;
  /** A value parameter's type (a vector type's lanes; WGSL builtins are not float data). */
  param: TypeInfo;
  /** A local's type (`vec4`, `float4`, `float2`). */
  local: TypeInfo;
}
const typeFactsMemo = new Map<string, TypeFacts>();

function typeFacts(t: string): TypeFacts {
  let f = typeFactsMemo.get(t);
  if (f === undefined) {
    const float = FLOAT_TYPES.test(t);
    const vec = /vec([234])/.exec(t);
    const local = /vec([234])|float([24])\b/.exec(t);
    f = {
      float,
      bufferLanes: /\w4\b/.test(t) ? 4 : /\w2\b/.test(t) ? 2 : 1,
      param: { float: float && !/@builtin/.test(t), lanes: vec ? Number(vec[1]) : 1 },
      local: { float, lanes: local ? Number(local[1] ?? local[2]) : 1 },
    };
    if (typeFactsMemo.size > 4096) typeFactsMemo.clear();
    typeFactsMemo.set(t, f);
  }
  return f;
}
const MATH1 = /^(exp|expf|__expf|exp2|exp2f|exp10f|log|logf|__logf|log2|log2f|sqrt|sqrtf|rsqrt|rsqrtf|inverseSqrt|sin|sinf|__sinf|cos|cosf|__cosf|tanh|tanhf|tan|pow|powf|__powf|fmax|fmaxf|fmin|fminf|max|min|abs|fabs|fabsf|erf|erff|sigmoid|clamp|floor|ceil|round|__fdividef|hexp|h2exp|__hmax|__hmin)$/;
const FMA = /^(fma|fmaf|__fmaf_rn|__fmaf_rz|__hfma|__hfma2|fmaf_rn)$/;

interface TypeInfo { readonly float: boolean; readonly lanes: number }
const SCALAR: TypeInfo = { float: false, lanes: 1 };
const FLOAT: TypeInfo = { float: true, lanes: 1 };
/** Arithmetic operators counted as FLOPs, plain and compound. */
const ARITH = new Set(['+', '-', '*', '/']);
const COMPOUND_ARITH = new Set(['+=', '-=', '*=', '/=']);
/** Operators whose result is a truth value. */
const LOGICAL = new Set(['<', '>', '<=', '>=', '==', '!=', '&&', '||']);

interface Walk {
  lang: KernelLanguage;
  fn: FuncIR;
  env: Map<string, number>;
  buffers: Map<string, BufferInfo>;
  vars: Map<string, TypeInfo>;
  taint: Map<string, Taint>;
  /** Per-statement results that do not change while counting (loops are stepped through many times). */
  accessMemo: Map<Stmt, Access[]>;
  flopsMemo: Map<Stmt, number>;
}

function typeOf(e: Expr, w: Walk): TypeInfo {
  switch (e.k) {
    case 'num': return e.float ? FLOAT : SCALAR;
    case 'id': return w.vars.get(e.name) ?? SCALAR;
    case 'idx': {
      const b = baseName(e.base);
      const buf = b ? w.buffers.get(b) : undefined;
      if (buf) return buf.lanes === 1 ? (buf.float ? FLOAT : SCALAR) : { float: buf.float, lanes: buf.lanes };
      const v = b ? w.vars.get(b) : undefined;
      return v?.float ? FLOAT : SCALAR;
    }
    case 'mem': {
      const t = typeOf(e.obj, w);
      return { float: t.float, lanes: /^[xyzwrgba]{1,4}$/.test(e.field) ? e.field.length : 1 };
    }
    case 'bin': {
      if (LOGICAL.has(e.op)) return SCALAR;
      const a = typeOf(e.l, w);
      const b = typeOf(e.r, w);
      if (a.lanes >= b.lanes && (a.float || !b.float)) return a;
      if (b.lanes >= a.lanes && (b.float || !a.float)) return b;
      return { float: true, lanes: Math.max(a.lanes, b.lanes) };
    }
    case 'un': return typeOf(e.e, w);
    case 'cond': return typeOf(e.a, w);
    case 'call': {
      const vec = /^vec([234])<?(f32|f16)?>?|^vec([234])([fh])$/.exec(e.fn);
      if (vec) return { float: true, lanes: Number(vec[1] ?? vec[3]) };
      if (/^(f32|f16|float|half|double|__float2half|__half2float|__int2float_rn)$/.test(e.fn)) return FLOAT;
      if (/^(i32|u32|int|unsigned|size_t|long)$/.test(e.fn)) return SCALAR;
      if (e.fn === 'dot') return FLOAT;
      const args = e.args.map((a) => typeOf(a, w));
      return { float: args.some((a) => a.float), lanes: Math.max(1, ...args.map((a) => a.lanes)) };
    }
    default: return SCALAR;
  }
}

/** FLOPs of evaluating one expression once (2 per multiply-add, 1 per other arithmetic op or math call). */
function exprFlops(e: Expr, w: Walk): number {
  let n = 0;
  forEachExpr(e, (x) => {
    if (x.k === 'bin' && ARITH.has(x.op)) {
      const t = typeOf(x, w);
      if (t.float) n += t.lanes;
    } else if (x.k === 'call') {
      if (FMA.test(x.fn)) n += 2 * typeOf(x, w).lanes;
      else if (x.fn === 'dot') {
        const t = typeOf(x.args[0] ?? x, w);
        n += 2 * t.lanes - 1;
      } else if (MATH1.test(x.fn)) {
        const t = typeOf(x, w);
        if (t.float) n += t.lanes;
      }
    }
  });
  return n;
}

/**
 * Which thread-index dimensions an expression depends on (`d`), along which of them neighbouring threads are
 * far apart (`s`, strided: scaled by a row stride), and along which they are grouped (`c`, coarse: divided by
 * a block of 8 or more, so neighbours share the value and scaling it does not break coalescing).
 */
type Taint = number;
/** A taint packed in one number (no object per expression): `d` in bits 0-2, `s` in bits 3-5, `c` in bits 6-8. */
const taint = (d: number, s: number, c: number): Taint => d | (s << 3) | (c << 6);
const taintD = (t: Taint): number => t & 7;
const taintS = (t: Taint): number => (t >> 3) & 7;
const taintC = (t: Taint): number => (t >> 6) & 7;
const NO_TAINT: Taint = 0;

function mergeTaint(a: Taint, b: Taint): Taint {
  const fine = (taintD(a) & ~taintC(a)) | (taintD(b) & ~taintC(b));
  return taint(taintD(a) | taintD(b), taintS(a) | taintS(b), (taintC(a) | taintC(b)) & ~fine);
}

/** Whether multiplying (or shifting) by `other` moves neighbouring threads more than 4 elements apart. */
function stridedBy(op: string, other: Expr, env: Env): boolean {
  const c = evalExpr(other, env);
  if (c === null) return true;
  const mult = op === '<<' ? 2 ** c : Math.abs(c);
  return mult > 4;
}

function taintOf(e: Expr, w: Walk, depth = 0): Taint {
  if (depth > 40) return NO_TAINT;
  switch (e.k) {
    case 'tid': return taint(1 << e.dim, 0, 0);
    case 'id': return w.taint.get(e.name) ?? NO_TAINT;
    case 'mem': return taintOf(e.obj, w, depth + 1);
    case 'un': return taintOf(e.e, w, depth + 1);
    case 'cond': return mergeTaint(taintOf(e.a, w, depth + 1), taintOf(e.b, w, depth + 1));
    case 'call': {
      let t = NO_TAINT;
      for (const a of e.args) t = mergeTaint(t, taintOf(a, w, depth + 1));
      return t;
    }
    case 'bin': {
      const a = taintOf(e.l, w, depth + 1);
      const b = taintOf(e.r, w, depth + 1);
      const ad = taintD(a);
      const bd = taintD(b);
      if (e.op === '*' || e.op === '<<') {
        let s = taintS(a) | taintS(b);
        if (ad && stridedBy(e.op, e.r, w.env)) s |= ad & ~taintC(a);
        if (bd && stridedBy(e.op, e.l, w.env)) s |= bd & ~taintC(b);
        return taint(ad | bd, s, taintC(a) | taintC(b));
      }
      if ((e.op === '/' || e.op === '>>') && ad && !bd) {
        const v = evalExpr(e.r, w.env);
        const div = v === null ? null : e.op === '>>' ? 2 ** v : v;
        if (div === null || Math.abs(div) >= 8) return taint(ad, 0, ad);
        return a;
      }
      if (LOGICAL.has(e.op)) return taint(ad | bd, 0, 0);
      return mergeTaint(a, b);
    }
    default: return NO_TAINT;
  }
}

function collectAssigns(body: Stmt[], fn: (name: string, value: Expr, op: string) => void): void {
  for (const s of body) {
    if (s.k === 'decl' && s.init) fn(s.name, s.init, '=');
    else if (s.k === 'assign' && s.target.k === 'id') fn(s.target.name, s.value, s.op);
    else if (s.k === 'loop') collectAssigns(s.body, fn);
    else if (s.k === 'if') {
      collectAssigns(s.then, fn);
      collectAssigns(s.else, fn);
    }
  }
}

function collectDecls(body: Stmt[], fn: (name: string, type: string, init: Expr | null) => void): void {
  for (const s of body) {
    if (s.k === 'decl') fn(s.name, s.type, s.init);
    else if (s.k === 'loop') collectDecls(s.body, fn);
    else if (s.k === 'if') {
      collectDecls(s.then, fn);
      collectDecls(s.else, fn);
    }
  }
}

interface Access {
  name: string;
  space: Space;
  write: boolean;
  read: boolean;
  e: Extract<Expr, { k: 'idx' }>;
  atomic: boolean;
  /** Element size of the buffer (null: not known). */
  elemBytes: number | null;
}

/** Accesses to named buffers in one statement, in evaluation order (reads of the value, then the write). */
function stmtAccesses(s: Stmt, w: Walk): Access[] {
  const memo = w.accessMemo.get(s);
  if (memo) return memo;
  const out = stmtAccessesUncached(s, w);
  w.accessMemo.set(s, out);
  return out;
}

function stmtAccessesUncached(s: Stmt, w: Walk): Access[] {
  const out: Access[] = [];
  const visit = (e: Expr, write: boolean, read: boolean, atomic: boolean) => {
    if (e.k === 'idx') {
      for (const i of e.idx) visit(i, false, true, false);
      const b = baseName(e.base);
      const buf = b ? w.buffers.get(b) : undefined;
      if (b && buf) out.push({ name: b, space: buf.space, write, read, e, atomic, elemBytes: buf.elemBytes });
      if (e.base.k !== 'id') visit(e.base, false, true, false);
      return;
    }
    switch (e.k) {
      case 'bin': visit(e.l, false, true, atomic); visit(e.r, false, true, atomic); return;
      case 'un': visit(e.e, false, true, atomic || e.op === '&'); return;
      case 'mem': visit(e.obj, write, read, atomic); return;
      case 'call': {
        const at = /^atomic/.test(e.fn);
        for (const a of e.args) visit(a, false, true, at);
        return;
      }
      case 'cond': visit(e.c, false, true, atomic); visit(e.a, false, true, atomic); visit(e.b, false, true, atomic); return;
      default: return;
    }
  };
  switch (s.k) {
    case 'decl': if (s.init) visit(s.init, false, true, false); break;
    case 'assign':
      visit(s.value, false, true, false);
      visit(s.target, true, s.op !== '=', false);
      break;
    case 'expr': visit(s.e, false, true, false); break;
    case 'loop': for (const h of s.header) visit(h, false, true, false); break;
    case 'if': visit(s.cond, false, true, false); break;
    default: break;
  }
  return out;
}

export interface KernelContext {
  ir: FileIR;
  env: Map<string, number>;
  annotations: Annotation[];
  device: Device | null;
  dims: Record<string, number>;
  /** Results of earlier analyses, reused for kernels whose inputs did not change. */
  memo?: KernelMemo;
}

function diag(fn: FuncIR | null, p: Pos, code: string, message: string, fix?: string, severity?: Severity): KernelDiagnostic {
  const r = rule(code);
  return {
    line: p.row + 1,
    column: p.col + 1,
    endLine: p.endRow + 1,
    endColumn: p.endCol + 1,
    code,
    severity: severity ?? r.severity,
    message,
    ...(fn ? { kernel: fn.name } : {}),
    ...(fix ? { fix } : {}),
  };
}

function tuple3(list: Expr[] | null | undefined, env: Env): [number, number, number] | null {
  if (!list || list.length === 0 || list.length > 3) return null;
  const out: [number, number, number] = [1, 1, 1];
  for (let i = 0; i < list.length; i++) {
    const x = evalExpr(list[i], env);
    if (x === null || !Number.isFinite(x) || x <= 0) return null;
    out[i] = Math.ceil(x);
  }
  return out;
}

/**
 * Annotation keys for one kernel: those of the file header (comments above the first kernel) overlaid
 * with the kernel's own annotation (the nearest one above it, below the previous kernel).
 */
export function effectiveAnnotation(anns: Annotation[], line0: number, prevLine0: number, firstKernelRow: number, headerAnns?: Annotation[]): Annotation | null {
  const own = kernelAnnotation(anns, line0, prevLine0);
  const header = headerAnns ?? anns.filter((a) => a.row < firstKernelRow);
  if (header.length === 0) return own;
  const parts = [...header, ...(own && !header.includes(own) ? [own] : [])];
  const merged: Annotation = { row: own?.row ?? header[header.length - 1]!.row, dims: {}, text: parts.map((a) => a.text ?? '').join(' ') };
  for (const a of parts) {
    Object.assign(merged.dims, a.dims);
    for (const k of ['flops', 'bytes', 'grid', 'block', 'dispatch', 'buffers', 'dtype'] as const) {
      if (a[k] !== undefined) (merged as unknown as Record<string, unknown>)[k] = a[k];
    }
  }
  return merged;
}

const prod = (t: readonly number[]) => t.reduce((a, b) => a * b, 1);

/** The annotation that belongs to a kernel: the nearest one above its name and below the previous kernel. */
export function kernelAnnotation(anns: Annotation[], line0: number, prevLine0: number): Annotation | null {
  let best: Annotation | null = null;
  for (const a of anns) if (a.row <= line0 && a.row > prevLine0) best = a;
  return best;
}

function dtypeOf(scalar: string): { dtype: Dtype; note?: string } {
  if (/half|f16|fp16/.test(scalar)) return { dtype: 'fp16' };
  if (/bfloat16|bf16/.test(scalar)) return { dtype: 'bf16' };
  if (/double|f64/.test(scalar)) return { dtype: 'fp32', note: 'fp64 is not in the device table: fp32 peak used (an optimistic bound)' };
  return { dtype: 'fp32' };
}

/** Analyzes every CUDA / WGSL kernel of a file. */
export function analyzeKernels(cx: KernelContext): { kernels: KernelInfo[]; diagnostics: KernelDiagnostic[] } {
  const { ir, device } = cx;
  const kernels: KernelInfo[] = [];
  const diagnostics: KernelDiagnostic[] = [];
  if (ir.aliases.length) {
    // WGSL aliases replaced by what they name, in module-scope variable and struct member types
    const aliases = new Map(ir.aliases.map((a) => [a.name, a.type]));
    const resolve = (t: WgslType | null, depth = 0): WgslType | null => {
      if (!t || depth > 8) return t;
      switch (t.k) {
        case 'named': return aliases.has(t.name) ? resolve(aliases.get(t.name)!, depth + 1) : t;
        case 'array': case 'vec': case 'atomic': return { ...t, elem: resolve(t.elem, depth + 1)! } as WgslType;
        case 'mat': return { ...t, elem: resolve(t.elem, depth + 1)! };
        default: return t;
      }
    };
    ir.globals = ir.globals.map((g) => ({ ...g, type: resolve(g.type) }));
    ir.structs = ir.structs.map((st) => ({ ...st, members: st.members.map((m) => ({ ...m, type: resolve(m.type) })) }));
  }
  const structs = new Map(ir.structs.map((s) => [s.name, s.members]));
  const funcsByName = new Map<string, FuncIR>();
  for (const f of ir.funcs) if (!funcsByName.has(f.name)) funcsByName.set(f.name, f);
  const kernelFuncs = ir.funcs.filter((f) => f.kind === 'kernel').sort((a, b) => a.namePos.row + rowOffset(a) - (b.namePos.row + rowOffset(b)));
  const launchesOf = new Map<string, LaunchIR[]>();
  for (const l of ir.launches) (launchesOf.get(l.kernel) ?? launchesOf.set(l.kernel, []).get(l.kernel)!).push(l);
  const firstRow = kernelFuncs[0] ? kernelFuncs[0].pos.row + rowOffset(kernelFuncs[0]) : 0;
  const header = cx.annotations.filter((a) => a.row < firstRow);
  let prevEnd = -1;
  // what every kernel's result depends on besides its own text, launches and annotation
  const fileSig = cx.memo
    ? JSON.stringify([
        [...cx.env].sort(),
        device,
        ir.language === 'wgsl' ? [ir.globals.map((g) => [g.name, g.space, g.type]), ir.structs, ir.funcs.map((f) => [f.name, f.kind, f.idents, f.calls])] : null,
      ])
    : '';
  // kernels without an annotation of their own share the header's merged annotation
  const merged = new Map<Annotation | null, Annotation | null>();
  for (const fn of kernelFuncs) {
    const row = fn.namePos.row + rowOffset(fn);
    const own = kernelAnnotation(cx.annotations, row, prevEnd);
    let ann = merged.get(own);
    if (ann === undefined) merged.set(own, (ann = effectiveAnnotation(cx.annotations, row, prevEnd, firstRow, header)));
    prevEnd = fn.pos.endRow + rowOffset(fn);
    const orig = (fn as FuncIR & { orig?: FuncIR }).orig ?? fn;
    const launchesIR = ir.language === 'cuda' ? launchesOf.get(fn.name) ?? [] : [];
    let annKey = '';
    // launch sites whose text did not change are the same cached objects: compared by identity
    const launchKeys = launchesIR.map((l) => (l as LaunchIR & { orig?: LaunchIR }).orig ?? l);
    if (cx.memo) {
      annKey = ann ? `${ann.text ?? JSON.stringify({ ...ann, row: 0 })}@${ann.grid || ann.block || ann.dispatch ? ann.row - row : 0}` : '';
      const hit = cx.memo.get(orig);
      // (file and annotation parts compared apart: no long concatenated key per kernel)
      if (hit && hit.fileSig === fileSig && hit.annKey === annKey && hit.launches.length === launchKeys.length && hit.launches.every((l, i) => l === launchKeys[i])) {
        const r = shiftResult(hit, row - hit.row, launchesIR);
        kernels.push(r.info);
        diagnostics.push(...r.diagnostics);
        continue;
      }
    }
    let r: { info: KernelInfo; diagnostics: KernelDiagnostic[] };
    try {
      r = analyzeOne(fn, cx, ann, structs, funcsByName, launchesIR);
    } catch (e) {
      // expressions nested thousands deep: the kernel is reported as left out, the others are still analyzed
      if (!(e instanceof RangeError)) throw e;
      diagnostics.push(diag(fn, shiftPos(fn.namePos, rowOffset(fn)), 'RL008', `${fn.name}: expressions nest too deeply to analyze; the kernel is left out and results are partial`));
      continue;
    }
    cx.memo?.set(orig, { fileSig, annKey, launches: launchKeys, row, info: r.info, diagnostics: r.diagnostics });
    kernels.push(r.info);
    diagnostics.push(...r.diagnostics);
  }
  return { kernels, diagnostics };
}

/** Per-kernel results kept between analyses of a document, keyed by the (cached) function IR. */
export type KernelMemo = WeakMap<FuncIR, { fileSig: string; annKey: string; launches: LaunchIR[]; row: number; info: KernelInfo; diagnostics: KernelDiagnostic[] }>;

/** A cached kernel result moved by `d` lines; launch lines come from the launch sites' current places. */
function shiftResult(hit: { info: KernelInfo; diagnostics: KernelDiagnostic[] }, d: number, launchesIR: LaunchIR[]): { info: KernelInfo; diagnostics: KernelDiagnostic[] } {
  const lineText = (t: string | undefined) => (t === undefined || d === 0 ? t : t.replace(/at line (\d+)/g, (_m, n: string) => `at line ${Number(n) + d}`));
  const info: KernelInfo = {
    ...hit.info,
    line: hit.info.line + d,
    endLine: hit.info.endLine + d,
    loops: d === 0 ? hit.info.loops : hit.info.loops.map((l) => ({ ...l, line: l.line + d })),
    launches: hit.info.launches.map((l, i) => (launchesIR[i] ? { ...l, line: launchesIR[i]!.pos.row + 1 } : { ...l, line: l.line + d })),
  };
  const un = lineText(hit.info.estimateUnavailable);
  if (un !== undefined) info.estimateUnavailable = un;
  const diagnostics = d === 0 ? hit.diagnostics : hit.diagnostics.map((x) => ({ ...x, line: x.line + d, ...(x.endLine !== undefined ? { endLine: x.endLine + d } : {}) }));
  return { info, diagnostics };
}

function analyzeOne(
  fn: FuncIR,
  cx: KernelContext,
  ann: Annotation | null,
  structs: Map<string, Array<{ name: string; type: WgslType | null }>>,
  funcsByName: Map<string, FuncIR>,
  launchesIR: LaunchIR[],
): { info: KernelInfo; diagnostics: KernelDiagnostic[] } {
  const { ir, device } = cx;
  const lang = ir.language;
  const diagnostics: KernelDiagnostic[] = [];
  const env = copyEnv(cx.env);
  const off = rowOffset(fn);
  const at = (p: Pos) => shiftPos(p, off);
  const notes: string[] = [];

  // ---- launches and block size
  // template parameters bound by the first launch's template arguments
  const tmplTypes = new Map<string, string>();
  const firstL = launchesIR[0];
  if (firstL) {
    fn.templateParams.forEach((p, i) => {
      const a = firstL.templateArgs[i];
      if (a === undefined) return;
      const n = Number(a);
      if (Number.isFinite(n)) env.set(p, n);
      else if (env.has(a)) env.set(p, env.get(a)!);
      else tmplTypes.set(p, a);
    });
  }
  if (firstL) {
    // value parameters bound by the first launch's arguments (`gemm<<<g, b>>>(A, B, C, M, N, K)`)
    fn.params.forEach((p, i) => {
      const a = firstL.args[i];
      if (p.kind !== 'value' || !a || env.has(p.name)) return;
      const v = evalExpr(a, env);
      if (v !== null && Number.isFinite(v)) env.set(p.name, v);
    });
  }
  const launches: KernelLaunch[] = launchesIR.map((l) => ({
    line: l.pos.row + 1,
    grid: tuple3(l.grid, env),
    block: tuple3(l.block, env),
    dynamicSharedMemoryBytes: l.smem ? evalExpr(l.smem, env) : 0,
    text: l.text,
  }));
  let workgroupSize: [number, number, number] | null = null;
  let grid: [number, number, number] | null = null;
  if (lang === 'wgsl') {
    workgroupSize = tuple3(fn.workgroupSize, env);
    if (fn.workgroupSize && !workgroupSize) {
      const values = fn.workgroupSize.map((e) => evalExpr(e, env));
      const missing = [...new Set(fn.workgroupSize.flatMap((e) => [...freeIdents(e)]))].filter((n) => !env.has(n));
      // WGSL: each @workgroup_size value must be at least 1
      if (values.length >= 1 && values.length <= 3 && values.every((v) => v !== null)) notes.push(`workgroup size must be at least 1 in each dimension (got ${values.join(',')})`);
      else notes.push(`workgroup size needs ${missing.join(', ') || 'a constant value'}`);
    }
    if (ann?.dispatch) {
      grid = tuple3(ann.dispatch, env);
      launches.push({ line: ann.row + 1, grid, block: workgroupSize, dynamicSharedMemoryBytes: 0, text: `dispatch=${ann.dispatch.map(exprText).join(',')}` });
    }
  } else {
    const withBlock = launches.find((l) => l.block);
    workgroupSize = withBlock?.block ?? (ann?.block ? tuple3(ann.block, env) : null);
    grid = launches.find((l) => l.grid)?.grid ?? (ann?.grid ? tuple3(ann.grid, env) : null);
    if (!launches.length && (ann?.grid || ann?.block)) {
      launches.push({ line: ann.row + 1, grid, block: workgroupSize, dynamicSharedMemoryBytes: 0, text: 'annotation' });
    }
  }
  if (workgroupSize) workgroupSize.forEach((v, i) => env.set(BLOCK_DIM[i]!, v));
  if (grid) grid.forEach((v, i) => env.set(GRID_DIM[i]!, v));

  // ---- buffers
  const buffers = new Map<string, BufferInfo>();
  let sharedStatic: number | null = 0;
  let sharedDynamic = false;
  // WGSL: names the entry point uses, with those of the functions it calls
  const usedNames = lang === 'wgsl' ? new Set<string>(fn.idents) : new Set<string>();
  if (lang === 'wgsl') {
    // statically used: the entry point and every function it calls, transitively
    const seen = new Set<string>([fn.name]);
    const queue = [...fn.calls];
    while (queue.length) {
      const c = queue.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      const f = funcsByName.get(c);
      if (f) {
        for (const i of f.idents) usedNames.add(i);
        queue.push(...f.calls);
      }
    }
    for (const g of ir.globals) {
      const space: Space | null = g.space === 'storage' ? 'global' : g.space === 'workgroup' ? 'shared' : g.space === 'uniform' ? 'uniform' : g.space === 'private' ? 'local' : null;
      if (!space) continue;
      const elem = g.type && g.type.k === 'array' ? g.type.elem : g.type;
      const lay = elem ? wgslLayout(elem, env, structs) : null;
      const scalar = scalarOf(elem) ?? '';
      const lanes = elem && elem.k === 'vec' ? elem.n : elem && elem.k === 'mat' ? elem.c * elem.r : 1;
      buffers.set(g.name, { space, elemBytes: lay?.size ?? null, float: /^f(16|32)$/.test(scalar), lanes, scalar });
      if (space === 'shared' && usedNames.has(g.name)) {
        const l = g.type ? wgslLayout(g.type, env, structs) : null;
        if (l && sharedStatic !== null) sharedStatic += l.size;
        else {
          sharedStatic = null;
          notes.push(`size of var<workgroup> ${g.name} is not known`);
        }
      }
    }
  } else {
    for (const p of fn.params) {
      const et = tmplTypes.get(p.elemType ?? '') ?? p.elemType ?? '';
      const bytes = ctypeBytes(et);
      if (p.kind === 'global') {
        const f = typeFacts(et);
        buffers.set(p.name, { space: 'global', elemBytes: bytes, float: f.float, lanes: f.bufferLanes, scalar: et });
      }
    }
    for (const s of fn.shared) {
      const et = tmplTypes.get(s.elemType) ?? s.elemType;
      const eb = ctypeBytes(et);
      buffers.set(s.name, { space: 'shared', elemBytes: eb, float: typeFacts(et).float, lanes: 1, scalar: et });
      if (s.dynamic) {
        sharedDynamic = true;
        continue;
      }
      const n = s.dims.map((d) => evalExpr(d, env));
      if (eb === null || n.some((x) => x === null) || sharedStatic === null) {
        sharedStatic = null;
        notes.push(`size of __shared__ ${s.name} is not known`);
      } else sharedStatic += eb * prod(n as number[]);
    }
  }
  if (lang === 'cuda') {
    // local pointers into a buffer (`const float* row = x + blockIdx.x * cols;`) alias it
    collectDecls(fn.body, (name, type, init) => {
      if (!init || !/\*\s*$/.test(type)) return;
      for (const id of freeIdents(init)) {
        const b = buffers.get(id);
        if (b) {
          buffers.set(name, b);
          return;
        }
      }
    });
  }
  if (lang === 'wgsl') {
    // uniform struct members take the value of the dim with the same name, any case (`dims.k` <- K)
    const lower = new Map(Object.entries(cx.dims).map(([k, v]) => [k.toLowerCase(), v]));
    for (const g of ir.globals) {
      if (g.space !== 'uniform' || g.type?.k !== 'named') continue;
      for (const m of structs.get(g.type.name) ?? []) {
        const v = lower.get(m.name.toLowerCase());
        if (v !== undefined) env.set(`${g.name}.${m.name}`, v);
      }
    }
  }
  let bindings: KernelBinding[] | undefined;
  if (lang === 'wgsl') {
    bindings = [];
    for (const g of ir.globals) {
      if (g.group === null || g.binding === null || !usedNames.has(g.name)) continue;
      const runtimeSized = g.type?.k === 'array' && g.type.count === null;
      const unitType = runtimeSized && g.type?.k === 'array' ? g.type.elem : g.type;
      const lay = unitType ? wgslLayout(unitType, env, structs) : null;
      const b: KernelBinding = { group: g.group, binding: g.binding, name: g.name, space: g.space, access: g.access, type: wgslTypeText(g.type), elementBytes: lay?.size ?? null, runtimeSized, scalar: scalarOf(unitType) };
      if (unitType?.k === 'named' && structs.has(unitType.name)) {
        const members: NonNullable<KernelBinding['members']> = [];
        let offset = 0;
        for (const m of structs.get(unitType.name)!) {
          const l = m.type ? wgslLayout(m.type, env, structs) : null;
          if (!l) break;
          offset = Math.ceil(offset / l.align) * l.align;
          members.push({ name: m.name, offsetBytes: offset, scalar: scalarOf(m.type) });
          offset += l.size;
        }
        b.members = members;
      }
      bindings.push(b);
    }
    bindings.sort((a, b) => a.group - b.group || a.binding - b.binding);
  }
  const dyn = launches[0]?.dynamicSharedMemoryBytes ?? 0;
  const sharedMemoryBytes = sharedStatic === null ? null : sharedStatic + (sharedDynamic ? dyn ?? 0 : 0);

  // ---- variable types, taint
  const w: Walk = { lang, fn, env, buffers, vars: new Map(), taint: new Map(), accessMemo: new Map(), flopsMemo: new Map() };
  for (const p of fn.params) {
    if (p.kind === 'value') {
      const t = tmplTypes.get(p.elemType ?? '') ?? p.type;
      w.vars.set(p.name, typeFacts(t).param);
    }
  }
  collectDecls(fn.body, (name, type, init) => {
    if (type) {
      const t = tmplTypes.get(type) ?? type;
      if (t === 'auto' || t === '') {
        if (init) w.vars.set(name, typeOf(init, w));
      } else {
        w.vars.set(name, typeFacts(t).local);
      }
    } else if (init) w.vars.set(name, typeOf(init, w));
  });
  // thread dims that assigned values depend on: read off the last pass when it changed nothing (its taints are
  // then the final ones), else taken again
  let usedDims = 0;
  let changed = true;
  for (let pass = 0; pass < 3 && changed; pass++) {
    changed = false;
    usedDims = 0;
    collectAssigns(fn.body, (name, value) => {
      const t = taintOf(value, w);
      usedDims |= taintD(t);
      const prev = w.taint.get(name);
      const next = prev === undefined ? t : mergeTaint(prev, t);
      if (prev !== next) changed = true;
      w.taint.set(name, next);
    });
  }
  if (changed) {
    usedDims = 0;
    collectAssigns(fn.body, (_n, v) => (usedDims |= taintD(taintOf(v, w))));
  }
  for (const s of walkAll(fn.body)) usedDims |= stmtTidDims(s);

  // ---- locals with a value known before the loops (thread 0 of block 0 stands for the average thread)
  // what is known from the source alone (no dims, no per-thread values): decides `constant` on loops
  // (taken now, made only when a loop needs it)
  const known = copyEnv(env);
  let constEnvMemo: Map<string, number> | null = null;
  const constEnv = () => {
    if (!constEnvMemo) {
      constEnvMemo = known;
      for (const k in cx.dims) constEnvMemo.delete(k);
    }
    return constEnvMemo;
  };
  for (const k of THREAD_ZERO) env.set(k, 0);
  const assignedTwice = new Set<string>();
  const seenAssign = new Set<string>();
  collectAssigns(fn.body, (name) => (seenAssign.has(name) ? assignedTwice.add(name) : seenAssign.add(name)));
  for (const s of walkAll(fn.body)) if (s.k === 'loop' && s.var) assignedTwice.add(s.var);
  collectDecls(fn.body, (name, _t, init) => {
    if (!init || assignedTwice.has(name) || env.has(name)) return;
    const v = evalExpr(init, env);
    if (v !== null && Number.isFinite(v)) env.set(name, v);
  });

  // ---- walk: loops, counts, accesses
  const loops: KernelLoop[] = [];
  let flops = 0;
  let loads = 0;
  let stores = 0;
  let bytesRead = 0;
  let bytesWritten = 0;
  let unknownTrip: { line: number; needs: string[] } | null = null;
  let unknownBytes = false;
  let recording = true;
  const count = (body: Stmt[], mult: number | null, depth: number) => {
    for (const s of body) {
      if (s.k === 'loop') {
        const trip = evalTrip(s.trip, env);
        if (recording) {
          const constant = trip !== null && evalTrip(s.trip, constEnv()) !== null;
          loops.push({ line: at(s.pos).row + 1, variable: s.var, tripCount: trip, constant, depth: depth + 1 });
        }
        if (trip === null && !unknownTrip) {
          const needs = [...freeIdents(s.trip)].filter((n) => !env.has(n));
          unknownTrip = { line: at(s.pos).row + 1, needs };
        }
        // short loops are stepped through, so that conditions on the loop variable (`tid < s`) and loops nested in
        // them weigh right; a body without either counts the same multiplied by the trip count
        const start = s.seq && s.var && trip !== null && trip <= UNROLL_MAX && walkAll(s.body).some(branchOrLoop) ? evalExpr(s.seq.init, env) : null;
        const step = s.seq ? evalExpr(s.seq.step, env) : null;
        if (start !== null && step !== null && s.var && s.seq && !env.has(s.var)) {
          const was = recording;
          let v = start;
          for (let i = 0; i < trip!; i++) {
            env.set(s.var, v);
            count(s.body, mult, depth + 1);
            recording = false;
            v = stepValue(v, s.seq.stepOp, step);
          }
          recording = was;
          env.delete(s.var);
        } else count(s.body, mult === null || trip === null ? null : mult * trip, depth + 1);
        continue;
      }
      if (s.k === 'if') {
        for (const a of stmtAccesses(s, w)) tally(a, mult);
        let cf = w.flopsMemo.get(s);
        if (cf === undefined) w.flopsMemo.set(s, (cf = exprFlops(s.cond, w)));
        flops += (mult ?? 0) * cf;
        const frac = branchFraction(s.cond, w);
        count(s.then, mult === null ? null : mult * (frac ?? 1), depth);
        count(s.else, mult === null ? null : mult * (frac === null ? 1 : 1 - frac), depth);
        continue;
      }
      for (const a of stmtAccesses(s, w)) tally(a, mult);
      let f = w.flopsMemo.get(s);
      if (f === undefined) {
        f = 0;
        if (s.k === 'assign') {
          f = exprFlops(s.value, w);
          if (COMPOUND_ARITH.has(s.op)) {
            const t = typeOf(s.target, w);
            if (t.float || typeOf(s.value, w).float) f += Math.max(t.lanes, typeOf(s.value, w).lanes);
          }
        } else if (s.k === 'decl' && s.init) f = exprFlops(s.init, w);
        else if (s.k === 'expr') f = exprFlops(s.e, w);
        w.flopsMemo.set(s, f);
      }
      if (mult !== null) flops += mult * f;
    }
  };
  const tally = (a: Access, mult: number | null) => {
    if (a.space !== 'global') return;
    const m = mult ?? 0;
    const eb = a.elemBytes;
    if (eb === null) unknownBytes = true;
    if (a.read) {
      loads += m;
      bytesRead += m * (eb ?? 0);
    }
    if (a.write) {
      stores += m;
      bytesWritten += m * (eb ?? 0);
    }
  };
  count(fn.body, 1, 0);
  const tripsKnown = unknownTrip === null;

  // ---- estimate
  const threadsPerBlock = workgroupSize ? prod(workgroupSize) : null;
  const threads = threadsPerBlock !== null && grid ? threadsPerBlock * prod(grid) : null;
  let estimate: KernelEstimate | undefined;
  let estimateUnavailable: string | undefined;
  const floatScalars = [...buffers.values()].filter((b) => b.space === 'global' && b.float).map((b) => b.scalar);
  const dt = dtypeOf(floatScalars.find((s) => /half|f16|bf16|bfloat/.test(s)) ?? floatScalars[0] ?? 'float');
  if (dt.note) notes.push(dt.note);
  const annFlops = ann?.flops ? evalExpr(ann.flops, env) : null;
  const annBytes = ann?.bytes ? evalExpr(ann.bytes, env) : null;
  if (ann?.flops && annFlops === null) notes.push(`flops formula needs ${[...freeIdents(ann.flops)].filter((n) => !env.has(n)).join(', ')}`);
  if (ann?.bytes && annBytes === null) notes.push(`bytes formula needs ${[...freeIdents(ann.bytes)].filter((n) => !env.has(n)).join(', ')}`);
  let totalFlops: number | null = annFlops;
  let totalBytes: number | null = annBytes;
  if (annFlops !== null) notes.push('FLOPs from the annotation formula');
  if (annBytes !== null) notes.push('bytes from the annotation formula');
  if (threads !== null && tripsKnown) {
    if (totalFlops === null) {
      totalFlops = flops * threads;
      notes.push(`FLOPs counted in the source: ${fmt(flops)} per thread x ${fmt(threads)} threads (branches on the thread index weighted by the share of threads taking them)`);
    }
    if (totalBytes === null && !unknownBytes) {
      totalBytes = (bytesRead + bytesWritten) * threads;
      notes.push(`bytes: ${fmt(bytesRead + bytesWritten)} global bytes per thread x ${fmt(threads)} threads (every load counted; caches not modelled)`);
    }
  }
  const trip = unknownTrip as { line: number; needs: string[] } | null;
  if (totalFlops !== null && totalBytes !== null && totalBytes > 0) {
    estimate = { flops: totalFlops, bytes: totalBytes, intensity: totalFlops / totalBytes, dtype: dt.dtype, threads: threads ?? 0, notes };
    if (device) {
      // 16-bit storage computes on tensor cores only where the kernel issues their instructions (CUDA wmma /
      // mma); otherwise (and always in WGSL, which has no such instructions) its arithmetic runs on the vector
      // units: the fp32 rate. A measured device's own 16-bit rate is a vector-unit rate, so it stands.
      const tensor = lang === 'cuda' && usesMatrixInstructions(fn.body);
      const arith: Dtype = dt.dtype !== 'fp32' && !tensor && !device.measured ? 'fp32' : dt.dtype;
      if (arith !== dt.dtype) notes.push(`${dt.dtype} storage; the arithmetic is priced at the fp32 peak (${lang === 'wgsl' ? 'WGSL has no tensor-core instructions' : 'no wmma / mma tensor-core instructions in the kernel'})`);
      const choice = peakFor(device, arith);
      if (choice.note) notes.push(choice.note);
      const peak = choice.flopsPerS;
      if (peak && device.memoryBandwidthBytesPerS > 0) {
        const ridge = peak / device.memoryBandwidthBytesPerS;
        estimate.device = {
          id: device.id,
          peakFlopsPerS: peak,
          bandwidthBytesPerS: device.memoryBandwidthBytesPerS,
          ridgeIntensity: ridge,
          bound: estimate.intensity < ridge ? 'memory' : 'compute',
          timeS: Math.max(totalFlops / peak, totalBytes / device.memoryBandwidthBytesPerS),
        };
      }
    }
  } else {
    const reasons: string[] = [];
    if (threads === null && (annFlops === null || annBytes === null)) {
      reasons.push(lang === 'wgsl' ? (grid ? 'the workgroup size is not known' : 'no dispatch: add `// ridgeline: dispatch=X,Y,Z`') : workgroupSize ? 'the grid size does not resolve (add dims such as `// ridgeline: M=4096`)' : 'no launch site with a constant block size in this file (add `// ridgeline: grid=... block=...`)');
    }
    if (trip) reasons.push(`the trip count of the loop at line ${trip.line} needs ${trip.needs.join(', ') || 'a constant bound'}`);
    if (unknownBytes) reasons.push('an element type size is unknown');
    if (totalBytes === 0) reasons.push('no global memory traffic found');
    estimateUnavailable = reasons.join('; ') || 'not enough information';
  }

  // ---- occupancy (CUDA)
  let occupancy: Occupancy | undefined;
  if (lang === 'cuda' && threadsPerBlock !== null && sharedMemoryBytes !== null && threadsPerBlock <= (device?.maxThreadsPerBlock ?? CUDA_DEFAULTS.maxThreadsPerBlock)) {
    const warp = device?.simdWidth ?? CUDA_DEFAULTS.warpSize;
    const maxT = device?.maxThreadsPerSm ?? CUDA_DEFAULTS.maxThreadsPerSm;
    const smemSm = device?.sharedMemoryPerSmBytes ?? CUDA_DEFAULTS.sharedMemoryPerSmBytes;
    const warpsPerBlock = Math.ceil(threadsPerBlock / warp);
    const byThreads = Math.floor(maxT / (warpsPerBlock * warp));
    const smemBlock = sharedMemoryBytes + (device?.reservedSharedMemoryPerBlockBytes ?? CUDA_DEFAULTS.reservedSharedPerBlockBytes);
    const bySmem = sharedMemoryBytes > 0 ? Math.floor(smemSm / smemBlock) : Infinity;
    const blocks = Math.min(byThreads, bySmem, device?.maxBlocksPerSm ?? CUDA_DEFAULTS.maxBlocksPerSm);
    const limitedBy = blocks === byThreads ? 'threads' : blocks === bySmem ? 'sharedMemory' : 'blocks';
    occupancy = {
      threadsPerBlock,
      sharedMemoryPerBlockBytes: sharedMemoryBytes,
      blocksPerSm: blocks,
      occupancy: Math.min(1, (blocks * warpsPerBlock * warp) / maxT),
      limitedBy,
      note: `registers per thread are not known from source: an upper bound${device?.maxThreadsPerSm ? '' : `; per-SM limits from ${CUDA_DEFAULTS.source}`}`,
    };
    if (occupancy.occupancy < 0.25) {
      diagnostics.push(diag(fn, at(fn.namePos), 'RL009', `${fn.name}: at most ${blocks} block(s) of ${threadsPerBlock} threads per SM: occupancy ${(occupancy.occupancy * 100).toFixed(0)}% (limited by ${limitedBy === 'sharedMemory' ? 'shared memory' : limitedBy})`));
    }
  }

  // ---- lints: sizes
  const namePos = at(fn.namePos);
  const simd = device?.simdWidth ?? 32;
  if (workgroupSize && threadsPerBlock !== null) {
    if (threadsPerBlock % simd !== 0) {
      const up = Math.ceil(threadsPerBlock / simd) * simd;
      diagnostics.push(diag(fn, namePos, 'RL001', `${fn.name}: ${threadsPerBlock} threads per ${lang === 'wgsl' ? 'workgroup' : 'block'} is not a multiple of the SIMD width ${simd}: the last ${lang === 'wgsl' ? 'subgroup' : 'warp'} runs ${threadsPerBlock % simd} of ${simd} lanes`, `use ${up} threads (e.g. workgroup size ${up === 64 ? '64' : up})`));
    }
    const limit = lang === 'wgsl' ? WEBGPU_DEFAULTS.maxComputeInvocationsPerWorkgroup : device?.maxThreadsPerBlock ?? CUDA_DEFAULTS.maxThreadsPerBlock;
    const dimLimit = lang === 'wgsl' ? WEBGPU_DEFAULTS.maxComputeWorkgroupSize : CUDA_DEFAULTS.maxBlockDim;
    const overDim = workgroupSize.findIndex((v, i) => v > dimLimit[i]!);
    if (threadsPerBlock > limit || overDim >= 0) {
      diagnostics.push(diag(fn, namePos, 'RL002', `${fn.name}: ${workgroupSize.join(' x ')} = ${threadsPerBlock} threads exceeds the ${lang === 'wgsl' ? 'WebGPU default limit' : 'CUDA limit'} of ${limit} per ${lang === 'wgsl' ? 'workgroup' : 'block'}${overDim >= 0 ? ` (dimension ${'xyz'[overDim]} max ${dimLimit[overDim]})` : ''}`));
    }
  }
  if (sharedMemoryBytes !== null) {
    if (lang === 'wgsl') {
      if (sharedMemoryBytes > WEBGPU_DEFAULTS.maxComputeWorkgroupStorageSize) {
        diagnostics.push(diag(fn, namePos, 'RL003', `${fn.name}: ${sharedMemoryBytes} bytes of workgroup memory exceeds the WebGPU default limit of ${WEBGPU_DEFAULTS.maxComputeWorkgroupStorageSize} bytes`));
      }
    } else {
      const maxBlock = device?.maxSharedMemoryPerBlockBytes ?? CUDA_DEFAULTS.maxSharedMemoryPerBlockBytes;
      if (sharedStatic !== null && sharedStatic > CUDA_DEFAULTS.staticSharedMemoryBytes) {
        const first = fn.shared.find((s) => !s.dynamic);
        diagnostics.push(diag(fn, first ? at(first.pos) : namePos, 'RL003', `${fn.name}: ${sharedStatic} bytes of static __shared__ memory exceeds the 48 KiB static limit`, 'move the arrays to `extern __shared__` dynamic memory and raise cudaFuncAttributeMaxDynamicSharedMemorySize'));
      } else if (sharedMemoryBytes > maxBlock) {
        diagnostics.push(diag(fn, namePos, 'RL003', `${fn.name}: ${sharedMemoryBytes} bytes of shared memory per block exceeds the ${device ? device.name : 'default'} limit of ${maxBlock} bytes`));
      }
    }
  }

  // ---- lints: races, divergent barriers, tiling, coalescing
  raceLint(fn, w, diagnostics, at);
  divergentBarrierLint(fn.body, w, diagnostics, at, false);
  const usesX = (usedDims & 1) !== 0;
  if (!(workgroupSize && workgroupSize[0] === 1)) coalescingLint(fn, w, diagnostics, at, usesX);
  tilingLint(fn, w, diagnostics, at, usedDims);
  if (estimate?.device && estimate.device.bound === 'memory' && dt.dtype === 'fp32' && floatScalars.length > 0) {
    const f16 = device?.peakFlopsPerS.fp16 !== undefined || device?.peakFlopsPerS.bf16 !== undefined;
    if (f16) {
      diagnostics.push(diag(fn, namePos, 'RL007', `${fn.name}: memory-bound on ${device!.name} (${estimate.intensity.toFixed(2)} FLOP/byte < ridge ${estimate.device.ridgeIntensity.toFixed(1)}) with ${lang === 'wgsl' ? 'f32' : 'float'} data; ${lang === 'wgsl' ? 'f16 (enable f16;)' : 'half / bf16'} storage halves the bytes`, lang === 'wgsl' ? 'store buffers as f16 (`enable f16;`) and accumulate in f32' : 'store inputs as __half / __nv_bfloat16 and accumulate in float'));
    }
  }

  const info: KernelInfo = {
    name: fn.name,
    line: namePos.row + 1,
    column: namePos.col + 1,
    endLine: at(fn.pos).endRow + 1,
    language: lang,
    params: fn.params.map((p) => ({ name: p.name, type: p.type, kind: p.kind })),
    workgroupSize,
    sharedMemoryBytes,
    launches,
    loops,
    globalLoadsPerThread: tripsKnown ? loads : null,
    globalStoresPerThread: tripsKnown ? stores : null,
    ...(estimate ? { estimate } : { estimateUnavailable }),
    ...(occupancy ? { occupancy } : {}),
    ...(bindings ? { bindings } : {}),
  };
  if (!estimate && notes.length) info.estimateUnavailable = `${info.estimateUnavailable}; ${notes.join('; ')}`;
  return { info, diagnostics };
}

/** A copy of an environment (forEach: faster than the Map constructor's iteration for these small maps). */
function copyEnv(env: Env): Map<string, number> {
  const out = new Map<string, number>();
  env.forEach((v, k) => out.set(k, v));
  return out;
}

/** Environment keys of the built-in dims: block and grid sizes, and thread 0 of block 0. */
const BLOCK_DIM = BUILTIN_KEYS.bdim;
const GRID_DIM = BUILTIN_KEYS.gdim;
const THREAD_ZERO = [...BUILTIN_KEYS.tid, ...BUILTIN_KEYS.bid];

const branchOrLoop = (s: Stmt): boolean => s.k === 'if' || s.k === 'loop';

/** Loops with at most this many iterations are stepped through when counting. */
const UNROLL_MAX = 64;

function stepValue(v: number, op: string, step: number): number {
  switch (op) {
    case '+': return v + step;
    case '-': return v - step;
    case '*': return v * step;
    case '/': return Math.trunc(v / step);
    case '>>': return Math.floor(v / 2 ** step);
    case '<<': return v * 2 ** step;
    default: return v;
  }
}

/**
 * Fraction of threads that take a branch: `tid == c` -> one per block, `tid < s` -> s / blockDim,
 * conditions without the thread index -> evaluated (0 or 1) when constant. null when not known
 * (counted as taken by every thread: an upper bound).
 */
function branchFraction(c: Expr, w: Walk): number | null {
  if (c.k === 'un' && c.op === '!') {
    const f = branchFraction(c.e, w);
    return f === null ? null : 1 - f;
  }
  if (c.k !== 'bin') {
    const v = taintD(taintOf(c, w)) === 0 ? evalExpr(c, w.env) : null;
    return v === null ? null : v ? 1 : 0;
  }
  if (c.op === '&&' || c.op === '||') {
    const a = branchFraction(c.l, w);
    const b = branchFraction(c.r, w);
    if (c.op === '&&') return a === null && b === null ? null : (a ?? 1) * (b ?? 1);
    return a === null || b === null ? null : Math.min(1, a + b);
  }
  const tl = taintD(taintOf(c.l, w));
  const tr = taintD(taintOf(c.r, w));
  if (tl === 0 && tr === 0) {
    const v = evalExpr(c, w.env);
    return v === null ? null : v ? 1 : 0;
  }
  if (tl !== 0 && tr !== 0) return null;
  const tainted = tl ? tl : tr;
  let extent = 1;
  for (let d = 0; d < 3; d++) {
    if (!(tainted & (1 << d))) continue;
    const b = w.env.get(BUILTIN_KEYS.bdim[d]!);
    if (b === undefined) return null;
    extent *= b;
  }
  const other = evalExpr(tl ? c.r : c.l, w.env);
  const op = tl ? c.op : ({ '<': '>', '>': '<', '<=': '>=', '>=': '<=' } as Record<string, string>)[c.op] ?? c.op;
  const clamp = (x: number) => Math.max(0, Math.min(1, x));
  switch (op) {
    case '==': return 1 / extent;
    case '!=': return 1 - 1 / extent;
    case '<': return other === null ? null : clamp(other / extent);
    case '<=': return other === null ? null : clamp((other + 1) / extent);
    case '>': return other === null ? null : clamp(1 - (other + 1) / extent);
    case '>=': return other === null ? null : clamp(1 - other / extent);
    default: return null;
  }
}

/** A count for messages: integers with thousands separators (`16,777,216`), others to 4 significant digits. */
function fmt(n: number): string {
  if (!Number.isInteger(n)) return n.toPrecision(4);
  const digits = String(Math.abs(n));
  if (Math.abs(n) >= 1e21) return String(n);
  let out = n < 0 ? '-' : '';
  for (let i = 0; i < digits.length; i++) out += (i > 0 && (digits.length - i) % 3 === 0 ? ',' : '') + digits[i];
  return out;
}

const flatBodies = new WeakMap<Stmt[], Stmt[]>();

/** Every statement of a body, nested ones included, in source order (kept per body: the IR is not changed). */
function walkAll(body: Stmt[]): Stmt[] {
  let out = flatBodies.get(body);
  if (!out) {
    out = [];
    const add = (b: Stmt[]) => {
      for (const s of b) {
        out!.push(s);
        if (s.k === 'loop') add(s.body);
        else if (s.k === 'if') {
          add(s.then);
          add(s.else);
        }
      }
    };
    add(body);
    flatBodies.set(body, out);
  }
  return out;
}

/**
 * True when a CUDA kernel issues tensor-core instructions: a wmma fragment declared, or a call such as
 * wmma::mma_sync, __hmma_* or an inline `asm("mma.sync ...")`.
 */
function usesMatrixInstructions(body: Stmt[]): boolean {
  let found = false;
  const look = (e: Expr) => {
    if ((e.k === 'call' && /mma/i.test(e.fn)) || (e.k === 'other' && /mma\./i.test(e.text))) found = true;
  };
  for (const st of walkAll(body)) {
    if (st.k === 'decl' && /wmma|fragment\s*</.test(st.type)) return true;
    for (const e of stmtExprs(st)) forEachExpr(e, look);
    if (found) return true;
  }
  return false;
}

/** Thread-index dims an expression names directly. */
function tidDims(e: Expr): number {
  switch (e.k) {
    case 'tid': return 1 << e.dim;
    case 'bin': return tidDims(e.l) | tidDims(e.r);
    case 'un': return tidDims(e.e);
    case 'mem': return tidDims(e.obj);
    case 'idx': {
      let d = tidDims(e.base);
      for (const i of e.idx) d |= tidDims(i);
      return d;
    }
    case 'call': {
      let d = 0;
      for (const a of e.args) d |= tidDims(a);
      return d;
    }
    case 'cond': return tidDims(e.c) | tidDims(e.a) | tidDims(e.b);
    default: return 0;
  }
}

/** Thread-index dims a statement's own expressions name (not those of nested statements). */
function stmtTidDims(s: Stmt): number {
  switch (s.k) {
    case 'decl': return s.init ? tidDims(s.init) : 0;
    case 'assign': return tidDims(s.target) | tidDims(s.value);
    case 'expr': return tidDims(s.e);
    case 'if': return tidDims(s.cond);
    default: return 0;
  }
}

/** A shared-memory access that is not atomic: what the race lint compares. */
const isRaceCandidate = (a: Access): boolean => a.space === 'shared' && !a.atomic;

/** An access event; `occ` numbers statement executions so that a statement never races with itself. */
type Ev = { k: 'acc'; a: Access; pos: Pos; occ: number } | { k: 'bar' };

type RawEv = { k: 'acc'; a: Access; pos: Pos } | { k: 'bar' } | { k: 'stmt' };
/** The markers carry no data: one object each. */
const STMT_EV: RawEv = { k: 'stmt' };
const BAR_EV: RawEv = { k: 'bar' };

function events(body: Stmt[], w: Walk, depth = 0, out: RawEv[] = []): RawEv[] {
  const accs = (s: Stmt) => {
    out.push(STMT_EV);
    for (const a of stmtAccesses(s, w)) if (isRaceCandidate(a)) out.push({ k: 'acc', a, pos: a.e.pos });
  };
  for (const s of body) {
    if (s.k === 'barrier') out.push(BAR_EV);
    else if (s.k === 'loop') {
      accs(s);
      if (depth >= 4) continue;
      const from = out.length;
      events(s.body, w, depth + 1, out);
      // twice: catches hazards carried from one iteration to the next. In the second copy, accesses whose
      // index moves with the loop variable touch other elements than in the first: left out.
      const v = s.var;
      const to = out.length;
      for (let i = from; i < to; i++) {
        const e = out[i]!;
        if (!v || e.k !== 'acc' || !e.a.e.idx.some((x) => mentions(x, v))) out.push(e);
      }
    } else if (s.k === 'if') {
      accs(s);
      events(s.then, w, depth, out);
      events(s.else, w, depth, out);
    } else accs(s);
  }
  return out;
}

function numbered(evs: RawEv[]): Ev[] {
  const out: Ev[] = [];
  let occ = 0;
  for (const e of evs) {
    if (e.k === 'stmt') occ++;
    else if (e.k === 'bar') out.push(e);
    else out.push({ k: 'acc', a: e.a, pos: e.pos, occ });
  }
  return out;
}

/** RL004: a shared element written then read (or read then written) by different invocations with no barrier between. */
function raceLint(fn: FuncIR, w: Walk, out: KernelDiagnostic[], at: (p: Pos) => Pos): void {
  // only plain (non-atomic) shared-memory accesses can race: most kernels have none
  let shared = false;
  for (const s of walkAll(fn.body)) {
    if (stmtAccesses(s, w).some(isRaceCandidate)) {
      shared = true;
      break;
    }
  }
  if (!shared) return;
  const evs = numbered(events(fn.body, w));
  const writes = new Map<string, Array<{ idx: string; own: boolean; occ: number }>>();
  const reads = new Map<string, Array<{ idx: string; own: boolean; occ: number }>>();
  const reported = new Set<string>();
  // per access (events repeat accesses): the index text, and whether the index depends on the thread
  const keys = new Map<Access, string>();
  const owns = new Map<Access, boolean>();
  const key = (a: Access) => {
    let k = keys.get(a);
    if (k === undefined) keys.set(a, (k = a.e.idx.map(exprText).join('][')));
    return k;
  };
  const own = (a: Access) => {
    let o = owns.get(a);
    if (o === undefined) owns.set(a, (o = a.e.idx.some((i) => taintD(taintOf(i, w)) !== 0)));
    return o;
  };
  for (const ev of evs) {
    if (ev.k === 'bar') {
      writes.clear();
      reads.clear();
      continue;
    }
    const a = ev.a;
    if (a.space !== 'shared' || a.atomic) continue;
    const k = key(a);
    // a read after another occurrence's write (or a write after its read), unless both touch the thread's own element
    const conflicts = (list: Array<{ idx: string; own: boolean; occ: number }> | undefined): boolean => {
      if (list) for (const x of list) if (x.occ !== ev.occ && !(x.idx === k && x.own && own(a))) return true;
      return false;
    };
    const hazard = a.read && conflicts(writes.get(a.name)) ? 'read' : a.write && conflicts(reads.get(a.name)) ? 'write' : null;
    if (hazard) {
      const p = at(ev.pos);
      const rep = `${a.name}:${p.row}:${p.col}`;
      if (!reported.has(rep)) {
        reported.add(rep);
        out.push(
          hazard === 'read'
            ? diag(fn, p, 'RL004', `${fn.name}: ${a.name}[${shown(k, w.lang)}] is read after other threads write ${a.name} with no barrier in between`, fnLang(w) === 'wgsl' ? 'insert workgroupBarrier(); before this read' : 'insert __syncthreads(); before this read')
            : diag(fn, p, 'RL004', `${fn.name}: ${a.name}[${shown(k, w.lang)}] is overwritten while other threads may still read ${a.name} (no barrier since the read)`, fnLang(w) === 'wgsl' ? 'insert workgroupBarrier(); before this write' : 'insert __syncthreads(); before this write (e.g. at the end of the loop body)'),
        );
      }
    }
    if (a.write) (writes.get(a.name) ?? writes.set(a.name, []).get(a.name)!).push({ idx: k, own: own(a), occ: ev.occ });
    if (a.read) (reads.get(a.name) ?? reads.set(a.name, []).get(a.name)!).push({ idx: k, own: own(a), occ: ev.occ });
  }
}

/** Index text as the user wrote it: the IR's thread / block names back in the kernel's language. */
function shown(k: string, lang: KernelLanguage): string {
  const names = lang === 'wgsl'
    ? { tid: 'local_invocation_id', bid: 'workgroup_id', bdim: 'workgroup_size', gdim: 'num_workgroups' }
    : { tid: 'threadIdx', bid: 'blockIdx', bdim: 'blockDim', gdim: 'gridDim' };
  return k.replace(/\b(tid|bid|bdim|gdim)\.([xyz])/g, (_m, b: keyof typeof names, d: string) => `${names[b]}.${d}`).replace(/^\((.*)\)$/, '$1');
}

function fnLang(w: Walk): KernelLanguage {
  return w.lang;
}

/** RL010: a barrier under a condition that depends on the thread index. */
function divergentBarrierLint(body: Stmt[], w: Walk, out: KernelDiagnostic[], at: (p: Pos) => Pos, divergent: boolean): void {
  for (const s of body) {
    if (s.k === 'barrier' && divergent) out.push(diag(w.fn, at(s.pos), 'RL010', `${w.fn.name}: barrier inside a branch that depends on the thread index; threads that skip the branch never arrive`, 'move the barrier out of the branch'));
    else if (s.k === 'if') {
      const d = divergent || taintD(taintOf(s.cond, w)) !== 0;
      divergentBarrierLint(s.then, w, out, at, d);
      divergentBarrierLint(s.else, w, out, at, d);
    } else if (s.k === 'loop') {
      const d = divergent || s.header.some((h) => taintD(taintOf(h, w)) !== 0);
      divergentBarrierLint(s.body, w, out, at, d);
    }
  }
}

/** RL006: threadIdx.x scaled by a stride, or on a slow array dimension, in a global address. */
function coalescingLint(fn: FuncIR, w: Walk, out: KernelDiagnostic[], at: (p: Pos) => Pos, usesX: boolean): void {
  if (!usesX) return;
  const seen = new Set<string>();
  for (const s of walkAll(fn.body)) {
    for (const a of stmtAccesses(s, w)) {
      if (a.space !== 'global' || a.atomic) continue;
      const last = a.e.idx[a.e.idx.length - 1]!;
      const t = taintOf(last, w);
      const slow = a.e.idx.slice(0, -1).some((i) => (taintD(taintOf(i, w)) & 1) !== 0) && (taintD(t) & 1) === 0;
      const strided = (taintS(t) & 1) !== 0;
      if (!slow && !strided) continue;
      const k = `${a.name}[${a.e.idx.map(exprText).join('][')}]`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(diag(fn, at(a.e.pos), 'RL006', `${fn.name}: uncoalesced ${a.write ? 'store to' : 'load from'} ${a.name}: the x thread index ${slow ? 'selects a slow (outer) dimension' : 'is multiplied by a row stride'}, so neighbouring threads touch addresses far apart`, 'map threadIdx.x / invocation_id.x to the contiguous (innermost) dimension, or stage the tile through shared memory and transpose there'));
    }
  }
}

/** RL005: innermost loop reading global memory that other threads of the block also read, with no shared staging. */
function tilingLint(fn: FuncIR, w: Walk, out: KernelDiagnostic[], at: (p: Pos) => Pos, usedDims: number): void {
  const visit = (body: Stmt[]) => {
    for (const s of body) {
      if (s.k === 'if') {
        visit(s.then);
        visit(s.else);
        continue;
      }
      if (s.k !== 'loop') continue;
      const inner = walkAll(s.body);
      if (inner.some((x) => x.k === 'loop')) {
        visit(s.body);
        continue;
      }
      const trip = evalTrip(s.trip, w.env);
      if (trip !== null && trip <= 4) continue;
      const accs: Access[] = [];
      for (const x of inner) for (const a of stmtAccesses(x, w)) accs.push(a);
      if (accs.some((a) => a.space === 'shared')) continue;
      const loopVars = new Set<string>(s.var ? [s.var] : []);
      for (const x of inner) if (x.k === 'decl' && x.init && [...freeIdents(x.init)].some((n) => loopVars.has(n))) loopVars.add(x.name);
      const reused: string[] = [];
      let first: Access | null = null;
      for (const a of accs) {
        if (a.space !== 'global' || !a.read || a.write) continue;
        const ids = new Set<string>();
        for (const i of a.e.idx) freeIdents(i, ids);
        if (![...ids].some((n) => loopVars.has(n))) continue;
        const d = a.e.idx.reduce((m, i) => m | taintD(taintOf(i, w)), 0);
        if ((usedDims & ~d) === 0) continue; // every thread dim in the address: no reuse across threads
        if (!reused.includes(a.name)) reused.push(a.name);
        first ??= a;
      }
      if (first && reused.length) {
        out.push(diag(fn, at(s.pos), 'RL005', `${fn.name}: the innermost loop reads ${reused.join(', ')} from global memory at addresses other threads of the block read too, with no shared-memory tiling`, fnLang(w) === 'wgsl' ? 'load tiles into var<workgroup> arrays, workgroupBarrier(), and run the inner loop on the tiles' : 'load TILE x TILE blocks into __shared__ arrays, __syncthreads(), and run the inner loop on the tiles'));
      }
    }
  };
  visit(fn.body);
}
