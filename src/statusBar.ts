import * as vscode from 'vscode';

/** GPU adapter state as the extension knows it; probing happens only on demand (benchmark, profile). */
export type GpuState =
  | { kind: 'unknown' }
  | { kind: 'probing' }
  | { kind: 'ready'; adapter: string; software: boolean }
  | { kind: 'none'; reason: string }
  | { kind: 'blocked'; reason: string };

/** Two items: the selected hardware (click: pick another) and the GPU adapter (click: run the benchmark). */
export class StatusBar implements vscode.Disposable {
  private readonly hardware = vscode.window.createStatusBarItem('ridgeline.hardware', vscode.StatusBarAlignment.Right, 100);
  private readonly gpu = vscode.window.createStatusBarItem('ridgeline.gpu', vscode.StatusBarAlignment.Right, 99);
  private gpuState: GpuState = { kind: 'unknown' };

  constructor() {
    this.hardware.name = 'Ridgeline: hardware';
    this.hardware.command = 'ridgeline.selectHardware';
    this.gpu.name = 'Ridgeline: GPU adapter';
    this.gpu.command = 'ridgeline.runBenchmark';
    this.renderGpu();
  }

  setHardware(label: string, id: string, problem?: string): void {
    this.hardware.text = `$(server) ${label}`;
    this.hardware.tooltip = problem ? `Ridgeline hardware: ${problem}` : `Ridgeline estimates for ${label} (${id}). Click to select other hardware.`;
    this.hardware.backgroundColor = problem ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.hardware.show();
  }

  get hardwareText(): string {
    return this.hardware.text;
  }

  get gpuText(): string {
    return this.gpu.text;
  }

  setGpu(state: GpuState): void {
    this.gpuState = state;
    this.renderGpu();
  }

  get state(): GpuState {
    return this.gpuState;
  }

  private renderGpu(): void {
    const s = this.gpuState;
    switch (s.kind) {
      case 'unknown':
        this.gpu.text = '$(circuit-board) GPU: not probed';
        this.gpu.tooltip = 'No WebGPU adapter probed yet. Click to run the device benchmark (measures this machine).';
        break;
      case 'probing':
        this.gpu.text = '$(loading~spin) GPU: probing';
        this.gpu.tooltip = 'Looking for a WebGPU adapter';
        break;
      case 'ready':
        this.gpu.text = `$(circuit-board) GPU: ${s.adapter}${s.software ? ' (software)' : ''}`;
        this.gpu.tooltip = `WebGPU adapter: ${s.adapter}${s.software ? ' (software rasterizer: measurements show this machine, not a GPU)' : ''}. Click to run the device benchmark.`;
        break;
      case 'none':
        this.gpu.text = '$(circle-slash) GPU: none';
        this.gpu.tooltip = s.reason;
        break;
      case 'blocked':
        this.gpu.text = '$(shield) GPU: kernels off';
        this.gpu.tooltip = s.reason;
        break;
    }
    this.gpu.show();
  }

  dispose(): void {
    this.hardware.dispose();
    this.gpu.dispose();
  }
}
