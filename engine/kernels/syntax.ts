/**
 * A compact, read-only copy of tree-sitter syntax trees for the front ends.
 *
 * web-tree-sitter answers every property of a node (type, end, a child by field) with a call into wasm that
 * marshals the node through a shared buffer; a 5,000-line CUDA file has ~75k nodes, and reading them that way
 * costs more than parsing. Here one tree cursor walks a subtree once, recording per node its type id, field id
 * and code-unit range into typed arrays; the front ends then read plain JavaScript (`SyntaxNode`), with the same
 * member names as web-tree-sitter's Node so that they read either.
 *
 * The walk calls the runtime's cursor functions directly when they could be captured at initialization
 * (`wasmInit`): the cursor stays in the runtime's transfer buffer between calls, so one step is one call.
 * Otherwise it uses web-tree-sitter's public TreeCursor, which produces the same tree more slowly.
 */
import type { Language, Tree, TreeCursor } from 'web-tree-sitter';

/** The cursor entry points of tree-sitter.wasm that the walk uses; each takes the tree pointer. */
interface CursorExports {
  ts_tree_root_node_wasm(tree: number): void;
  ts_tree_cursor_new_wasm(tree: number): void;
  ts_tree_cursor_delete_wasm(tree: number): void;
  ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  ts_tree_cursor_goto_parent_wasm(tree: number): number;
  ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  ts_tree_cursor_current_field_id_wasm(tree: number): number;
  ts_tree_cursor_start_index_wasm(tree: number): number;
  ts_tree_cursor_end_index_wasm(tree: number): number;
  ts_tree_cursor_current_node_is_missing_wasm(tree: number): number;
}

const CURSOR_EXPORTS: ReadonlyArray<keyof CursorExports> = [
  'ts_tree_root_node_wasm', 'ts_tree_cursor_new_wasm', 'ts_tree_cursor_delete_wasm', 'ts_tree_cursor_goto_first_child_wasm',
  'ts_tree_cursor_goto_next_sibling_wasm', 'ts_tree_cursor_goto_parent_wasm', 'ts_tree_cursor_current_node_type_id_wasm',
  'ts_tree_cursor_current_field_id_wasm', 'ts_tree_cursor_start_index_wasm', 'ts_tree_cursor_end_index_wasm',
  'ts_tree_cursor_current_node_is_missing_wasm',
];

let raw: CursorExports | null = null;

/**
 * Options for web-tree-sitter's Parser.init: instantiate the runtime as it would and keep its cursor entry
 * points for the walk (without them, as when another caller initialized the runtime first, the public API is
 * used). `failed` rejects if the runtime cannot be instantiated (init itself would then never settle).
 */
export function wasmInit(wasmFile: string): { options: object; failed: Promise<never> } {
  type Instantiated = { instance: { exports: Record<string, unknown> }; module: unknown };
  const wasm = (globalThis as unknown as { WebAssembly: { instantiate(bytes: Uint8Array, imports: unknown): Promise<Instantiated> } }).WebAssembly;
  let fail: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const options = {
    locateFile: () => wasmFile,
    instantiateWasm(imports: unknown, done: (instance: unknown, module: unknown) => void): object {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bytes = (require('node:fs') as typeof import('node:fs')).readFileSync(wasmFile);
      wasm.instantiate(bytes, imports).then(({ instance, module }) => {
        const ex = instance.exports;
        raw = CURSOR_EXPORTS.every((k) => typeof ex[k] === 'function') ? (ex as unknown as CursorExports) : null;
        done(instance, module);
      }, fail);
      return {};
    },
  };
  return { options, failed };
}

/** True when the walk calls the runtime directly (for tests and benchmarks). */
export function directCursor(): boolean {
  return raw !== null;
}

/** For tests: walk through web-tree-sitter's public TreeCursor even when the direct entry points exist. */
export function setDirectCursor(on: boolean): void {
  if (!on) {
    saved = raw ?? saved;
    raw = null;
  } else if (saved) raw = saved;
}
let saved: CursorExports | null = null;

const ERROR_SYMBOL = 65535;
/** Comment node types of the grammars (C/CUDA and Python: comment; WGSL: line and block comments). */
const COMMENTS = new Set(['comment', 'line_comment', 'block_comment']);

/** Per language: type names, which types are named, field ids by name. */
interface LanguageTables {
  types: string[];
  named: Uint8Array;
  fieldIds: Map<string, number>;
}

const tables = new WeakMap<Language, LanguageTables>();

function tablesFor(lang: Language): LanguageTables {
  let t = tables.get(lang);
  if (!t) {
    const n = lang.nodeTypeCount;
    const types: string[] = new Array(n);
    const named = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      types[i] = lang.types[i] ?? '';
      named[i] = lang.nodeTypeIsNamed(i) ? 1 : 0;
    }
    const fieldIds = new Map<string, number>();
    lang.fields.forEach((f, i) => {
      if (f) fieldIds.set(f, i);
    });
    t = { types, named, fieldIds };
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

  /** Appends a node (its children follow it); returns its number. */
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
    this.flags = g(this.flags, (k) => new Uint8Array(k));
  }
}

/** A node of a SyntaxTree, with the members of web-tree-sitter's Node that the front ends read. */
export class SyntaxNode {
  private kids: SyntaxNode[] | null = null;
  private namedKids: SyntaxNode[] | null = null;
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
  get endPosition(): { row: number; column: number } {
    const e = this.t.end[this.id]!;
    const src = this.t.src;
    const row = src.rowOf(e);
    return { row, column: e - src.lines[row]! };
  }
  get children(): SyntaxNode[] {
    if (!this.kids) {
      const out: SyntaxNode[] = [];
      for (let c = this.t.firstChild[this.id]!; c >= 0; c = this.t.nextSibling[c]!) out.push(this.t.node(c));
      this.kids = out;
    }
    return this.kids;
  }
  get namedChildren(): SyntaxNode[] {
    if (!this.namedKids) this.namedKids = this.children.filter((c) => c.isNamed);
    return this.namedKids;
  }
  /** Named children that are not comments: what the front ends analyze. */
  get codeChildren(): SyntaxNode[] {
    if (!this.codeKids) this.codeKids = this.namedChildren.filter((c) => !COMMENTS.has(c.type));
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

/** One top-level node of a tree: its type, text and position; `value` when it was walked and built. */
export interface TopLevel<T> {
  type: string;
  row: number;
  column: number;
  text: string;
  value: T | null;
}

/** The cursor operations of one walk: direct calls into the runtime or web-tree-sitter's TreeCursor. */
interface Walker {
  firstChild(): boolean;
  nextSibling(): boolean;
  parentNode(): boolean;
  typeId(): number;
  fieldId(): number;
  startIndex(): number;
  endIndex(): number;
  isMissing(): boolean;
  close(): void;
}

function directWalker(ex: CursorExports, tree: number): Walker {
  ex.ts_tree_root_node_wasm(tree);
  ex.ts_tree_cursor_new_wasm(tree);
  return {
    firstChild: () => ex.ts_tree_cursor_goto_first_child_wasm(tree) === 1,
    nextSibling: () => ex.ts_tree_cursor_goto_next_sibling_wasm(tree) === 1,
    parentNode: () => ex.ts_tree_cursor_goto_parent_wasm(tree) === 1,
    typeId: () => ex.ts_tree_cursor_current_node_type_id_wasm(tree),
    fieldId: () => ex.ts_tree_cursor_current_field_id_wasm(tree),
    startIndex: () => ex.ts_tree_cursor_start_index_wasm(tree),
    endIndex: () => ex.ts_tree_cursor_end_index_wasm(tree),
    isMissing: () => ex.ts_tree_cursor_current_node_is_missing_wasm(tree) === 1,
    close: () => ex.ts_tree_cursor_delete_wasm(tree),
  };
}

function publicWalker(c: TreeCursor): Walker {
  return {
    firstChild: () => c.gotoFirstChild(),
    nextSibling: () => c.gotoNextSibling(),
    parentNode: () => c.gotoParent(),
    typeId: () => c.nodeTypeId,
    fieldId: () => c.currentFieldId,
    startIndex: () => c.startIndex,
    endIndex: () => c.endIndex,
    isMissing: () => c.nodeIsMissing,
    close: () => c.delete(),
  };
}

/** Copies the subtree under the walker's current node into `t` (emptied first); the walker ends where it started. */
function walkSubtree(w: Walker, t: SyntaxTree, type: number, start: number, end: number): SyntaxNode {
  t.reset();
  const src = t.src;
  const lines = src.lines;
  const nLines = lines.length;
  let row = src.rowOf(start);
  t.add(type, 0, start, end, -1, type !== ERROR_SYMBOL && start === end && w.isMissing());
  t.startRow[0] = row;
  if (!w.firstChild()) return t.root;
  // per depth: the parent node and the last child added under it (-1: none yet)
  let parents = stack;
  let last = lastStack;
  parents[0] = 0;
  last[0] = -1;
  let depth = 0;
  for (;;) {
    const s = w.startIndex();
    const e = w.endIndex();
    const parent = parents[depth]!;
    const i = t.add(w.typeId(), w.fieldId(), s, e, parent, s === e && w.isMissing());
    // pre-order visits starts in non-decreasing order: the row only moves forward
    while (row + 1 < nLines && lines[row + 1]! <= s) row++;
    t.startRow[i] = row;
    const prev = last[depth]!;
    if (prev < 0) t.firstChild[parent] = i;
    else t.nextSibling[prev] = i;
    last[depth] = i;
    if (w.firstChild()) {
      if (++depth === parents.length) {
        parents = stack = growInt32(parents);
        last = lastStack = growInt32(last);
      }
      parents[depth] = i;
      last[depth] = -1;
      continue;
    }
    while (!w.nextSibling()) {
      w.parentNode();
      if (--depth < 0) return t.root;
    }
  }
}

let stack: Int32Array = new Int32Array(64);
let lastStack: Int32Array = new Int32Array(64);

function growInt32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The whole tree, copied (for files whose root has no children but errors). */
export function readWhole(tree: Tree, src: SyntaxSource): SyntaxNode {
  const ptr = (tree as unknown as { 0: number })[0];
  const w = raw && typeof ptr === 'number' ? directWalker(raw, ptr) : publicWalker(tree.walk());
  try {
    const ty = w.typeId();
    return walkSubtree(w, new SyntaxTree(src), ty, w.startIndex(), w.endIndex());
  } finally {
    w.close();
  }
}

/**
 * The top-level nodes of a tree, in order. `want(type, text, column)` says which to walk (callers skip what
 * they have cached by text); `build` turns each walked node into a value. The node lives only during `build`:
 * the next walk reuses its storage.
 */
export function readTopLevel<T>(tree: Tree, src: SyntaxSource, want: (type: string, text: string, column: number) => boolean, build: (node: SyntaxNode) => T): Array<TopLevel<T>> {
  const ptr = (tree as unknown as { 0: number })[0];
  const w = raw && typeof ptr === 'number' ? directWalker(raw, ptr) : publicWalker(tree.walk());
  const out: Array<TopLevel<T>> = [];
  const scratch = new SyntaxTree(src);
  try {
    if (!w.firstChild()) return out;
    do {
      const ty = w.typeId();
      const s = w.startIndex();
      const e = w.endIndex();
      const type = ty === ERROR_SYMBOL ? 'ERROR' : src.lang.types[ty] || 'ERROR';
      const text = src.text.slice(s, e);
      const row = src.rowOf(s);
      const column = s - src.lines[row]!;
      const value = want(type, text, column) ? build(walkSubtree(w, scratch, ty, s, e)) : null;
      out.push({ type, row, column, text, value });
    } while (w.nextSibling());
    return out;
  } finally {
    w.close();
  }
}
