import * as assert from 'node:assert/strict';
import { api, hoverText, lenses, open, waitFor } from '../helpers';
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
});
