import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkControls, checkHostMessage, checkWebviewMessage, MAX_CONTROL_VALUE, NO_ENGINE, type Controls } from '../../webview/protocol';

const controls: Controls = {
  hardware: 'h100-sxm',
  engine: 'vllm',
  batch: 8,
  promptTokens: 1024,
  cachedPromptTokens: 0,
  generateTokens: 256,
  weights: 'int4-g128',
  activations: 'fp16',
  kv: 'fp8',
  tp: 2,
  contextTokens: 4096,
  windowTokens: 0,
  evictionTokens: 0,
  blockTokens: 16,
};

describe('webview protocol: messages from a webview (checked in the host)', () => {
  it('accepts every well-formed message and returns only known fields', () => {
    const ok = checkWebviewMessage({ type: 'setControls', requestId: 3, controls: { ...controls, extra: 'dropped' } });
    assert.ok(ok.ok);
    if (ok.ok && ok.value.type === 'setControls') assert.deepEqual(ok.value.controls, controls);
    for (const m of [
      { type: 'ready', view: 'roofline' },
      { type: 'rendered', requestId: 1, renderMs: 4.2 },
      { type: 'openSource', file: '/ws/k.wgsl', line: 12 },
      { type: 'runBenchmark' },
      { type: 'refresh' },
      { type: 'export', format: 'csv', fileName: 'roofline-x.csv', content: 'a,b\n' },
      { type: 'export', format: 'png', fileName: 'r.png', content: 'data:image/png;base64,iVBORw0KGgo=' },
    ]) {
      assert.ok(checkWebviewMessage(m).ok, JSON.stringify(m));
    }
  });

  it('rejects malformed messages with a reason naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /message: expected an object/],
      [{ type: 'nope' }, /unknown webview message "nope"/],
      [{ type: 'ready', view: 'panel' }, /ready\.view/],
      [{ type: 'setControls', requestId: 1, controls: { ...controls, batch: 0 } }, /controls\.batch: expected an integer from 1/],
      [{ type: 'setControls', requestId: 1, controls: { ...controls, batch: 2.5 } }, /controls\.batch/],
      [{ type: 'setControls', requestId: 1, controls: { ...controls, promptTokens: MAX_CONTROL_VALUE + 1 } }, /controls\.promptTokens/],
      [{ type: 'setControls', requestId: 1, controls: { ...controls, hardware: '' } }, /controls\.hardware: expected a non-empty string/],
      [{ type: 'setControls', requestId: -1, controls }, /setControls\.requestId/],
      [{ type: 'export', format: 'pdf', fileName: 'a.pdf', content: 'x' }, /export\.format/],
      [{ type: 'export', format: 'svg', fileName: '../../etc/passwd', content: '<svg/>' }, /export\.fileName: expected a plain file name/],
      [{ type: 'export', format: 'png', fileName: 'a.png', content: 'not a data url' }, /PNG data URL/],
      [{ type: 'rendered', requestId: 1, renderMs: Number.NaN }, /rendered/],
      [{ type: 'openSource', file: '/a', line: -1 }, /openSource/],
    ];
    for (const [m, re] of cases) {
      const r = checkWebviewMessage(m);
      assert.equal(r.ok, false, JSON.stringify(m));
      if (!r.ok) assert.match(r.reason, re);
    }
  });

  it('controls saved before the engine and prefix-cache controls existed restore with the defaults; an empty engine is refused', () => {
    const { engine: _e, cachedPromptTokens: _c, ...old } = controls;
    void _e;
    void _c;
    assert.deepEqual(checkControls(old), { ...controls, engine: NO_ENGINE, cachedPromptTokens: 0 });
    assert.deepEqual(checkControls({ ...controls, cachedPromptTokens: 512 }), { ...controls, cachedPromptTokens: 512 });
    assert.throws(() => checkControls({ ...controls, cachedPromptTokens: -1 }), /controls\.cachedPromptTokens: expected an integer from 0/);
    assert.throws(() => checkControls({ ...controls, cachedPromptTokens: 1.5 }), /controls\.cachedPromptTokens/);
    assert.throws(() => checkControls({ ...controls, engine: '' }), /controls\.engine: expected a non-empty string/);
    assert.throws(() => checkControls({ ...controls, engine: 7 }), /controls\.engine/);
  });

  it('checkControls throws for a missing field', () => {
    const { tp: _tp, ...rest } = controls;
    void _tp;
    assert.throws(() => checkControls(rest), /controls\.tp/);
  });
});

describe('webview protocol: messages from the host (checked in the webview)', () => {
  const roofs = { id: 'h100-sxm', name: 'H100', bandwidthBytesPerS: 3.35e12, peaks: [{ dtype: 'fp16', flopsPerS: 989e12 }], measured: false };
  const phase = { flops: 1, bytes: 1, timeS: 1, bound: 'memory' };
  const result = {
    model: { name: 'm' },
    hardware: { id: 'h100-sxm' },
    prefill: phase,
    decode: { ...phase, tokensPerS: 1 },
    e2e: { timeS: 2, outputTokensPerS: 1 },
    memory: { totalBytes: 1, usableBytes: 72, deviceBytes: 80, utilization: 0.9, fits: true },
    costModel: { servingEngine: null as null | { id: string; name: string } },
    evidence: { hardware: { rows: 4, within15: 1, medianAbsError: 0.2 }, servingEngine: { id: 'tensorrt-llm', rows: 2, within15: 1, medianAbsError: 0.1 } } as Record<string, unknown>,
    ops: [{ name: 'q_proj', phase: 'decode', flops: 2, bytes: 4, intensity: 0.5, bound: 'memory', timeS: 1e-6 }],
  };

  it('accepts a roofline message and rejects NaN, a bad phase and negative bandwidth', () => {
    const msg = { type: 'roofline', requestId: 0, data: { source: 'c.json', result, roofs, measuredRoofs: null } };
    assert.ok(checkHostMessage(msg).ok);
    const nan = structuredClone(msg);
    (nan.data.result.ops[0] as { intensity: number }).intensity = Number.NaN;
    assert.match((checkHostMessage(nan) as { reason: string }).reason, /ops\[0\]\.intensity/);
    const phaseBad = structuredClone(msg);
    (phaseBad.data.result.ops[0] as { phase: string }).phase = 'train';
    assert.match((checkHostMessage(phaseBad) as { reason: string }).reason, /ops\[0\]\.phase/);
    const bw = structuredClone(msg);
    bw.data.roofs.bandwidthBytesPerS = -1;
    assert.match((checkHostMessage(bw) as { reason: string }).reason, /roofs\.bandwidthBytesPerS/);
    const engine = structuredClone(msg);
    engine.data.result.costModel.servingEngine = { id: 'vllm', name: 'vLLM' };
    assert.ok(checkHostMessage(engine).ok);
    (engine.data.result.costModel as { servingEngine: unknown }).servingEngine = { id: 'vllm' };
    assert.match((checkHostMessage(engine) as { reason: string }).reason, /costModel\.servingEngine: expected null or \{id, name\}/);
    // Evidence: null for a device of no table row; counts must hold together.
    const none = structuredClone(msg);
    none.data.result.evidence = { hardware: null, servingEngine: null };
    assert.ok(checkHostMessage(none).ok);
    const more = structuredClone(msg);
    (more.data.result.evidence.hardware as { within15: number }).within15 = 5;
    assert.match((checkHostMessage(more) as { reason: string }).reason, /evidence\.hardware: expected rows >= within15 >= 0/);
    const noId = structuredClone(msg);
    delete (noId.data.result.evidence.servingEngine as { id?: string }).id;
    assert.match((checkHostMessage(noId) as { reason: string }).reason, /evidence\.servingEngine\.id/);
    const missing = structuredClone(msg);
    delete (missing.data.result as { evidence?: unknown }).evidence;
    assert.match((checkHostMessage(missing) as { reason: string }).reason, /evidence: expected an object/);
  });

  it('rejects an unknown host message type and a quant option with an unknown risk', () => {
    assert.equal(checkHostMessage({ type: 'hello' }).ok, false);
    const opt = { weights: 'fp16', kv: 'fp16', bitsPerWeight: 16, weightsBytes: 1, kvCacheBytes: 1, totalBytes: 2, fits: true, prefillTimeS: 1, decodeTimeS: 1, risk: 'none', evidence: [] };
    const q = { type: 'quant', requestId: 1, data: { source: 's', modelName: 'm', deviceName: 'd', options: [opt], recommendation: null, layers: null, layersSource: null, notes: [] as unknown[] } };
    assert.ok(checkHostMessage(q).ok);
    const noNotes = structuredClone(q);
    noNotes.data.notes = [1];
    assert.match((checkHostMessage(noNotes) as { reason: string }).reason, /quant\.data\.notes: expected strings/);
    const bad = structuredClone(q);
    bad.data.options[0].risk = 'extreme';
    assert.match((checkHostMessage(bad) as { reason: string }).reason, /options\[0\]\.risk/);
  });
});
