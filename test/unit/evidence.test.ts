import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, defaultWorkload } from '../../engine/model/index';
import { clearRegisteredDevices, getDevice, listDevices, registerDevices } from '../../engine/hardware/index';
import { analyze } from '../../engine/analyze';
import { evidenceFor } from '../../engine/cost/evidence';
import { validationRows } from '../../engine/cost/validate';
import { evidenceText, renderAnalysisMarkdown } from '../../engine/report/analysis';

const root = join(import.meta.dirname, '..', '..');
const samples = join(root, 'samples');
const cli = join(root, 'dist', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('evidence: every built-in device counts its validation rows and those within 15%, per engine and per metric', () => {
  const rows = validationRows();
  let covered = 0;
  for (const d of listDevices()) {
    const on = rows.filter((r) => r.hardware === d.id);
    const ev = evidenceFor(d, null);
    assert.ok(ev.hardware, d.id);
    assert.equal(ev.hardware.rows, on.length, d.id);
    assert.equal(ev.hardware.within15, on.filter((r) => Math.abs(r.predictionErrorAtCommit!) <= 0.15).length, d.id);
    const m = ev.hardware.byMetric;
    assert.equal(m.ttft.rows + m.tpot.rows + m.e2e.rows, on.length, d.id);
    assert.equal(m.tpot.rows, on.filter((r) => r.metric === 'tpotS').length, d.id);
    for (const engine of ['tensorrt-llm', 'vllm', 'vllm-v0', 'fastertransformer', 'llama.cpp']) {
      const e = evidenceFor(d, engine).servingEngine!;
      assert.equal(e.id, engine);
      assert.equal(e.rows, on.filter((r) => r.servingEngine === engine).length, `${d.id} ${engine}`);
    }
    // No profile: the defaults, which are TensorRT-LLM's.
    assert.equal(ev.servingEngine!.id, 'tensorrt-llm');
    if (on.length > 0) covered++;
  }
  assert.ok(covered >= 10, `${covered} devices with published measurements`);
});

test('evidence: worked by hand for llama.cpp on the H100 PCIe (eight llama-bench rows, the prompts missed) and for a device with none', () => {
  // The rows' recorded errors: F16 generation -3.8% and -4.2%, F16 prompts -33.5% and -37.2%; Q4_K_M generation
  // -22.8% and -21.0%, Q4_K_M prompts -31.4% and -35.2%.
  const ev = evidenceFor(getDevice('h100-pcie'), 'llama.cpp');
  assert.equal(ev.hardware!.rows, 8);
  assert.equal(ev.hardware!.within15, 2);
  assert.deepEqual(ev.hardware!.byMetric, { ttft: { rows: 4, within15: 0 }, tpot: { rows: 4, within15: 2 }, e2e: { rows: 0, within15: 0 } });
  // Median of |errors| 0.038, 0.042, 0.210, 0.228, 0.314, 0.335, 0.352, 0.372: (0.228 + 0.314) / 2.
  assert.ok(Math.abs(ev.hardware!.medianAbsError - 0.271) < 1e-12);
  assert.equal(ev.servingEngine!.rows, 8);
  assert.equal(evidenceFor(getDevice('h100-pcie'), 'vllm').servingEngine!.rows, 0);
  const l4 = evidenceFor(getDevice('l4'), null);
  assert.equal(l4.hardware!.rows, 0);
  assert.equal(l4.servingEngine!.rows, 0);
});

test('evidence: only the database\'s own devices carry it (a copy does; an edited, replaced or measured device does not)', () => {
  const a100 = getDevice('a100-80gb');
  assert.ok(evidenceFor({ ...a100 }, null).hardware!.rows > 0);
  assert.equal(evidenceFor({ ...a100, memoryBandwidthBytesPerS: 3e12 }, null).hardware, null);
  assert.equal(evidenceFor({ ...a100, measured: { adapter: 'x', dispatchOverheadS: 5e-6, dateIso: '2026-01-01T00:00:00Z' } }, null).hardware, null);
  registerDevices([{ ...a100, name: 'My A100', source: 'my lab' }], 'test');
  try {
    assert.deepEqual(evidenceFor(getDevice('a100-80gb'), null), { hardware: null, servingEngine: null });
  } finally {
    clearRegisteredDevices();
  }
  assert.ok(evidenceFor(getDevice('a100-80gb'), null).hardware!.rows > 0);
});

test('evidence: analyze reports it, and the table, Markdown and JSON say it', () => {
  const spec = loadConfigFile(join(samples, 'llama-3-8b.json'));
  const r = analyze(spec, defaultWorkload(spec, { promptTokens: 512, generateTokens: 128 }), getDevice('h100-pcie'), { servingEngine: 'llama.cpp', sweeps: false });
  assert.deepEqual(r.evidence, evidenceFor(getDevice('h100-pcie'), 'llama.cpp'));
  const text = evidenceText(r);
  assert.match(text, /^evidence: 2 of 8 published measurements on NVIDIA H100 PCIe 80GB predicted within 15% \(median error 27\.1%; TTFT 0 of 4, TPOT 2 of 4\); with llama\.cpp: 2 of 8 within 15% \(median error 27\.1%\); `ridgeline validate --hardware h100-pcie` lists them$/);
  assert.ok(renderAnalysisMarkdown(r).includes('Evidence: 2 of 8 published measurements'));
  const none = analyze(spec, defaultWorkload(spec), getDevice('l4'), { sweeps: false });
  assert.match(evidenceText(none), /holds no published measurement on NVIDIA L4 24GB: the prediction is untested on this device/);
  const j = run('analyze', join(samples, 'llama-2-7b.json'), '--hardware', 'a100-80gb', '--engine', 'vllm', '--format', 'json');
  assert.equal(j.status, 0, j.stderr);
  const ev = JSON.parse(j.stdout).evidence;
  assert.deepEqual(ev, JSON.parse(JSON.stringify(evidenceFor(getDevice('a100-80gb'), 'vllm'))));
  assert.equal(ev.servingEngine.id, 'vllm');
  const t = run('analyze', join(samples, 'llama-2-7b.json'), '--hardware', 'a100-80gb');
  assert.match(t.stdout, /^evidence: \d+ of \d+ published measurements on NVIDIA A100 SXM4 80GB .*with TensorRT-LLM \(the defaults\): \d+ of \d+ within 15%/m);
});

test('cli: validate filters by --hardware and --engine, and --record writes the current errors into a table file', () => {
  const r = run('validate', '--hardware', 'h100-pcie', '--engine', 'llama.cpp', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { rows: { id: string; hardware: string; servingEngine: string }[] };
  assert.deepEqual(j.rows.map((x) => x.id), validationRows().filter((x) => x.hardware === 'h100-pcie' && x.servingEngine === 'llama.cpp').map((x) => x.id));
  assert.equal(j.rows.length, 8);
  const none = run('validate', '--hardware', 'l4');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--hardware: expected filters that some row of the table matches/);
  assert.match(run('validate', '--hardware', 'h100-sxn').stderr, /unknown hardware id "h100-sxn"; close matches: h100-sxm/);
  assert.match(run('validate', '--engine', 'vlm').stderr, /unknown serving engine "vlm"; close matches: vllm/);
  assert.match(run('validate', '--table', 'x.json').stderr, /--table: expected with --record/);

  // The table is current, so recording it rewrites it byte for byte; a stale figure is put back.
  const original = readFileSync(join(root, 'engine', 'cost', 'validation.json'), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'rl-record-'));
  const copy = join(dir, 'validation.json');
  copyFileSync(join(root, 'engine', 'cost', 'validation.json'), copy);
  const same = run('validate', '--record', '--table', copy);
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stderr, /recorded the errors of \d+ rows in /);
  assert.equal(readFileSync(copy, 'utf8'), original);
  const id = 'llamacpp-xd-ttft-h100-pcie-llama-3-8b-f16-pp512';
  const table = JSON.parse(original) as { rows: { id: string; predictionErrorAtCommit: number }[] };
  table.rows.find((x) => x.id === id)!.predictionErrorAtCommit = 0.5;
  writeFileSync(copy, JSON.stringify(table, null, 1) + '\n');
  assert.equal(run('validate', '--record', '--table', copy, '--hardware', 'h100-pcie').status, 0);
  assert.equal(readFileSync(copy, 'utf8'), original);
  writeFileSync(copy, '{ not json');
  const bad = run('validate', '--record', '--table', copy, '--hardware', 'h100-pcie');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--table: expected a readable validation table/);
});

test('evidence and validate give the same median for the same rows (both of the errors at 0.1%)', async () => {
  const { runValidation, validationStats } = await import('../../engine/cost/validate');
  const samples = join(__dirname, '../../samples');
  for (const id of ['h100-sxm', 'a100-80gb', 'mi300x']) {
    const live = validationStats(runValidation(samples, {}, (r) => r.hardware === id));
    const ev = evidenceFor(getDevice(id), null).hardware!;
    assert.deepEqual([ev.rows, ev.within15, ev.medianAbsError], [live.rows, live.within15, live.medianAbsError], id);
  }
});
