/**
 * Entry point. Activation stays light: it registers providers, commands and listeners and returns; the
 * engine runs when a config or kernel is shown, tree-sitter loads on the first kernel file, Dawn on the
 * first profile or benchmark. The time from the start of activate() to its return is logged and exported.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { CONFIG_SELECTOR, ConfigCodeActions, ConfigHoverProvider, ConfigLensProvider } from './configs';
import { kernelLanguage, registerKernelProviders } from './kernels';
import { registerPanels } from './panels/index';
import { Ridgeline } from './ridgeline';
import { affectsAnalysis } from './settings';

/** What the extension hands to other extensions and to its tests. */
export interface RidgelineApi {
  /** Milliseconds from the start of activate() to its return. */
  activationTimeMs: number;
  ridgeline: Ridgeline;
}

let instance: Ridgeline | undefined;

export function activate(context: vscode.ExtensionContext): RidgelineApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Ridgeline', { log: true });
  context.subscriptions.push(log);
  const r = new Ridgeline(context, log);
  instance = r;
  const subs = context.subscriptions;
  subs.push(r);

  registerCommands(r, subs);

  const settings = () => r.settings;
  subs.push(
    vscode.languages.registerCodeLensProvider(CONFIG_SELECTOR, new ConfigLensProvider(r.configs, settings)),
    vscode.languages.registerHoverProvider(CONFIG_SELECTOR, new ConfigHoverProvider(r.configs, settings)),
    vscode.languages.registerCodeActionsProvider(CONFIG_SELECTOR, new ConfigCodeActions(), { providedCodeActionKinds: ConfigCodeActions.kinds }),
  );
  registerKernelProviders(r, subs);

  // Context keys for the editor menus: Ridgeline's config and kernel commands show only where they apply.
  const updateContext = (editor: vscode.TextEditor | undefined) => {
    const doc = editor?.document;
    void vscode.commands.executeCommand('setContext', 'ridgeline.isModelConfig', doc ? r.configs.isConfig(doc) : false);
    void vscode.commands.executeCommand('setContext', 'ridgeline.isKernelFile', doc ? kernelLanguage(doc) !== null : false);
  };
  subs.push(vscode.window.onDidChangeActiveTextEditor(updateContext));

  // Diagnostics follow the documents; edits are debounced per document.
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  const schedule = (doc: vscode.TextDocument, delayMs: number) => {
    const key = doc.uri.toString();
    clearTimeout(pending.get(key));
    pending.set(
      key,
      setTimeout(() => {
        pending.delete(key);
        r.configs.refreshDiagnostics(doc);
        void r.kernels.refresh(doc);
      }, delayMs),
    );
  };
  subs.push(
    vscode.workspace.onDidOpenTextDocument((d) => schedule(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      r.kernels.noteEdit(e);
      if (e.document === vscode.window.activeTextEditor?.document) updateContext(vscode.window.activeTextEditor);
      schedule(e.document, 250);
    }),
    vscode.workspace.onDidCloseTextDocument((d) => {
      r.configs.forget(d);
      r.kernels.forget(d);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsAnalysis(e)) r.onSettingsChanged();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => r.onSettingsChanged()),
    { dispose: () => pending.forEach((t) => clearTimeout(t)) },
  );

  const tPanels = performance.now();
  registerPanels(context);
  const panelsMs = performance.now() - tPanels;

  // After activate() returns: documents already open, and the adapter measured in an earlier session.
  setTimeout(() => {
    vscode.workspace.textDocuments.forEach((d) => schedule(d, 0));
    updateContext(vscode.window.activeTextEditor);
    r.showMeasuredAdapter();
  }, 0);

  const activationTimeMs = performance.now() - t0;
  log.info(`activated in ${activationTimeMs.toFixed(1)} ms (panels ${panelsMs.toFixed(1)} ms; ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted'} workspace)`);
  return { activationTimeMs, ridgeline: r };
}

export function deactivate(): void {
  instance = undefined;
}

/** The running extension's state (the panels use it for the selected hardware and settings). */
export function current(): Ridgeline | undefined {
  return instance;
}
