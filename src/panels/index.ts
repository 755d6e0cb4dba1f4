import * as vscode from 'vscode';
import type { KernelRow } from '../../webview/protocol';
import { costOverrides } from '../engine';
import { readSettings } from '../settings';
import { ProfilerView, SIDEBAR_VIEW_ID } from '../sidebar/provider';
import type { Defaults } from './compute';
import { AnalysisPanel, isPanelState, PANEL_VIEW_TYPES, type PanelHost, type PanelKind } from './panel';
import { BUNDLED_SAMPLE } from './sample';

export { BUNDLED_SAMPLE } from './sample';
export { PANEL_VIEW_TYPES } from './panel';
export { SIDEBAR_VIEW_ID } from '../sidebar/provider';

const COMMAND_PANELS: Array<[string, PanelKind]> = [
  ['ridgeline.showRoofline', 'roofline'],
  ['ridgeline.showKvPlanner', 'kv'],
  ['ridgeline.showQuantAdvisor', 'quant'],
];

let profiler: ProfilerView | null = null;
/** Redraws open panels and the sidebar with the measured device (set by registerPanels). */
let refreshMeasured: () => void = () => {};

/** A benchmark produced a new measured device (from the sidebar or the command palette): redraw with its roofs. */
export function measuredDeviceChanged(): void {
  refreshMeasured();
}
const lastRenderMs: Partial<Record<PanelKind, number>> = {};

/** Lists profiled kernels in the sidebar (click opens the source line). Safe to call before activation ends. */
export function reportProfiledKernels(rows: KernelRow[]): void {
  profiler?.addKernels(rows);
}

/** The latest webview render time (script time, ms) per panel kind: logs and tests read it. */
export function panelRenderTimes(): Partial<Record<PanelKind, number>> {
  return { ...lastRenderMs };
}

function looksLikeConfig(doc: vscode.TextDocument): boolean {
  if (doc.languageId !== 'json' && doc.languageId !== 'jsonc' && !doc.fileName.endsWith('.json')) return false;
  const head = doc.getText().slice(0, 20000);
  return /"(model_type|architectures)"\s*:/.test(head);
}

/** The config a panel command works on: its argument, else the active editor's config, else the bundled sample. */
export function resolveSource(arg: unknown, lastPanelSource: string | null = null): string {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : arg.toString();
  if (typeof arg === 'string' && arg) return arg.startsWith('file://') ? vscode.Uri.parse(arg).fsPath : arg;
  const ed = vscode.window.activeTextEditor;
  if (ed && looksLikeConfig(ed.document)) return ed.document.uri.scheme === 'file' ? ed.document.uri.fsPath : ed.document.uri.toString();
  // From a panel (no text editor active): the config that panel shows, else a visible config editor.
  if (lastPanelSource) return lastPanelSource;
  const visible = vscode.window.visibleTextEditors.find((e) => looksLikeConfig(e.document));
  if (visible) return visible.document.uri.scheme === 'file' ? visible.document.uri.fsPath : visible.document.uri.toString();
  return BUNDLED_SAMPLE.source;
}

/**
 * Registers the roofline, KV-cache and quantization panels (commands and serializers) and the sidebar
 * profiler view. Called once from `activate`; everything it creates is pushed to `context.subscriptions`.
 */
export function registerPanels(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Ridgeline Panels', { log: true });
  context.subscriptions.push(log);
  const panels = new Map<PanelKind, AnalysisPanel>();
  let lastShown: AnalysisPanel | null = null;
  refreshMeasured = () => {
    for (const p of panels.values()) void p.refresh();
    profiler?.update();
  };
  profiler = new ProfilerView(context.extensionUri, log, undefined, () => refreshMeasured());

  const host: PanelHost = {
    extensionUri: context.extensionUri,
    log,
    defaults(): Partial<Defaults> {
      const s = readSettings();
      return {
        hardware: s.hardware,
        engine: s.servingEngine,
        batch: s.batch,
        promptTokens: s.promptTokens,
        cachedPromptTokens: s.cachedPromptTokens,
        generateTokens: s.generateTokens,
        weights: s.weightsFormat,
        activations: s.activationsFormat,
        kv: s.kvFormat,
        tp: s.tensorParallel,
      };
    },
    engineOptions() {
      const s = readSettings();
      return { params: (d) => costOverrides(s, d) };
    },
    analyzed(kind, source, msg) {
      if (kind !== 'roofline' || msg.type !== 'roofline') return;
      const r = msg.data.result;
      profiler?.addRecent({
        label: r.model.name,
        file: source,
        hardware: r.hardware.name,
        decodeTokensPerS: r.decode.tokensPerS,
        prefillTimeS: r.prefill.timeS,
      });
    },
    rendered(kind, ms) {
      lastRenderMs[kind] = ms;
    },
    disposed(p) {
      if (panels.get(p.kind) === p) panels.delete(p.kind);
      if (lastShown === p) lastShown = null;
    },
  };

  const show = async (kind: PanelKind, arg: unknown): Promise<void> => {
    // The quantization advisor also takes a .safetensors file: per-layer error for the current config.
    const weightsFile = kind === 'quant' && arg instanceof vscode.Uri && /\.safetensors$/i.test(arg.path) ? arg.fsPath : null;
    if (weightsFile) arg = undefined;
    const active = [...panels.values()].find((p) => p.panel.active) ?? lastShown;
    const source = resolveSource(arg, active?.source ?? null);
    if (weightsFile) {
      await show(kind, source);
      await panels.get(kind)?.measureSafetensors(weightsFile);
      return;
    }
    const existing = panels.get(kind);
    if (existing) {
      if (existing.source !== source) await existing.setSource(source);
      existing.reveal();
      lastShown = existing;
      return;
    }
    lastShown = AnalysisPanel.create(kind, source, host);
    panels.set(kind, lastShown);
  };

  for (const [id, kind] of COMMAND_PANELS) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        try {
          await show(kind, arg);
        } catch (e) {
          const m = e instanceof Error ? e.message.split('\n')[0] : String(e);
          log.error(`${id}: ${m}`);
          void vscode.window.showErrorMessage(`Ridgeline: ${m}`);
        }
      }),
    );
  }

  // Panels come back after a reload with the config and controls their webview saved.
  for (const kind of Object.keys(PANEL_VIEW_TYPES) as PanelKind[]) {
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPES[kind], {
        async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
          const s = isPanelState(state) && state.view === kind ? state : { view: kind, source: BUNDLED_SAMPLE.source, controls: null };
          const old = panels.get(kind);
          const p = new AnalysisPanel(kind, panel, s.source || BUNDLED_SAMPLE.source, s.controls ?? null, host);
          if (old && old !== p) old.panel.dispose();
          panels.set(kind, p);
          log.info(`restored the ${kind} panel for ${s.source}`);
        },
      }),
    );
  }

  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(SIDEBAR_VIEW_ID, profiler),
    { dispose: () => (profiler = null) },
  );
}
