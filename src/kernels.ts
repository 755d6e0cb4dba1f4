/**
 * Kernel files in the editor (CUDA .cu/.cuh, Triton in Python, WGSL): code lenses per kernel, lint
 * diagnostics with their codes, incremental re-analysis on edit. tree-sitter loads on the first kernel file.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { KernelAnalyzer, LINT_RULES, languageOf, MAX_SOURCE_BYTES } from '../engine/kernels/index';
import type { KernelDiagnostic, KernelFileReport, KernelInfo, KernelLanguage, KernelTextEdit } from '../engine/kernels/types';
import { device, errorLine } from './engine';
import * as fmt from './format';
import type { Ridgeline } from './ridgeline';
import type { Settings } from './settings';

export const KERNEL_SELECTOR: vscode.DocumentSelector = [
  { language: 'cuda-cpp' },
  { language: 'wgsl' },
  { language: 'python' },
  { pattern: '**/*.{cu,cuh,wgsl}' },
];

/** The kernel language of a document, or null when it holds no kernels Ridgeline reads. */
export function kernelLanguage(doc: vscode.TextDocument): KernelLanguage | null {
  if (doc.languageId === 'wgsl') return 'wgsl';
  if (doc.languageId === 'cuda-cpp') return 'cuda';
  const byName = languageOf(doc.fileName);
  if (doc.languageId === 'python' || byName === 'triton') {
    return /@triton\.(jit|autotune|heuristics)/.test(doc.getText()) ? 'triton' : null;
  }
  return byName;
}

interface Cached {
  version: number;
  settingsKey: string;
  report: KernelFileReport;
}

const SEVERITY: Record<KernelDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export class KernelService implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('ridgeline-kernels');
  private analyzer: Promise<KernelAnalyzer> | null = null;
  private readonly cache = new Map<string, Cached>();
  private readonly edits = new Map<string, KernelTextEdit[]>();
  private readonly inflight = new Map<string, Promise<KernelFileReport | undefined>>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  /** Milliseconds the last analysis took (tree-sitter load excluded): shown in the log. */
  lastAnalysisMs = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly settings: () => Settings,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The shared analyzer (tree-sitter loaded on first use). */
  analyzerInstance(): Promise<KernelAnalyzer> {
    return this.getAnalyzer();
  }

  private getAnalyzer(): Promise<KernelAnalyzer> {
    if (!this.analyzer) {
      const wasmDir = path.join(this.context.extensionPath, 'dist', 'wasm');
      const t0 = performance.now();
      this.analyzer = KernelAnalyzer.create(wasmDir).then(
        (a) => {
          this.log.info(`tree-sitter grammars loaded from ${wasmDir} in ${(performance.now() - t0).toFixed(0)} ms`);
          return a;
        },
        (e) => {
          this.analyzer = null;
          throw e;
        },
      );
    }
    return this.analyzer;
  }

  /** Remembers a document's changes so the next analysis re-parses incrementally. */
  noteEdit(e: vscode.TextDocumentChangeEvent): void {
    const key = e.document.uri.toString();
    if (!this.cache.has(key) || e.contentChanges.length === 0) return;
    const list = this.edits.get(key) ?? [];
    for (const c of e.contentChanges) {
      list.push({
        startOffset: c.rangeOffset,
        oldEndOffset: c.rangeOffset + c.rangeLength,
        startLine: c.range.start.line,
        startColumn: c.range.start.character,
        oldEndLine: c.range.end.line,
        oldEndColumn: c.range.end.character,
        newText: c.text,
      });
    }
    this.edits.set(key, list);
  }

  /**
   * The document's kernel report (cached per version and settings); undefined for non-kernel files.
   * Analyses of one document run one after another (the parser keeps one tree per document).
   */
  analyze(doc: vscode.TextDocument, force: boolean): Promise<KernelFileReport | undefined> {
    const key = doc.uri.toString();
    const prev = this.inflight.get(key) ?? Promise.resolve(undefined);
    const next = prev.catch(() => undefined).then(() => this.analyzeNow(doc, force));
    this.inflight.set(key, next);
    const clear = () => {
      if (this.inflight.get(key) === next) this.inflight.delete(key);
    };
    next.then(clear, clear);
    return next;
  }

  private async analyzeNow(doc: vscode.TextDocument, force: boolean): Promise<KernelFileReport | undefined> {
    const lang = kernelLanguage(doc);
    if (!lang) return undefined;
    const s = this.settings();
    const settingsKey = JSON.stringify([s.hardware, s.kernelDims, s.customDevices]);
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (!force && hit && hit.version === doc.version && hit.settingsKey === settingsKey) return hit.report;
    const text = doc.getText();
    if (text.length > MAX_SOURCE_BYTES) {
      this.log.warn(`${doc.fileName}: over 5 MiB; kernel analysis skipped`);
      return undefined;
    }
    const analyzer = await this.getAnalyzer();
    let dev = null;
    try {
      dev = device(s.hardware);
    } catch (e) {
      this.log.warn(`kernel estimates without a device: ${errorLine(e)}`);
    }
    const edits = hit ? this.edits.get(key) : undefined;
    this.edits.delete(key);
    const t0 = performance.now();
    const report = await analyzer.update(key, text, lang, { file: doc.fileName, dims: s.kernelDims, device: dev, edits });
    this.lastAnalysisMs = performance.now() - t0;
    this.cache.set(key, { version: doc.version, settingsKey, report });
    this.diagnostics.set(doc.uri, report.diagnostics.map((d) => toDiagnostic(d)));
    this.changed.fire();
    return report;
  }

  /** Cached report without analyzing (for lens providers that must not block). */
  cached(doc: vscode.TextDocument): KernelFileReport | undefined {
    const hit = this.cache.get(doc.uri.toString());
    return hit && hit.version === doc.version ? hit.report : undefined;
  }

  async refresh(doc: vscode.TextDocument): Promise<void> {
    if (!kernelLanguage(doc)) return;
    try {
      await this.analyze(doc, false);
    } catch (e) {
      this.log.error(`kernel analysis of ${doc.fileName} failed: ${errorLine(e)}`);
    }
  }

  forget(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    this.cache.delete(key);
    this.edits.delete(key);
    this.diagnostics.delete(doc.uri);
    void this.analyzer?.then((a) => a.close(key)).catch(() => undefined);
  }

  invalidate(): void {
    for (const k of this.cache.keys()) this.cache.get(k)!.settingsKey = '';
    for (const doc of vscode.workspace.textDocuments) void this.refresh(doc);
    this.changed.fire();
  }

  dispose(): void {
    this.diagnostics.dispose();
    this.changed.dispose();
    void this.analyzer?.then((a) => a.dispose()).catch(() => undefined);
    this.cache.clear();
  }
}

function toDiagnostic(d: KernelDiagnostic): vscode.Diagnostic {
  const line = Math.max(0, d.line - 1);
  const col = Math.max(0, d.column - 1);
  const endLine = d.endLine !== undefined ? Math.max(line, d.endLine - 1) : line;
  const endCol = d.endColumn !== undefined ? Math.max(0, d.endColumn - 1) : col + 1;
  const range = new vscode.Range(line, col, endLine, endLine === line ? Math.max(endCol, col + 1) : endCol);
  const rule = LINT_RULES.find((r) => r.code === d.code);
  const out = new vscode.Diagnostic(range, `${d.message}${d.fix ? ` Fix: ${d.fix}` : ''}`, SEVERITY[d.severity]);
  out.code = d.code;
  out.source = 'ridgeline';
  if (rule) out.message += ` (${rule.name})`;
  return out;
}

/** Plain lens records for one kernel (also what the tests check). */
export function kernelLenses(k: KernelInfo, uri: vscode.Uri): Array<{ title: string; tooltip?: string; command: string; arguments?: unknown[] }> {
  const out: Array<{ title: string; tooltip?: string; command: string; arguments?: unknown[] }> = [];
  const wg = k.workgroupSize ? k.workgroupSize.join('x') : '?';
  const what = k.language === 'cuda' ? 'block' : k.language === 'triton' ? 'threads' : 'workgroup';
  const smem = k.sharedMemoryBytes === null ? '?' : fmt.bytes(k.sharedMemoryBytes);
  const occ = k.occupancy ? `, occupancy ${Math.round(k.occupancy.occupancy * 100)}% (${k.occupancy.limitedBy})` : '';
  out.push({ title: `$(symbol-function) ${what} ${wg}, shared ${smem}${occ}`, tooltip: k.occupancy?.note, command: 'ridgeline.analyzeKernels', arguments: [uri] });
  const e = k.estimate;
  if (e) {
    const dev = e.device ? `: ${e.device.bound}-bound, ${fmt.seconds(e.device.timeS)} on ${e.device.id}` : '';
    out.push({
      title: `$(pulse) ${fmt.count(e.flops)}FLOP, ${fmt.bytes(e.bytes)}, ${e.intensity.toFixed(2)} FLOP/B${dev}`,
      tooltip: e.notes.join('\n'),
      command: 'ridgeline.analyzeKernels',
      arguments: [uri],
    });
  } else if (k.estimateUnavailable) {
    out.push({ title: `$(info) no estimate: ${k.estimateUnavailable}`, command: 'ridgeline.analyzeKernels', arguments: [uri] });
  }
  if (k.language === 'wgsl') out.push({ title: '$(play) Profile', tooltip: 'Run this kernel on the WebGPU adapter and time it', command: 'ridgeline.profileKernel', arguments: [uri, k.name] });
  return out;
}

class KernelLensProvider implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;
  constructor(
    private readonly service: KernelService,
    private readonly settings: () => Settings,
  ) {
    this.onDidChangeCodeLenses = service.onDidChange;
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!this.settings().codeLensEnabled || !kernelLanguage(doc)) return [];
    const report = await this.service.analyze(doc, false);
    if (!report) return [];
    const out: vscode.CodeLens[] = [];
    for (const k of report.kernels) {
      const line = Math.min(Math.max(0, k.line - 1), doc.lineCount - 1);
      const range = new vscode.Range(line, 0, line, 0);
      for (const l of kernelLenses(k, doc.uri)) out.push(new vscode.CodeLens(range, { title: l.title, tooltip: l.tooltip, command: l.command, arguments: l.arguments }));
    }
    return out;
  }
}

/** Hover on a lint's range: the rule's explanation. */
class KernelHoverProvider implements vscode.HoverProvider {
  constructor(private readonly service: KernelService) {}
  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const report = this.service.cached(doc);
    if (!report) return undefined;
    const k = report.kernels.find((x) => x.line - 1 === pos.line);
    if (!k) return undefined;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${k.name}** (${k.language})\n\n`);
    md.appendMarkdown(`- ${k.language === 'cuda' ? 'block' : 'workgroup'}: ${k.workgroupSize ? k.workgroupSize.join(' x ') : 'unknown'}\n`);
    md.appendMarkdown(`- shared memory: ${k.sharedMemoryBytes === null ? 'unknown' : fmt.bytes(k.sharedMemoryBytes)}\n`);
    if (k.globalLoadsPerThread !== null) md.appendMarkdown(`- global loads / stores per thread: ${k.globalLoadsPerThread} / ${k.globalStoresPerThread ?? '?'}\n`);
    for (const l of k.loops) md.appendMarkdown(`- loop at line ${l.line}${l.variable ? ` (${l.variable})` : ''}: ${l.tripCount ?? '?'} iterations\n`);
    const e = k.estimate;
    if (e) {
      md.appendMarkdown(`- per launch: ${fmt.count(e.flops)}FLOP (${e.dtype}), ${fmt.bytes(e.bytes)}, intensity ${e.intensity.toFixed(2)} FLOP/B\n`);
      if (e.device) md.appendMarkdown(`- on ${e.device.id}: ${e.device.bound}-bound (ridge ${e.device.ridgeIntensity.toFixed(1)} FLOP/B), at least ${fmt.seconds(e.device.timeS)}\n`);
    } else if (k.estimateUnavailable) {
      md.appendMarkdown(`- no estimate: ${k.estimateUnavailable}. Add \`// ridgeline: M=4096 N=4096 K=4096\` above the kernel or set \`ridgeline.kernelDims\`.\n`);
    }
    for (const d of report.diagnostics.filter((x) => x.kernel === k.name)) {
      const rule = LINT_RULES.find((r) => r.code === d.code);
      md.appendMarkdown(`\n**${d.code}** ${rule ? `${rule.name}: ${rule.explanation}` : d.message}\n`);
    }
    return new vscode.Hover(md);
  }
}

/**
 * Quick fix for RL001 in WGSL, where the fix is mechanical: a one-dimensional `@workgroup_size(N)` with a
 * literal N becomes the multiple of the SIMD width the lint suggests.
 */
class KernelCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    if (doc.languageId !== 'wgsl') return out;
    for (const d of ctx.diagnostics) {
      if (d.source !== 'ridgeline' || d.code !== 'RL001') continue;
      const want = /use (\d+) threads/.exec(d.message)?.[1];
      if (!want) continue;
      // The attribute sits on the function's line or up to three lines above it.
      for (let line = d.range.start.line; line >= Math.max(0, d.range.start.line - 3); line--) {
        const text = doc.lineAt(line).text;
        const m = /@workgroup_size\(\s*(\d+)u?\s*\)/.exec(text);
        if (!m) continue;
        const start = m.index + m[0].indexOf(m[1]!);
        const fix = new vscode.CodeAction(`Use @workgroup_size(${want})`, vscode.CodeActionKind.QuickFix);
        fix.edit = new vscode.WorkspaceEdit();
        fix.edit.replace(doc.uri, new vscode.Range(line, start, line, start + m[1]!.length), want);
        fix.diagnostics = [d];
        fix.isPreferred = true;
        out.push(fix);
        break;
      }
    }
    return out;
  }
}

export function registerKernelProviders(r: Ridgeline, subs: vscode.Disposable[]): void {
  const settings = () => r.settings;
  subs.push(
    vscode.languages.registerCodeActionsProvider({ language: 'wgsl' }, new KernelCodeActions(), { providedCodeActionKinds: KernelCodeActions.kinds }),
    vscode.languages.registerCodeLensProvider(KERNEL_SELECTOR, new KernelLensProvider(r.kernels, settings)),
    vscode.languages.registerHoverProvider(KERNEL_SELECTOR, new KernelHoverProvider(r.kernels)),
  );
}

