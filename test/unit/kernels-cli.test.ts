import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs the bundled CLI (dist/cli.js, built by `npm run build` before the unit suite): web-tree-sitter
// and the grammar wasm files must work from the bundle and dist/wasm.
const root = join(__dirname, '../..');
const cli = join(root, 'dist/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'kernels', ...args], { encoding: 'utf8', cwd: root });
let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ridgeline-kernels-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('kernels --format json: the documented shape from the bundled CLI', () => {
  const r = run('samples/kernels/gemm_tiled.cu', '--format', 'json', '--hardware', 'h100-sxm');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.file, 'samples/kernels/gemm_tiled.cu');
  assert.equal(j.language, 'cuda');
  const k = j.kernels[0];
  for (const f of ['name', 'line', 'workgroupSize', 'sharedMemoryBytes', 'params', 'launches', 'estimate']) assert.ok(f in k, f);
  assert.equal(k.estimate.flops, 2 * 4096 ** 3);
  assert.equal(k.estimate.device.id, 'h100-sxm');
  for (const d of j.diagnostics) for (const f of ['line', 'column', 'code', 'severity', 'message']) assert.ok(f in d, f);
  assert.doesNotMatch(r.stdout, /NaN|Infinity/);
});

test('kernels: table output for each language; --dims override', () => {
  for (const f of ['samples/kernels/reduce.wgsl', 'samples/kernels/matmul_autotune.py', 'samples/kernels/softmax.cu']) {
    const r = run(f);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /kernel\s+line\s+threads/);
  }
  const r = run('samples/kernels/gemm_tiled.cu', '--dims', 'M=1024,N=1024,K=1024', '--format', 'json');
  assert.equal(JSON.parse(r.stdout).kernels[0].estimate.flops, 2 * 1024 ** 3);
});

test('kernels: syntax errors give partial results and exit 0', () => {
  const r = run('samples/kernels/syntax_error.cu', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.kernels.length, 3);
  assert.ok(j.diagnostics.some((d: { code: string }) => d.code === 'RL008'));
});

test('kernels: bad input is one line and exit 2 (binary, over 5 MB, unknown extension, bad --dims)', () => {
  const bin = join(tmp, 'blob.cu');
  writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 3]));
  const big = join(tmp, 'big.cu');
  writeFileSync(big, '// x\n'.repeat(1_400_000)); // 7 MB
  const txt = join(tmp, 'notes.txt');
  writeFileSync(txt, 'hello');
  const cases: Array<[string[], RegExp]> = [
    [[bin], /blob\.cu: content: expected a text source file.*binary/],
    [[big], /big\.cu: size: expected a source file of at most 5 MB/],
    [[txt], /notes\.txt: extension: expected \.cu/],
    [['samples/kernels/gemm_tiled.cu', '--dims', 'M=abc'], /--dims: expected NAME=positive number pairs/],
    [[join(tmp, 'missing.cu')], /missing\.cu: path: expected a readable file/],
    [['samples/kernels/gemm_tiled.cu', '--hardware', 'nope'], /--hardware/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  }
});
