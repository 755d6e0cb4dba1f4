/** Shared by the suites: the extension's API, documents of the test workspace, providers run through VS Code. */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RidgelineApi } from '../../src/extension';

export const EXTENSION_ID = 'ridgeline.ridgeline';

export async function api(): Promise<RidgelineApi> {
  const ext = vscode.extensions.getExtension<RidgelineApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  const a = await ext.activate();
  (globalThis as { __ridgelineActivationTimeMs?: number }).__ridgelineActivationTimeMs = a.activationTimeMs;
  return a;
}

export function workspaceRoot(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'a workspace folder is open');
  return f.uri.fsPath;
}

export function wsUri(rel: string): vscode.Uri {
  return vscode.Uri.file(path.join(workspaceRoot(), rel));
}

export async function open(rel: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(wsUri(rel));
  await vscode.window.showTextDocument(doc);
  return doc;
}

export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String((last as Error).message ?? last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export async function lenses(uri: vscode.Uri): Promise<string[]> {
  const ls = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
  return ls.filter((l) => l.command?.title).map((l) => l.command!.title);
}

export async function lensObjects(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  return (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
}

export async function hoverText(uri: vscode.Uri, pos: vscode.Position): Promise<string> {
  const hs = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos)) ?? [];
  return hs
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

/** Position of a top-level key's name in a JSON document. */
export function keyPosition(doc: vscode.TextDocument, key: string): vscode.Position {
  const i = doc.getText().indexOf(`"${key}"`);
  assert.ok(i >= 0, `${key} is in ${doc.fileName}`);
  return doc.positionAt(i + 2);
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('ridgeline').update(key, value, vscode.ConfigurationTarget.Global);
}

export function ridgelineDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ridgeline');
}
