import * as vscode from 'vscode';
import type { KernelFileReport } from '../engine/kernels/types';
import type { Ridgeline } from './ridgeline';
import type { Settings } from './settings';

export class KernelService implements vscode.Disposable {
  constructor(
    readonly context: vscode.ExtensionContext,
    readonly settings: () => Settings,
    readonly log: vscode.LogOutputChannel,
  ) {}
  async analyze(_doc: vscode.TextDocument, _force: boolean): Promise<KernelFileReport | undefined> {
    return undefined;
  }
  async refresh(_doc: vscode.TextDocument): Promise<void> {}
  noteEdit(_e: vscode.TextDocumentChangeEvent): void {}
  forget(_doc: vscode.TextDocument): void {}
  invalidate(): void {}
  dispose(): void {}
}

export function registerKernelProviders(_r: Ridgeline, _subs: vscode.Disposable[]): void {}
