import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeToF32, encodeSafetensorsHeader, halfToFloat, openSafetensors, readSafetensorsHeader, streamTensorRows } from '../../engine/quant/safetensors';
import { RidgelineError } from '../../engine/errors';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridgeline-st-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A raw header: 8-byte little-endian length + the JSON text as given. */
function rawFile(name: string, headerJson: string, dataBytes: number, declaredLen?: number): string {
  const jb = Buffer.from(headerJson, 'utf8');
  const b = Buffer.alloc(8 + jb.length + dataBytes);
  b.writeBigUInt64LE(BigInt(declaredLen ?? jb.length), 0);
  jb.copy(b, 8);
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

function expectError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RidgelineError, `RidgelineError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, re);
    assert.equal(e.message.split('\n').length, 1, 'one line');
    return true;
  });
}

test('reads F32/F16/BF16 tensors written by the encoder, row-chunked', () => {
  const a = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);
  const h = Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x0001); // 1, -2, 0.333..., smallest subnormal
  const bf = Uint16Array.of(0x3f80, 0xc040, 0x4049, 0x0000); // 1, -3, 3.140625, 0
  const { header, dataBytes } = encodeSafetensorsHeader(
    [
      { name: 'a.weight', dtype: 'F32', shape: [3, 4] },
      { name: 'h.weight', dtype: 'F16', shape: [2, 2] },
      { name: 'b.weight', dtype: 'BF16', shape: [4] },
    ],
    { format: 'pt' },
  );
  assert.equal(dataBytes, 48 + 8 + 8);
  const p = join(dir, 'ok.safetensors');
  writeFileSync(p, Buffer.concat([header, Buffer.from(a.buffer), Buffer.from(h.buffer), Buffer.from(bf.buffer)]));
  const f = readSafetensorsHeader(p);
  assert.deepEqual(f.metadata, { format: 'pt' });
  assert.deepEqual(f.tensors.map((t) => t.name), ['a.weight', 'h.weight', 'b.weight']);
  assert.equal(f.dataOffset % 8, 0);
  const ta = f.tensors[0]!;
  const seen: number[] = [];
  const chunks: number[] = [];
  streamTensorRows(ta, 20, (bytes, first, rows) => {
    chunks.push(rows);
    const out = new Float32Array(rows * 4);
    decodeToF32('F32', bytes, out);
    assert.equal(first, seen.length / 4);
    seen.push(...out);
  });
  assert.deepEqual(chunks, [1, 1, 1]); // 20-byte chunks hold one 16-byte row
  assert.deepEqual(seen, Array.from(a));
  const out = new Float32Array(4);
  streamTensorRows(f.tensors[1]!, 1 << 20, (bytes) => decodeToF32('F16', bytes, out));
  assert.deepEqual(Array.from(out), [1, -2, halfToFloat(0x3555), 2 ** -24]);
  streamTensorRows(f.tensors[2]!, 1 << 20, (bytes) => decodeToF32('BF16', bytes, out));
  assert.deepEqual(Array.from(out), [1, -3, 3.140625, 0]);
});

test('truncated file: shorter than the length field', () => {
  const p = join(dir, 'tiny.safetensors');
  writeFileSync(p, Buffer.from([1, 2, 3]));
  expectError(() => readSafetensorsHeader(p), /tiny\.safetensors: truncated: 3 bytes/);
});

test('header length past the end of the file', () => {
  const p = rawFile('len.safetensors', '{}', 0, 1_000_000);
  expectError(() => readSafetensorsHeader(p), /header length 1000000 runs past the end of the file/);
});

test('truncated data: a tensor ends past the data section', () => {
  const p = rawFile('trunc.safetensors', '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8);
  expectError(() => readSafetensorsHeader(p), /w\.data_offsets: end 16 is past the end of the data section \(8 bytes\)/);
});

test('malformed header JSON', () => {
  const p = rawFile('json.safetensors', '{"w":{"dtype":', 0);
  expectError(() => readSafetensorsHeader(p), /header is not valid JSON/);
});

test('unknown dtype names the tensor and the dtypes expected', () => {
  const p = rawFile('dtype.safetensors', '{"w":{"dtype":"F12","shape":[2],"data_offsets":[0,4]}}', 4);
  expectError(() => readSafetensorsHeader(p), /w\.dtype: expected one of F64, F32, F16, BF16.* \(got "F12"\)/);
});

test('non-contiguous offsets (a hole) and overlapping offsets', () => {
  const hole = rawFile(
    'hole.safetensors',
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
    12,
  );
  expectError(() => readSafetensorsHeader(hole), /b: data_offsets begin at 8, expected 4 \(offsets are not contiguous/);
  const overlap = rawFile(
    'overlap.safetensors',
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
    12,
  );
  expectError(() => readSafetensorsHeader(overlap), /b: data_offsets \[4, 12\] overlap a/);
  const short = rawFile('size.safetensors', '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8);
  expectError(() => readSafetensorsHeader(short), /a: data_offsets span 8 bytes, expected 12 for F32 \[3\]/);
  const tail = rawFile('tail.safetensors', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 12);
  expectError(() => readSafetensorsHeader(tail), /data section is 12 bytes but the tensors cover 4/);
});

test('missing file and bad index', () => {
  expectError(() => openSafetensors(join(dir, 'nope.safetensors')), /nope\.safetensors: expected an existing \.safetensors file/);
  const idx = join(dir, 'bad.index.json');
  writeFileSync(idx, '{"weight_map": 3}');
  expectError(() => openSafetensors(idx), /weight_map: expected an object mapping tensor names to shard file names/);
});

test('sharded model through model.safetensors.index.json', () => {
  const sub = join(dir, 'sharded');
  mkdirSync(sub);
  const shard = (name: string, tensors: string[]) => {
    const { header } = encodeSafetensorsHeader(tensors.map((t) => ({ name: t, dtype: 'F32' as const, shape: [2, 2] })));
    writeFileSync(join(sub, name), Buffer.concat([header, Buffer.alloc(16 * tensors.length)]));
  };
  shard('model-00001-of-00002.safetensors', ['l0.w', 'l1.w']);
  shard('model-00002-of-00002.safetensors', ['l2.w']);
  const map = { 'l0.w': 'model-00001-of-00002.safetensors', 'l1.w': 'model-00001-of-00002.safetensors', 'l2.w': 'model-00002-of-00002.safetensors' };
  writeFileSync(join(sub, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
  const m = openSafetensors(sub);
  assert.equal(m.files.length, 2);
  assert.deepEqual(m.tensors.map((t) => t.name), ['l0.w', 'l1.w', 'l2.w']);
  assert.ok(m.tensors[2]!.file.endsWith('model-00002-of-00002.safetensors'));
  // The index names a tensor its shard does not hold.
  writeFileSync(join(sub, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...map, 'l3.w': 'model-00002-of-00002.safetensors' } }));
  expectError(() => openSafetensors(join(sub, 'model.safetensors.index.json')), /weight_map\.l3\.w: expected a tensor present in model-00002-of-00002\.safetensors/);
});

test('a missing dtype, shape or data_offsets is named as missing, not as "undefined"', () => {
  const noOffsets = rawFile('nooffs.safetensors', '{"w":{"dtype":"F32","shape":[1]}}', 4);
  expectError(() => readSafetensorsHeader(noOffsets), /nooffs\.safetensors: w\.data_offsets: expected \[begin, end\] non-negative integers \(the field is missing\)$/);
  const noShape = rawFile('noshape.safetensors', '{"w":{"dtype":"F32","data_offsets":[0,4]}}', 4);
  expectError(() => readSafetensorsHeader(noShape), /w\.shape: expected an array of non-negative integers \(the field is missing\)$/);
  const noDtype = rawFile('nodtype.safetensors', '{"w":{"shape":[1],"data_offsets":[0,4]}}', 4);
  expectError(() => readSafetensorsHeader(noDtype), /w\.dtype: expected one of F64, .* \(the field is missing\)$/);
  // A present but wrong value is still quoted.
  const wrong = rawFile('wrongoffs.safetensors', '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', 4);
  expectError(() => readSafetensorsHeader(wrong), /w\.data_offsets: expected \[begin, end\] non-negative integers \(got \[0\]\)$/);
});

test('character devices and FIFOs are rejected before they are opened', () => {
  if (existsSync('/dev/zero')) {
    expectError(() => openSafetensors('/dev/zero'), /^\/dev\/zero: path: expected a regular file .* or a folder, not a character device$/);
    expectError(() => readSafetensorsHeader('/dev/zero'), /^\/dev\/zero: path: expected a regular \.safetensors file, not a character device$/);
  }
  const fifo = join(dir, 'fifo.safetensors');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo on this system
  // Opening a FIFO for reading would block this test forever: it must fail on the stat.
  expectError(() => openSafetensors(fifo), /fifo\.safetensors: path: expected a regular file .* not a named pipe$/);
  expectError(() => readSafetensorsHeader(fifo), /fifo\.safetensors: path: expected a regular \.safetensors file, not a named pipe$/);
  const idx = join(dir, 'fifo.safetensors.index.json');
  spawnSync('mkfifo', [idx]);
  expectError(() => openSafetensors(idx), /fifo\.safetensors\.index\.json: path: expected a regular file .* not a named pipe/);
  const sub = join(dir, 'fifo-index');
  mkdirSync(sub);
  spawnSync('mkfifo', [join(sub, 'model.safetensors.index.json')]);
  expectError(() => openSafetensors(sub), /fifo-index\/model\.safetensors\.index\.json: path: expected a regular model\.safetensors\.index\.json file, not a named pipe/);
});

test('a folder whose index or model.safetensors is broken reports that problem, not a missing file', () => {
  const sub = join(dir, 'broken-index');
  mkdirSync(sub);
  writeFileSync(join(sub, 'model.safetensors.index.json'), '{"weight_map": []}');
  expectError(() => openSafetensors(sub), /model\.safetensors\.index\.json: weight_map: expected an object mapping tensor names to shard file names/);
  const one = join(dir, 'broken-single');
  mkdirSync(one);
  writeFileSync(join(one, 'model.safetensors'), Buffer.from([1, 2, 3]));
  expectError(() => openSafetensors(one), /broken-single\/model\.safetensors: truncated: 3 bytes/);
  expectError(() => openSafetensors(dir), /: expected a folder with model\.safetensors or model\.safetensors\.index\.json$/);
});
