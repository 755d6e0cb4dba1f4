/**
 * A compact, read-only copy of tree-sitter syntax trees for the front ends.
 *
 * web-tree-sitter answers every property of a node (type, end, a child by field) with a call into wasm that
 * marshals the node through a shared buffer; a 5,000-line CUDA file has ~75k nodes, and reading them that way
 * costs more than parsing. Here each top-level subtree is copied once, recording per node its type id, field id
 * and code-unit range into typed arrays; the front ends then read plain JavaScript (`SyntaxNode`), whose members
 * are named as web-tree-sitter's Node's are, plus `pos` (a node's range as an IR position).
 *
 * The copy reads the runtime's subtrees straight from its linear memory when that memory was captured at
 * initialization (`wasmInit`), following the rules of tree-sitter's tree cursor (hidden nodes flattened into
 * their parent, aliases, inherited fields). Otherwise it walks web-tree-sitter's public TreeCursor, which
 * produces the same tree more slowly.
 */
import type { Language, Tree, TreeCursor } from 'web-tree-sitter';
import type { Pos } from './ir';

/** The runtime's linear memory, captured when this module instantiated it; null: use the public TreeCursor. */
let memory: { readonly buffer: ArrayBuffer } | null = null;

/**
 * Options for web-tree-sitter's Parser.init: instantiate the runtime as it would and keep its memory for the
 * tree copy (without it, as when another caller initialized the runtime first, the public API is used).
 * `failed` rejects if the runtime cannot be instantiated (init itself would then never settle).
 */
export function wasmInit(wasmFile: string): { options: object; failed: Promise<never> } {
  type Instantiated = { instance: unknown; module: unknown };
  const wasm = (globalThis as unknown as { WebAssembly: { instantiate(bytes: Uint8Array, imports: unknown): Promise<Instantiated> } }).WebAssembly;
  let fail: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const options = {
    locateFile: () => wasmFile,
    instantiateWasm(imports: { env?: { memory?: unknown } }, done: (instance: unknown, module: unknown) => void): object {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bytes = (require('node:fs') as typeof import('node:fs')).readFileSync(wasmFile);
      wasm.instantiate(bytes, imports).then(({ instance, module }) => {
        const m = imports.env?.memory as { buffer?: unknown } | undefined;
        memory = m && m.buffer instanceof ArrayBuffer ? (m as { buffer: ArrayBuffer }) : null;
        done(instance, module);
      }, fail);
      return {};
    },
  };
  return { options, failed };
}

/** True when the copy reads the runtime's memory directly (for tests and benchmarks). */
export function directRead(): boolean {
  return memory !== null;
}

/** For tests: copy through web-tree-sitter's public TreeCursor even when the memory was captured. */
export function setDirectRead(on: boolean): void {
  if (!on) {
    saved = memory ?? saved;
    memory = null;
  } else if (saved) memory = saved;
}
let saved: { readonly buffer: ArrayBuffer } | null = null;

const ERROR_SYMBOL = 65535;
/** Comment node types of the grammars (C/CUDA and Python: comment; WGSL: line and block comments). */
const COMMENTS = new Set(['comment', 'line_comment', 'block_comment']);

/** Per language: type names, which types are named, which are named and not comments, field ids by name. */
interface LanguageTables {
  types: string[];
  named: Uint8Array;
  code: Uint8Array;
  fieldIds: Map<string, number>;
}

const tables = new WeakMap<Language, LanguageTables>();

function tablesFor(lang: Language): LanguageTables {
  let t = tables.get(lang);
  if (!t) {
    const n = lang.nodeTypeCount;
    const types: string[] = new Array(n);
    const named = new Uint8Array(n);
    const code = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      types[i] = lang.types[i] ?? '';
      named[i] = lang.nodeTypeIsNamed(i) ? 1 : 0;
      code[i] = named[i] && !COMMENTS.has(types[i]!) ? 1 : 0;
    }
    const fieldIds = new Map<string, number>();
    lang.fields.forEach((f, i) => {
      if (f) fieldIds.set(f, i);
    });
    t = { types, named, code, fieldIds };
    tables.set(lang, t);
  }
  return t;
}

/** Start of every line of a text (code-unit offsets). */
function lineStarts(text: string): Int32Array {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  const out = new Int32Array(n);
  let k = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out[k++] = i + 1;
  return out;
}

/** The source text of a tree and what the walks share: line starts and the language tables. */
export class SyntaxSource {
  readonly lines: Int32Array;
  readonly lang: LanguageTables;
  constructor(readonly text: string, language: Language) {
    this.lines = lineStarts(text);
    this.lang = tablesFor(language);
  }

  /** Line (0-based) of a code-unit offset. */
  rowOf(index: number): number {
    const a = this.lines;
    let lo = 0;
    let hi = a.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (a[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** One walked subtree: parallel arrays indexed by node number (0 is the subtree's root), in document order. */
export class SyntaxTree {
  size = 0;
  type = new Uint16Array(256);
  field = new Uint16Array(256);
  start = new Int32Array(256);
  end = new Int32Array(256);
  startRow = new Int32Array(256);
  parent = new Int32Array(256);
  firstChild = new Int32Array(256);
  nextSibling = new Int32Array(256);
  /** Last child added under each node (-1: none yet), for linking the next one. */
  lastChild = new Int32Array(256);
  /** Bit 1: the node is missing (inserted by error recovery); bit 2: it or a descendant is an error. */
  flags = new Uint8Array(256);
  private views: Array<SyntaxNode | undefined> = [];

  constructor(readonly src: SyntaxSource) {}

  /** Empties the tree for the next walk (views handed out before must not be used after). */
  reset(): void {
    this.size = 0;
    this.views.length = 0;
  }

  node(i: number): SyntaxNode {
    let v = this.views[i];
    if (!v) {
      v = new SyntaxNode(this, i);
      this.views[i] = v;
    }
    return v;
  }

  get root(): SyntaxNode {
    return this.node(0);
  }

  /** Appends a node as the last child of `parent` (-1: the root); returns its number. */
  add(type: number, field: number, start: number, end: number, parent: number, missing: boolean): number {
    const i = this.size;
    if (i === this.type.length) this.grow();
    this.size = i + 1;
    this.type[i] = type;
    this.field[i] = field;
    this.start[i] = start;
    this.end[i] = end;
    this.parent[i] = parent;
    this.firstChild[i] = -1;
    this.nextSibling[i] = -1;
    this.lastChild[i] = -1;
    if (parent >= 0) {
      const prev = this.lastChild[parent]!;
      if (prev < 0) this.firstChild[parent] = i;
      else this.nextSibling[prev] = i;
      this.lastChild[parent] = i;
    }
    const err = type === ERROR_SYMBOL || missing;
    this.flags[i] = (missing ? 1 : 0) | (err ? 2 : 0);
    if (err) for (let p = parent; p >= 0 && !(this.flags[p]! & 2); p = this.parent[p]!) this.flags[p]! |= 2;
    return i;
  }

  private grow(): void {
    const n = this.type.length * 2;
    const g = <T extends Uint16Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.type = g(this.type, (k) => new Uint16Array(k));
    this.field = g(this.field, (k) => new Uint16Array(k));
    this.start = g(this.start, (k) => new Int32Array(k));
    this.end = g(this.end, (k) => new Int32Array(k));
    this.startRow = g(this.startRow, (k) => new Int32Array(k));
    this.parent = g(this.parent, (k) => new Int32Array(k));
    this.firstChild = g(this.firstChild, (k) => new Int32Array(k));
    this.nextSibling = g(this.nextSibling, (k) => new Int32Array(k));
    this.lastChild = g(this.lastChild, (k) => new Int32Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
  }
}

/** A node of a SyntaxTree: the members of web-tree-sitter's Node that the front ends read, and `pos`. */
export class SyntaxNode {
  private kids: SyntaxNode[] | null = null;
  private codeKids: SyntaxNode[] | null = null;
  constructor(private readonly t: SyntaxTree, readonly id: number) {}

  get type(): string {
    const s = this.t.type[this.id]!;
    return s === ERROR_SYMBOL ? 'ERROR' : this.t.src.lang.types[s] || 'ERROR';
  }
  get isNamed(): boolean {
    const s = this.t.type[this.id]!;
    return s === ERROR_SYMBOL || this.t.src.lang.named[s] === 1;
  }
  get isMissing(): boolean {
    return (this.t.flags[this.id]! & 1) !== 0;
  }
  get hasError(): boolean {
    return (this.t.flags[this.id]! & 2) !== 0;
  }
  get startIndex(): number {
    return this.t.start[this.id]!;
  }
  get endIndex(): number {
    return this.t.end[this.id]!;
  }
  get text(): string {
    return this.t.src.text.slice(this.t.start[this.id], this.t.end[this.id]);
  }
  get startPosition(): { row: number; column: number } {
    const row = this.t.startRow[this.id]!;
    return { row, column: this.t.start[this.id]! - this.t.src.lines[row]! };
  }
  /** Row of the end: most nodes end on the row they start on, so that row is tried before a search. */
  private endRow(): number {
    const t = this.t;
    const lines = t.src.lines;
    const row = t.startRow[this.id]!;
    const e = t.end[this.id]!;
    return row + 1 >= lines.length || lines[row + 1]! > e ? row : t.src.rowOf(e);
  }
  /** The node's range as an IR position, rows relative to `baseRow`. */
  pos(baseRow: number): Pos {
    const t = this.t;
    const lines = t.src.lines;
    const row = t.startRow[this.id]!;
    const endRow = this.endRow();
    return { row: row - baseRow, col: t.start[this.id]! - lines[row]!, endRow: endRow - baseRow, endCol: t.end[this.id]! - lines[endRow]! };
  }
  get children(): SyntaxNode[] {
    if (!this.kids) {
      const out: SyntaxNode[] = [];
      for (let c = this.t.firstChild[this.id]!; c >= 0; c = this.t.nextSibling[c]!) out.push(this.t.node(c));
      this.kids = out;
    }
    return this.kids;
  }
  /** Named children that are not comments (errors included): what the front ends analyze. */
  get codeChildren(): SyntaxNode[] {
    if (!this.codeKids) {
      const t = this.t;
      const code = t.src.lang.code;
      const out: SyntaxNode[] = [];
      for (let c = t.firstChild[this.id]!; c >= 0; c = t.nextSibling[c]!) {
        const ty = t.type[c]!;
        if (ty === ERROR_SYMBOL || code[ty] === 1) out.push(t.node(c));
      }
      this.codeKids = out;
    }
    return this.codeKids;
  }
  childForFieldName(name: string): SyntaxNode | null {
    const f = this.t.src.lang.fieldIds.get(name);
    if (f === undefined) return null;
    const t = this.t;
    for (let c = t.firstChild[this.id]!; c >= 0; c = t.nextSibling[c]!) if (t.field[c] === f) return t.node(c);
    return null;
  }
  childrenForFieldName(name: string): SyntaxNode[] {
    const f = this.t.src.lang.fieldIds.get(name);
    const out: SyntaxNode[] = [];
    if (f === undefined) return out;
    const t = this.t;
    for (let c = t.firstChild[this.id]!; c >= 0; c = t.nextSibling[c]!) if (t.field[c] === f) out.push(t.node(c));
    return out;
  }
}

/** One top-level node of a tree: its type, text and position; `value` when it was copied and built. */
export interface TopLevel<T> {
  type: string;
  row: number;
  column: number;
  text: string;
  value: T | null;
  /** The node nests too deeply to copy or build within the call stack: skipped. */
  tooDeep?: true;
}

/** Copies the subtree under the cursor's current node into `t` (emptied first); the cursor ends where it started. */
function walkSubtree(c: TreeCursor, t: SyntaxTree, type: number, start: number, end: number): SyntaxNode {
  t.reset();
  const src = t.src;
  const lines = src.lines;
  const nLines = lines.length;
  let row = src.rowOf(start);
  t.add(type, 0, start, end, -1, type !== ERROR_SYMBOL && start === end && c.nodeIsMissing);
  t.startRow[0] = row;
  if (!c.gotoFirstChild()) return t.root;
  let parents = stack;
  parents[0] = 0;
  let depth = 0;
  for (;;) {
    const s = c.startIndex;
    const e = c.endIndex;
    const i = t.add(c.nodeTypeId, c.currentFieldId, s, e, parents[depth]!, s === e && c.nodeIsMissing);
    // pre-order visits starts in non-decreasing order: the row only moves forward
    while (row + 1 < nLines && lines[row + 1]! <= s) row++;
    t.startRow[i] = row;
    if (c.gotoFirstChild()) {
      if (++depth === parents.length) parents = stack = growInt32(parents);
      parents[depth] = i;
      continue;
    }
    while (!c.gotoNextSibling()) {
      c.gotoParent();
      if (--depth < 0) return t.root;
    }
  }
}

let stack: Int32Array = new Int32Array(64);

function growInt32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

// Layout of the runtime's structures in wasm32, from web-tree-sitter 0.25's lib/subtree.h, lib/tree.h and
// lib/parser.h. A Subtree is 8 bytes: inline leaf data when bit 0 of its first byte is set, else a pointer to
// SubtreeHeapData, whose children are stored just before it.
const SUBTREE_BYTES = 8;
/** SubtreeHeapData: padding.bytes, size.bytes, child_count, symbol, the flag bits, visible_child_count, production_id. */
const H_PADDING = 4;
const H_SIZE = 16;
const H_CHILD_COUNT = 36;
const H_SYMBOL = 40;
const H_FLAGS = 44;
const H_FLAGS2 = 45;
const H_VISIBLE_CHILDREN = 48;
const H_PRODUCTION = 66;
/** SubtreeInlineData: flag bits in byte 0 (is_inline, visible, named, extra, has_changes, is_missing), symbol, padding and size bytes. */
const I_SYMBOL = 1;
const I_PADDING = 6;
const I_SIZE = 7;
/** TSTree: the root Subtree, then the language pointer. */
const T_LANGUAGE = 8;
/** TSLanguage: abi_version, symbol_count, alias_count, field_count, max_alias_sequence_length, field_map_slices, field_map_entries, public_symbol_map, alias_sequences. */
const L_ABI = 0;
const L_SYMBOL_COUNT = 4;
const L_ALIAS_COUNT = 8;
const L_FIELD_COUNT = 32;
const L_MAX_ALIAS = 36;
const L_FIELD_SLICES = 64;
const L_FIELD_ENTRIES = 68;
const L_PUBLIC_MAP = 76;
const L_ALIAS_SEQUENCES = 84;

/**
 * Reads a parsed tree from the runtime's memory, visiting nodes as tree-sitter's cursor does: hidden nodes are
 * not visited but their visible descendants are, in place; a child's alias (from its parent's production) makes
 * it visible and names it; a node's field is its own entry in its parent's field map or, under a hidden parent,
 * the parent's field. Byte offsets are UTF-16, so code units are bytes / 2.
 */
class HeapReader {
  private u8: Uint8Array;
  private u16: Uint16Array;
  private u32: Uint32Array;
  private readonly fieldCount: number;
  private readonly maxAlias: number;
  private readonly slices: number;
  private readonly entries: number;
  private readonly publicMap: number;
  private readonly aliasSequences: number;
  /** Symbols and aliases: the size of the public symbol map. */
  private readonly symbolCount: number;
  /** Where visible nodes go: a tree being copied, or (null) the top-level list. */
  private t: SyntaxTree | null = null;
  private row = 0;
  readonly top: Array<{ slot: number; pos: number; end: number; type: number; missing: boolean }> = [];

  constructor(private buffer: ArrayBuffer, readonly tree: number) {
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    const lang = this.u32[(tree + T_LANGUAGE) >> 2]!;
    const abi = this.u32[(lang + L_ABI) >> 2]!;
    if (abi < 13 || abi > 15) throw new Error(`tree-sitter language ABI ${abi} is not one the tree copy reads`);
    this.symbolCount = this.u32[(lang + L_SYMBOL_COUNT) >> 2]! + this.u32[(lang + L_ALIAS_COUNT) >> 2]!;
    this.fieldCount = this.u32[(lang + L_FIELD_COUNT) >> 2]!;
    this.maxAlias = this.u16[(lang + L_MAX_ALIAS) >> 1]!;
    this.slices = this.u32[(lang + L_FIELD_SLICES) >> 2]!;
    this.entries = this.u32[(lang + L_FIELD_ENTRIES) >> 2]!;
    this.publicMap = this.u32[(lang + L_PUBLIC_MAP) >> 2]!;
    this.aliasSequences = this.u32[(lang + L_ALIAS_SEQUENCES) >> 2]!;
  }

  /** The heap data behind a Subtree slot, or 0 for an inline leaf. */
  private heap(slot: number): number {
    return this.u8[slot]! & 1 ? 0 : this.u32[slot >> 2]!;
  }

  private childCount(slot: number): number {
    const h = this.heap(slot);
    return h ? this.u32[(h + H_CHILD_COUNT) >> 2]! : 0;
  }

  private size(slot: number): number {
    const h = this.heap(slot);
    return h ? this.u32[(h + H_SIZE) >> 2]! : this.u8[slot + I_SIZE]!;
  }

  /** Lists the visible top-level nodes (children of the root) in `top`. */
  listTop(): void {
    this.t = null;
    this.top.length = 0;
    const root = this.tree;
    const n = this.childCount(root);
    // (a count no memory could hold means the layout is not the one expected: the caller's check then fails)
    if (n === 0 || n > this.u8.length / SUBTREE_BYTES) return;
    const h = this.heap(root);
    this.children(h, this.u32[(h + H_PADDING) >> 2]!, -1, 0);
  }

  /** Copies top-level node `k` of `top` with its subtree into `t` (emptied first). */
  copyTop(k: number, t: SyntaxTree): SyntaxNode {
    const n = this.top[k]!;
    return this.copy(n.slot, n.pos, n.type, n.missing, t);
  }

  /** Copies the whole tree (the root and everything under it) into `t`. */
  copyRoot(t: SyntaxTree): SyntaxNode {
    const root = this.tree;
    const h = this.heap(root);
    const pos = h ? this.u32[(h + H_PADDING) >> 2]! : this.u8[root + I_PADDING]!;
    const sym = h ? this.u16[(h + H_SYMBOL) >> 1]! : this.u8[root + I_SYMBOL]!;
    return this.copy(root, pos, this.publicSymbol(sym), false, t);
  }

  private publicSymbol(sym: number): number {
    return sym === ERROR_SYMBOL || sym >= this.symbolCount ? ERROR_SYMBOL : this.u16[(this.publicMap >> 1) + sym]!;
  }

  /**
   * Takes the views again if the runtime's memory grew since they were taken (any call into the runtime may
   * grow it: the public API used for the check, or a cursor used for a tree too deep to copy here).
   */
  private refresh(): void {
    const buffer = memory?.buffer;
    if (!buffer || buffer === this.buffer) return;
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
  }

  private copy(slot: number, pos: number, type: number, missing: boolean, t: SyntaxTree): SyntaxNode {
    this.refresh();
    t.reset();
    this.t = t;
    const start = pos >> 1;
    this.row = t.src.rowOf(start);
    t.add(type, 0, start, (pos + this.size(slot)) >> 1, -1, missing);
    t.startRow[0] = this.row;
    if (this.childCount(slot) > 0) this.children(this.heap(slot), pos, 0, 0);
    this.t = null;
    return t.root;
  }

  /**
   * Visits the children of heap subtree `p` (which has children), starting at byte `pos`: visible ones are
   * added under node `parent` (or listed, at the top level) with their own subtrees; hidden ones are entered.
   * `hiddenField` is the field of `p` when `p` is hidden.
   */
  private children(p: number, pos: number, parent: number, hiddenField: number): void {
    const u8 = this.u8;
    const u16 = this.u16;
    const u32 = this.u32;
    const n = u32[(p + H_CHILD_COUNT) >> 2]!;
    const production = u16[(p + H_PRODUCTION) >> 1]!;
    const aliases = production !== 0 && this.aliasSequences !== 0 ? (this.aliasSequences >> 1) + production * this.maxAlias : -1;
    let fieldsFrom = 0;
    let fieldsTo = 0;
    if (this.fieldCount > 0) {
      const slice = this.slices + production * 4;
      fieldsFrom = this.entries + u16[slice >> 1]! * 4;
      fieldsTo = fieldsFrom + u16[(slice + 2) >> 1]! * 4;
    }
    let structural = 0;
    let slot = p - n * SUBTREE_BYTES;
    for (let i = 0; i < n; i++, slot += SUBTREE_BYTES) {
      const inline = (u8[slot]! & 1) !== 0;
      const h = inline ? 0 : u32[slot >> 2]!;
      if (i > 0) pos += inline ? u8[slot + I_PADDING]! : u32[(h + H_PADDING) >> 2]!;
      // bit 0 visible, bit 2 extra, bit 4 (inline) missing
      const flags = inline ? u8[slot]! >> 1 : u8[h + H_FLAGS]!;
      let alias = 0;
      let field = 0;
      if ((flags & 4) === 0) {
        if (aliases >= 0) alias = u16[aliases + structural]!;
        for (let e = fieldsFrom; e < fieldsTo; e += 4) {
          if (u8[e + 2] === structural && u8[e + 3] === 0) {
            field = u16[e >> 1]!;
            break;
          }
        }
        if (field === 0) field = hiddenField;
        structural++;
      }
      const size = inline ? u8[slot + I_SIZE]! : u32[(h + H_SIZE) >> 2]!;
      const kids = inline ? 0 : u32[(h + H_CHILD_COUNT) >> 2]!;
      if ((flags & 1) !== 0 || alias !== 0) {
        const type = this.publicSymbol(alias || (inline ? u8[slot + I_SYMBOL]! : u16[(h + H_SYMBOL) >> 1]!));
        const missing = inline ? (flags & 16) !== 0 : (u8[h + H_FLAGS2]! & 2) !== 0;
        const t = this.t;
        if (!t) this.top.push({ slot, pos, end: (pos + size) >> 1, type, missing });
        else {
          const start = pos >> 1;
          const k = t.add(type, field, start, (pos + size) >> 1, parent, missing);
          const lines = t.src.lines;
          let row = this.row;
          while (row + 1 < lines.length && lines[row + 1]! <= start) row++;
          this.row = row;
          t.startRow[k] = row;
          if (kids > 0) this.children(h, pos, k, 0);
        }
      } else if (kids > 0 && u32[(h + H_VISIBLE_CHILDREN) >> 2]! > 0) {
        this.children(h, pos, parent, field);
      }
      pos += size;
    }
  }
}

/**
 * Whether the top-level nodes read from memory match what the public API reports (count, then type and range
 * of the first and last): a check that the structure offsets above fit the runtime in use.
 */
function agrees(tree: Tree, top: HeapReader['top']): boolean {
  const root = tree.rootNode;
  const n = root.childCount;
  if (n !== top.length) return false;
  for (const k of n > 0 ? [0, n - 1] : []) {
    const c = root.child(k);
    const h = top[k]!;
    if (!c || c.typeId !== h.type || c.startIndex !== h.pos >> 1 || c.endIndex !== h.end) return false;
  }
  return true;
}

function treePointer(tree: Tree): number | null {
  const ptr = (tree as unknown as { 0: unknown })[0];
  return memory && typeof ptr === 'number' && ptr > 0 ? ptr : null;
}

/** The whole tree, copied (for files whose root has no children but errors). */
export function readWhole(tree: Tree, src: SyntaxSource): SyntaxNode {
  const ptr = treePointer(tree);
  const t = new SyntaxTree(src);
  return ptr !== null ? copyDeep(() => new HeapReader(memory!.buffer, ptr).copyRoot(t), () => tree.walk(), t) : cursorCopy(tree.walk(), t);
}

/** Copies the node a fresh cursor stands on, with its subtree, through the public TreeCursor. */
function cursorCopy(c: TreeCursor, t: SyntaxTree): SyntaxNode {
  try {
    return walkSubtree(c, t, c.nodeTypeId, c.startIndex, c.endIndex);
  } finally {
    c.delete();
  }
}

/**
 * A copy from memory, or, when the tree is too deep for its recursion (thousands of levels: long generated
 * expressions), the same copy through the public TreeCursor, whose walk keeps no call stack.
 */
function copyDeep(fromMemory: () => SyntaxNode, cursor: () => TreeCursor, t: SyntaxTree): SyntaxNode {
  try {
    return fromMemory();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return cursorCopy(cursor(), t);
  }
}

/**
 * The top-level nodes of a tree, in order. `want(type, text, column)` says which to copy (callers skip what
 * they have cached by text); `build` turns each copied node into a value. The node lives only during `build`:
 * the next copy reuses its storage.
 */
export function readTopLevel<T>(tree: Tree, src: SyntaxSource, want: (type: string, text: string, column: number) => boolean, build: (node: SyntaxNode) => T): Array<TopLevel<T>> {
  const out: Array<TopLevel<T>> = [];
  const scratch = new SyntaxTree(src);
  const entry = (ty: number, s: number, e: number, copy: () => SyntaxNode): void => {
    const type = ty === ERROR_SYMBOL ? 'ERROR' : src.lang.types[ty] || 'ERROR';
    const text = src.text.slice(s, e);
    const row = src.rowOf(s);
    const column = s - src.lines[row]!;
    if (!want(type, text, column)) {
      out.push({ type, row, column, text, value: null });
      return;
    }
    try {
      out.push({ type, row, column, text, value: build(copy()) });
    } catch (e) {
      // thousands of nested parentheses or blocks: this declaration is left out, the others are still read
      if (!(e instanceof RangeError)) throw e;
      out.push({ type, row, column, text, value: null, tooDeep: true });
    }
  };
  const ptr = treePointer(tree);
  if (ptr !== null) {
    const r = new HeapReader(memory!.buffer, ptr);
    r.listTop();
    if (agrees(tree, r.top)) {
      r.top.forEach((n, k) => entry(n.type, n.pos >> 1, n.end, () => copyDeep(() => r.copyTop(k, scratch), () => tree.rootNode.child(k)!.walk(), scratch)));
      return out;
    }
    // the runtime's layout is not the one this reader knows: read through the public API from now on
    saved = memory;
    memory = null;
  }
  const c = tree.walk();
  try {
    if (!c.gotoFirstChild()) return out;
    do {
      const ty = c.nodeTypeId;
      const s = c.startIndex;
      const e = c.endIndex;
      entry(ty, s, e, () => walkSubtree(c, scratch, ty, s, e));
    } while (c.gotoNextSibling());
    return out;
  } finally {
    c.delete();
  }
}
