import * as vscode from 'vscode';
import type { Device } from '../../engine/hardware/types';
import { checkWebviewMessage, type KernelRow, type RecentAnalysis, type SidebarData } from '../../webview/protocol';
import { measuredDevice, roofsOf } from '../panels/compute';
import { webviewHtml, webviewOptions } from '../panels/html';

export const SIDEBAR_VIEW_ID = 'ridgeline.profiler';
export const SIDEBAR_CONTAINER_ID = 'ridgeline';
const MAX_RECENT = 8;

/** Software rasterizers report themselves in the adapter string. */
const FALLBACK = /swiftshader|llvmpipe|lavapipe|software|fallback/i;

/**
 * The profiler sidebar: this machine's adapter and measured roofs, a benchmark button (runs the
 * `ridgeline.runBenchmark` command and shows its progress), profiled kernels and recent analyses.
 */
export class ProfilerView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | null = null;
  private kernels: KernelRow[] = [];
  private recent: RecentAnalysis[] = [];
  private bench = { running: false, fraction: 0, message: '' };

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly measured: () => Device | null = measuredDevice,
    /** Called after a benchmark produced a measurement (open panels redraw with the measured roofs). */
    private readonly onMeasured: () => void = () => {},
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'sidebar', 'Ridgeline Profiler');
    view.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m));
    view.onDidChangeVisibility(() => view.visible && this.update());
    view.onDidDispose(() => (this.view = null));
  }

  data(): SidebarData {
    const d = this.measured();
    return {
      adapter: d?.measured ? { description: d.measured.adapter, vendor: d.vendor, isFallback: FALLBACK.test(d.measured.adapter) } : null,
      adapterNote: d ? '' : 'No measurement of this machine yet: run the device benchmark.',
      measuredRoofs: d ? roofsOf(d) : null,
      benchmark: { ...this.bench },
      kernels: [...this.kernels],
      recent: [...this.recent],
    };
  }

  update(): void {
    if (this.view) void this.view.webview.postMessage({ type: 'sidebar', data: this.data() });
  }

  /** Profiled kernels to list (replaces rows with the same file and name). */
  addKernels(rows: KernelRow[]): void {
    const key = (k: KernelRow): string => `${k.file}#${k.name}`;
    const fresh = new Set(rows.map(key));
    this.kernels = [...rows, ...this.kernels.filter((k) => !fresh.has(key(k)))];
    this.update();
  }

  addRecent(r: RecentAnalysis): void {
    this.recent = [r, ...this.recent.filter((x) => !(x.file === r.file && x.hardware === r.hardware && x.label === r.label))].slice(0, MAX_RECENT);
    this.update();
  }

  private async runBenchmark(): Promise<void> {
    if (this.bench.running) return;
    this.bench = { running: true, fraction: 0, message: 'Running the device benchmark…' };
    this.update();
    const t0 = Date.now();
    try {
      // The command's own answer says what happened: a result with a device, a refusal (untrusted workspace,
      // kernel execution off), or nothing (cancelled, or failed and reported). An older measurement on disk
      // is no sign that this run measured anything.
      const result = (await vscode.commands.executeCommand('ridgeline.runBenchmark')) as { device?: unknown; refused?: boolean; reason?: string } | undefined;
      const measuredNow = result?.device !== undefined && this.measured() !== null;
      this.bench = {
        running: false,
        fraction: measuredNow ? 1 : 0,
        message: measuredNow
          ? `Measured in ${((Date.now() - t0) / 1000).toFixed(1)} s`
          : result?.refused
            ? `Not run: ${result.reason ?? 'kernel execution is not allowed here'}`
            : 'The benchmark finished without a measurement: cancelled, or failed (see the Ridgeline output).',
      };
      if (measuredNow) this.onMeasured();
    } catch (e) {
      this.bench = { running: false, fraction: 0, message: `Benchmark failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
    }
    this.update();
  }

  private async onMessage(raw: unknown): Promise<void> {
    const checked = checkWebviewMessage(raw);
    if (!checked.ok) {
      this.log.warn(`Profiler sidebar: dropped a malformed webview message: ${checked.reason}`);
      return;
    }
    const msg = checked.value;
    switch (msg.type) {
      case 'ready':
      case 'refresh':
        this.update();
        break;
      case 'runBenchmark':
        await this.runBenchmark();
        break;
      case 'openSource': {
        // Only files this view listed (profiled kernels, recent analyses) may be opened from the webview.
        if (!this.kernels.some((k) => k.file === msg.file) && !this.recent.some((r) => r.file === msg.file)) {
          this.log.warn(`Profiler sidebar: refused to open ${msg.file}: not a listed kernel or analysis`);
          break;
        }
        const uri = msg.file.includes('://') ? vscode.Uri.parse(msg.file) : vscode.Uri.file(msg.file);
        try {
          const doc = await vscode.workspace.openTextDocument(uri);
          const line = Math.min(msg.line, Math.max(0, doc.lineCount - 1));
          const pos = new vscode.Position(line, 0);
          await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: false });
        } catch {
          this.log.warn(`Profiler sidebar: cannot open ${msg.file}`);
          void vscode.window.showWarningMessage(`Ridgeline: cannot open ${msg.file}`);
        }
        break;
      }
      case 'setControls':
      case 'export':
      case 'rendered':
      case 'pickSafetensors':
        this.log.warn(`Profiler sidebar: unexpected ${msg.type} message`);
        break;
      default: {
        const never: never = msg;
        void never;
      }
    }
  }
}
