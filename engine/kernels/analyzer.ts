/**
 * KernelAnalyzer: the entry point the CLI and the extension use.
 *
 *   const a = await KernelAnalyzer.create(wasmDir);
 *   const report = a.analyze(source, 'cuda', { file, dims, device });        // one-shot
 *   const report = a.update(docUri, source, 'cuda', { edits, dims, device }); // per open document
 *
 * Top-level declarations are turned into IR once and cached by their text, so after an edit only the
 * declarations whose text changed are walked again (tree-sitter itself re-parses only the edited region).
 */
import type { Tree } from 'web-tree-sitter';
import type { Device } from '../hardware/types';
import { DIM_EXPECTED, parseAnnotations, type Annotation } from './annotations';
import { analyzeKernels, buildEnv, combineUnits, resolveDims, type KernelMemo } from './analyze';
import { cudaUnit } from './cuda';
import { emptyUnit, freeIdents, type UnitIR } from './ir';
import { rule } from './lints';
import { TreeStore, loadLanguage } from './parser';
import { SyntaxSource, readTopLevel, readWhole } from './syntax';

/** Top-level tokens that carry nothing to analyze. */
const SKIP = new Set([';', 'comment', '}', '{']);
import { analyzeTriton, tritonUnit, type TritonUnit } from './triton';
import type { KernelDiagnostic, KernelFileReport, KernelLanguage, KernelTextEdit } from './types';
import { wgslCompat, wgslUnit } from './wgsl';

export interface AnalyzeOptions {
  /** File name shown in the report. */
  file?: string;
  /** Problem dims; win over annotation dims. */
  dims?: Record<string, number>;
  /** Device for bounds, occupancy and limits; null = no device figures. */
  device?: Device | null;
}

export const MAX_SOURCE_BYTES = 5 * 1024 * 1024;

export function languageOf(file: string): KernelLanguage | null {
  const m = /\.([A-Za-z0-9]+)$/.exec(file);
  switch (m?.[1]?.toLowerCase()) {
    case 'cu':
    case 'cuh':
      return 'cuda';
    case 'py':
      return 'triton';
    case 'wgsl':
      return 'wgsl';
    default:
      return null;
  }
}

/** Why a file is not analyzed (binary, too large), or null. */
export function skipReason(bytes: Uint8Array): string | null {
  if (bytes.length > MAX_SOURCE_BYTES) return `file is ${bytes.length.toLocaleString('en-US')} bytes; kernel analysis skips files over 5 MiB (${MAX_SOURCE_BYTES.toLocaleString('en-US')} bytes)`;
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return 'file looks binary (NUL bytes); kernel analysis skipped';
  return null;
}

type AnyUnit = UnitIR | TritonUnit;

/** Line `row` (0-based) of `source`, without splitting the whole text. */
function lineAt(source: string, row: number): string {
  let start = 0;
  for (let r = 0; r < row; r++) {
    const nl = source.indexOf('\n', start);
    if (nl === -1) return '';
    start = nl + 1;
  }
  const end = source.indexOf('\n', start);
  return source.slice(start, end === -1 ? undefined : end);
}

export class KernelAnalyzer {
  private readonly store: TreeStore;
  /**
   * Per language: unit text -> IR for each (type, column) the text was seen with. Keyed by the node's
   * own text (a slice of the source), not a concatenation, so that no copy of the file is made per call.
   */
  private readonly cache = new Map<KernelLanguage, Map<string, Array<{ type: string; column: number; unit: AnyUnit }>>>();
  private readonly memo: KernelMemo = new WeakMap();
  /** Units walked (not found in the cache) by the last analysis: for tests and benchmarks. */
  lastWalkedUnits = 0;

  private constructor(wasmDir: string) {
    this.store = new TreeStore(wasmDir);
  }

  /** `wasmDir` holds tree-sitter.wasm and the grammar wasm files (flat, or a node_modules folder). */
  static async create(wasmDir: string, languages: KernelLanguage[] = ['cuda', 'triton', 'wgsl']): Promise<KernelAnalyzer> {
    const a = new KernelAnalyzer(wasmDir);
    for (const l of languages) {
      await loadLanguage(wasmDir, l);
      await a.store.parser(l);
    }
    return a;
  }

  /** Parses and analyzes a whole source (no document state). */
  async analyze(source: string, language: KernelLanguage, opts: AnalyzeOptions = {}): Promise<KernelFileReport> {
    const tree = await this.store.parse(language === 'wgsl' ? wgslCompat(source) : source, language);
    try {
      return this.report(tree, source, language, opts);
    } finally {
      this.store.retire(tree);
    }
  }

  /**
   * Re-analyzes document `docId` after a change. `edits` (the changes since the previous call, in order)
   * let tree-sitter reuse the previous tree; without them the document is parsed afresh.
   */
  async update(docId: string, source: string, language: KernelLanguage, opts: AnalyzeOptions & { edits?: KernelTextEdit[] } = {}): Promise<KernelFileReport> {
    const { tree } = await this.store.update(docId, language === 'wgsl' ? wgslCompat(source) : source, language, opts.edits);
    return this.report(tree, source, language, opts);
  }

  /** Parsed trees whose memory is still to be freed (freed on the next turn of the event loop, or at dispose). */
  get pendingTreeFrees(): number {
    return this.store.retiredTrees;
  }

  close(docId: string): void {
    this.store.close(docId);
  }

  dispose(): void {
    this.store.dispose();
    this.cache.clear();
  }

  /** The units of a tree, and the rows of the top-level declarations left out for nesting too deeply. */
  private unitsOf(tree: Tree, text: string, language: KernelLanguage): { units: Array<{ unit: AnyUnit; row: number }>; tooDeep: number[] } {
    let cache = this.cache.get(language);
    if (!cache) {
      cache = new Map();
      this.cache.set(language, cache);
    }
    if (cache.size > 20000) cache.clear();
    const out: Array<{ unit: AnyUnit; row: number }> = [];
    const src = new SyntaxSource(text, tree.language);
    let walked = 0;
    // One cursor pass over the top-level nodes; only those not cached by their text are copied whole.
    const top = readTopLevel(
      tree,
      src,
      (type, t, column) => !SKIP.has(type) && !cache.get(t)?.some((x) => x.type === type && x.column === column),
      (node): AnyUnit => (language === 'cuda' ? cudaUnit(node) : language === 'wgsl' ? wgslUnit(node) : tritonUnit(node)),
    );
    const tooDeep: number[] = [];
    for (const c of top) {
      const type = c.type;
      if (SKIP.has(type)) continue;
      if (c.tooDeep) {
        tooDeep.push(c.row);
        continue;
      }
      let seen = cache.get(c.text);
      let u = c.value ?? seen?.find((x) => x.type === type && x.column === c.column)?.unit;
      if (c.value) {
        walked++;
        if (!seen) cache.set(c.text, (seen = []));
        seen.push({ type, column: c.column, unit: c.value });
      }
      out.push({ unit: u!, row: c.row });
    }
    if (top.length === 0 && tree.rootNode.hasError) out.push({ unit: language === 'triton' ? tritonUnit(readWhole(tree, src)) : { ...emptyUnit(), errors: [{ row: 0, col: 0, endRow: 0, endCol: 1 }] }, row: 0 });
    this.lastWalkedUnits = walked;
    return { units: out, tooDeep };
  }

  private report(tree: Tree, source: string, language: KernelLanguage, opts: AnalyzeOptions): KernelFileReport {
    const diagnostics: KernelDiagnostic[] = [];
    const annotations: Annotation[] = parseAnnotations(source, diagnostics);
    const { units, tooDeep } = this.unitsOf(tree, language === 'wgsl' ? wgslCompat(source) : source, language);
    const device = opts.device ?? null;
    let result: { kernels: KernelFileReport['kernels']; diagnostics: KernelDiagnostic[] };
    let dims: Record<string, number>;
    const errors: Array<{ row: number; col: number; endRow: number; endCol: number }> = [];
    const rejected: Array<{ ann: Annotation; key: string; value: number }> = [];
    if (language === 'triton') {
      const tunits = units as Array<{ unit: TritonUnit; row: number }>;
      dims = resolveDims(annotations, opts.dims ?? {}, undefined, rejected);
      result = analyzeTriton(tunits, { annotations, dims, device });
      for (const { unit, row } of tunits) for (const e of unit.errors) errors.push({ ...e, row: e.row + row, endRow: e.endRow + row });
    } else {
      const ir = combineUnits(language, units as Array<{ unit: UnitIR; row: number }>);
      const constEnv = buildEnv(ir.consts, {});
      dims = resolveDims(annotations, opts.dims ?? {}, constEnv, rejected);
      const env = buildEnv(ir.consts, dims);
      result = analyzeKernels({ ir, env, annotations, device, dims, memo: this.memo });
      errors.push(...ir.errors);
    }
    const errorLines = new Set<number>();
    for (const r of rejected) {
      const line = lineAt(source, r.ann.row);
      const at = line.search(new RegExp(`(?<![A-Za-z0-9_])${r.key}=`));
      const tok = r.ann.text?.split(/\s+/).find((t) => t.startsWith(`${r.key}=`));
      diagnostics.push({
        line: r.ann.row + 1,
        column: at >= 0 ? at + 1 : 1,
        code: 'RL008',
        severity: 'warning',
        message: `ridgeline annotation: "${tok ?? r.key}" resolves to ${r.value}: expected ${DIM_EXPECTED}`,
      });
    }
    for (const a of annotations) {
      for (const [key, e] of Object.entries(a.dims)) {
        if (Object.hasOwn(dims, key) || rejected.some((r) => r.ann === a && r.key === key)) continue;
        const missing = [...freeIdents(e)].filter((n) => !Object.hasOwn(dims, n));
        diagnostics.push({
          line: a.row + 1,
          column: 1,
          code: 'RL008',
          severity: 'warning',
          message: `ridgeline annotation: ${key} does not resolve to a number${missing.length ? ` (needs ${missing.join(', ')})` : ''}`,
        });
      }
    }
    for (const row of tooDeep) {
      diagnostics.push({
        line: row + 1,
        column: 1,
        code: 'RL008',
        severity: rule('RL008').severity,
        message: 'this declaration nests too deeply to analyze; it is left out and results are partial',
      });
    }
    for (const e of errors.slice(0, 20)) {
      if (errorLines.has(e.row)) continue;
      errorLines.add(e.row);
      const line = lineAt(source, e.row);
      diagnostics.push({
        line: e.row + 1,
        column: e.col + 1,
        endLine: e.endRow + 1,
        endColumn: e.endCol + 1,
        code: 'RL008',
        severity: rule('RL008').severity,
        message: `syntax error near "${line.slice(e.col, e.col + 30).trim() || line.trim().slice(0, 30)}"; results around it are partial`,
      });
    }
    diagnostics.push(...result.diagnostics);
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    return { file: opts.file ?? '', language, dims, kernels: result.kernels, diagnostics };
  }
}
