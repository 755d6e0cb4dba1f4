// The extension host's vscode-free bridge to the engine (src/engine.ts): settings into analyses, custom devices
// into the registry, engine errors into the editor's words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { analyzeConfigText, analyzeSpec, applyDeviceSettings, editorLine, formatsFor } from '../../src/engine';
import type { Settings } from '../../src/settings';
import { DEFAULT_SETTINGS } from '../helpers/settings';
import { clearRegisteredDevices, getDevice } from '../../engine/hardware/index';
import { costParamsFor } from '../../engine/cost/params';
import { parseConfig } from '../../engine/model/parse';
import { RidgelineError } from '../../engine/errors';

const BASE: Settings = { ...DEFAULT_SETTINGS, allowKernelExecution: false };
const text = readFileSync('samples/llama-3.1-8b.json', 'utf8');

test('an efficiency setting applies while set and leaves nothing behind when removed', () => {
  const before = analyzeConfigText(text, 'c.json', BASE).result.decode.timeS;
  const slow = analyzeConfigText(text, 'c.json', { ...BASE, efficiency: { gemm: 0.3 } }).result.decode.timeS;
  assert.ok(slow > 2 * before, `${slow} vs ${before}`);
  // The device's shared parameters are untouched (and frozen against any later edit).
  assert.equal(analyzeConfigText(text, 'c.json', BASE).result.decode.timeS, before);
  const shared = costParamsFor(getDevice('h100-sxm'));
  assert.equal(shared.efficiency.gemm.memory, 0.86);
  assert.throws(() => {
    (shared.efficiency.gemm as { memory: number }).memory = 0.3;
  }, TypeError);
});

test('custom devices from settings: the engine checks name the entry; a bad or repeated entry is skipped, the rest register', () => {
  const good = { id: 'lab-gpu', memoryBytes: 48e9, memoryBandwidthBytesPerS: 1e12, peakFlopsPerS: { fp16: 2e14 }, name: 'Lab GPU', source: 'lab' };
  const s: Settings = {
    ...BASE,
    customDevices: [
      { ...good, tdpWats: 300 } as never,
      good as never,
      { ...good, id: 'LAB-GPU', name: 'Second' } as never,
      { ...good, id: 'this' } as never,
      { ...good, id: 'int8-only', peakFlopsPerS: { int8: 1e15 } } as never,
    ],
  };
  try {
    const problems = applyDeviceSettings(s, () => null);
    assert.deepEqual(problems, [
      'ridgeline.customDevices[0](lab-gpu).tdpWats: expected a known field (did you mean tdpWatts?): id, name, vendor, source, memoryBytes, memoryBandwidthBytesPerS, peakFlopsPerS, l2CacheBytes, sharedMemoryPerSmBytes, maxSharedMemoryPerBlockBytes, smCount, maxThreadsPerSm, maxThreadsPerBlock, registersPerSm, simdWidth, maxBlocksPerSm, reservedSharedMemoryPerBlockBytes, interconnect, tdpWatts, memoryEfficiencyScale, memoryEfficiencySource, computeEfficiencyScale, computeEfficiencySource, quantizedMemoryEfficiencyScale, quantizedMemoryEfficiencySource, fp16AccumulateFlopsPerS, measured; this entry is skipped',
      'ridgeline.customDevices[2].id: expected an id not used by an earlier device of the setting (got "lab-gpu"); this entry is skipped',
      'ridgeline.customDevices[3](this).id: expected an id other than "this", which names the device `ridgeline bench` measured on this machine; this entry is skipped',
      'ridgeline.customDevices[4](int8-only).peakFlopsPerS: expected at least one floating-point peak: fp32, fp16 or bf16; this entry is skipped',
    ]);
    assert.equal(getDevice('lab-gpu').name, 'Lab GPU');
  } finally {
    clearRegisteredDevices();
  }
});

test('engine errors in the editor name the setting or the panel control, not the CLI option', () => {
  const qwen = readFileSync('samples/qwen2-7b.json', 'utf8');
  let err: unknown;
  try {
    analyzeConfigText(qwen, 'qwen2-7b.json', { ...BASE, tensorParallel: 7 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof RidgelineError);
  assert.equal(editorLine(err), 'ridgeline.tensorParallel: expected a divisor of the 4 KV heads of qwen2-7b or a multiple of them (got 7)');
  assert.equal(editorLine(err, 'panel'), 'Tensor parallel: expected a divisor of the 4 KV heads of qwen2-7b or a multiple of them (got 7)');
  assert.equal(editorLine(new RidgelineError('--hardware: no measured device: run `ridgeline bench` first')), 'ridgeline.hardware: no measured device: run Ridgeline: Run Device Benchmark first');
  // Options the editor has no name for stay as they are.
  assert.equal(editorLine(new RidgelineError('--block: expected an integer')), '--block: expected an integer');
});

test('the settings resolve formats as the CLI does', () => {
  const spec = parseConfig(text, 'c.json');
  assert.deepEqual(formatsFor(spec, getDevice('h100-sxm'), { weights: 'fp8' }), { weights: 'fp8', activations: 'fp8', kv: 'bf16' });
  assert.deepEqual(formatsFor(spec, getDevice('a100-80gb'), { weights: 'int4', kv: 'FP8', activations: 'Float16' }), { weights: 'int4-g128', activations: 'fp16', kv: 'fp8' });
  assert.throws(() => formatsFor(spec, getDevice('h100-sxm'), { kv: 'fp7' }), /^RidgelineError: ridgeline\.kvFormat: /);
  const r = analyzeSpec(spec, { ...BASE, weightsFormat: 'fp8' });
  assert.equal(r.workload.activations, 'fp8');
});
