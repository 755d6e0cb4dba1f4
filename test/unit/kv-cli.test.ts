import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs the built CLI (npm run build / the test runner builds first).
const cli = join(__dirname, '../../dist/cli.js');
const samples = join(__dirname, '../../samples');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'kv', ...args], { encoding: 'utf8' });
const KiB = 1024;
const GiB = 2 ** 30;

test('ridgeline kv --format json: bytes per token per format, contexts 1k..128k, plan', () => {
  const r = run(join(samples, 'llama-2-7b.json'), '--hardware', 'a100-80gb', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.model.attentionKind, 'mha');
  assert.equal(j.kvFormat, 'fp16'); // the model's torch_dtype
  assert.equal(j.formats.find((f: { id: string }) => f.id === 'fp16').bytesPerToken, 512 * KiB);
  assert.equal(j.formats.find((f: { id: string }) => f.id === 'fp8').bytesPerToken, 256 * KiB);
  assert.deepEqual(
    j.contexts.map((c: { contextTokens: number }) => c.contextTokens),
    [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072],
  );
  // 4096 tokens x 512 KiB = 2 GiB per sequence; the model stops at 4096 positions, so 8k+ rows are flagged
  const c4k = j.contexts.find((c: { contextTokens: number }) => c.contextTokens === 4096);
  assert.equal(c4k.bytesPerSequence, 2 * GiB);
  assert.equal(c4k.beyondMaxPosition, false);
  assert.equal(j.contexts.at(-1).beyondMaxPosition, true);
  assert.match(r.stderr, /exceed the model's max_position_embeddings \(4096\)/);
  for (const k of ['weightsBytes', 'kvCacheBytes', 'activationsBytes', 'overheadBytes', 'totalBytes', 'deviceBytes']) {
    assert.equal(typeof j.plan[k], 'number', k);
    assert.ok(Number.isFinite(j.plan[k]), k);
  }
  assert.equal(j.plan.fits, true);
  assert.equal(j.plan.weightsBytes, 6738415616 * 2);
  assert.equal(j.plan.kvCacheBytes, 2 * GiB);
  assert.equal(j.plan.deviceBytes, 80 * GiB);
  assert.doesNotMatch(r.stdout, /NaN|Infinity/);
});

test('ridgeline kv with window, eviction and prefix options shows both sides', () => {
  const r = run(
    join(samples, 'llama-3.1-8b.json'),
    '--kv', 'fp8', '--batch', '8', '--context', '8192', '--sinks', '4', '--recent', '1020',
    '--heavy-hitters', '10%', '--prefix', '4096', '--tp', '2', '--format', 'json',
  );
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.tp, 2);
  assert.equal(j.options.heavyHitterFraction, 0.1);
  // 8 KV heads over tp=2: 4 per device: 32 x 2 x 4 x 128 x 1 B = 32 KiB per token per device in fp8
  assert.equal(j.formats.find((f: { id: string }) => f.id === 'fp8').bytesPerTokenPerDevice, 32 * KiB);
  const c = j.contexts.find((x: { contextTokens: number }) => x.contextTokens === 131072);
  assert.ok(c.withOptions.bytesPerSequence < c.bytesPerSequence / 5);
  assert.ok(c.withOptions.maxBatch > c.maxBatch);
  assert.ok(j.prefixSharing.savedBytes > 0);
  // 8 sequences x 8192 tokens sharing 4096: 4096 + 8 x 4096 tokens stored instead of 8 x 8192 (32 KiB each)
  assert.equal(j.prefixSharing.bytesWithoutSharing, 8 * 8192 * 32 * KiB + 32 * 2 * 4);
  assert.equal(j.prefixSharing.bytesWithSharing, (4096 + 8 * 4096) * 32 * KiB + 32 * 2 * 4);
  assert.match(r.stderr, /H2O: Heavy-Hitter Oracle/);
});

test('ridgeline kv table output names the fit and the plan', () => {
  const r = run(join(samples, 'llama-3-70b.json'), '--hardware', 'h100-sxm');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /fits: NO/);
  assert.match(r.stdout, /KV format\s+bits\/elem\s+bytes\/token/);
  assert.match(r.stdout, /^int2 /m);
  const r2 = run(join(samples, 'llama-3-70b.json'), '--hardware', 'h100-sxm', '--tp', '4');
  assert.match(r2.stdout, /fits: yes/);
  // A longest context past what the model was trained for says so (Mixtral: 32,768 positions).
  const m = run(join(samples, 'mixtral-8x7b.json'), '--hardware', 'a100-80gb', '--weights', 'int4-g128');
  const max = /Max context at batch 1: ([\d,]+) tokens( \(beyond max_position_embeddings 32,768: memory only\))?/.exec(m.stdout);
  assert.ok(max, m.stdout);
  assert.ok(Number(max[1]!.replace(/,/g, '')) > 32_768 && max[2] !== undefined);
  // Llama-3.1-8B on an A10G holds 40,704 tokens, within its 131,072 positions: no mark.
  assert.match(run(join(samples, 'llama-3.1-8b.json'), '--hardware', 'a10g').stdout, /Max context at batch 1: 40,704 tokens\n/);
});

test('ridgeline kv bad input: one line, exit 2, no stack trace', () => {
  const cfg = join(samples, 'llama-2-7b.json');
  const cases: Array<[string[], RegExp]> = [
    [[cfg, '--kv', 'int3'], /--kv: expected a KV-cache format: .* \(got "int3"\)/],
    [[cfg, '--batch', '0'], /--batch: expected an integer from 1/],
    [[cfg, '--block', '-16'], /--block: expected an integer from 1/],
    [[cfg, '--context', '1e12'], /--context: expected an integer/],
    [[cfg, '--context', '99999999999'], /--context: expected an integer from 1 to 1073741824/],
    [[cfg, '--heavy-hitters', '150%'], /--heavy-hitters: expected a percentage/],
    [[cfg, '--heavy-hitters', 'lots'], /--heavy-hitters: expected an integer/],
    [[cfg, '--sinks', '4'], /--sinks: expected a --recent window/],
    [[cfg, '--prefix', '9000'], /--prefix: expected a shared prefix no longer than --context \(4096\)/],
    [[cfg, '--sequences', '4'], /--sequences: expected a --prefix/],
    [[cfg, '--batch', '2', '--prefix', '1000', '--sequences', '4'], /^ridgeline: --sequences: expected the --batch of the plan \(2\), or one of the two left out: the sequences sharing the prefix are the batch \(got 4\)$/m],
    [[cfg, '--hardware', 'h1000'], /--hardware: unknown hardware id "h1000"/],
    [[cfg, '--tp', '0'], /--tp: expected an integer from 1/],
    [[cfg, '--tp', '3'], /--tp: expected a divisor of the 32 attention heads/],
    [[cfg, '--kv', 'int4', '--residual', '100'], /--residual: expected a residual length >= 0 and a multiple of the group size 32/],
    [[cfg, '--bach', '4'], /--bach: expected a known option/],
    [[cfg, '--residual', '0'], /^ridgeline: --residual: expected a grouped KV format \(--kv int8, int4 or int2\) for the group size and residual options \(got "fp16"\)$/m],
    [[cfg, '--group', '64'], /^ridgeline: --group: expected a grouped KV format/],
    [[cfg, '--devices', '/dev/zero'], /^ridgeline: \/dev\/zero: expected a readable device file \(JSON\): a character device, not a regular file$/m],
    [[join(samples, 'no-such-model.json')], /no-such-model\.json: cannot read the model config/],
    [[], /config: expected a model config.json path/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /at .*\.[jt]s:\d+/);
    assert.equal(r.stdout, '');
  }
});

test('ridgeline kv --devices: a device from a JSON file sizes the plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-kv-dev-'));
  const file = join(dir, 'devices.json');
  // 24 GiB, 90% usable: 21.6 GiB; Llama-2-7B fp16 holds 12.55 GiB of weights.
  writeFileSync(file, JSON.stringify([{ id: 'card-24', name: 'Card 24', memoryBytes: 24 * 2 ** 30, memoryBandwidthBytesPerS: 1e12, peakFlopsPerS: { fp16: 1e14 }, source: 'test' }]));
  const r = run(join(samples, 'llama-2-7b.json'), '--devices', file, '--hardware', 'card-24', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { plan: { usableBytes: number; kv: { budgetBytes: number } } };
  assert.equal(out.plan.usableBytes, 0.9 * 24 * 2 ** 30);
});

test("ridgeline kv --engine: the engine's cache format and prefill chunk (llama.cpp: fp16, 512 tokens); an unknown id exits 2", () => {
  const cfg = join(samples, 'mistral-7b-v0.1.json'); // bf16
  const j = (...a: string[]) => {
    const r = run(cfg, '--hardware', 'rtx-4090', '--format', 'json', ...a);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { plan: { kv: { format: string }; prefillChunkTokens?: number; activationsBytes: number } };
  };
  const plain = j();
  const lc = j('--engine', 'llama.cpp');
  assert.equal(plain.plan.kv.format, 'bf16');
  assert.equal(lc.plan.kv.format, 'fp16');
  // 512-token micro-batches: the peak activations are smaller than with 8192-token passes.
  assert.ok(lc.plan.activationsBytes < plain.plan.activationsBytes);
  assert.equal(j('--engine', 'llama.cpp', '--kv', 'fp8').plan.kv.format, 'fp8');
  const bad = run(cfg, '--engine', 'vlm');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--engine: unknown serving engine "vlm"; close matches: vllm/);
});
