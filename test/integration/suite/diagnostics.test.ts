import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, open, ridgelineDiagnostics, setSetting, waitFor } from '../helpers';

describe('diagnostics and quick fixes', () => {
  before(async () => {
    await api();
  });
  afterEach(async () => {
    await setSetting('hardware', undefined);
    await setSetting('weightsFormat', undefined);
  });

  it('a config error lands on its field, with a code', async () => {
    const doc = await open('fixtures/broken-config.json');
    const d = await waitFor('RLC001', () => ridgelineDiagnostics(doc.uri).find((x) => x.code === 'RLC001'));
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.match(d.message, /num_hidden_layers/);
    const line = doc.lineAt(d.range.start.line).text;
    assert.match(line, /"num_hidden_layers"/, `diagnostic sits on the field (line: ${line})`);
  });

  it('a misspelled field gets "did you mean" and a rename quick fix that works', async () => {
    const doc = await open('fixtures/typo-config.json');
    const d = await waitFor('RLC005', () => ridgelineDiagnostics(doc.uri).find((x) => x.code === 'RLC005'));
    assert.match(d.message, /did you mean "num_key_value_heads"/);
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range)) ?? [];
    const fix = actions.find((a) => a.title === 'Rename to "num_key_value_heads"');
    assert.ok(fix?.edit, `quick fix offered (got: ${actions.map((a) => a.title).join('; ')})`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.ok(doc.getText().includes('"num_key_value_heads": 8'));
    await waitFor('RLC005 cleared', () => (ridgelineDiagnostics(doc.uri).some((x) => x.code === 'RLC005') ? undefined : true));
    await doc.save();
  });

  it('"does not fit" appears for Llama-2-70B in fp16 on one 80 GB GPU, with quick fixes', async () => {
    await setSetting('hardware', 'h100-sxm');
    const doc = await open('models/llama-2-70b.json');
    // 68,976,648,192 params x 2 bytes = 138 GB of weights > 80 GB.
    const d = await waitFor('RLC003', () => ridgelineDiagnostics(doc.uri).find((x) => x.code === 'RLC003'));
    assert.match(d.message, /Does not fit on .*H100/);
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range)) ?? [];
    const int4 = actions.find((a) => /int4-g128/.test(a.title));
    assert.ok(int4?.command, `int4 quick fix offered (got: ${actions.map((a) => a.title).join('; ')})`);
    await vscode.commands.executeCommand(int4.command.command, ...(int4.command.arguments ?? []));
    assert.equal(vscode.workspace.getConfiguration('ridgeline').get('weightsFormat'), 'int4-g128');
    // int4 g128: 4.25 bits/weight on the linear layers: about 37 GB, fits in 80 GB.
    await waitFor('RLC003 cleared at int4', () => (ridgelineDiagnostics(doc.uri).some((x) => x.code === 'RLC003') ? undefined : true));
  });

  it('under llama.cpp the 4-bit quick fix is its Q4_K_M', async () => {
    await setSetting('hardware', 'h100-sxm');
    await setSetting('weightsFormat', undefined);
    await setSetting('servingEngine', 'llama.cpp');
    try {
      const doc = await open('models/llama-2-70b.json');
      const d = await waitFor('RLC003', () => ridgelineDiagnostics(doc.uri).find((x) => x.code === 'RLC003'));
      const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range)) ?? [];
      const titles = actions.map((a) => a.title).join('; ');
      assert.ok(actions.some((a) => /estimate with q4_k_m weights/.test(a.title)), titles);
      assert.ok(!actions.some((a) => /int4-g128/.test(a.title)), titles);
    } finally {
      await setSetting('servingEngine', undefined);
    }
  });

  it('the JSON schema is attached to config.json: an unknown torch_dtype is flagged by VS Code\'s JSON support', async () => {
    const doc = await open('fixtures/schema/config.json');
    const line = doc.getText().split('\n').findIndex((l) => l.includes('"torch_dtype"'));
    const d = await waitFor(
      'a schema diagnostic on torch_dtype',
      () => vscode.languages.getDiagnostics(doc.uri).find((x) => x.source !== 'ridgeline' && x.range.start.line === line),
      45_000,
    );
    assert.match(d.message, /float32|bfloat16|allowed|enum|Value is not accepted/i, d.message);
  });

  it('kernel lints appear with their codes', async () => {
    const doc = await open('fixtures/scale.wgsl');
    const d = await waitFor('RL001 on odd_shape', () => ridgelineDiagnostics(doc.uri).find((x) => x.code === 'RL001'), 30_000);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.ok(doc.lineAt(d.range.start.line).text.includes('48') || d.message.includes('48'), d.message);
  });

  it('RL001 in WGSL has a quick fix that rounds the workgroup up to the SIMD width', async () => {
    const doc = await open('fixtures/odd_workgroup.wgsl');
    const d = await waitFor('RL001', () => ridgelineDiagnostics(doc.uri).find((x) => x.code === 'RL001'), 30_000);
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range)) ?? [];
    // 40 invocations: the next multiple of 32 is 64.
    const fix = actions.find((a) => a.title === 'Use @workgroup_size(64)');
    assert.ok(fix?.edit, `quick fix offered (got: ${actions.map((a) => a.title).join('; ')})`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(doc.getText(), /@workgroup_size\(64\)/);
    await waitFor('RL001 cleared', () => (ridgelineDiagnostics(doc.uri).some((x) => x.code === 'RL001') ? undefined : true), 30_000);
  });
});
