import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('help for an unknown command: one line, exit 2', () => {
  const r = run('help', 'bogus');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'ridgeline: help: unknown command "bogus"; expected one of analyze, hardware, kv, quant, kernels, validate, bench\n');
  assert.match(run('help', 'kv').stdout, /^ridgeline kv <config.json>/);
});

test('options: given twice, unknown without a value, a single dash, an empty hardware id: one line each, exit 2', () => {
  const cfg = join(__dirname, '../../samples/llama-2-7b.json');
  const cases: Array<[string[], string]> = [
    [['analyze', cfg, '--batch', '2', '--batch', '4'], '--batch: expected the option once (it was given twice)'],
    [['analyze', cfg, '--batch=2', '--batch', '4'], '--batch: expected the option once (it was given twice)'],
    [['hardware', '--devices', 'a.json', '--devices', 'b.json'], '--devices: expected the option once (it was given twice)'],
    [['analyze', cfg, '--foo'], '--foo: expected a known option (see `ridgeline help`)'],
    [['analyze', cfg, '--foo', '--batch', '2'], '--foo: expected a known option (see `ridgeline help`)'],
    [['analyze', cfg, '--batch'], '--batch: expected a value after the option'],
    [['analyze', cfg, '--batch', '--tp', '2'], '--batch: expected a value after the option'],
    [['analyze', cfg, '-b', '2'], '-b: expected an option spelled with two dashes (`ridgeline help <command>` lists them)'],
    [['analyze', cfg, '--hardware', ''], '--hardware: expected a hardware id: h100-sxm, h100-pcie, h200, b200, a100-80gb, a100-40gb, l40s, l4, a10g, t4, v100, rtx-4090, rtx-3090, quadro-rtx-8000, rtx-a6000, mi300x, mi250x, apple-m2-ultra, apple-m3-max, cpu-generic'],
  ];
  for (const [args, want] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr, `ridgeline: ${want}\n`, args.join(' '));
  }
  // -h is --help, on a command as at the top level.
  const h = run('analyze', cfg, '-h');
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /^ridgeline analyze <config.json> \[options\]/);
});

test('a model config that is a device is refused before it is opened; a pipe is read, or named when nothing writes to it (no hang, no crash)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-fifo-'));
  const fifo = join(dir, 'config.json');
  spawnSync('mkfifo', [fifo]);
  const cases: Array<[string, string, string]> = [
    ['analyze', '/dev/zero', 'a character device, not a regular file'],
    ['kv', '/dev/urandom', 'a character device, not a regular file'],
    ['quant', fifo, 'a pipe that gave no data: nothing writes to it'],
    ['analyze', fifo, 'a pipe that gave no data: nothing writes to it'],
  ];
  for (const [cmd, path, why] of cases) {
    const r = spawnSync(process.execPath, [cli, cmd, path], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 2, `${cmd} ${path}: ${r.stderr} ${String(r.error ?? '')}`);
    assert.equal(r.stderr, `ridgeline: ${path}: cannot read the model config (${why}); expected a Hugging Face config.json\n`);
  }
  // A config piped in through /dev/stdin is read whole: the same analysis as from the file.
  const cfg = join(__dirname, '../../samples/llama-2-7b.json');
  // A shell pipe (node's own `input` option hands the child a socket, not a pipe).
  const piped = spawnSync('sh', ['-c', 'cat "$1" | "$2" "$3" analyze /dev/stdin --format json', 'sh', cfg, process.execPath, cli], { encoding: 'utf8', timeout: 20000 });
  assert.equal(piped.status, 0, piped.stderr);
  const fromFile = JSON.parse(run('analyze', cfg, '--format', 'json').stdout) as { model: { params: { total: number } }; decode: { timeS: number } };
  const fromPipe = JSON.parse(piped.stdout) as typeof fromFile;
  assert.equal(fromPipe.model.params.total, 6_738_415_616);
  assert.equal(fromPipe.decode.timeS, fromFile.decode.timeS);
  // A pipe names no model: a config without `_name_or_path` takes its model type, not "stdin" (nor "63" for
  // bash's <(...) as /dev/fd/63).
  const noName = join(__dirname, '../../samples/llama-3.1-8b.json');
  const unnamed = spawnSync('sh', ['-c', 'cat "$1" | "$2" "$3" analyze /dev/stdin --format json', 'sh', noName, process.execPath, cli], { encoding: 'utf8', timeout: 20000 });
  assert.equal(unnamed.status, 0, unnamed.stderr);
  assert.equal((JSON.parse(unnamed.stdout) as { model: { name: string } }).model.name, 'llama');
});

test('a reader that closes the pipe before reading (analyze | true, validate | head -1): no stack trace, exit 0', async () => {
  for (const args of [['analyze', join(__dirname, '../../samples/llama-2-7b.json'), '--format', 'json'], ['validate']]) {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.equal(stderr, '', args[0]);
    assert.equal(status, 0, args[0]);
  }
});
