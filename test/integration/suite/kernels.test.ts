import * as assert from 'node:assert/strict';
import { api, hoverText, lenses, open, setSetting, waitFor } from '../helpers';
import * as vscode from 'vscode';

describe('kernel files: code lenses and hovers', () => {
  before(async () => {
    await api();
  });

  it('WGSL: workgroup size, shared memory, estimate and bound, and Profile', async () => {
    const doc = await open('fixtures/scale.wgsl');
    const titles = await waitFor('kernel lenses', async () => {
      const t = await lenses(doc.uri);
      return t.filter((x) => x.includes('Profile')).length >= 2 ? t : undefined;
    }, 30_000);
    const all = titles.join('\n');
    assert.match(all, /workgroup 256x1x1, shared 0 B/, all);
    assert.match(all, /workgroup 48x1x1/, all);
    // flops=2*N = 2,097,152 (2.1 MFLOP), bytes=12*N = 12 MiB: 0.17 FLOP/B, memory-bound on an H100.
    assert.match(all, /2\.1 MFLOP, 12 MiB, 0\.17 FLOP\/B: memory-bound/, all);
  });

  it('WGSL: hover on a kernel explains its launch and lints', async () => {
    const doc = await open('fixtures/scale.wgsl');
    await waitFor('kernel lenses', async () => ((await lenses(doc.uri)).length > 0 ? true : undefined), 30_000);
    const line = doc.getText().split('\n').findIndex((l) => l.includes('fn odd_shape'));
    const text = await hoverText(doc.uri, new vscode.Position(line, 5));
    assert.match(text, /odd_shape/);
    assert.match(text, /RL001/);
  });

  it('CUDA: lenses above each __global__ kernel', async () => {
    const doc = await open('kernels/gemm_tiled.cu');
    const titles = await waitFor('CUDA lenses', async () => {
      const t = await lenses(doc.uri);
      return t.some((x) => x.includes('block')) ? t : undefined;
    }, 30_000);
    assert.ok(titles.some((t) => /block \d+x\d+x\d+/.test(t)), titles.join('\n'));
  });

  it('Triton: lenses on a @triton.jit kernel in Python', async () => {
    const doc = await open('fixtures/add_kernel.py');
    const titles = await waitFor('Triton lenses', async () => {
      const t = await lenses(doc.uri);
      return t.some((x) => x.includes('threads')) ? t : undefined;
    }, 30_000);
    // num_warps=4 at the launch: 4 x 32 = 128 threads per program.
    assert.ok(titles.some((t) => t.includes('threads 128x1x1')), titles.join('\n'));
  });

  it('edits re-analyze the file incrementally: lenses follow a changed workgroup size', async () => {
    const doc = await open('fixtures/scale.wgsl');
    await waitFor('lenses', async () => ((await lenses(doc.uri)).some((t) => t.includes('workgroup 256x1x1')) ? true : undefined), 30_000);
    const line = doc.getText().split('\n').findIndex((l) => l.includes('@workgroup_size(256)'));
    const col = doc.lineAt(line).text.indexOf('256');
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(line, col, line, col + 3), '128');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('lens with 128x1x1', async () => ((await lenses(doc.uri)).some((t) => t.includes('workgroup 128x1x1')) ? true : undefined), 30_000);
    // A second edit on top of the first (the parser reuses the previous tree with both changes).
    const insert = new vscode.WorkspaceEdit();
    insert.insert(doc.uri, new vscode.Position(0, 0), '// edited\n');
    assert.ok(await vscode.workspace.applyEdit(insert));
    const titles = await waitFor('lenses after an inserted line', async () => {
      const ls = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100);
      const axpy = ls?.find((l) => l.command?.title.includes('workgroup 128x1x1'));
      // The kernel moved down one line: its lens follows it.
      return axpy && doc.lineAt(axpy.range.start.line).text.includes('fn axpy') ? ls!.map((l) => l.command!.title) : undefined;
    }, 30_000);
    assert.ok(titles.some((t) => t.includes('workgroup 48x1x1')), titles.join('\n'));
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('ridgeline.kernelDims supplies the problem size of a kernel without dims', async () => {
    const doc = await open('fixtures/nodims.wgsl');
    await waitFor('"no estimate" lens', async () => ((await lenses(doc.uri)).some((t) => t.includes('no estimate')) ? true : undefined), 30_000);
    await setSetting('kernelDims', { N: 65536 });
    try {
      // flops=N = 65,536 (65.5 KFLOP), bytes=8*N = 524,288 B = 512 KiB.
      const titles = await waitFor('estimate lens', async () => {
        const t = await lenses(doc.uri);
        return t.some((x) => x.includes('65.5 KFLOP, 512 KiB')) ? t : undefined;
      }, 30_000);
      assert.ok(titles.some((t) => /memory-bound/.test(t)), titles.join('\n'));
    } finally {
      await setSetting('kernelDims', undefined);
    }
  });
});

