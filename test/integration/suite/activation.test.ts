import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/commands';
import { api, EXTENSION_ID } from '../helpers';

describe('activation', () => {
  it('activates from the packaged .vsix and stays under 50 ms', async () => {
    const a = await api();
    assert.ok(Number.isFinite(a.activationTimeMs) && a.activationTimeMs > 0, `activationTimeMs is a measured time (${a.activationTimeMs})`);
    assert.ok(a.activationTimeMs < 50, `activate() took ${a.activationTimeMs.toFixed(2)} ms; the budget is 50 ms`);
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.ok(ext.isActive);
    // In code-server the copy under test is the installed .vsix, not the source tree.
    if (process.env.RIDGELINE_TEST_HOST === 'code-server') {
      assert.match(ext.extensionPath, /ridgeline\.ridgeline-\d+\.\d+\.\d+$/, `extension runs from ${ext.extensionPath}`);
    }
  });

  it('ships the bundle, the tree-sitter wasm files and Dawn in the package', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    for (const rel of ['dist/extension.js', 'dist/wasm/tree-sitter.wasm', 'dist/wasm/tree-sitter-cuda.wasm', 'dist/wasm/tree-sitter-wgsl.wasm', 'dist/wasm/tree-sitter-python.wasm', 'dist/node_modules/webgpu/package.json', 'media/schemas/hf-config.schema.json']) {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(ext.extensionUri, rel));
    }
  });

  it('declares every command of the command table, with the same titles, and nothing else', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: Array<{ command: string; title: string; category: string }> } };
    const declared = pkg.contributes.commands.map((c) => `${c.command}=${c.title}`).sort();
    const table = COMMANDS.map((c) => `${c.id}=${c.title}`).sort();
    assert.deepEqual(declared, table);
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'Ridgeline');
  });

  it('registers a handler for every contributed command', async () => {
    await api();
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = COMMANDS.filter((c) => !all.has(c.id)).map((c) => c.id);
    assert.deepEqual(missing, []);
  });

  it('declares limited support for untrusted workspaces, restricting kernel execution', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } } };
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('ridgeline.allowKernelExecution'));
  });
});
