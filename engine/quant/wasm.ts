/**
 * A minimal WebAssembly module writer: enough to emit the SIMD error kernels of engine/quant/simd.ts at
 * load time (no build step, no toolchain). Opcodes follow the WebAssembly 2.0 core specification
 * (including the fixed-width SIMD proposal as merged into it); instructions are written as byte arrays.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const f64bytes = new Float64Array(1);
const f64u8 = new Uint8Array(f64bytes.buffer);

/** Instructions. Memory accesses take an alignment exponent and an offset (memarg). */
export const op = {
  block: (): number[] => [0x02, 0x40],
  loop: (): number[] => [0x03, 0x40],
  end: (): number[] => [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  localGet: (i: number): number[] => [0x20, ...uleb(i)],
  localSet: (i: number): number[] => [0x21, ...uleb(i)],
  localTee: (i: number): number[] => [0x22, ...uleb(i)],
  i32Const: (v: number): number[] => [0x41, ...sleb(v)],
  i32Load: (offset = 0): number[] => [0x28, 2, ...uleb(offset)],
  i32Load16U: (offset = 0): number[] => [0x2f, 1, ...uleb(offset)],
  i32Store: (offset = 0): number[] => [0x36, 2, ...uleb(offset)],
  f32Store: (offset = 0): number[] => [0x38, 2, ...uleb(offset)],
  f32Min: (): number[] => [0x96],
  f32Max: (): number[] => [0x97],
  f64Const: (v: number): number[] => {
    f64bytes[0] = v;
    return [0x44, ...f64u8];
  },
  ifF64: (): number[] => [0x04, 0x7c],
  else: (): number[] => [0x05],
  f32Load: (offset = 0): number[] => [0x2a, 2, ...uleb(offset)],
  f64Load: (offset = 0): number[] => [0x2b, 3, ...uleb(offset)],
  f64Ne: (): number[] => [0x62],
  f64Gt: (): number[] => [0x64],
  i32TruncSatF64S: (): number[] => [0xfc, ...uleb(2)],
  f64Store: (offset = 0): number[] => [0x39, 3, ...uleb(offset)],
  i32Add: (): number[] => [0x6a],
  i32Mul: (): number[] => [0x6c],
  i32DivU: (): number[] => [0x6e],
  i32Shl: (): number[] => [0x74],
  i32ShrU: (): number[] => [0x76],
  i32LtU: (): number[] => [0x49],
  i32GeU: (): number[] => [0x4f],
  f64Add: (): number[] => [0xa0],
  f64Sub: (): number[] => [0xa1],
  f64Mul: (): number[] => [0xa2],
  f64Div: (): number[] => [0xa3],
  f64Min: (): number[] => [0xa4],
  f64Max: (): number[] => [0xa5],
  f64Abs: (): number[] => [0x99],
  f64PromoteF32: (): number[] => [0xbb],
  // SIMD (prefix 0xfd, opcode as unsigned LEB128)
  v128Load: (offset = 0): number[] => [0xfd, ...uleb(0x00), 4, ...uleb(offset)],
  v128Store: (offset = 0): number[] => [0xfd, ...uleb(0x0b), 4, ...uleb(offset)],
  i32x4ExtendLowI16x8U: (): number[] => [0xfd, ...uleb(0xa9)],
  i32x4ExtendHighI16x8U: (): number[] => [0xfd, ...uleb(0xaa)],
  i32x4Shl: (): number[] => [0xfd, ...uleb(0xab)],
  f32x4ExtractLane: (lane: number): number[] => [0xfd, ...uleb(0x1f), lane],
  f32x4Min: (): number[] => [0xfd, ...uleb(0xe8)],
  f32x4Max: (): number[] => [0xfd, ...uleb(0xe9)],
  v128Load64Zero: (offset = 0): number[] => [0xfd, ...uleb(0x5d), 3, ...uleb(offset)],
  v128Const0: (): number[] => [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  f64x2Splat: (): number[] => [0xfd, ...uleb(0x14)],
  f64x2ExtractLane: (lane: number): number[] => [0xfd, ...uleb(0x21), lane],
  f64x2PromoteLowF32x4: (): number[] => [0xfd, ...uleb(0x5f)],
  f64x2Floor: (): number[] => [0xfd, ...uleb(0x75)],
  f64x2Add: (): number[] => [0xfd, ...uleb(0xf0)],
  f64x2Sub: (): number[] => [0xfd, ...uleb(0xf1)],
  f64x2Mul: (): number[] => [0xfd, ...uleb(0xf2)],
};

export interface FuncDef {
  name: string;
  params: ValType[];
  results: ValType[];
  /** Extra locals, numbered after the parameters. */
  locals: ValType[];
  body: number[];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A module with one exported memory (`memory`, `pages` 64 KiB pages, growable) and the given functions. */
export function encodeModule(funcs: FuncDef[], pages: number): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  const typeSec = section(1, vec(types));
  const funcSec = section(3, vec(funcs.map((_, i) => uleb(i))));
  const memSec = section(5, vec([[0x00, ...uleb(pages)]]));
  const name = (s: string) => {
    const b = [...new TextEncoder().encode(s)];
    return [...uleb(b.length), ...b];
  };
  const exportSec = section(7, vec([[...name('memory'), 0x02, 0], ...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])]));
  const bodies = funcs.map((f) => {
    // locals run-length encoded by type
    const groups: number[][] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]!++;
      else groups.push([1, t]);
    }
    const code = [...vec(groups.map(([n, t]) => [...uleb(n!), t!])), ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  const codeSec = section(10, vec(bodies));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSec, ...funcSec, ...memSec, ...exportSec, ...codeSec]);
}
