import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const cli = join(__dirname, '../../dist/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('unknown command: one line, exit 2, no stack trace', () => {
  const r = run('frobnicate');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});

test('help lists every command', () => {
  const r = run('help');
  assert.equal(r.status, 0);
  for (const c of ['analyze', 'hardware', 'kv', 'quant', 'kernels', 'bench']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

test('--out to a path that cannot be written: one line naming --out, exit 2', () => {
  const r = run('hardware', '--out', '/nonexistent-dir/ridgeline/x.txt');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^ridgeline: --out: cannot write \/nonexistent-dir\/ridgeline\/x.txt \(ENOENT\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
