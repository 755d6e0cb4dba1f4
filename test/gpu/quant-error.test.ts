/**
 * The measured-error kernel (kernels/quant-error.wgsl) on the real WebGPU adapter (SwiftShader where
 * there is no GPU) against the CPU path. Tolerance: 0.01 dB of SQNR per tensor and format (a 0.23%
 * difference in the summed squared error). The GPU computes each element's error in float32 where
 * the CPU uses float64, so elements within a float32 rounding of a quantization boundary may round to
 * the other neighbour; that, and float32 group sums, stay far below the tolerance.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { useNodeRunner } from '../helpers/gpu';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureModelGpu } from '../../engine/quant/gpu';
import { measureModel } from '../../engine/quant/measure';
import { encodeSafetensorsHeader, type SafetensorsDtype } from '../../engine/quant/safetensors';
import { listWeightFormats } from '../../engine/quant/formats';
import { toF16Array } from '../../engine/gpu/f16';
import { gaussian } from '../helpers/random';

const openRunner = useNodeRunner(120_000);
let dir = '';
let model = '';


before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridgeline-quant-gpu-'));
  const bf16 = (x: Float32Array) => {
    const u = new Uint32Array(x.buffer);
    return Buffer.from(Uint16Array.from(u, (v) => v >>> 16).buffer);
  };
  const spiky = gaussian(96 * 200, 0.02, 5);
  for (let i = 0; i < spiky.length; i += 61) spiky[i] = -0.4;
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; data: Buffer }> = [
    { name: 'a.q_proj.weight', dtype: 'BF16', shape: [128, 256], data: bf16(gaussian(128 * 256, 0.02, 1)) },
    { name: 'a.down_proj.weight', dtype: 'F32', shape: [96, 200], data: Buffer.from(spiky.buffer) }, // 200: groups end short
    { name: 'a.up_proj.weight', dtype: 'BF16', shape: [512, 64], data: bf16(gaussian(512 * 64, 0.05, 9)) },
    { name: 'a.gate_proj.weight', dtype: 'F16', shape: [64, 384], data: Buffer.from(toF16Array(gaussian(64 * 384, 0.03, 13)).buffer) },
  ];
  const { header } = encodeSafetensorsHeader(entries);
  model = join(dir, 'model.safetensors');
  writeFileSync(model, Buffer.concat([header, ...entries.map((e) => e.data)]));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('GPU and CPU measured error agree within 0.01 dB for every format', async () => {
  const formats = listWeightFormats().map((f) => f.id).filter((id) => id !== 'fp32');
  const cpu = await measureModel(model, { formats, threads: 1 });
  const gpu = await measureModelGpu(openRunner(), model, { formats }, 'webgpu');
  assert.equal(gpu.tensors.length, 4);
  for (const [i, t] of cpu.tensors.entries()) {
    const g = gpu.tensors[i]!;
    assert.equal(g.name, t.name);
    for (const f of formats) {
      const a = t.errors[f]!;
      const b = g.errors[f]!;
      if (a.sqnrDb === null) {
        assert.equal(b.sqnrDb, null, `${t.name} ${f}: exact on both`);
        continue;
      }
      assert.ok(b.sqnrDb !== null && Math.abs(a.sqnrDb - b.sqnrDb) < 0.01, `${t.name} ${f}: cpu ${a.sqnrDb} dB, gpu ${b.sqnrDb} dB`);
    }
  }
  assert.deepEqual(gpu.ranking.map((r) => r.name), cpu.ranking.map((r) => r.name));
});
