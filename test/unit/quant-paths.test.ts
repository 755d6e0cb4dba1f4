import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensorsHeader } from '../../engine/quant/safetensors';
import { DEFAULT_ERROR_FORMATS, measureModelCpu } from '../../engine/quant/measure';

/**
 * 16-bit tensors take the fast path (one decode pass, value counts for elementwise formats, two group
 * formats per pass); F32 tensors take the direct path (one pass per format). The same weights stored both
 * ways must give the same errors. bf16 -> f32 is exact, so the inputs are identical.
 */
test('bf16 fast path and f32 direct path agree for every default format, incl. zero, constant and outlier groups', () => {
  const rows = 96;
  const cols = 544; // not a multiple of 128: a partial last group per row
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) - 0.5;
  const f32 = new Float32Array(rows * cols);
  for (let i = 0; i < f32.length; i++) f32[i] = rand() * 0.05;
  for (let i = 0; i < cols; i++) f32[3 * cols + i] = 0; // an all-zero row
  for (let i = 0; i < 128; i++) f32[5 * cols + i] = 0.0125; // a constant group
  f32[7 * cols + 11] = 3.5; // an outlier
  f32[40 * cols + 300] = -2.25;
  // Round to bf16 (keep the top 16 bits, round to nearest even) so both files hold the same values.
  const u32 = new Uint32Array(f32.buffer);
  const bf16 = new Uint16Array(f32.length);
  for (let i = 0; i < u32.length; i++) {
    const v = u32[i]!;
    const r = (v + 0x7fff + ((v >>> 16) & 1)) >>> 16;
    bf16[i] = r;
    u32[i] = r << 16;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-qpaths-'));
  try {
    const write = (name: string, dtype: 'BF16' | 'F32', data: Buffer) => {
      const entries = [{ name: 'model.layers.0.mlp.up_proj.weight', dtype, shape: [rows, cols], data }];
      const { header } = encodeSafetensorsHeader(entries);
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat([header, data]));
      return path;
    };
    const a = measureModelCpu(write('bf16.safetensors', 'BF16', Buffer.from(bf16.buffer)));
    const b = measureModelCpu(write('f32.safetensors', 'F32', Buffer.from(f32.buffer)));
    assert.equal(a.tensors.length, 1);
    assert.equal(b.tensors.length, 1);
    for (const f of DEFAULT_ERROR_FORMATS) {
      const ea = a.tensors[0]!.errors[f]!;
      const eb = b.tensors[0]!.errors[f]!;
      assert.ok(ea && eb, f);
      if (eb.sqnrDb === null) {
        assert.equal(ea.sqnrDb, null, f);
        continue;
      }
      // Same roundings; only the order of float64 sums differs.
      assert.ok(Math.abs(ea.sqnrDb! - eb.sqnrDb) <= 1e-6, `${f}: ${ea.sqnrDb} vs ${eb.sqnrDb} dB`);
      assert.ok(Math.abs(ea.relRmse - eb.relRmse) <= 1e-9 * Math.max(1, eb.relRmse), `${f}: relRmse ${ea.relRmse} vs ${eb.relRmse}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
