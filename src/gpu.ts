/**
 * WebGPU from the extension host: Dawn's native module (dist/node_modules/webgpu), loaded on the first
 * benchmark or profile, never at activation. The engine's runner and microbenchmarks do the work; this
 * file adds progress with cancel, the status bar state and the output channel.
 * Callers check workspace trust and ridgeline.allowKernelExecution first (Ridgeline.guardKernelExecution).
 */
import { totalmem } from 'node:os';
import * as vscode from 'vscode';
import type { KernelFileReport } from '../engine/kernels/types';
import type { Device } from './engine';
import { errorLine } from './engine';
import * as fmt from './format';
import type { Settings } from './settings';
import type { StatusBar } from './statusBar';
import { reportProfiledKernels } from './panels/index';

export interface BenchmarkOutcome {
  device: Device;
  adapter: string;
  software: boolean;
  savedTo: string;
  roofs: { bandwidthBytesPerS: number; peakFlopsPerS: { f32: number; f16?: number }; dispatchOverheadS: number };
  kernels: Array<{ name: string; timeS: number; verified: boolean }>;
}

class Cancelled extends Error {}

export class GpuService implements vscode.Disposable {
  private busy = false;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly status: StatusBar,
  ) {}

  /** Measures this machine: bandwidth, peak FLOP/s, dispatch overhead, the engine's kernels; saves the device `this`. */
  async benchmark(opts: { quick?: boolean } = {}): Promise<BenchmarkOutcome | undefined> {
    if (this.busy) {
      void vscode.window.showWarningMessage('Ridgeline: a benchmark or profile is already running.');
      return undefined;
    }
    this.busy = true;
    this.status.setGpu({ kind: 'probing' });
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Ridgeline: measuring this machine', cancellable: true },
        async (progress, token) => {
          const { nodeRunner, closeNodeGpu } = await import('../engine/gpu/node');
          const { runBench, toMeasuredDevice } = await import('../engine/gpu/microbench');
          const { saveMeasuredDevice } = await import('../engine/gpu/measured');
          progress.report({ message: 'finding a WebGPU adapter' });
          const { runner, notes, software } = await nodeRunner();
          try {
            const r = runner.report;
            const adapter = [r.vendor, r.architecture, r.description].filter((s) => s && s !== 'unknown').join(' ') || 'WebGPU adapter';
            this.status.setGpu({ kind: 'ready', adapter, software });
            for (const n of notes) this.log.info(`gpu: ${n}`);
            const quick = opts.quick ?? (software || r.isFallback);
            let steps = 0;
            const result = await runBench(runner, {
              quick,
              progress: (label) => {
                if (token.isCancellationRequested) throw new Cancelled();
                steps++;
                progress.report({ message: label, increment: 8 });
                this.log.info(`bench: ${label}`);
              },
            });
            const memoryBytes = result.adapter.isFallback ? totalmem() : (r.limits.maxBufferSize ?? totalmem());
            const device = toMeasuredDevice(result, { memoryBytes });
            const savedTo = saveMeasuredDevice(device);
            this.log.info(
              `bench: ${adapter}: ${fmt.rate(result.roofs.bandwidthBytesPerS, 'B')}, f32 ${fmt.rate(result.roofs.peakFlopsPerS.f32, 'FLOP')}` +
                `${result.roofs.peakFlopsPerS.f16 ? `, f16 ${fmt.rate(result.roofs.peakFlopsPerS.f16, 'FLOP')}` : ''}, dispatch ${fmt.seconds(result.roofs.dispatchOverheadS)} (${steps} steps); saved ${savedTo}`,
            );
            return {
              device,
              adapter,
              software,
              savedTo,
              roofs: result.roofs,
              kernels: result.kernels.map((k) => ({ name: k.name, timeS: k.timeS, verified: k.verified })),
            };
          } finally {
            runner.destroy();
            closeNodeGpu();
          }
        },
      );
    } catch (e) {
      if (e instanceof Cancelled) {
        this.log.info('bench: cancelled');
        this.status.setGpu({ kind: 'unknown' });
        return undefined;
      }
      const line = errorLine(e);
      if ((e as { exitCode?: number }).exitCode === 3) this.status.setGpu({ kind: 'none', reason: line });
      else this.status.setGpu({ kind: 'unknown' });
      throw e;
    } finally {
      this.busy = false;
    }
  }

  /** Profiles a WGSL kernel: compiled and timed on the adapter (see ProfileOutcome). */
  async profile(doc: vscode.TextDocument, kernel: string | undefined, s: Settings, report: KernelFileReport | undefined): Promise<ProfileOutcome | undefined> {
    const kernels = report?.kernels ?? [];
    if (kernels.length === 0) {
      void vscode.window.showWarningMessage('Ridgeline: no @compute entry point in this file.');
      return undefined;
    }
    let name = kernel;
    if (!name) {
      name = kernels.length === 1 ? kernels[0]!.name : (await vscode.window.showQuickPick(kernels.map((k) => k.name), { placeHolder: 'Kernel to profile' }));
      if (!name) return undefined;
    }
    const k = kernels.find((x) => x.name === name);
    if (!k) throw new Error(`${doc.fileName}: no @compute entry point named "${name}"`);
    if (this.busy) {
      void vscode.window.showWarningMessage('Ridgeline: a benchmark or profile is already running.');
      return undefined;
    }
    this.busy = true;
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Ridgeline: profiling ${name}`, cancellable: false },
        async () => {
          const { profileWgsl } = await import('./profile');
          const out = await profileWgsl(doc.getText(), doc.fileName, k, s, (st) => this.status.setGpu(st));
          this.log.info(`profile ${name}: ${fmt.seconds(out.timeS)} per launch (${out.timing})${out.flopsPerS ? `, ${fmt.rate(out.flopsPerS, 'FLOP')}` : ''}${out.bytesPerS ? `, ${fmt.rate(out.bytesPerS, 'B')}` : ''}`);
          void vscode.window.showInformationMessage(`Ridgeline: ${name}: ${fmt.seconds(out.timeS)} per launch on ${out.adapter}`);
          // The sidebar profiler lists it (click: the kernel's source line).
          reportProfiledKernels([{ name: out.kernel, file: doc.uri.toString(), line: k.line - 1, timeS: out.timeS, flopsPerS: out.flopsPerS, bytesPerS: out.bytesPerS, verified: null }]);
          return out;
        },
      );
    } finally {
      this.busy = false;
    }
  }

  dispose(): void {}
}

export interface ProfileOutcome {
  kernel: string;
  adapter: string;
  timeS: number;
  timing: 'timestamp' | 'wall';
  workgroups: [number, number, number];
  flopsPerS: number | null;
  bytesPerS: number | null;
}
