import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../../engine/analysis';
import { api, lenses, open, waitFor, wsUri } from '../helpers';

describe('untrusted workspace', () => {
  it('the workspace is not trusted, and the status bar says kernels are off before anything runs', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const a = await api();
    assert.match(a.ridgeline.status.gpuText, /kernels off/);
  });

  it('analysis works: lenses and Analyze Model Config', async () => {
    await api();
    const doc = await open('llama-3.1-8b/config.json');
    await waitFor('lenses', async () => ((await lenses(doc.uri)).some((t) => t.includes('8.03 B params')) ? true : undefined));
    const r = await vscode.commands.executeCommand<AnalysisResult>('ridgeline.analyzeConfig', doc.uri);
    assert.equal(r?.model.params.total, 8_030_261_248);
  });

  it('Profile Kernel refuses to run a kernel', async () => {
    const r = await vscode.commands.executeCommand<{ refused?: boolean; reason?: string }>('ridgeline.profileKernel', wsUri('fixtures/scale.wgsl'), 'axpy');
    assert.equal(r?.refused, true);
    assert.match(r?.reason ?? '', /untrusted/);
  });

  it('Run Device Benchmark refuses, and the status bar says kernels are off', async () => {
    const a = await api();
    const r = await vscode.commands.executeCommand<{ refused?: boolean; reason?: string }>('ridgeline.runBenchmark');
    assert.equal(r?.refused, true);
    assert.match(a.ridgeline.status.gpuText, /kernels off/);
  });
});
