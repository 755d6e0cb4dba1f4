import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensorsHeader } from '../../engine/quant/safetensors';
import { DEFAULT_ERROR_FORMATS, measureModelCpu } from '../../engine/quant/measure';
import { setSimdEnabled, simdBuffers, simdKernels } from '../../engine/quant/simd';
import { BLOCK, HIST_LANES, decode16 } from '../../engine/quant/quantize';

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

/**
 * The WebAssembly SIMD kernels (decode, block statistics, histogram; int pairs, nested int groups, per-channel
 * int8, NF4 + MXFP4) against the JavaScript kernels on the same bf16 file: rows of whole 128-weight groups so
 * that every SIMD kernel runs. Per weight the arithmetic is the same; only the order of the float64 sums
 * differs, so the errors agree to 1e-12 relative.
 */
test('WebAssembly SIMD kernels give the errors of the JavaScript kernels', () => {
  assert.ok(simdKernels(), 'WebAssembly SIMD is available in this Node.js');
  const rows = 64;
  const cols = 1024;
  let s = 777;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) - 0.5;
  const f32 = new Float32Array(rows * cols);
  for (let i = 0; i < f32.length; i++) f32[i] = rand() * 0.04;
  for (let i = 0; i < cols; i++) f32[2 * cols + i] = 0; // an all-zero row
  for (let i = 0; i < 128; i++) f32[4 * cols + 256 + i] = -0.03125; // a constant 128-group
  for (let i = 0; i < 32; i++) f32[6 * cols + 64 + i] = i % 2 ? -0 : 0; // signed zeros in one block
  f32[9 * cols + 5] = 6.5; // outliers
  f32[33 * cols + 1000] = -4.75;
  const u32 = new Uint32Array(f32.buffer);
  const bf16 = new Uint16Array(f32.length);
  for (let i = 0; i < u32.length; i++) bf16[i] = (u32[i]! + 0x7fff + ((u32[i]! >>> 16) & 1)) >>> 16;
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-simd-'));
  try {
    const data = Buffer.from(bf16.buffer);
    const { header } = encodeSafetensorsHeader([{ name: 'model.layers.0.mlp.down_proj.weight', dtype: 'BF16', shape: [rows, cols] }]);
    const path = join(dir, 'm.safetensors');
    writeFileSync(path, Buffer.concat([header, data]));
    // the default set pairs nested groups (int4-g32 in int4-g128, int2-g64 in int3-g128); the second set
    // pairs two formats on the same groups
    for (const formats of [[...DEFAULT_ERROR_FORMATS], ['int3-g128', 'int4-g128', 'int8']]) {
      const withSimd = measureModelCpu(path, { formats });
      setSimdEnabled(false);
      let plain: ReturnType<typeof measureModelCpu>;
      try {
        plain = measureModelCpu(path, { formats });
      } finally {
        setSimdEnabled(true);
      }
      for (const f of formats) {
        const a = withSimd.tensors[0]!.errors[f]!;
        const b = plain.tensors[0]!.errors[f]!;
        assert.ok(b.relRmse > 0, f);
        assert.ok(Math.abs(a.relRmse - b.relRmse) <= 1e-12 * b.relRmse, `${f}: ${a.relRmse} vs ${b.relRmse}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIMD decode: float32 values, block minima/maxima and pattern counts equal the JavaScript decode', () => {
  const k = simdKernels()!;
  const n = 4096;
  const buf = simdBuffers(k, 2 * n, n);
  const src = new Uint16Array(buf.raw.buffer, buf.raw.byteOffset, n);
  let s = 99;
  // every pattern but NaN (a block holding a NaN has a NaN error either way; its min/max may differ)
  for (let i = 0; i < n; i++) {
    const h = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16;
    src[i] = (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0 ? h & 0xff80 : h;
  }
  for (let i = 64; i < 96; i++) src[i] = i % 2 ? 0x8000 : 0x0000; // a block of -0 and +0
  src[40] = 0x7f80; // +Inf
  src[41] = 0xff80; // -Inf
  buf.counts.fill(0);
  k.decodeBf16(buf.raw.byteOffset, n, buf.x.byteOffset, buf.min.byteOffset, buf.max.byteOffset);
  k.hist16(buf.raw.byteOffset, n, buf.counts.byteOffset);
  const out = new Float32Array(n);
  const counts = new Uint32Array(65536 * HIST_LANES);
  const blocks = { min: new Float32Array(n / BLOCK), max: new Float32Array(n / BLOCK) };
  decode16(Uint16Array.from(src), n, out, counts, null, blocks);
  assert.deepEqual(Array.from(buf.x), Array.from(out));
  assert.deepEqual(Array.from(buf.min), Array.from(blocks.min));
  assert.deepEqual(Array.from(buf.max), Array.from(blocks.max));
  assert.ok(Object.is(buf.min[2], -0) && Object.is(buf.max[2], 0) && buf.max[1] === Infinity && buf.min[1] === -Infinity);
  assert.deepEqual(Array.from(buf.counts), Array.from(counts));
});
