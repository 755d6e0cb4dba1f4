import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../../engine/analysis';
import type { KernelFileReport } from '../../../engine/kernels/types';
import type { KernelProfile } from '../../../engine/kernels/profile';
import { api, open, setSetting, waitFor, wsUri } from '../helpers';

const CONFIG = 'llama-3.1-8b/config.json';

describe('commands', () => {
  before(async () => {
    await api();
  });
  afterEach(async () => {
    await setSetting('hardware', undefined);
    await setSetting('servingEngine', undefined);
  });

  it('Analyze Model Config returns the engine analysis (published parameter count)', async () => {
    const r = await vscode.commands.executeCommand<AnalysisResult>('ridgeline.analyzeConfig', wsUri(CONFIG));
    assert.ok(r, 'a result');
    assert.equal(r.model.params.total, 8_030_261_248);
    assert.equal(r.model.attention.kind, 'gqa');
    assert.equal(r.kvCache.bytesPerToken, 131_072);
    assert.ok(r.decode.tokensPerS > 0 && Number.isFinite(r.decode.tokensPerS));
  });

  it('Select Hardware updates the setting and the status bar; an unknown id changes nothing', async () => {
    const a = await api();
    const id = await vscode.commands.executeCommand<string>('ridgeline.selectHardware', 'a100-80gb');
    assert.equal(id, 'a100-80gb');
    assert.equal(vscode.workspace.getConfiguration('ridgeline').get('hardware'), 'a100-80gb');
    await waitFor('status bar shows A100', () => (/A100/.test(a.ridgeline.status.hardwareText) ? true : undefined));
    const bad = await vscode.commands.executeCommand<string>('ridgeline.selectHardware', 'h100-sxmm');
    assert.equal(bad, undefined);
    assert.equal(vscode.workspace.getConfiguration('ridgeline').get('hardware'), 'a100-80gb');
  });

  it('Select Hardware writes where the setting takes effect: the workspace settings when the workspace sets it', async () => {
    const cfg = () => vscode.workspace.getConfiguration('ridgeline');
    await cfg().update('hardware', 'l40s', vscode.ConfigurationTarget.Workspace);
    try {
      assert.equal(await vscode.commands.executeCommand<string>('ridgeline.selectHardware', 'a100-80gb'), 'a100-80gb');
      assert.equal(cfg().inspect('hardware')?.workspaceValue, 'a100-80gb');
      assert.equal(cfg().get('hardware'), 'a100-80gb');
    } finally {
      await cfg().update('hardware', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('Select Serving Engine sets the profile the analyses use; an empty id clears it; an unknown id changes nothing', async () => {
    const id = await vscode.commands.executeCommand<string>('ridgeline.selectServingEngine', 'vLLM');
    assert.equal(id, 'vllm');
    assert.equal(vscode.workspace.getConfiguration('ridgeline').get('servingEngine'), 'vllm');
    const analyzed = () => vscode.commands.executeCommand<AnalysisResult>('ridgeline.analyzeConfig', wsUri(CONFIG));
    const r = await waitFor('analysis with the vLLM profile', async () => {
      const x = await analyzed();
      return x?.costModel.servingEngine?.id === 'vllm' ? x : undefined;
    });
    assert.deepEqual(r?.costModel.servingEngine, { id: 'vllm', name: 'vLLM' });
    assert.equal(r?.costModel.forwardOverheadS, 1e-3);
    const bad = await vscode.commands.executeCommand<string>('ridgeline.selectServingEngine', 'vlm');
    assert.equal(bad, undefined);
    assert.equal(vscode.workspace.getConfiguration('ridgeline').get('servingEngine'), 'vllm');
    const cleared = await vscode.commands.executeCommand<string>('ridgeline.selectServingEngine', '');
    assert.equal(cleared, '');
    assert.equal(vscode.workspace.getConfiguration('ridgeline').get('servingEngine'), '');
    await waitFor('analysis without a profile', async () => ((await analyzed())?.costModel.servingEngine === null ? true : undefined));
  });

  it('Analyze Kernels in File finds the WGSL entry points, workgroup sizes and estimates', async () => {
    const r = await vscode.commands.executeCommand<KernelFileReport>('ridgeline.analyzeKernels', wsUri('fixtures/scale.wgsl'));
    assert.ok(r, 'a report');
    assert.deepEqual(r.kernels.map((k) => k.name), ['axpy', 'odd_shape']);
    assert.deepEqual(r.kernels[0]!.workgroupSize, [256, 1, 1]);
    assert.deepEqual(r.kernels[1]!.workgroupSize, [48, 1, 1]);
    // Annotation: flops=2*N, bytes=12*N with N = 1,048,576.
    assert.equal(r.kernels[0]!.estimate?.flops, 2 * 1_048_576);
    assert.equal(r.kernels[0]!.estimate?.bytes, 12 * 1_048_576);
    assert.equal(r.kernels[0]!.estimate?.device?.bound, 'memory');
  });

  it('Analyze Kernels in File reads CUDA launches from samples', async () => {
    const r = await vscode.commands.executeCommand<KernelFileReport>('ridgeline.analyzeKernels', wsUri('kernels/gemm_tiled.cu'));
    assert.ok(r && r.kernels.length >= 1, 'at least one __global__ kernel');
    assert.equal(r.language, 'cuda');
    assert.ok(r.kernels.some((k) => k.workgroupSize !== null), 'a launch shape resolved from <<<grid, block>>>');
  });

  it('Export Report writes Markdown, HTML and JSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ridgeline-report-'));
    for (const [format, ext] of [['markdown', 'md'], ['html', 'html'], ['json', 'json']] as const) {
      const target = vscode.Uri.file(path.join(dir, `report.${ext}`));
      const out = await vscode.commands.executeCommand<vscode.Uri>('ridgeline.exportReport', format, target, wsUri(CONFIG));
      assert.equal(out?.fsPath, target.fsPath, `${format} written`);
      const text = fs.readFileSync(target.fsPath, 'utf8');
      if (format === 'json') assert.equal((JSON.parse(text) as AnalysisResult).model.params.total, 8_030_261_248);
      if (format === 'markdown') assert.match(text, /^# .*H100/m);
      if (format === 'html') assert.match(text, /<html[\s>]/i);
    }
  });

  it('Compare Two Configs puts Llama-2-7B and Llama-2-70B side by side', async () => {
    const r = await vscode.commands.executeCommand<{ a: AnalysisResult; b: AnalysisResult; document: vscode.TextDocument }>(
      'ridgeline.compareConfigs',
      wsUri('models/llama-2-7b.json'),
      wsUri('models/llama-2-70b.json'),
    );
    assert.ok(r);
    // Published: Llama-2-7B 6,738,415,616 and Llama-2-70B 68,976,648,192 parameters.
    assert.equal(r.a.model.params.total, 6_738_415_616);
    assert.equal(r.b.model.params.total, 68_976_648_192);
    const text = r.document.getText();
    assert.match(text, /6,738,415,616/);
    assert.match(text, /68,976,648,192/);
  });

  it('Compare Two Configs takes the two files selected in the Explorer', async () => {
    const a = wsUri('models/mistral-7b-v0.1.json');
    const b = wsUri('models/mixtral-8x7b.json');
    const r = await vscode.commands.executeCommand<{ a: AnalysisResult; b: AnalysisResult }>('ridgeline.compareConfigs', a, [a, b]);
    // Published totals: Mistral-7B 7,241,732,096; Mixtral-8x7B 46,702,792,704. Mixtral active per token:
    // experts are 3 x 4096 x 14336 = 176,160,768 params each, 8 per layer x 32 layers = 45,097,156,608;
    // the rest is 46,702,792,704 - 45,097,156,608 = 1,605,636,096; top-2 adds 2 x 32 x 176,160,768
    // = 11,274,289,152: 12,879,925,248 active.
    assert.equal(r?.a.model.params.total, 7_241_732_096);
    assert.equal(r?.b.model.params.total, 46_702_792_704);
    assert.equal(r?.b.model.params.active, 12_879_925_248);
  });

  it('Open Walkthrough opens the getting-started page', async () => {
    await vscode.commands.executeCommand('ridgeline.openWalkthrough');
    await waitFor('walkthrough tab', () => (vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => /Ridgeline|Walkthrough|Welcome/i.test(t.label)) ? true : undefined), 10_000);
  });

  for (const [id, viewType] of [
    ['ridgeline.showRoofline', 'roofline'],
    ['ridgeline.showKvPlanner', 'kv'],
    ['ridgeline.showQuantAdvisor', 'quant'],
  ] as const) {
    it(`${id} opens its panel for the config`, async () => {
      await open(CONFIG);
      await vscode.commands.executeCommand(id, wsUri(CONFIG));
      await waitFor(`${viewType} webview tab`, () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .some((t) => t.input instanceof vscode.TabInputWebview && new RegExp(viewType, 'i').test(t.input.viewType))
          ? true
          : undefined,
      );
    });
  }

  it('Profile Kernel runs a WGSL kernel on the WebGPU adapter and times it', async function () {
    this.timeout(120_000);
    const r = await vscode.commands.executeCommand<KernelProfile | { refused: true }>('ridgeline.profileKernel', wsUri('fixtures/scale.wgsl'), 'axpy');
    assert.ok(r && !('refused' in r), `profiled (got ${JSON.stringify(r)})`);
    assert.equal(r.kernel, 'axpy');
    // dispatch=N/256 with N = 1,048,576: 4096 workgroups of 256 invocations.
    assert.deepEqual(r.dispatch, [4096, 1, 1]);
    assert.equal(r.invocations, 1_048_576);
    assert.ok(r.timeS > 0 && Number.isFinite(r.timeS));
    // bytes=12*N from the annotation: achieved bandwidth = 12,582,912 B / time.
    assert.ok(r.achievedBandwidthBytesPerS !== null && Math.abs(r.achievedBandwidthBytesPerS - 12_582_912 / r.timeS) < 1e-6 * r.achievedBandwidthBytesPerS);
    assert.equal(r.roofline?.bound, 'memory');
  });

  it('Run Device Benchmark measures this machine and makes it selectable as "this"', async function () {
    this.timeout(180_000);
    const a = await api();
    const r = await vscode.commands.executeCommand<{ device: { id: string; memoryBandwidthBytesPerS: number; peakFlopsPerS: { fp32: number } } }>('ridgeline.runBenchmark');
    assert.ok(r && 'device' in r, `benchmark ran (got ${JSON.stringify(r)?.slice(0, 200)})`);
    assert.equal(r.device.id, 'this');
    assert.ok(r.device.memoryBandwidthBytesPerS > 0 && r.device.peakFlopsPerS.fp32 > 0);
    assert.match(a.ridgeline.status.gpuText, /GPU: /);
    assert.doesNotMatch(a.ridgeline.status.gpuText, /not probed/);
    const id = await vscode.commands.executeCommand<string>('ridgeline.selectHardware', 'this');
    assert.equal(id, 'this');
    const analysis = await vscode.commands.executeCommand<AnalysisResult>('ridgeline.analyzeConfig', wsUri(CONFIG));
    assert.equal(analysis?.hardware.id, 'this');
  });

  it('ridgeline.allowKernelExecution off: the status bar says kernels are off and the benchmark refuses; on again: the measured adapter', async () => {
    const a = await api();
    // The test workspace turns it on in its own settings (harness.mjs): turn it off there.
    const cfg = () => vscode.workspace.getConfiguration('ridgeline');
    const before = cfg().inspect<boolean>('allowKernelExecution')?.workspaceValue;
    try {
      await cfg().update('allowKernelExecution', false, vscode.ConfigurationTarget.Workspace);
      await waitFor('status bar: kernels off', async () => (/kernels off/.test(a.ridgeline.status.gpuText) ? true : undefined));
      const r = await vscode.commands.executeCommand<{ refused?: boolean; reason?: string }>('ridgeline.runBenchmark');
      assert.equal(r?.refused, true);
      assert.match(r?.reason ?? '', /ridgeline\.allowKernelExecution/);
    } finally {
      await cfg().update('allowKernelExecution', before, vscode.ConfigurationTarget.Workspace);
    }
    // On again: the adapter of the measurement the benchmark above left (or "not probed" when run alone).
    const expected = a.ridgeline.measuredDevice() ? /measured \d{4}-\d{2}-\d{2}/ : /not probed/;
    await waitFor('status bar: adapter', async () => (expected.test(a.ridgeline.status.gpuText) ? true : undefined));
  });
});
