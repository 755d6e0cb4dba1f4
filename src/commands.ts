/**
 * Every command of the extension in one table. The contributed ones match package.json
 * `contributes.commands` one to one (a test checks it); `panels` rows are registered by registerPanels.
 */
import * as vscode from 'vscode';
import type { Ridgeline } from './ridgeline';

export interface CommandRow {
  id: string;
  title: string;
  /** Who registers the handler: this table, or src/panels (registerPanels). */
  owner: 'extension' | 'panels';
  run?: (r: Ridgeline, ...args: unknown[]) => unknown;
}

const asUri = (v: unknown): vscode.Uri | undefined => (v instanceof vscode.Uri ? v : typeof v === 'string' && v ? vscode.Uri.parse(v) : undefined);

export const COMMANDS: readonly CommandRow[] = [
  { id: 'ridgeline.analyzeConfig', title: 'Analyze Model Config', owner: 'extension', run: (r, uri) => r.analyzeConfigCommand(asUri(uri)) },
  { id: 'ridgeline.showRoofline', title: 'Show Roofline', owner: 'panels' },
  { id: 'ridgeline.showKvPlanner', title: 'Show KV Cache Planner', owner: 'panels' },
  { id: 'ridgeline.showQuantAdvisor', title: 'Show Quantization Advisor', owner: 'panels' },
  { id: 'ridgeline.selectHardware', title: 'Select Hardware', owner: 'extension', run: (r, id) => r.selectHardwareCommand(typeof id === 'string' ? id : undefined) },
  { id: 'ridgeline.selectServingEngine', title: 'Select Serving Engine', owner: 'extension', run: (r, id) => r.selectServingEngineCommand(typeof id === 'string' ? id : undefined) },
  { id: 'ridgeline.analyzeKernels', title: 'Analyze Kernels in File', owner: 'extension', run: (r, uri) => r.analyzeKernelsCommand(asUri(uri)) },
  {
    id: 'ridgeline.profileKernel',
    title: 'Profile Kernel',
    owner: 'extension',
    run: (r, uri, kernel) => r.profileKernelCommand(asUri(uri), typeof kernel === 'string' ? kernel : undefined),
  },
  { id: 'ridgeline.runBenchmark', title: 'Run Device Benchmark', owner: 'extension', run: (r) => r.runBenchmarkCommand() },
  {
    id: 'ridgeline.exportReport',
    title: 'Export Report (Markdown / HTML / JSON)',
    owner: 'extension',
    run: (r, format, target, config) => r.exportReportCommand(typeof format === 'string' ? format : undefined, asUri(target), asUri(config)),
  },
  {
    id: 'ridgeline.compareConfigs',
    title: 'Compare Two Configs',
    owner: 'extension',
    // From the Explorer with two files selected: (clicked, [selected...]).
    run: (r, a, b) => (Array.isArray(b) && b.length >= 2 ? r.compareConfigsCommand(asUri(b[0]), asUri(b[1])) : r.compareConfigsCommand(asUri(a), asUri(b))),
  },
  { id: 'ridgeline.openWalkthrough', title: 'Open Walkthrough', owner: 'extension', run: (r) => r.openWalkthroughCommand() },
];

/** Commands used by code lenses and quick fixes, not shown in the palette. */
export const INTERNAL_COMMANDS: readonly CommandRow[] = [
  {
    id: 'ridgeline.setWorkloadSetting',
    title: 'Set a workload setting',
    owner: 'extension',
    run: (r, key, value) => (typeof key === 'string' ? r.setSetting(key, value) : undefined),
  },
];

/** Registers the handlers this table owns; everything goes into `subscriptions`. */
export function registerCommands(r: Ridgeline, subscriptions: vscode.Disposable[]): void {
  for (const c of [...COMMANDS, ...INTERNAL_COMMANDS]) {
    if (c.owner !== 'extension' || !c.run) continue;
    const run = c.run;
    subscriptions.push(
      vscode.commands.registerCommand(c.id, async (...args: unknown[]) => {
        try {
          return await run(r, ...args);
        } catch (e) {
          r.reportError(c.title, e);
          return undefined;
        }
      }),
    );
  }
}
