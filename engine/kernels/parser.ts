/**
 * Loads web-tree-sitter and the grammars from a directory the caller names (dist/wasm for the CLI, the
 * extension's install path, node_modules in tests), and keeps one tree per document for incremental
 * re-parsing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Edit, Tree } from 'web-tree-sitter';

// `require` (not `import`) so that bundlers pick the package's CommonJS build: its ESM build reads
// import.meta.url, which a CommonJS bundle does not have.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Language, Parser } = require('web-tree-sitter') as typeof import('web-tree-sitter');
type Language = import('web-tree-sitter').Language;
type Parser = import('web-tree-sitter').Parser;
import { RidgelineError } from '../errors';
import type { KernelLanguage, KernelTextEdit } from './types';
import { wasmInit } from './syntax';

const GRAMMAR_FILE: Record<KernelLanguage, string> = {
  cuda: 'tree-sitter-cuda.wasm',
  triton: 'tree-sitter-python.wasm',
  wgsl: 'tree-sitter-wgsl.wasm',
};

/** Where each wasm file is looked for inside `wasmDir`: flat (dist/wasm) or a node_modules tree. */
function locate(wasmDir: string, file: string): string {
  const flat = join(wasmDir, file);
  if (existsSync(flat)) return flat;
  const pkg = file === 'tree-sitter.wasm' ? 'web-tree-sitter' : file.replace(/\.wasm$/, '');
  const nested = join(wasmDir, pkg, file);
  if (existsSync(nested)) return nested;
  throw new RidgelineError(`${flat}: expected the tree-sitter grammar file ${file} (run \`npm run build\`)`, { exitCode: 1, file: flat });
}

let initDone: Promise<void> | null = null;
const languages = new Map<string, Promise<Language>>();

export async function loadLanguage(wasmDir: string, lang: KernelLanguage): Promise<Language> {
  if (!initDone) {
    const runtime = locate(wasmDir, 'tree-sitter.wasm');
    const { options, failed } = wasmInit(runtime);
    initDone = Promise.race([Parser.init(options), failed]);
  }
  await initDone;
  const file = locate(wasmDir, GRAMMAR_FILE[lang]);
  let p = languages.get(file);
  if (!p) {
    p = Language.load(file);
    languages.set(file, p);
  }
  return p;
}

/** Tree-sitter Edit from a text change: positions before the change plus the end after it. */
export function toTreeEdit(e: KernelTextEdit): Edit {
  const lines = e.newText.split('\n');
  const newEndRow = e.startLine + lines.length - 1;
  const newEndCol = lines.length === 1 ? e.startColumn + e.newText.length : lines[lines.length - 1]!.length;
  return {
    startIndex: e.startOffset,
    oldEndIndex: e.oldEndOffset,
    newEndIndex: e.startOffset + e.newText.length,
    startPosition: { row: e.startLine, column: e.startColumn },
    oldEndPosition: { row: e.oldEndLine, column: e.oldEndColumn },
    newEndPosition: { row: newEndRow, column: newEndCol },
  };
}

/** Trees waiting to be freed at most (each holds the runtime memory of a whole parse). */
const MAX_RETIRED = 4;

/** One parser per language plus the last tree of each open document. */
export class TreeStore {
  private readonly parsers = new Map<KernelLanguage, Parser>();
  private readonly trees = new Map<string, { lang: KernelLanguage; tree: Tree; text: string }>();
  /** Trees no longer used, freed after the current report is returned (or at dispose). */
  private retired: Tree[] = [];

  constructor(private readonly wasmDir: string) {}

  async parser(lang: KernelLanguage): Promise<Parser> {
    let p = this.parsers.get(lang);
    if (!p) {
      const L = await loadLanguage(this.wasmDir, lang);
      p = new Parser();
      p.setLanguage(L);
      this.parsers.set(lang, p);
    }
    return p;
  }

  /** Full parse (no document state kept). */
  async parse(source: string, lang: KernelLanguage): Promise<Tree> {
    const t = (await this.parser(lang)).parse(source);
    if (!t) throw new RidgelineError('tree-sitter returned no tree', { exitCode: 1 });
    return t;
  }

  /**
   * Parses `source` for document `docId`. With `edits` (applied to the previous text, in order) and a
   * previous tree, the old tree is edited and reused: only the changed region is re-parsed.
   */
  async update(docId: string, source: string, lang: KernelLanguage, edits?: KernelTextEdit[]): Promise<{ tree: Tree; incremental: boolean }> {
    const parser = await this.parser(lang);
    const prev = this.trees.get(docId);
    let old: Tree | null = null;
    if (prev && prev.lang === lang && edits && edits.length > 0) {
      old = prev.tree;
      for (const e of edits) old.edit(toTreeEdit(e));
    }
    const tree = parser.parse(source, old);
    if (!tree) throw new RidgelineError('tree-sitter returned no tree', { exitCode: 1 });
    if (prev) this.retire(prev.tree);
    this.trees.set(docId, { lang, tree, text: source });
    return { tree, incremental: old !== null };
  }

  /**
   * Frees a tree once the caller's report is out: freeing walks every node of the tree in the runtime (about
   * 2 ms for 5,000 lines of CUDA), work that need not delay the result. Runs on the next turn of the event
   * loop, or at dispose.
   */
  retire(tree: Tree): void {
    // a caller that never yields to the event loop keeps at most MAX_RETIRED trees waiting
    if (this.retired.length >= MAX_RETIRED) this.retired.shift()!.delete();
    if (this.retired.push(tree) === 1) setImmediate(() => this.freeRetired());
  }

  /** Trees retired and not yet freed. */
  get retiredTrees(): number {
    return this.retired.length;
  }

  /** Frees the retired trees now. */
  freeRetired(): void {
    const trees = this.retired;
    this.retired = [];
    for (const t of trees) t.delete();
  }

  close(docId: string): void {
    const prev = this.trees.get(docId);
    if (prev) prev.tree.delete();
    this.trees.delete(docId);
  }

  dispose(): void {
    this.freeRetired();
    for (const id of [...this.trees.keys()]) this.close(id);
    for (const p of this.parsers.values()) p.delete();
    this.parsers.clear();
  }
}
