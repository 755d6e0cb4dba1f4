/**
 * Model configs in the editor: code lenses, hovers, diagnostics and quick fixes on Hugging Face
 * config.json files (recognized by content: `architectures` / `model_type`). The engine computes; this
 * file turns its plain results into vscode types.
 */
import * as vscode from 'vscode';
import { analyzeConfigText, device, editorLine, HOVER_FIELDS, isInputError, whatIfs, type AnalysisResult, type ConfigAnalysis } from './engine';
import * as fmt from './format';
import { likelyTypo, locateKeys, looksLikeModelConfig, type KeyLocation } from './jsonKeys';
import { readSettings, type Settings } from './settings';
import { servingEngine } from '../engine/cost/engines';
import { fourBitFormatFor, weightFormat } from '../engine/quant/formats';
import type { Device } from '../engine/hardware/types';

export const CONFIG_SELECTOR: vscode.DocumentSelector = [
  { language: 'json', scheme: 'file' },
  { language: 'json', scheme: 'untitled' },
  { language: 'jsonc', scheme: 'file' },
];

/** Diagnostic codes for configs (kernel lints use the engine's RL codes). */
export const CONFIG_CODES = {
  invalid: 'RLC001',
  warning: 'RLC002',
  doesNotFit: 'RLC003',
  settings: 'RLC004',
  unknownField: 'RLC005',
} as const;

export interface ConfigState {
  version: number;
  settingsKey: string;
  keys: KeyLocation[];
  analysis?: ConfigAnalysis;
  error?: { message: string; field?: string };
}

/** Analyses of open config documents, recomputed when the text or the settings change. */
export class ConfigService implements vscode.Disposable {
  private readonly cache = new Map<string, ConfigState>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  readonly diagnostics = vscode.languages.createDiagnosticCollection('ridgeline-config');

  constructor(
    private readonly settings: () => Settings,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  isConfig(doc: vscode.TextDocument): boolean {
    return (doc.languageId === 'json' || doc.languageId === 'jsonc') && looksLikeModelConfig(doc.getText());
  }

  /** Analysis of a config document (cached per version and settings); undefined when not a config. */
  state(doc: vscode.TextDocument): ConfigState | undefined {
    if (!this.isConfig(doc)) return undefined;
    const s = this.settings();
    const settingsKey = JSON.stringify(s);
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version && hit.settingsKey === settingsKey) return hit;
    const text = doc.getText();
    const st: ConfigState = { version: doc.version, settingsKey, keys: locateKeys(text) };
    const file = doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.toString();
    try {
      st.analysis = analyzeConfigText(text, file, s);
    } catch (e) {
      st.error = { message: editorLine(e), field: isInputError(e) ? e.field : undefined };
      if (!isInputError(e)) this.log.error(`analysis of ${file} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
    this.cache.set(key, st);
    return st;
  }

  /** Recomputes diagnostics for a document (config or not: non-configs get theirs cleared). */
  refreshDiagnostics(doc: vscode.TextDocument): void {
    const st = this.state(doc);
    if (!st) {
      this.diagnostics.delete(doc.uri);
      return;
    }
    this.diagnostics.set(doc.uri, configDiagnostics(doc, st, this.settings()));
  }

  /** Settings changed: forget cached results, tell lens providers, redo diagnostics of open configs. */
  invalidate(): void {
    this.cache.clear();
    for (const doc of vscode.workspace.textDocuments) this.refreshDiagnostics(doc);
    this.changed.fire();
  }

  forget(doc: vscode.TextDocument): void {
    this.cache.delete(doc.uri.toString());
    this.diagnostics.delete(doc.uri);
  }

  dispose(): void {
    this.changed.dispose();
    this.diagnostics.dispose();
    this.cache.clear();
  }
}

function rangeOf(doc: vscode.TextDocument, k: KeyLocation, part: 'key' | 'value' | 'both' = 'key'): vscode.Range {
  const start = part === 'value' ? k.valueStart : k.keyStart;
  const end = part === 'key' ? k.keyEnd : k.valueEnd;
  return new vscode.Range(doc.positionAt(start), doc.positionAt(end));
}

/** The key a message is about: the error's field, else the first top-level key named in the message. */
function keyFor(st: ConfigState, field: string | undefined, message: string): KeyLocation | undefined {
  const top = st.keys.filter((k) => k.depth === 0);
  if (field) {
    const f = field.replace(/^--/, '');
    const hit = st.keys.find((k) => k.path === f) ?? top.find((k) => k.key === f.split('.').pop());
    if (hit) return hit;
  }
  return top.find((k) => new RegExp(`\\b${k.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(message));
}

function configDiagnostics(doc: vscode.TextDocument, st: ConfigState, s: Settings): vscode.Diagnostic[] {
  const out: vscode.Diagnostic[] = [];
  const whole = new vscode.Range(0, 0, 0, Math.max(1, doc.lineAt(0).text.length));
  const present = new Set(st.keys.filter((k) => k.depth === 0).map((k) => k.key));
  for (const k of st.keys) {
    if (k.depth !== 0) continue;
    const guess = likelyTypo(k.key);
    if (!guess || present.has(guess)) continue;
    const d = new vscode.Diagnostic(rangeOf(doc, k), `Unknown field "${k.key}": did you mean "${guess}"? The cost model ignores unknown fields.`, vscode.DiagnosticSeverity.Warning);
    d.code = CONFIG_CODES.unknownField;
    d.source = 'ridgeline';
    out.push(d);
  }
  if (st.error) {
    const k = keyFor(st, st.error.field, st.error.message);
    const d = new vscode.Diagnostic(k ? rangeOf(doc, k, 'both') : whole, st.error.message, vscode.DiagnosticSeverity.Error);
    d.code = CONFIG_CODES.invalid;
    d.source = 'ridgeline';
    out.push(d);
    // The settings' own problems too: a custom device the settings dropped is why its id is unknown.
    out.push(...settingsDiagnostics(s, whole));
    return out;
  }
  const r = st.analysis!.result;
  const seen = new Set<string>();
  for (const w of [...st.analysis!.spec.warnings, ...r.warnings]) {
    if (seen.has(w)) continue;
    seen.add(w);
    const k = keyFor(st, undefined, w);
    const d = new vscode.Diagnostic(k ? rangeOf(doc, k) : whole, w, vscode.DiagnosticSeverity.Information);
    d.code = CONFIG_CODES.warning;
    d.source = 'ridgeline';
    out.push(d);
  }
  if (!r.memory.fits) {
    const anchor = st.keys.find((k) => k.key === 'model_type') ?? st.keys.find((k) => k.key === 'architectures');
    const d = new vscode.Diagnostic(
      anchor ? rangeOf(doc, anchor) : whole,
      `Does not fit on ${r.hardware.name}: needs ${fmt.bytes(r.memory.totalBytes)} (weights ${fmt.bytes(r.memory.weightsBytes)}, KV cache ${fmt.bytes(r.memory.kvCacheBytes)}) of ${usable(r)} at batch ${r.workload.batch}, ${r.workload.promptTokens + r.workload.generateTokens} tokens${r.workload.tp > 1 ? `, tp ${r.workload.tp}` : ''}`,
      vscode.DiagnosticSeverity.Warning,
    );
    d.code = CONFIG_CODES.doesNotFit;
    d.source = 'ridgeline';
    out.push(d);
  }
  out.push(...settingsDiagnostics(s, whole));
  return out;
}

/** One warning (RLC004) per setting that was out of range or a custom device that was dropped. */
function settingsDiagnostics(s: Settings, range: vscode.Range): vscode.Diagnostic[] {
  return s.problems.map((p) => {
    const d = new vscode.Diagnostic(range, p, vscode.DiagnosticSeverity.Warning);
    d.code = CONFIG_CODES.settings;
    d.source = 'ridgeline';
    return d;
  });
}

/** Lenses above the config: parameters, weights, KV bytes/token, decode speed and bound (click: roofline). */
export class ConfigLensProvider implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;
  constructor(
    private readonly service: ConfigService,
    private readonly settings: () => Settings,
  ) {
    this.onDidChangeCodeLenses = service.onDidChange;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.settings().codeLensEnabled) return [];
    const st = this.service.state(doc);
    if (!st) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    if (st.error) {
      return [new vscode.CodeLens(top, { title: `$(error) Ridgeline: ${st.error.message}`, command: 'workbench.actions.view.problems' })];
    }
    return configLenses(st.analysis!.result).map((l) => new vscode.CodeLens(top, { title: l.title, tooltip: l.tooltip, command: l.command, arguments: [doc.uri] }));
  }
}

/** "72 GiB usable (90% of 80 GiB)": the memory a fit is judged against. */
function usable(r: AnalysisResult): string {
  return `${fmt.bytes(r.memory.usableBytes)} usable (${Math.round(r.memory.utilization * 100)}% of ${fmt.bytes(r.memory.deviceBytes)})`;
}

/** Plain lens records for a result (also what the tests compare with the engine's numbers). */
export function configLenses(r: AnalysisResult): Array<{ title: string; tooltip: string; command: string }> {
  const p = r.model.params;
  const moe = p.active !== p.total;
  const w = r.workload;
  // Under tensor parallelism memory is per device and the KV bytes per token are the whole model's: say which.
  const tp = w.tp > 1;
  return [
    {
      title: `$(symbol-numeric) ${fmt.count(p.total)} params${moe ? ` (${fmt.count(p.active)} active)` : ''}`,
      tooltip: `${p.total.toLocaleString('en-US')} parameters${moe ? `, ${p.active.toLocaleString('en-US')} active per token` : ''}`,
      command: 'ridgeline.analyzeConfig',
    },
    {
      title: `$(database) weights ${fmt.bytes(r.memory.weightsBytes)}${tp ? ' per device' : ''} (${w.weights}${tp ? `, tp ${w.tp}` : ''})`,
      tooltip: `Weights in ${w.weights}${tp ? `, split over ${w.tp} devices` : ''}; total ${fmt.bytes(r.memory.totalBytes)} of ${usable(r)} on ${tp ? 'each ' : ''}${r.hardware.name}: ${r.memory.fits ? 'fits' : 'does NOT fit'}`,
      command: 'ridgeline.showKvPlanner',
    },
    {
      title: `$(layers) KV ${fmt.bytes(r.kvCache.bytesPerToken)}/token (${r.kvCache.format}${tp ? ', whole model' : ''})`,
      tooltip: `KV cache at batch ${w.batch}, ${w.promptTokens}+${w.generateTokens} tokens: ${fmt.bytes(r.memory.kvCacheBytes)}${tp ? ' per device' : ''}`,
      command: 'ridgeline.showKvPlanner',
    },
    {
      title: `$(pulse) decode ${fmt.tokensPerS(r.decode.tokensPerS)} on ${r.hardware.name}${tp ? ` x ${w.tp}` : ''}${r.costModel.servingEngine ? ` with ${r.costModel.servingEngine.name}` : ''}, ${r.decode.bound}-bound`,
      tooltip: `Decode step ${fmt.seconds(r.decode.timeS)} at batch ${w.batch} (${r.decode.bound}-bound); prefill (TTFT) ${fmt.seconds(r.prefill.timeS)} (${r.prefill.bound}-bound${w.cachedPromptTokens ? `, ${w.cachedPromptTokens} of ${w.promptTokens} prompt tokens from the prefix cache` : ''}); host work ${fmt.seconds(r.costModel.forwardOverheadS)} per forward pass${r.costModel.sequenceOverheadS > 0 ? ` plus ${fmt.seconds(r.costModel.sequenceOverheadS)} per sequence` : ''} (${r.costModel.servingEngine ? `${r.costModel.servingEngine.name} profile` : 'cost model defaults'}). ${evidenceTooltip(r)} Click for the roofline.`,
      command: 'ridgeline.showRoofline',
    },
  ];
}

/** One sentence on the published measurements behind the prediction (AnalysisResult.evidence). */
export function evidenceTooltip(r: AnalysisResult): string {
  const h = r.evidence.hardware;
  if (!h) return 'No published measurement covers this device: the prediction is untested on it.';
  if (h.rows === 0) return `No published measurement on ${r.hardware.name} in the validation table: the prediction is untested on it.`;
  const e = r.evidence.servingEngine;
  const engine = r.costModel.servingEngine?.name ?? 'the defaults (TensorRT-LLM)';
  return `Published measurements on ${r.hardware.name}: ${h.within15} of ${h.rows} predicted within 15%${e ? (e.rows === 0 ? `, none with ${engine}` : `, ${e.within15} of ${e.rows} with ${engine}`) : ''} (\`ridgeline validate --hardware ${r.hardware.id}\`).`;
}

/** Hovers on cost-relevant fields: what the field costs and the effect of changing it, recomputed by the engine. */
export class ConfigHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly service: ConfigService,
    private readonly settings: () => Settings,
  ) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const st = this.service.state(doc);
    if (!st?.analysis) return undefined;
    const offset = doc.offsetAt(pos);
    // Top-level fields, and those of a multimodal config's text_config (the language model analyzed).
    // The innermost key under the cursor (text_config's value spans its fields).
    const k = st.keys
      .filter((x) => (x.depth === 0 || (x.depth === 1 && x.path === `text_config.${x.key}`)) && offset >= x.keyStart && offset <= x.valueEnd)
      .sort((x, y) => y.depth - x.depth)[0];
    if (!k || !HOVER_FIELDS.includes(k.key)) return undefined;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(doc.getText()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const scope = k.depth === 1 && raw.text_config && typeof raw.text_config === 'object' ? 'text_config' : undefined;
    if (k.depth === 1 && !scope) return undefined;
    const md = hoverMarkdown(k.key, raw, doc.uri.fsPath, this.settings(), st.analysis, scope);
    return md ? new vscode.Hover(md, rangeOf(doc, k)) : undefined;
  }
}

export function hoverMarkdown(field: string, raw: Record<string, unknown>, file: string, s: Settings, current: ConfigAnalysis, scope?: 'text_config'): vscode.MarkdownString | undefined {
  const { info, results } = whatIfs(raw, file, field, s, current, scope);
  const spec = current.spec;
  const before = current.result;
  if (!info) return undefined;
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**\`${field}\`**: ${info.what}\n\n`);
  const r = before;
  const tp = r.workload.tp > 1;
  const perDevice = tp ? ' per device' : '';
  // Windowed layers stop adding KV at their window: a per-1k figure holds only below it.
  const windows = spec.layerGroups.map((g) => g.window).filter((x): x is number => x !== null);
  const upTo = windows.length ? `, up to the ${Math.min(...windows).toLocaleString('en-US')}-token window of the windowed layers` : '';
  const wholeModel = tp ? ', whole model' : '';
  md.appendMarkdown(
    `Now on ${r.hardware.name}${tp ? ` x ${r.workload.tp} (tp)` : ''} (batch ${r.workload.batch}, ${r.workload.promptTokens}+${r.workload.generateTokens} tokens): ` +
      `${fmt.count(r.model.params.total)} params, weights ${fmt.bytes(r.memory.weightsBytes)}${perDevice}, ` +
      `KV ${fmt.bytes(r.kvCache.bytesPerToken * 1024)} per 1k tokens${wholeModel}${upTo}, decode ${fmt.tokensPerS(r.decode.tokensPerS)}.\n\n`,
  );
  if (info.unused) md.appendMarkdown(`It does not enter this model's cost: ${info.unused}\n\n`);
  // A change under 0.05% reads as none.
  const pct = (d: number, base: number) => (base > 0 && Math.abs(d / base) >= 5e-4 ? fmt.percent(d / base) : null);
  for (const w of results) {
    const where = w.workloadLabel ? ` (${w.workloadLabel})` : '';
    if (!w.after) {
      md.appendMarkdown(`If you ${w.label}${where}: the changed config cannot be analyzed at these settings (${w.error}).\n\n`);
      continue;
    }
    const a = w.after;
    const b = w.before;
    const lines: string[] = [];
    const dp = a.model.params.total - b.model.params.total;
    if (dp !== 0) lines.push(`params ${fmt.delta(dp, fmt.count)}`);
    const da = a.model.params.active - b.model.params.active;
    if (da !== 0 && (a.model.params.active !== a.model.params.total || b.model.params.active !== b.model.params.total)) lines.push(`active params ${fmt.delta(da, fmt.count)} (${fmt.count(a.model.params.active)})`);
    const dw = a.memory.weightsBytes - b.memory.weightsBytes;
    if (dw !== 0) lines.push(`weights ${fmt.delta(dw, fmt.bytes)}${perDevice}`);
    const dkv = (a.kvCache.bytesPerToken - b.kvCache.bytesPerToken) * 1024;
    if (dkv !== 0) lines.push(`KV cache ${dkv < 0 ? 'saves' : 'adds'} ${fmt.bytes(Math.abs(dkv))} per 1k tokens of context${wholeModel}${upTo}`);
    const dk = a.memory.kvCacheBytes - b.memory.kvCacheBytes;
    if (w.workloadLabel) lines.push(`KV cache ${fmt.bytes(a.memory.kvCacheBytes)}${perDevice}${dk !== 0 ? ` (${fmt.delta(dk, fmt.bytes)})` : ''}, total ${fmt.bytes(a.memory.totalBytes)} of ${fmt.bytes(a.memory.usableBytes)} usable`);
    else if (dk !== 0) lines.push(`KV cache at this workload ${fmt.delta(dk, fmt.bytes)}${perDevice}`);
    // At another workload the base differs from the "Now" line: say where each change starts from.
    const from = (x: string) => (w.workloadLabel ? ` from ${x}` : '');
    const dtp = pct(a.decode.tokensPerS - b.decode.tokensPerS, b.decode.tokensPerS);
    if (dtp) lines.push(`decode ${fmt.tokensPerS(a.decode.tokensPerS)} (${dtp}${from(fmt.tokensPerS(b.decode.tokensPerS))})`);
    const dpf = pct(a.prefill.timeS - b.prefill.timeS, b.prefill.timeS);
    if (dpf) lines.push(`prefill ${fmt.seconds(a.prefill.timeS)} (${dpf}${from(fmt.seconds(b.prefill.timeS))})`);
    if (a.memory.fits !== b.memory.fits) lines.push(a.memory.fits ? 'now fits' : 'no longer fits');
    else if (w.workloadLabel) lines.push(a.memory.fits ? 'fits' : 'does not fit');
    if (field === 'torch_dtype' && s.weightsFormat && lines.length) lines.push(`the weights stay ${s.weightsFormat} (ridgeline.weightsFormat)`);
    md.appendMarkdown(`If you ${w.label}${where}: ${lines.length ? lines.join('; ') : noChange(field, s)}.\n\n`);
  }
  return md;
}

/**
 * Why a what-if changed nothing: the format settings, or the serving engine's profile (llama.cpp: an fp16 cache,
 * fp16 activations for quantized weights), decide every format; or the layout does not use the field.
 */
function noChange(field: string, s: Settings): string {
  if (field === 'torch_dtype') {
    const set = (['weightsFormat', 'activationsFormat', 'kvFormat'] as const).filter((k) => s[k]).map((k) => `ridgeline.${k}`);
    const fixed = engineFixedFormats(s);
    if (fixed) set.push(fixed);
    if (set.length) return `no change in cost (${set.join(', ')} set the formats; only those left to the dtype follow it)`;
  }
  return 'no change in cost';
}

/** The formats the serving engine's profile fixes where the settings leave them to the dtype, in words; '' for none. */
function engineFixedFormats(s: Settings): string {
  if (!s.servingEngine) return '';
  try {
    const e = servingEngine(s.servingEngine);
    const parts: string[] = [];
    if (e.kvCache && !s.kvFormat) parts.push(`the ${e.kvCache} KV cache`);
    if (e.quantizedActivations && !s.activationsFormat && s.weightsFormat && weightFormat(s.weightsFormat).bitsPerWeight < 16) parts.push(`${e.quantizedActivations} activations`);
    return parts.length ? `the ${e.name} profile (${parts.join(' and ')})` : '';
  } catch {
    return '';
  }
}

/** A weight format id as the catalog normalizes it, or null for an id it does not hold. */
function weightFormatIdOrNull(id: string): string | null {
  try {
    return weightFormat(id).id;
  } catch {
    return null;
  }
}

/** Quick fixes for "does not fit": a smaller weight format, tensor parallelism, other hardware. */
export class ConfigCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source === 'ridgeline' && d.code === CONFIG_CODES.unknownField) {
        const guess = /did you mean "([^"]+)"/.exec(d.message)?.[1];
        if (!guess) continue;
        const fix = new vscode.CodeAction(`Rename to "${guess}"`, vscode.CodeActionKind.QuickFix);
        fix.edit = new vscode.WorkspaceEdit();
        fix.edit.replace(doc.uri, d.range, JSON.stringify(guess));
        fix.diagnostics = [d];
        fix.isPreferred = true;
        out.push(fix);
        continue;
      }
      if (d.source !== 'ridgeline' || d.code !== CONFIG_CODES.doesNotFit) continue;
      // A 4-bit format the serving engine and the GPU run: llama.cpp's Q4_K_M, NVFP4 on Blackwell, else int4-g128.
      const s = readSettings();
      let gpu: Pick<Device, 'peakFlopsPerS' | 'vendor'> = { peakFlopsPerS: {}, vendor: 'custom' };
      try {
        gpu = device(s.hardware);
      } catch {
        // An unknown hardware id is reported by the diagnostics; suggest the format any GPU runs.
      }
      const fmt4 = fourBitFormatFor(gpu, s.servingEngine || undefined);
      // Already estimated with it (and still too large): the other fixes only.
      const current = s.weightsFormat ? weightFormatIdOrNull(s.weightsFormat) : null;
      if (current !== fmt4) {
        const int4 = new vscode.CodeAction(`Ridgeline: estimate with ${fmt4} weights (setting ridgeline.weightsFormat)`, vscode.CodeActionKind.QuickFix);
        int4.command = { title: `${fmt4} weights`, command: 'ridgeline.setWorkloadSetting', arguments: ['weightsFormat', fmt4] };
        int4.diagnostics = [d];
        int4.isPreferred = true;
        out.push(int4);
      }
      const hw = new vscode.CodeAction('Ridgeline: select other hardware', vscode.CodeActionKind.QuickFix);
      hw.command = { title: 'Select Hardware', command: 'ridgeline.selectHardware' };
      hw.diagnostics = [d];
      out.push(hw);
    }
    return out;
  }
}
