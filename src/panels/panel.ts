import * as vscode from 'vscode';
import { RidgelineError } from '../../engine/errors';
import { parseConfig } from '../../engine/model/parse';
import { measureModel, type QuantErrorResult } from '../../engine/quant/measure';
import type { ModelSpec } from '../../engine/model/types';
import { checkControls, checkWebviewMessage, type Controls, type HostMessage, type WebviewMessage } from '../../webview/protocol';
import { controlOptions, initialControls, kvData, rooflineData, withEngineFormats, type Defaults, type EngineOptions } from './compute';
import { webviewHtml, webviewOptions } from './html';
import { quantData } from './quant';
import { BUNDLED_SAMPLE } from './sample';
import { editorLine } from '../engine';

export type PanelKind = 'roofline' | 'kv' | 'quant';

export const PANEL_VIEW_TYPES: Record<PanelKind, string> = {
  roofline: 'ridgeline.roofline',
  kv: 'ridgeline.kvPlanner',
  quant: 'ridgeline.quantAdvisor',
};

const TITLES: Record<PanelKind, string> = {
  roofline: 'Roofline',
  kv: 'KV Cache Planner',
  quant: 'Quantization Advisor',
};

/** What a panel keeps across reloads (the webview's getState/setState; handed back to the serializer). */
export interface PanelState {
  view: PanelKind;
  source: string;
  controls: Controls | null;
}

export interface PanelHost {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Workload defaults from the settings. */
  defaults(): Partial<Defaults>;
  engineOptions(): EngineOptions;
  /** Called after each successful analysis (the sidebar lists recent ones). */
  analyzed(kind: PanelKind, source: string, data: HostMessage): void;
  /** Latest render time reported by a webview, for logs and tests. */
  rendered(kind: PanelKind, renderMs: number): void;
  disposed(panel: AnalysisPanel): void;
}

/** Validates state saved by a webview; malformed controls are dropped (the panel starts from the settings). */
export function isPanelState(v: unknown): v is PanelState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  if (!(s.view === 'roofline' || s.view === 'kv' || s.view === 'quant') || typeof s.source !== 'string') return false;
  if (s.controls !== null) {
    try {
      s.controls = checkControls(s.controls);
    } catch {
      s.controls = null;
    }
  }
  return true;
}

/** Reads a config from an open editor (unsaved edits included) or from disk, and parses it. */
export async function loadSpec(source: string): Promise<ModelSpec> {
  if (source === BUNDLED_SAMPLE.source) return parseConfig(BUNDLED_SAMPLE.text, 'llama-3.1-8b.json');
  const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === source || d.uri.toString() === source);
  let text: string;
  if (open) text = open.getText();
  else {
    const uri = source.includes('://') ? vscode.Uri.parse(source) : vscode.Uri.file(source);
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      throw new RidgelineError(`${source}: expected a readable model config (config.json)`, { file: source });
    }
  }
  return parseConfig(text, source);
}

/** One line for the panel, naming its controls where the engine names a CLI option. */
function errorLine(e: unknown): string {
  return editorLine(e, 'panel');
}

/** One roofline / KV / quantization panel bound to one config file. */
export class AnalysisPanel {
  private ready = false;
  private spec: ModelSpec | null = null;
  /**
   * Formats a new engine brought, until the webview shows them: a control it changes before our `init` arrives
   * still carries the old ones (`stale`), which are replaced by `fresh`.
   */
  private engineFormats: { engine: string; stale: Pick<Controls, 'activations' | 'kv'>; fresh: Pick<Controls, 'activations' | 'kv'> } | null = null;
  private controls: Controls | null;
  /** Latest request id seen from the webview (answers to older ones are dropped there). */
  private lastRequestId = 0;
  /** Quantization panel: per-layer error measured on a .safetensors file. */
  private measured: QuantErrorResult | null = null;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly kind: PanelKind,
    readonly panel: vscode.WebviewPanel,
    public source: string,
    controls: Controls | null,
    private readonly host: PanelHost,
  ) {
    this.controls = controls;
    panel.webview.options = webviewOptions(host.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, host.extensionUri, kind, TITLES[kind]);
    panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'icon.svg');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (d.uri.fsPath === this.source) void this.reload();
      }),
    );
  }

  static create(kind: PanelKind, source: string, host: PanelHost): AnalysisPanel {
    const name = source.split(/[\\/]/).slice(-2).join('/');
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPES[kind], `${TITLES[kind]}: ${name}`, vscode.ViewColumn.Beside, {
      ...webviewOptions(host.extensionUri),
      retainContextWhenHidden: false,
    });
    return new AnalysisPanel(kind, panel, source, null, host);
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /**
   * The controls a webview sent, with a new engine's activation and KV formats applied (the webview is sent them,
   * so its controls show them); a message sent before that arrives keeps them too.
   */
  private withEngineChange(c: Controls): Controls {
    const prev = this.controls;
    if (prev !== null && this.spec !== null && prev.engine !== c.engine) {
      const next = withEngineFormats(this.spec, c);
      this.engineFormats = next === c ? null : { engine: c.engine, stale: { activations: c.activations, kv: c.kv }, fresh: { activations: next.activations, kv: next.kv } };
      if (next !== c) this.post({ type: 'init', view: this.kind, controls: next, options: controlOptions() });
      return next;
    }
    const p = this.engineFormats;
    if (p && c.engine === p.engine && c.activations === p.stale.activations && c.kv === p.stale.kv) return { ...c, ...p.fresh };
    this.engineFormats = null;
    return c;
  }

  /** Points the panel at another config (keeps the controls that still apply). */
  async setSource(source: string): Promise<void> {
    this.source = source;
    const name = source.split(/[\\/]/).slice(-2).join('/');
    this.panel.title = `${TITLES[this.kind]}: ${name}`;
    await this.reload();
  }

  private post(msg: HostMessage): void {
    void this.panel.webview.postMessage(msg);
  }

  /** Re-sends the controls' options (a measured device may have appeared) and recomputes. */
  async refresh(): Promise<void> {
    if (!this.ready || !this.spec || !this.controls) return;
    this.post({ type: 'init', view: this.kind, controls: this.controls, options: controlOptions() });
    this.compute(this.lastRequestId);
  }

  private async reload(): Promise<void> {
    this.spec = null;
    if (this.ready) await this.start();
  }

  /** After `ready`: parse the config, send the controls, then the first result. */
  private async start(): Promise<void> {
    try {
      this.spec = await loadSpec(this.source);
    } catch (e) {
      this.host.log.warn(`${TITLES[this.kind]}: ${errorLine(e)}`);
      this.post({ type: 'error', requestId: 0, message: errorLine(e) });
      return;
    }
    if (!this.controls) this.controls = initialControls(this.spec, this.host.defaults());
    this.post({ type: 'init', view: this.kind, controls: this.controls, options: controlOptions() });
    this.compute(0);
  }

  private compute(requestId: number): void {
    if (!this.spec || !this.controls) return;
    const t0 = performance.now();
    try {
      let msg: HostMessage;
      if (this.kind === 'roofline') msg = { type: 'roofline', requestId, data: rooflineData(this.spec, this.source, this.controls, this.host.engineOptions()) };
      else if (this.kind === 'kv') msg = { type: 'kv', requestId, data: kvData(this.spec, this.source, this.controls) };
      else msg = { type: 'quant', requestId, data: quantData(this.spec, this.source, this.controls, this.host.engineOptions(), this.measured) };
      this.host.log.trace(`${TITLES[this.kind]}: engine ${(performance.now() - t0).toFixed(2)} ms (request ${requestId})`);
      this.post(msg);
      this.host.analyzed(this.kind, this.source, msg);
    } catch (e) {
      this.host.log.warn(`${TITLES[this.kind]}: ${errorLine(e)}`);
      this.post({ type: 'error', requestId, message: errorLine(e) });
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const checked = checkWebviewMessage(raw);
    if (!checked.ok) {
      this.host.log.warn(`${TITLES[this.kind]}: dropped a malformed webview message: ${checked.reason}`);
      return;
    }
    const msg: WebviewMessage = checked.value;
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        await this.start();
        break;
      case 'setControls':
        this.controls = this.withEngineChange(msg.controls);
        this.lastRequestId = Math.max(this.lastRequestId, msg.requestId);
        this.compute(msg.requestId);
        break;
      case 'pickSafetensors':
        if (this.kind === 'quant') await this.pickSafetensors();
        break;
      case 'export':
        await this.export(msg.format, msg.fileName, msg.content);
        break;
      case 'rendered':
        this.host.rendered(this.kind, msg.renderMs);
        this.host.log.info(`${TITLES[this.kind]}: rendered request ${msg.requestId} in ${msg.renderMs.toFixed(2)} ms (webview script time)`);
        break;
      case 'refresh':
        await this.reload();
        break;
      case 'openSource':
      case 'runBenchmark':
        this.host.log.warn(`${TITLES[this.kind]}: ${msg.type} is a sidebar message`);
        break;
      default: {
        const never: never = msg;
        void never;
      }
    }
  }

  /** Asks for a .safetensors file (or a sharded model's index) and measures per-layer error on it. */
  private async pickSafetensors(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: { Safetensors: ['safetensors', 'json'] },
      openLabel: 'Measure quantization error',
    });
    const file = picked?.[0];
    if (!file) {
      this.compute(this.lastRequestId);
      return;
    }
    await this.measureSafetensors(file.fsPath);
  }

  async measureSafetensors(path: string): Promise<void> {
    try {
      this.measured = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Ridgeline: measuring quantization error on ${path.split(/[\\/]/).pop()}` },
        // Worker threads (dist/quant-worker.js beside the bundle) keep the extension host responsive.
        async () => measureModel(path),
      );
      this.host.log.info(`Quantization Advisor: measured ${this.measured.tensors.length} tensors of ${path} in ${this.measured.timeS.toFixed(2)} s`);
    } catch (e) {
      this.host.log.warn(`Quantization Advisor: ${errorLine(e)}`);
      this.post({ type: 'error', requestId: this.lastRequestId, message: errorLine(e) });
      return;
    }
    this.compute(this.lastRequestId);
  }

  private async export(format: 'svg' | 'png' | 'csv', fileName: string, content: string): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(this.source.replace(/[\\/][^\\/]*$/, ''));
    const filters: Record<string, string[]> = { svg: { SVG: ['svg'] }, png: { PNG: ['png'] }, csv: { CSV: ['csv'] } }[format];
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(folder, fileName), filters, saveLabel: `Export ${format.toUpperCase()}` });
    if (!target) {
      this.post({ type: 'exported', format, path: null });
      return;
    }
    const bytes = format === 'png' ? Buffer.from(content.slice(content.indexOf(',') + 1), 'base64') : Buffer.from(content, 'utf8');
    await vscode.workspace.fs.writeFile(target, bytes);
    this.host.log.info(`${TITLES[this.kind]}: exported ${format.toUpperCase()} to ${target.fsPath} (${bytes.length} bytes)`);
    this.post({ type: 'exported', format, path: target.fsPath });
  }

  dispose(): void {
    this.host.disposed(this);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
