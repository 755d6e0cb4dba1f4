import * as vscode from 'vscode';
import type { KernelFileReport } from '../engine/kernels/types';
import type { Device } from './engine';
import type { Settings } from './settings';
import type { StatusBar } from './statusBar';

export class GpuService implements vscode.Disposable {
  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly status: StatusBar,
  ) {}
  async profile(_doc: vscode.TextDocument, _kernel: string | undefined, _s: Settings, _report: KernelFileReport | undefined): Promise<unknown> {
    return undefined;
  }
  async benchmark(): Promise<{ device?: Device } | undefined> {
    return undefined;
  }
  dispose(): void {}
}
