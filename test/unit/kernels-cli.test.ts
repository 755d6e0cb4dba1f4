import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
/** Writes a kernel source of these lines into the test folder; returns its path. */
const sourceFile = (name: string, lines: string[]): string => {
  const f = join(tmp, name);
  writeFileSync(f, lines.join('\n'));
  return f;
};

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

test('kernels: bad input is one line and exit 2 (binary, over 5 MiB, unknown extension, bad --dims)', () => {
  const bin = join(tmp, 'blob.cu');
  writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 3]));
  const big = join(tmp, 'big.cu');
  writeFileSync(big, '// x\n'.repeat(1_400_000)); // 7 MB
  const txt = join(tmp, 'notes.txt');
  writeFileSync(txt, 'hello');
  const cases: Array<[string[], RegExp]> = [
    [[bin], /blob\.cu: content: expected a text source file.*binary/],
    [[big], /big\.cu: size: expected a source file of at most 5 MiB \(5,242,880 bytes\); skipped \(got "?7,000,000 bytes"?\)/],
    [[txt], /notes\.txt: extension: expected \.cu/],
    [['samples/kernels/gemm_tiled.cu', '--dims', 'M=abc'], /--dims M: expected a positive integer dim from 1 to 2\^40 \(1099511627776\) \(got "abc"\)/],
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

test('kernels --dims: positive integers up to 2^40, each name once, not empty (exit 2, one line)', () => {
  const dimErr = (name: string, got: string) => new RegExp(`^ridgeline: --dims ${name}: expected a positive integer dim from 1 to 2\\^40 \\(1099511627776\\) \\(got "${got.replace(/[.+]/g, '\\$&')}"\\)$`);
  const cases: Array<[string, RegExp]> = [
    ['M=1.5', dimErr('M', '1.5')],
    ['M=0', dimErr('M', '0')],
    ['M=-1', dimErr('M', '-1')],
    ['M=1e30', dimErr('M', '1e30')],
    ['M=99999999999999999999999', dimErr('M', '99999999999999999999999')],
    ['M=1099511627777', dimErr('M', '1099511627777')],
    ['', /^ridgeline: --dims: expected NAME=VALUE pairs such as M=4096,N=4096 \(got ""\)$/],
    [' , ', /^ridgeline: --dims: expected NAME=VALUE pairs such as M=4096,N=4096 \(got " , "\)$/],
    ['M', /^ridgeline: --dims: expected NAME=VALUE pairs such as M=4096,N=4096 \(got "M"\)$/],
    ['M=1,M=2', /^ridgeline: --dims: expected M once, not twice \(got "M=1,M=2"\)$/],
  ];
  for (const [dims, re] of cases) {
    const r = run('samples/kernels/gemm_tiled.cu', '--dims', dims);
    assert.equal(r.status, 2, `--dims ${JSON.stringify(dims)}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr.trim(), re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  // the bounds themselves are accepted, as is an integer written with an exponent
  const lo = run('samples/kernels/gemm_tiled.cu', '--dims', 'M=1,N=4e3,K=1099511627776', '--format', 'json');
  assert.equal(lo.status, 0, lo.stderr);
  const j = JSON.parse(lo.stdout);
  assert.deepEqual(j.dims, { M: 1, N: 4000, K: 2 ** 40 });
  // the grid covers whole 16 x 16 tiles: M=1 runs one tile row of 16 threads, each through all K
  assert.deepEqual(j.kernels[0].launches[0].grid, [250, 1, 1]);
  assert.equal(j.kernels[0].estimate.flops, 2 * 16 * 4000 * 2 ** 40);
});

test('kernels --dims: a name the file never mentions is ignored with one warning line naming the dims it can take', () => {
  const r = run('samples/kernels/gemm_tiled.cu', '--dims', 'FOO=5,M=1024,N=1024,K=1024,BAR=2', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^ridgeline: warning: --dims FOO, BAR: not used by samples\/kernels\/gemm_tiled\.cu, ignored \(no identifier of that name in the file; dims it can take: K, M, N\)$/);
  const j = JSON.parse(r.stdout);
  // the ignored names are not reported as used; the others apply
  assert.deepEqual(j.dims, { M: 1024, N: 1024, K: 1024 });
  assert.equal(j.kernels[0].estimate.flops, 2 * 1024 ** 3);
  // dims that the file uses give no warning
  const ok = run('samples/kernels/gemm_tiled.cu', '--dims', 'M=1024');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr, '');
});

test('kernels: an annotation dim that is not a positive integer is a warning naming its line, and is not used', () => {
  const f = sourceFile('neg.cu', [
    '// ridgeline: ROWS=-8192 COLS=4096',
    '// ridgeline: HALF=COLS-5000',
    '__global__ void scale(float* x, int ROWS, int COLS) {',
    '  int i = blockIdx.x * blockDim.x + threadIdx.x;',
    '  if (i < ROWS * COLS) x[i] = x[i] * 2.0f;',
    '}',
    'void launch(float* x, int ROWS, int COLS) { scale<<<ROWS * COLS / 256, 256>>>(x, ROWS, COLS); }',
    '',
  ]);
  const r = run(f, '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.dims, { COLS: 4096 });
  const rl008 = j.diagnostics.filter((d: { code: string }) => d.code === 'RL008').map((d: { line: number; column: number; message: string }) => [d.line, d.column, d.message]);
  assert.deepEqual(rl008, [
    [1, 15, 'ridgeline annotation: "ROWS=-8192": expected a positive integer dim from 1 to 2^40 (1099511627776)'],
    [2, 15, 'ridgeline annotation: "HALF=COLS-5000" resolves to -904: expected a positive integer dim from 1 to 2^40 (1099511627776)'],
  ]);
  // the table does not echo the bad dim; the grid needs ROWS, which --dims gives
  const t = run(f);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^\S+neg\.cu \(cuda\)  dims: COLS=4096\n/);
  assert.doesNotMatch(t.stdout, /-8192 *$|ROWS=-8192\s/m);
  const fixed = run(f, '--dims', 'ROWS=8192', '--format', 'json');
  assert.equal(fixed.status, 0, fixed.stderr);
  const k = JSON.parse(fixed.stdout).kernels[0];
  assert.deepEqual(k.launches[0].grid, [8192 * 4096 / 256, 1, 1]);
});

test('kernels <directory>: the path is checked before the extension', () => {
  for (const dir of ['samples/kernels', tmp]) {
    const r = run(dir);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim(), `ridgeline: ${dir}: path: expected a regular file, not a folder`);
  }
  // a directory whose name ends in .cu is still a directory
  const d = join(tmp, 'dir.cu');
  mkdirSync(d, { recursive: true });
  const r = run(d);
  assert.equal(r.stderr.trim(), `ridgeline: ${d}: path: expected a regular file, not a folder`);
});

test('kernels: WGSL @workgroup_size with a 0 says each dimension must be at least 1', () => {
  const f = sourceFile('zero.wgsl', [
    '// ridgeline: N=1024 dispatch=N/64,1,1',
    '@group(0) @binding(0) var<storage, read_write> x: array<f32>;',
    '@compute @workgroup_size(0, 0, 0)',
    'fn zero(@builtin(global_invocation_id) id: vec3<u32>) { x[id.x] = x[id.x] * 2.0; }',
    '@compute @workgroup_size(64, 0)',
    'fn partial(@builtin(global_invocation_id) id: vec3<u32>) { x[id.x] = 1.0; }',
    '',
  ]);
  const r = run(f, '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const ks = JSON.parse(r.stdout).kernels as Array<{ name: string; workgroupSize: unknown; estimateUnavailable?: string }>;
  assert.deepEqual(ks.map((k) => [k.name, k.workgroupSize]), [['zero', null], ['partial', null]]);
  assert.match(ks[0]!.estimateUnavailable!, /workgroup size must be at least 1 in each dimension \(got 0,0,0\)/);
  assert.match(ks[1]!.estimateUnavailable!, /workgroup size must be at least 1 in each dimension \(got 64,0\)/);
  for (const k of ks) assert.doesNotMatch(k.estimateUnavailable!, /needs a constant value/);
});
