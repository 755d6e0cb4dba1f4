/**
 * WebAssembly SIMD versions of the group-wise error kernels of quantize.ts, for the CPU path over 16-bit
 * tensors. Each does, per weight, the same float64 arithmetic in the same order as its JavaScript twin, two
 * weights per instruction (f64x2); only the order of the final sums differs, so results agree to rounding
 * of the sums (relative 1e-15). The decoded weights (float32) and the block minima/maxima live in the
 * module's memory: measure.ts decodes straight into it. Where WebAssembly SIMD is missing, `simdKernels()`
 * is null and the JavaScript kernels run.
 */
import { F64, I32, V128, encodeModule, op, type FuncDef, type ValType } from './wasm';
import { mxfp4Table, nf4Tables, pow2FloorLog2 } from './quantize';
import type { Quantizer } from './formats';

/** Bytes at the start of memory: two float64 results. */
const OUT_BYTES = 16;

// Parameter and local numbering helpers: each function lists its locals by name.
function frame(params: Array<[string, ValType]>, locals: Array<[string, ValType]>): { at: Record<string, number>; params: ValType[]; locals: ValType[] } {
  const at: Record<string, number> = {};
  [...params, ...locals].forEach(([n], i) => (at[n] = i));
  return { at, params: params.map(([, t]) => t), locals: locals.map(([, t]) => t) };
}

const get = op.localGet;
const set = op.localSet;

/**
 * Group min and max from the block statistics: mn/mx over blocks [b, b + per) of the float32 arrays at
 * mins/maxs (per >= 1). Leaves nothing on the stack.
 */
function groupMinMax(L: Record<string, number>, b: string, per: string, mn: string, mx: string): number[] {
  return [
    // bEnd = b + per
    ...get(L[b]!), ...get(L[per]!), ...op.i32Add(), ...set(L.bEnd!),
    ...get(L.mins!), ...get(L[b]!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...op.f32Load(), ...op.f64PromoteF32(), ...set(L[mn]!),
    ...get(L.maxs!), ...get(L[b]!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...op.f32Load(), ...op.f64PromoteF32(), ...set(L[mx]!),
    ...get(L[b]!), ...op.i32Const(1), ...op.i32Add(), ...set(L[b]!),
    ...op.block(),
    ...op.loop(),
    ...get(L[b]!), ...get(L.bEnd!), ...op.i32GeU(), ...op.brIf(1),
    ...get(L[mn]!), ...get(L.mins!), ...get(L[b]!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...op.f32Load(), ...op.f64PromoteF32(), ...op.f64Min(), ...set(L[mn]!),
    ...get(L[mx]!), ...get(L.maxs!), ...get(L[b]!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...op.f32Load(), ...op.f64PromoteF32(), ...op.f64Max(), ...set(L[mx]!),
    ...get(L[b]!), ...op.i32Const(1), ...op.i32Add(), ...set(L[b]!),
    ...op.br(0),
    ...op.end(),
    ...op.end(),
  ];
}

/** acc += (mn + floor((v - mn) * inv + 0.5) * scale - v)^2 for the f64x2 locals named. */
function asymStep(L: Record<string, number>, v: string, mn: string, inv: string, scale: string, acc: string): number[] {
  return [
    ...get(L[mn]!),
    ...get(L[v]!), ...get(L[mn]!), ...op.f64x2Sub(), ...get(L[inv]!), ...op.f64x2Mul(), ...get(L.half!), ...op.f64x2Add(), ...op.f64x2Floor(),
    ...get(L[scale]!), ...op.f64x2Mul(), ...op.f64x2Add(), ...get(L[v]!), ...op.f64x2Sub(), ...op.localTee(L.d!),
    ...get(L.d!), ...op.f64x2Mul(), ...get(L[acc]!), ...op.f64x2Add(), ...set(L[acc]!),
  ];
}

/** Stores lane 0 + lane 1 of an f64x2 local at `addr`. */
function storeSum(L: Record<string, number>, acc: string, addr: number): number[] {
  return [...op.i32Const(addr), ...get(L[acc]!), ...op.f64x2ExtractLane(0), ...get(L[acc]!), ...op.f64x2ExtractLane(1), ...op.f64Add(), ...op.f64Store()];
}

/** splat of max(x, 1e-300) and of x / levels, and levels / max(x, 1e-300): scale and inverse locals. */
function scaleInv(L: Record<string, number>, range: string, levels: string, scale: string, inv: string): number[] {
  return [
    ...get(L[range]!), ...get(L[levels]!), ...op.f64Div(), ...op.f64x2Splat(), ...set(L[scale]!),
    ...get(L[levels]!), ...get(L[range]!), ...op.f64Const(1e-300), ...op.f64Max(), ...op.f64Div(), ...op.f64x2Splat(), ...set(L[inv]!),
  ];
}

/** perL = large / 32; opens the loop over large groups g (exit block outside it) with b = g / 32. */
function openGroupLoop(L: Record<string, number>): number[] {
  return [
    ...get(L.large!), ...op.i32Const(5), ...op.i32ShrU(), ...set(L.perL!),
    ...op.i32Const(0), ...set(L.g!),
    ...op.block(),
    ...op.loop(),
    ...get(L.g!), ...get(L.n!), ...op.i32GeU(), ...op.brIf(1),
    ...get(L.g!), ...op.i32Const(5), ...op.i32ShrU(), ...set(L.b!),
  ];
}

/**
 * Closes the element loop, steps s by `small` up to gEnd (the small-group loop), then g by `large` (the
 * large-group loop, inside its exit block): the shared ending of the nested kernels.
 */
function closeGroupLoops(L: Record<string, number>): number[] {
  return [
    ...op.end(),
    ...get(L.s!), ...get(L.small!), ...op.i32Add(), ...op.localTee(L.s!), ...get(L.gEnd!), ...op.i32LtU(), ...op.brIf(0),
    ...op.end(),
    ...get(L.g!), ...get(L.large!), ...op.i32Add(), ...set(L.g!),
    ...op.br(0),
    ...op.end(),
    ...op.end(),
  ];
}

/** acc += (floor(v * inv + 0.5) * scale - v)^2 (symmetric rounding) for the f64x2 locals named. */
function symStep(L: Record<string, number>, v: string, inv: string, scale: string, acc: string): number[] {
  return [
    ...get(L[v]!), ...get(L[inv]!), ...op.f64x2Mul(), ...get(L.half!), ...op.f64x2Add(), ...op.f64x2Floor(),
    ...get(L[scale]!), ...op.f64x2Mul(), ...get(L[v]!), ...op.f64x2Sub(), ...op.localTee(L.d!),
    ...get(L.d!), ...op.f64x2Mul(), ...get(L[acc]!), ...op.f64x2Add(), ...set(L[acc]!),
  ];
}

/** amax = max over blocks [b, b + per) of max(-min, max); leaves b at the end. */
function blockAbsMax(L: Record<string, number>, b: string, per: string, amax: string): number[] {
  return [
    ...get(L[b]!), ...get(L[per]!), ...op.i32Add(), ...set(L.bEnd!),
    ...op.f64Const(0), ...set(L[amax]!),
    ...op.block(),
    ...op.loop(),
    ...get(L[b]!), ...get(L.bEnd!), ...op.i32GeU(), ...op.brIf(1),
    ...get(L[amax]!),
    ...op.f64Const(0), ...get(L.mins!), ...get(L[b]!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...op.f32Load(), ...op.f64PromoteF32(), ...op.f64Sub(),
    ...op.f64Max(),
    ...get(L.maxs!), ...get(L[b]!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...op.f32Load(), ...op.f64PromoteF32(),
    ...op.f64Max(), ...set(L[amax]!),
    ...get(L[b]!), ...op.i32Const(1), ...op.i32Add(), ...set(L[b]!),
    ...op.br(0),
    ...op.end(),
    ...op.end(),
  ];
}

/**
 * intNested(x, n, small, large, mins, maxs, levelsS, levelsL): asymmetric groups of `small` weights inside
 * groups of `large` (both multiples of 32, rows whole large groups); errors at memory[0] (small) and [8].
 * With small = large, two formats sharing their groups (int4-g128 and int3-g128). A group whose range is 0
 * adds 0 (every weight equals its minimum; the range is floored at 1e-300 for the inverse).
 */
function intNested(): FuncDef {
  const { at: L, params, locals } = frame(
    [['x', I32], ['n', I32], ['small', I32], ['large', I32], ['mins', I32], ['maxs', I32], ['levelsS', F64], ['levelsL', F64]],
    [['g', I32], ['s', I32], ['gEnd', I32], ['b', I32], ['bEnd', I32], ['perS', I32], ['perL', I32], ['i', I32], ['end', I32],
      ['mn', F64], ['mx', F64], ['mnL', F64], ['mxL', F64], ['range', F64], ['rangeL', F64],
      ['vmn', V128], ['vmnL', V128], ['scS', V128], ['invS', V128], ['scL', V128], ['invL', V128], ['half', V128], ['accS', V128], ['accL', V128], ['v', V128], ['d', V128]],
  );
  const body = [
    ...op.f64Const(0.5), ...op.f64x2Splat(), ...set(L.half!),
    ...op.v128Const0(), ...set(L.accS!),
    ...op.v128Const0(), ...set(L.accL!),
    ...get(L.small!), ...op.i32Const(5), ...op.i32ShrU(), ...set(L.perS!),
    ...openGroupLoop(L),
    ...groupMinMax(L, 'b', 'perL', 'mnL', 'mxL'),
    ...get(L.mxL!), ...get(L.mnL!), ...op.f64Sub(), ...set(L.rangeL!),
    ...get(L.mnL!), ...op.f64x2Splat(), ...set(L.vmnL!),
    ...scaleInv(L, 'rangeL', 'levelsL', 'scL', 'invL'),
    ...get(L.g!), ...set(L.s!),
    ...get(L.g!), ...get(L.large!), ...op.i32Add(), ...set(L.gEnd!),
    ...op.loop(),
    ...get(L.s!), ...op.i32Const(5), ...op.i32ShrU(), ...set(L.b!),
    ...groupMinMax(L, 'b', 'perS', 'mn', 'mx'),
    ...get(L.mx!), ...get(L.mn!), ...op.f64Sub(), ...set(L.range!),
    ...get(L.mn!), ...op.f64x2Splat(), ...set(L.vmn!),
    ...scaleInv(L, 'range', 'levelsS', 'scS', 'invS'),
    ...get(L.x!), ...get(L.s!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...set(L.i!),
    ...get(L.i!), ...get(L.small!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...set(L.end!),
    ...op.loop(),
    ...get(L.i!), ...op.v128Load64Zero(), ...op.f64x2PromoteLowF32x4(), ...set(L.v!),
    ...asymStep(L, 'v', 'vmn', 'invS', 'scS', 'accS'),
    ...asymStep(L, 'v', 'vmnL', 'invL', 'scL', 'accL'),
    ...get(L.i!), ...op.i32Const(8), ...op.i32Add(), ...op.localTee(L.i!), ...get(L.end!), ...op.i32LtU(), ...op.brIf(0),
    ...closeGroupLoops(L),
    ...storeSum(L, 'accS', 0),
    ...storeSum(L, 'accL', 8),
  ];
  return { name: 'intNested', params, results: [], locals, body };
}

/**
 * intRowSym(x, rows, cols, mins, maxs, qmax): symmetric per-row integer (int8 per channel), cols a multiple
 * of 32; error at memory[0]. A row of zeros adds 0 (|max| floored at 1e-300 for the inverse).
 */
function intRowSym(): FuncDef {
  const { at: L, params, locals } = frame(
    [['x', I32], ['rows', I32], ['cols', I32], ['mins', I32], ['maxs', I32], ['qmax', F64]],
    [['r', I32], ['b', I32], ['bEnd', I32], ['per', I32], ['i', I32], ['end', I32], ['amax', F64],
      ['sc', V128], ['inv', V128], ['half', V128], ['acc', V128], ['v', V128], ['d', V128]],
  );
  const body = [
    ...op.f64Const(0.5), ...op.f64x2Splat(), ...set(L.half!),
    ...op.v128Const0(), ...set(L.acc!),
    ...get(L.cols!), ...op.i32Const(5), ...op.i32ShrU(), ...set(L.per!),
    ...op.i32Const(0), ...set(L.r!),
    ...op.block(),
    ...op.loop(),
    ...get(L.r!), ...get(L.rows!), ...op.i32GeU(), ...op.brIf(1),
    ...get(L.r!), ...get(L.per!), ...op.i32Mul(), ...set(L.b!),
    ...blockAbsMax(L, 'b', 'per', 'amax'),
    ...get(L.amax!), ...get(L.qmax!), ...op.f64Div(), ...op.f64x2Splat(), ...set(L.sc!),
    ...get(L.qmax!), ...get(L.amax!), ...op.f64Const(1e-300), ...op.f64Max(), ...op.f64Div(), ...op.f64x2Splat(), ...set(L.inv!),
    ...get(L.x!), ...get(L.r!), ...get(L.cols!), ...op.i32Mul(), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...set(L.i!),
    ...get(L.i!), ...get(L.cols!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...set(L.end!),
    ...op.loop(),
    ...get(L.i!), ...op.v128Load64Zero(), ...op.f64x2PromoteLowF32x4(), ...set(L.v!),
    ...symStep(L, 'v', 'inv', 'sc', 'acc'),
    ...get(L.i!), ...op.i32Const(8), ...op.i32Add(), ...op.localTee(L.i!), ...get(L.end!), ...op.i32LtU(), ...op.brIf(0),
    ...op.end(),
    ...get(L.r!), ...op.i32Const(1), ...op.i32Add(), ...set(L.r!),
    ...op.br(0),
    ...op.end(),
    ...op.end(),
    ...storeSum(L, 'acc', 0),
  ];
  return { name: 'intRowSym', params, results: [], locals, body };
}

/** Where the NF4 and MXFP4 tables sit in memory (float64 each; see quantize.ts for their meaning). */
export const NF4_TABLE_ENTRIES = 4097;
export const LUT_AT = 64;
export const NF4_VALUE_AT = 512;
export const NF4_MID_AT = NF4_VALUE_AT + 8 * NF4_TABLE_ENTRIES;
export const NF4_LO_AT = NF4_MID_AT + 8 * NF4_TABLE_ENTRIES;
export const NF4_HI_AT = NF4_LO_AT + 8 * NF4_TABLE_ENTRIES;
/** First byte free for the caller's buffers (16-byte aligned). */
export const SCRATCH_AT = (NF4_HI_AT + 8 * NF4_TABLE_ENTRIES + 15) & ~15;

/**
 * nf4Mx(x, n, large, small, mins, maxs, mxScales): NF4 over blocks of `large` and MXFP4 over blocks of
 * `small` inside them (the block scales precomputed, float64, one per small block), per weight the table
 * lookups of nf4MxErrors; errors at memory[0] (NF4) and [8] (MXFP4). Scalar: the lookups are gathers.
 */
function nf4Mx(): FuncDef {
  const { at: L, params, locals } = frame(
    [['x', I32], ['n', I32], ['large', I32], ['small', I32], ['mins', I32], ['maxs', I32], ['mxScales', I32]],
    [['g', I32], ['s', I32], ['gEnd', I32], ['b', I32], ['bEnd', I32], ['perL', I32], ['i', I32], ['end', I32], ['k', I32],
      ['amax', F64], ['inv', F64], ['scale', F64], ['inv4', F64], ['v', F64], ['t', F64], ['q', F64], ['a', F64], ['dn', F64], ['dm', F64], ['errN', F64], ['errM', F64]],
  );
  const tab = (at: number) => [...get(L.k!), ...op.i32Const(3), ...op.i32Shl(), ...op.f64Load(at)];
  const body = [
    ...op.f64Const(0), ...set(L.errN!),
    ...op.f64Const(0), ...set(L.errM!),
    ...openGroupLoop(L),
    ...blockAbsMax(L, 'b', 'perL', 'amax'),
    ...op.f64Const(1), ...get(L.amax!), ...op.f64Const(1e-300), ...op.f64Max(), ...op.f64Div(), ...set(L.inv!),
    ...get(L.g!), ...set(L.s!),
    ...get(L.g!), ...get(L.large!), ...op.i32Add(), ...set(L.gEnd!),
    ...op.loop(),
    // scale of this small block: mxScales[s / small]
    ...get(L.mxScales!), ...get(L.s!), ...get(L.small!), ...op.i32DivU(), ...op.i32Const(3), ...op.i32Shl(), ...op.i32Add(), ...op.f64Load(), ...set(L.scale!),
    ...op.f64Const(4), ...get(L.scale!), ...op.f64Const(1e-300), ...op.f64Max(), ...op.f64Div(), ...set(L.inv4!),
    ...get(L.x!), ...get(L.s!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...set(L.i!),
    ...get(L.i!), ...get(L.small!), ...op.i32Const(2), ...op.i32Shl(), ...op.i32Add(), ...set(L.end!),
    ...op.loop(),
    ...get(L.i!), ...op.f32Load(), ...op.f64PromoteF32(), ...set(L.v!),
    ...get(L.v!), ...get(L.inv!), ...op.f64Mul(), ...set(L.t!),
    ...get(L.t!), ...op.f64Const(1), ...op.f64Add(), ...op.f64Const(2048), ...op.f64Mul(), ...op.i32TruncSatF64S(), ...set(L.k!),
    ...tab(NF4_VALUE_AT), ...op.localTee(L.q!), ...get(L.q!), ...op.f64Ne(),
    ...op.ifF64(),
    ...get(L.t!), ...tab(NF4_MID_AT), ...op.f64Gt(),
    ...op.ifF64(), ...tab(NF4_HI_AT), ...op.else(), ...tab(NF4_LO_AT), ...op.end(),
    ...op.else(), ...get(L.q!), ...op.end(),
    ...get(L.amax!), ...op.f64Mul(), ...get(L.v!), ...op.f64Sub(), ...op.localTee(L.dn!), ...get(L.dn!), ...op.f64Mul(), ...get(L.errN!), ...op.f64Add(), ...set(L.errN!),
    ...get(L.v!), ...op.f64Abs(), ...set(L.a!),
    ...get(L.a!), ...get(L.inv4!), ...op.f64Mul(), ...op.i32TruncSatF64S(), ...op.i32Const(3), ...op.i32Shl(), ...op.f64Load(LUT_AT),
    ...get(L.scale!), ...op.f64Mul(), ...get(L.a!), ...op.f64Sub(), ...op.localTee(L.dm!), ...get(L.dm!), ...op.f64Mul(), ...get(L.errM!), ...op.f64Add(), ...set(L.errM!),
    ...get(L.i!), ...op.i32Const(4), ...op.i32Add(), ...op.localTee(L.i!), ...get(L.end!), ...op.i32LtU(), ...op.brIf(0),
    ...closeGroupLoops(L),
    ...op.i32Const(0), ...get(L.errN!), ...op.f64Store(),
    ...op.i32Const(8), ...get(L.errM!), ...op.f64Store(),
  ];
  return { name: 'nf4Mx', params, results: [], locals, body };
}

/**
 * decodeBf16(src, n, out, mins, maxs): BF16 patterns (n a multiple of 32) to float32 (the pattern is the top
 * half), and each 32-weight block's min and max (f32x4 min/max: -0 below +0, as quantize.ts orders them).
 */
function decodeBf16(): FuncDef {
  const { at: L, params, locals } = frame(
    [['src', I32], ['n', I32], ['out', I32], ['mins', I32], ['maxs', I32]],
    [['p', I32], ['end', I32], ['o', I32], ['blk', I32], ['w', V128], ['lo', V128], ['hi', V128], ['mn', V128], ['mx', V128]],
  );
  const part = (k: number) => [
    ...get(L.p!), ...op.v128Load(16 * k), ...set(L.w!),
    ...get(L.w!), ...op.i32x4ExtendLowI16x8U(), ...op.i32Const(16), ...op.i32x4Shl(), ...set(L.lo!),
    ...get(L.w!), ...op.i32x4ExtendHighI16x8U(), ...op.i32Const(16), ...op.i32x4Shl(), ...set(L.hi!),
    ...get(L.o!), ...get(L.lo!), ...op.v128Store(32 * k),
    ...get(L.o!), ...get(L.hi!), ...op.v128Store(32 * k + 16),
    ...(k === 0
      ? [...get(L.lo!), ...get(L.hi!), ...op.f32x4Min(), ...set(L.mn!), ...get(L.lo!), ...get(L.hi!), ...op.f32x4Max(), ...set(L.mx!)]
      : [...get(L.mn!), ...get(L.lo!), ...op.f32x4Min(), ...get(L.hi!), ...op.f32x4Min(), ...set(L.mn!),
         ...get(L.mx!), ...get(L.lo!), ...op.f32x4Max(), ...get(L.hi!), ...op.f32x4Max(), ...set(L.mx!)]),
  ];
  const horiz = (v: string, f: () => number[]) => [
    ...get(L[v]!), ...op.f32x4ExtractLane(0), ...get(L[v]!), ...op.f32x4ExtractLane(1), ...f(),
    ...get(L[v]!), ...op.f32x4ExtractLane(2), ...get(L[v]!), ...op.f32x4ExtractLane(3), ...f(), ...f(),
  ];
  const body = [
    ...get(L.src!), ...set(L.p!),
    ...get(L.src!), ...get(L.n!), ...op.i32Const(1), ...op.i32Shl(), ...op.i32Add(), ...set(L.end!),
    ...get(L.out!), ...set(L.o!),
    ...op.i32Const(0), ...set(L.blk!),
    ...op.block(),
    ...op.loop(),
    ...get(L.p!), ...get(L.end!), ...op.i32GeU(), ...op.brIf(1),
    ...part(0), ...part(1), ...part(2), ...part(3),
    ...get(L.mins!), ...get(L.blk!), ...op.i32Add(), ...horiz('mn', op.f32Min), ...op.f32Store(),
    ...get(L.maxs!), ...get(L.blk!), ...op.i32Add(), ...horiz('mx', op.f32Max), ...op.f32Store(),
    ...get(L.p!), ...op.i32Const(64), ...op.i32Add(), ...set(L.p!),
    ...get(L.o!), ...op.i32Const(128), ...op.i32Add(), ...set(L.o!),
    ...get(L.blk!), ...op.i32Const(4), ...op.i32Add(), ...set(L.blk!),
    ...op.br(0),
    ...op.end(),
    ...op.end(),
  ];
  return { name: 'decodeBf16', params, results: [], locals, body };
}

/**
 * hist16(src, n, counts): counts every 16-bit pattern of src (n a multiple of 4) into HIST_LANES = 4
 * interleaved histograms of uint32 (pattern h, lane l at index 4 h + l; lane = position mod 4).
 */
function hist16(): FuncDef {
  const { at: L, params, locals } = frame([['src', I32], ['n', I32], ['counts', I32]], [['p', I32], ['end', I32], ['a', I32]]);
  const lane = (l: number) => [
    ...get(L.counts!), ...get(L.p!), ...op.i32Load16U(2 * l), ...op.i32Const(4), ...op.i32Shl(), ...op.i32Add(), ...op.localTee(L.a!),
    ...get(L.a!), ...op.i32Load(4 * l), ...op.i32Const(1), ...op.i32Add(), ...op.i32Store(4 * l),
  ];
  const body = [
    ...get(L.src!), ...set(L.p!),
    ...get(L.src!), ...get(L.n!), ...op.i32Const(1), ...op.i32Shl(), ...op.i32Add(), ...set(L.end!),
    ...op.block(),
    ...op.loop(),
    ...get(L.p!), ...get(L.end!), ...op.i32GeU(), ...op.brIf(1),
    ...lane(0), ...lane(1), ...lane(2), ...lane(3),
    ...get(L.p!), ...op.i32Const(8), ...op.i32Add(), ...set(L.p!),
    ...op.br(0),
    ...op.end(),
    ...op.end(),
  ];
  return { name: 'hist16', params, results: [], locals, body };
}

export interface SimdKernels {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  intNested(x: number, n: number, small: number, large: number, mins: number, maxs: number, levelsS: number, levelsL: number): void;
  intRowSym(x: number, rows: number, cols: number, mins: number, maxs: number, qmax: number): void;
  nf4Mx(x: number, n: number, large: number, small: number, mins: number, maxs: number, mxScales: number): void;
  decodeBf16(src: number, n: number, out: number, mins: number, maxs: number): void;
  hist16(src: number, n: number, counts: number): void;
}

let cached: SimdKernels | null | undefined;

let enabled = true;

/** For tests: measure with the JavaScript kernels only (off) or with the SIMD kernels where available (on). */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

/** The compiled kernels, or null where WebAssembly SIMD is not available. */
export function simdKernels(): SimdKernels | null {
  if (!enabled) return null;
  if (cached !== undefined) return cached;
  cached = null;
  const wasm = (globalThis as unknown as { WebAssembly?: { validate(b: Uint8Array): boolean; Module: new (b: Uint8Array) => unknown; Instance: new (m: unknown) => { exports: unknown } } }).WebAssembly;
  if (!wasm) return cached;
  try {
    const bytes = encodeModule([intNested(), intRowSym(), nf4Mx(), decodeBf16(), hist16()], Math.ceil(SCRATCH_AT / 65536) + 1);
    if (!wasm.validate(bytes)) return cached;
    const k = new wasm.Instance(new wasm.Module(bytes)).exports as SimdKernels;
    const t = nf4Tables();
    const mem = k.memory.buffer;
    new Float64Array(mem, LUT_AT, 32).set(mxfp4Table());
    new Float64Array(mem, NF4_VALUE_AT, NF4_TABLE_ENTRIES).set(t.value);
    new Float64Array(mem, NF4_MID_AT, NF4_TABLE_ENTRIES).set(t.mid);
    new Float64Array(mem, NF4_LO_AT, NF4_TABLE_ENTRIES).set(t.lo);
    new Float64Array(mem, NF4_HI_AT, NF4_TABLE_ENTRIES).set(t.hi);
    cached = k;
  } catch {
    cached = null;
  }
  return cached;
}

export const SIMD_OUT_BYTES = OUT_BYTES;

/**
 * Views on the module's memory: the raw chunk, the value histogram, a decoded piece and its block statistics.
 * A view's byteOffset is its address for the kernels.
 */
export interface SimdBuffers {
  raw: Uint8Array;
  /** HIST_LANES interleaved histograms of the 65536 16-bit patterns (see hist16). */
  counts: Uint32Array;
  x: Float32Array;
  min: Float32Array;
  max: Float32Array;
  /** One MXFP4 block scale per 32 weights (nf4Mx). */
  scales: Float64Array;
}

const COUNT_BYTES = 65536 * 4 * 4;

/**
 * Buffers for raw chunks of `rawBytes` and pieces of up to `elements` weights, growing the memory when
 * needed (views made before a growth detach: make them again per tensor).
 */
export function simdBuffers(k: SimdKernels, rawBytes: number, elements: number): SimdBuffers {
  const blocks = Math.ceil(elements / 32);
  const countsAt = SCRATCH_AT;
  const xAt = countsAt + COUNT_BYTES;
  const minAt = xAt + 4 * elements;
  const maxAt = minAt + 4 * blocks;
  const scalesAt = (maxAt + 4 * blocks + 15) & ~15;
  const rawAt = scalesAt + 8 * blocks;
  const need = rawAt + rawBytes;
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
  const mem = k.memory.buffer;
  return {
    raw: new Uint8Array(mem, rawAt, rawBytes),
    counts: new Uint32Array(mem, countsAt, COUNT_BYTES / 4),
    x: new Float32Array(mem, xAt, elements),
    min: new Float32Array(mem, minAt, blocks),
    max: new Float32Array(mem, maxAt, blocks),
    scales: new Float64Array(mem, scalesAt, blocks),
  };
}

/**
 * Adds the errors of one decoded piece (n weights, rows of `cols`, block statistics filled) to noise[ia]
 * (and noise[ib] for a pair).
 */
export type SimdJob = (k: SimdKernels, b: SimdBuffers, n: number, rows: number, noise: Float64Array, ia: number, ib: number) => void;

const results = (k: SimdKernels) => new Float64Array(k.memory.buffer, 0, 2);

/** The WebAssembly job for a pair of formats sharing a pass (as makePairKernel pairs them), or null. */
export function simdPairJob(a: Quantizer, b: Quantizer, cols: number): SimdJob | null {
  if ((a.kind === 'nf4' && b.kind === 'mxfp4') || (a.kind === 'mxfp4' && b.kind === 'nf4')) {
    const nf = a.kind === 'nf4' ? a : (b as Extract<Quantizer, { kind: 'nf4' }>);
    const mx = a.kind === 'mxfp4' ? a : (b as Extract<Quantizer, { kind: 'mxfp4' }>);
    const large = nf.blockSize;
    const small = mx.blockSize;
    if (large % small !== 0 || small % 32 !== 0 || cols % large !== 0) return null;
    const nfFirst = a.kind === 'nf4';
    const perS = small / 32;
    return (k, buf, n, _rows, noise, ia, ib) => {
      // MXFP4 shared scale per small block: 2^floor(log2 |max|) / 4 (see mxfp4Error)
      const { min, max, scales } = buf;
      for (let s = 0, j = 0; s < n; s += small, j++) {
        let amax = 0;
        for (let q = s / 32; q < s / 32 + perS; q++) amax = Math.max(amax, -min[q]!, max[q]!);
        scales[j] = pow2FloorLog2(amax) / 4;
      }
      k.nf4Mx(buf.x.byteOffset, n, large, small, buf.min.byteOffset, buf.max.byteOffset, buf.scales.byteOffset);
      const r = results(k);
      noise[nfFirst ? ia : ib]! += r[0]!;
      noise[nfFirst ? ib : ia]! += r[1]!;
    };
  }
  if (a.kind !== 'int' || b.kind !== 'int' || a.symmetric || b.symmetric || a.groupSize === 0 || b.groupSize === 0) return null;
  // the same group (small = large) or nested groups
  const small = Math.min(a.groupSize, b.groupSize);
  const large = Math.max(a.groupSize, b.groupSize);
  if (large % small !== 0 || small % 32 !== 0 || cols % large !== 0) return null;
  const smallFirst = a.groupSize <= b.groupSize;
  const levelsS = 2 ** (smallFirst ? a.bits : b.bits) - 1;
  const levelsL = 2 ** (smallFirst ? b.bits : a.bits) - 1;
  return (k, buf, n, _rows, noise, ia, ib) => {
    k.intNested(buf.x.byteOffset, n, small, large, buf.min.byteOffset, buf.max.byteOffset, levelsS, levelsL);
    const r = results(k);
    noise[smallFirst ? ia : ib]! += r[0]!;
    noise[smallFirst ? ib : ia]! += r[1]!;
  };
}

/** The WebAssembly job for one format on its own (per-channel symmetric integers), or null. */
export function simdSingleJob(q: Quantizer, cols: number): SimdJob | null {
  if (q.kind !== 'int' || q.groupSize !== 0 || cols % 32 !== 0) return null;
  const qmax = 2 ** (q.bits - 1) - 1;
  return (k, buf, _n, rows, noise, ia) => {
    k.intRowSym(buf.x.byteOffset, rows, cols, buf.min.byteOffset, buf.max.byteOffset, qmax);
    noise[ia]! += results(k)[0]!;
  };
}
