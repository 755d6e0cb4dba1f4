/**
 * WebGPU from the extension host: Dawn's native module (dist/node_modules/webgpu), loaded on the first
 * benchmark or profile, never at activation. The engine's runner and microbenchmarks do the work; this
 * file adds progress with cancel, the status bar state and the output channel.
 * Callers check workspace trust and ridgeline.allowKernelExecution first (Ridgeline.guardKernelExecution).
 */
import { totalmem } from 'node:os';
import * as vscode from 'vscode';
import type { KernelFileReport } from '../engine/kernels/types';
import type { KernelAnalyzer } from '../engine/kernels/analyzer';
import type { KernelProfile } from '../engine/kernels/profile';
import { device, errorLine, type Device } from './engine';
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

  /** A benchmark or profile is running (its kernels are in flight). */
  get running(): boolean {
    return this.busy;
  }

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

  /**
   * Profiles a WGSL kernel with the engine (engine/kernels/profile): buffers and dispatch from its
   * annotation, timed on the adapter, placed on this machine's measured roofline (else the selected
   * hardware's roofs).
   */
  async profile(doc: vscode.TextDocument, kernel: string | undefined, s: Settings, report: KernelFileReport | undefined, analyzer: () => Promise<KernelAnalyzer>): Promise<KernelProfile | undefined> {
    const kernels = report?.kernels ?? [];
    if (kernels.length === 0) {
      void vscode.window.showWarningMessage('Ridgeline: no @compute entry point in this file.');
      return undefined;
    }
    let name = kernel;
    if (!name) {
      name = kernels.length === 1 ? kernels[0]!.name : await vscode.window.showQuickPick(kernels.map((k) => k.name), { placeHolder: 'Kernel to profile' });
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
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Ridgeline: profiling ${name}`, cancellable: false }, async () => {
        const { nodeRunner, closeNodeGpu } = await import('../engine/gpu/node');
        const { loadMeasuredDevice } = await import('../engine/gpu/measured');
        const { profileWgslKernel } = await import('../engine/kernels/profile');
        let roofs: Device | null = null;
        try {
          roofs = loadMeasuredDevice() ?? device(s.hardware);
        } catch (e) {
          this.log.warn(`profile: no roofs to place the kernel on: ${errorLine(e)}`);
        }
        this.status.setGpu({ kind: 'probing' });
        const { runner, notes, software } = await nodeRunner();
        try {
          const r = runner.report;
          this.status.setGpu({ kind: 'ready', adapter: [r.vendor, r.architecture, r.description].filter((x) => x && x !== 'unknown').join(' ') || 'WebGPU adapter', software });
          for (const n of notes) this.log.info(`gpu: ${n}`);
          const p = await profileWgslKernel(runner, await analyzer(), doc.getText(), { file: doc.fileName, kernel: name, dims: s.kernelDims, device: roofs });
          const roof = p.roofline ? `; ${p.roofline.bound}-bound on ${p.roofline.deviceId}, ${(p.roofline.fractionOfRoof * 100).toFixed(1)}% of the roof` : '';
          this.log.info(
            `profile ${p.kernel}: ${fmt.seconds(p.timeS)} per dispatch (${p.timing}) on ${p.adapter}, dispatch ${p.dispatch.join('x')}` +
              `${p.achievedFlopsPerS !== null ? `, ${fmt.rate(p.achievedFlopsPerS, 'FLOP')}` : ''}${p.achievedBandwidthBytesPerS !== null ? `, ${fmt.rate(p.achievedBandwidthBytesPerS, 'B')}` : ''}${roof}`,
          );
          for (const n of p.notes) this.log.info(`  ${n}`);
          void vscode.window.showInformationMessage(`Ridgeline: ${p.kernel}: ${fmt.seconds(p.timeS)} per dispatch on ${p.adapter}${roof}`);
          // The sidebar profiler lists it (click: the kernel's source line).
          reportProfiledKernels([
            { name: p.kernel, file: doc.uri.toString(), line: k.line - 1, timeS: p.timeS, flopsPerS: p.achievedFlopsPerS, bytesPerS: p.achievedBandwidthBytesPerS, verified: null },
          ]);
          return p;
        } finally {
          runner.destroy();
          closeNodeGpu();
        }
      });
    } finally {
      this.busy = false;
    }
  }

  dispose(): void {}
}
