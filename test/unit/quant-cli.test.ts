import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensorsHeader, type SafetensorsDtype } from '../../engine/quant/safetensors';
import { gaussian } from '../helpers/random';

const cli = join(__dirname, '../../dist/cli.js');
const samples = join(__dirname, '../../samples');
// The timeout turns a hang (a FIFO opened for reading) into a failed assertion instead of a stuck run.
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

/** Writes a safetensors file from raw tensor bytes. */
function writeModel(name: string, entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; data: Buffer }>): string {
  const { header } = encodeSafetensorsHeader(entries);
  const p = join(dir, name);
  writeFileSync(p, Buffer.concat([header, ...entries.map((e) => e.data)]));
  return p;
}

/** Exit 2, one line on stderr, no stack trace; returns the line. */
function badInput(args: string[]): string {
  const r = run(...args);
  assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  assert.equal(r.stdout, '');
  return r.stderr.trim();
}

/**
 * One row of 128 float32 weights: 127, 0.25 and zeros. int8 (symmetric, per row) has scale 127 / 127 = 1:
 * 127 and the zeros are exact, 0.25 rounds to 0. Signal 127^2 + 0.25^2 = 16129.0625, noise 0.0625:
 * SQNR = 10 log10(258065) = 54.1173 dB, relative RMSE = 1 / sqrt(258065) = 1.9685e-3.
 */
function handWorkedRow(): Buffer {
  const x = new Float32Array(128);
  x[0] = 127;
  x[1] = 0.25;
  return Buffer.from(x.buffer);
}
const HAND_INT8_DB = 10 * Math.log10(258065);

let dir = '';
let model = '';


function toBf16(x: Float32Array): Buffer {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = u[i]! >>> 16;
  return Buffer.from(out.buffer);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridgeline-quant-cli-'));
  // A small decoder-shaped checkpoint: bf16 embeddings and projections, an fp32 projection with one
  // outlier row, a 1-D norm (skipped: not 2-D) and an int64 buffer (skipped: dtype).
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; data: Buffer }> = [];
  entries.push({ name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [100, 64], data: toBf16(gaussian(6400, 0.02, 1)) });
  for (let l = 0; l < 2; l++) {
    entries.push({ name: `model.layers.${l}.self_attn.q_proj.weight`, dtype: 'BF16', shape: [64, 64], data: toBf16(gaussian(4096, 0.02, 10 + l)) });
    entries.push({ name: `model.layers.${l}.mlp.up_proj.weight`, dtype: 'BF16', shape: [256, 64], data: toBf16(gaussian(16384, 0.02, 20 + l)) });
    entries.push({ name: `model.layers.${l}.input_layernorm.weight`, dtype: 'BF16', shape: [64], data: toBf16(new Float32Array(64).fill(1)) });
  }
  const spiky = gaussian(64 * 256, 0.02, 99);
  for (let i = 0; i < spiky.length; i += 97) spiky[i] = 0.5; // 25-sigma outliers: group scales blow up
  entries.push({ name: 'model.layers.1.mlp.down_proj.weight', dtype: 'F32', shape: [64, 256], data: Buffer.from(spiky.buffer) });
  entries.push({ name: 'model.position_ids', dtype: 'I64', shape: [4], data: Buffer.alloc(32) });
  entries.push({ name: 'lm_head.weight', dtype: 'BF16', shape: [100, 64], data: toBf16(gaussian(6400, 0.02, 3)) });
  const { header } = encodeSafetensorsHeader(entries);
  model = join(dir, 'model.safetensors');
  writeFileSync(model, Buffer.concat([header, ...entries.map((e) => e.data)]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('quant model.safetensors --format json: tensors[] with SQNR and relative RMSE per format', () => {
  const r = run('quant', model, '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.formats, ['fp8', 'fp8-e5m2', 'int8', 'int4-g128', 'int4-g32', 'nf4', 'mxfp4', 'int3-g128', 'int2-g64', 'ternary']);
  assert.match(j.engine, /^cpu/);
  assert.equal(j.tensors.length, 7);
  assert.deepEqual(j.skipped.map((s: { name: string }) => s.name).sort(), ['model.layers.0.input_layernorm.weight', 'model.layers.1.input_layernorm.weight', 'model.position_ids']);
  for (const t of j.tensors) {
    assert.deepEqual(Object.keys(t), ['name', 'shape', 'dtype', 'params', 'role', 'errors']);
    assert.equal(t.params, t.shape[0] * t.shape[1]);
    for (const f of j.formats) {
      const e = t.errors[f];
      assert.ok(Number.isFinite(e.sqnrDb) && Number.isFinite(e.relRmse), `${t.name} ${f}`);
      assert.ok(Math.abs(e.relRmse - 10 ** (-e.sqnrDb / 20)) < 1e-9);
    }
    // More bits, less error: int8 > int4 g32 > int4 g128 > int3 > int2 on every weight.
    const s = (f: string) => t.errors[f].sqnrDb;
    assert.ok(s('int8') > s('int4-g32') && s('int4-g32') > s('int4-g128') && s('int4-g128') > s('int3-g128') && s('int3-g128') > s('int2-g64'), t.name);
  }
  assert.equal(j.tensors.find((t: { name: string }) => t.name === 'lm_head.weight').role, 'lmHead');
  assert.equal(j.tensors.find((t: { name: string }) => t.name === 'model.embed_tokens.weight').role, 'embedding');
  // The outlier-laden projection is the most sensitive linear weight.
  assert.equal(j.rankedBy, 'int4-g128');
  assert.equal(j.ranking[0].name, 'model.layers.1.mlp.down_proj.weight');
  assert.equal(j.ranking.length, 5);
  assert.ok(j.summary['int4-g128'].params === 2 * (4096 + 16384) + 16384);
});

test('worker threads and the in-process path give identical results', () => {
  const one = JSON.parse(run('quant', model, '--threads', '1', '--format', 'json').stdout);
  const two = JSON.parse(run('quant', model, '--threads', '2', '--format', 'json').stdout);
  assert.equal(one.engine, 'cpu');
  assert.equal(two.engine, 'cpu (2 threads)');
  assert.deepEqual(two.tensors, one.tensors);
  assert.deepEqual(two.summary, one.summary);
});

test('--formats picks formats; exact formats report null SQNR', () => {
  const r = run('quant', model, '--formats', 'int4,bf16', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.formats, ['int4-g128', 'bf16']);
  const q = j.tensors.find((t: { name: string }) => t.name === 'model.layers.0.self_attn.q_proj.weight');
  assert.deepEqual(q.errors.bf16, { sqnrDb: null, relRmse: 0 }); // bf16 weights are exact in bf16
  assert.ok(q.errors['int4-g128'].sqnrDb > 15 && q.errors['int4-g128'].sqnrDb < 25);
  const t = run('quant', model, '--formats', 'nf4', '--top', '2');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /Most sensitive linear weights under nf4/);
  assert.match(t.stdout, /\(3 more; --top N or --format json for all\)/);
});

test('bad input: one line, exit 2, no stack trace', () => {
  const bad = join(dir, 'broken.safetensors');
  writeFileSync(bad, Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 2]));
  for (const args of [
    ['quant', bad],
    ['quant', model, '--formats', 'int5'],
    ['quant', join(dir, 'missing.safetensors')],
    ['quant', model, '--hardware', 'h100-sxm'],
    ['quant', join(samples, 'llama-3.1-8b.json'), '--hardware', 'nope'],
    ['quant', join(samples, 'llama-3.1-8b.json'), '--max-decode-ms', '-3'],
    ['quant', join(samples, 'llama-3.1-8b.json'), '--formats', 'int4'],
  ]) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  }
  assert.match(run('quant', bad).stderr, /broken\.safetensors: header length 65535 runs past the end of the file/);
  assert.match(run('quant', model, '--formats', 'int5').stderr, /--formats: expected a weight format/);
});

test('quant config.json --format json: options and recommendation', () => {
  const r = run('quant', join(samples, 'llama-3.1-8b.json'), '--hardware', 'l4', '--batch', '4', '--prompt', '2048', '--generate', '512', '--max-decode-ms', '60', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const keys = ['weights', 'kv', 'bitsPerWeight', 'weightsBytes', 'kvCacheBytes', 'totalBytes', 'fits', 'prefillTimeS', 'decodeTimeS', 'quality'];
  for (const o of j.options) {
    for (const k of keys) assert.ok(k in o, k);
    assert.ok(['none', 'low', 'medium', 'high'].includes(o.quality.risk));
    assert.ok(Array.isArray(o.quality.evidence));
  }
  assert.equal(j.maxDecodeTimeS, 0.06);
  // 16 GB of bf16 weights do not fit a 24 GB L4 with the KV cache and runtime? They do not meet 60 ms either way:
  const bf = j.options.find((o: { weights: string; kv: string }) => o.weights === 'bf16' && o.kv === 'bf16');
  assert.ok(!(bf.fits && bf.decodeTimeS <= 0.06));
  assert.deepEqual(Object.keys(j.recommendation), ['weights', 'kv', 'why']);
  const rec = j.options.find((o: { weights: string; kv: string }) => o.weights === j.recommendation.weights && o.kv === j.recommendation.kv);
  assert.ok(rec.fits && rec.decodeTimeS <= 0.06);
  assert.match(j.recommendation.why, /quality risk/);
  assert.ok(j.evidence.every((e: { title: string; delta: string }) => e.title && e.delta));
  assert.doesNotMatch(r.stdout, /NaN|Infinity/);
});

test('quant config.json --tp: bytes and fit per device, times on the tp devices, as analyze --tp gives them', () => {
  const cfg = join(samples, 'llama-3-70b.json');
  const q = run('quant', cfg, '--hardware', 'a100-80gb', '--tp', '4', '--weights', 'bf16', '--kv', 'bf16', '--format', 'json');
  assert.equal(q.status, 0, q.stderr);
  const j = JSON.parse(q.stdout);
  assert.deepEqual(j.workload, { batch: 1, promptTokens: 1024, generateTokens: 256, tp: 4, cachedPromptTokens: 0 });
  const o = j.options[0];
  const a = JSON.parse(run('analyze', cfg, '--hardware', 'a100-80gb', '--tp', '4', '--weights', 'bf16', '--kv', 'bf16', '--format', 'json').stdout);
  assert.equal(o.totalBytes, a.memory.totalBytes);
  assert.equal(o.prefillTimeS, a.prefill.timeS);
  assert.equal(o.decodeTimeS, a.decode.timeS);
  assert.ok(o.fits); // 70B in bf16 does not fit one 80 GB A100; a quarter of it does
  assert.match(run('quant', cfg, '--hardware', 'a100-80gb', '--tp', '4', '--weights', 'bf16', '--kv', 'bf16').stdout, /^llama-3-70b \(70\.55B params, bf16\) on NVIDIA A100 SXM4 80GB x 4 \(tp; bytes and fit per device\): batch 1, prompt 1024, generate 256/);
  const bad = run('quant', cfg, '--tp', '3');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--tp: expected a divisor of the 64 attention heads/);
});

/**
 * Tensors holding NaN or Inf: each bit pattern set by hand (BF16 0x7fc0 quiet NaN, 0x7f81 signalling NaN,
 * 0xff80 -Inf; F16 0x7c00 +Inf, 0xfc00 -Inf, 0x7e00 NaN; F32 NaN and -Inf), beside one finite weight.
 */
function nonFiniteModel(): string {
  const bf = new Uint16Array(256).fill(0x3c00); // 2^-7
  bf[3] = 0x7fc0;
  bf[9] = 0xff80;
  bf[200] = 0x7f81;
  const h = new Uint16Array(256).fill(0x2000); // 2^-7
  h[0] = 0x7c00;
  h[1] = 0xfc00;
  h[130] = 0x7e00;
  const f = new Float32Array(256).fill(0.01);
  f[17] = NaN;
  f[255] = -Infinity;
  return writeModel('nonfinite.safetensors', [
    { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'F32', shape: [1, 128], data: handWorkedRow() },
    { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'BF16', shape: [2, 128], data: Buffer.from(bf.buffer) },
    { name: 'model.layers.0.self_attn.k_proj.weight', dtype: 'F16', shape: [2, 128], data: Buffer.from(h.buffer) },
    { name: 'model.layers.0.self_attn.v_proj.weight', dtype: 'F32', shape: [2, 128], data: Buffer.from(f.buffer) },
  ]);
}

test('tensors with NaN or Inf are skipped with their counts on every engine; the rest is measured', () => {
  const p = nonFiniteModel();
  const engines: string[][] = [['--engine', 'cpu', '--threads', '1'], ['--engine', 'cpu', '--threads', '2'], ['--engine', 'gpu']];
  let measuredOn = 0;
  for (const engine of engines) {
    const r = run('quant', p, '--formats', 'int8,nf4', '--format', 'json', ...engine);
    if (engine[1] === 'gpu' && r.status === 3) continue; // no WebGPU adapter on this machine
    assert.equal(r.status, 0, `${engine.join(' ')}: ${r.stderr}`);
    measuredOn++;
    assert.doesNotMatch(r.stdout, /: null\b/); // JSON writes NaN and Infinity as null
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.tensors.map((t: { name: string }) => t.name), ['model.layers.0.mlp.up_proj.weight']);
    const e = j.tensors[0].errors.int8;
    assert.ok(Math.abs(e.sqnrDb - HAND_INT8_DB) < 1e-6, `${engine.join(' ')}: ${e.sqnrDb}`);
    assert.ok(Math.abs(e.relRmse - 1 / Math.sqrt(258065)) < 1e-9);
    // The summary covers the measured tensor only: the same figure, 128 params.
    assert.ok(Math.abs(j.summary.int8.sqnrDb - HAND_INT8_DB) < 1e-6);
    assert.equal(j.summary.int8.params, 128);
    assert.deepEqual(
      j.skipped.map((s: { name: string; nonFinite: unknown }) => [s.name, s.nonFinite]),
      [
        ['model.layers.0.self_attn.q_proj.weight', { nan: 2, inf: 1 }],
        ['model.layers.0.self_attn.k_proj.weight', { nan: 1, inf: 2 }],
        ['model.layers.0.self_attn.v_proj.weight', { nan: 1, inf: 1 }],
      ],
    );
    assert.match(j.skipped[0].reason, /^3 non-finite values of 256 \(2 NaN and 1 Inf\)/);
    assert.ok(j.notes.includes('model.layers.0.self_attn.v_proj.weight: not measured: 2 non-finite values of 256 (1 NaN and 1 Inf)'), j.notes.join('\n'));
    assert.match(r.stderr, /model\.layers\.0\.self_attn\.k_proj\.weight: not measured: 3 non-finite values of 256 \(1 NaN and 2 Inf\)/);
  }
  assert.ok(measuredOn >= 2);
  // Table output: the notes on stderr, finite numbers only on stdout.
  const t = run('quant', p, '--formats', 'int8', '--engine', 'cpu');
  assert.equal(t.status, 0, t.stderr);
  assert.doesNotMatch(t.stdout, /NaN|Infinity/);
  assert.match(t.stdout, /int8 +54\.12 +1\.97e-3 +128/);
  assert.match(t.stderr, /model\.layers\.0\.self_attn\.q_proj\.weight: not measured: 3 non-finite values of 256 \(2 NaN and 1 Inf\)/);
});

test('nothing measurable left after the NaN/Inf tensors: exit 2 naming them, on every engine', () => {
  const bf = new Uint16Array(256).fill(0x3c00);
  bf[5] = 0x7fc0;
  const p = writeModel('allnan.safetensors', [{ name: 'w.weight', dtype: 'BF16', shape: [2, 128], data: Buffer.from(bf.buffer) }]);
  for (const engine of ['cpu', 'gpu']) {
    const r = run('quant', p, '--engine', engine);
    if (engine === 'gpu' && r.status === 3) continue;
    const line = badInput(['quant', p, '--engine', engine]);
    assert.match(line, /allnan\.safetensors: expected at least one 2-D F32, F16 or BF16 weight tensor to measure; found 1 tensor, none measurable: 1 with NaN or Inf values \(w\.weight has 1 NaN\)$/);
  }
});

test('no 2-D F32/F16/BF16 weights (empty header, 1-D or integer tensors only): exit 2 naming what was found', () => {
  const empty = writeModel('empty.safetensors', []);
  const oneD = writeModel('norms.safetensors', [
    { name: 'model.norm.weight', dtype: 'F32', shape: [4], data: Buffer.alloc(16) },
    { name: 'model.layers.0.input_layernorm.weight', dtype: 'BF16', shape: [4], data: Buffer.alloc(8) },
  ]);
  const ints = writeModel('ints.safetensors', [
    { name: 'model.position_ids', dtype: 'I64', shape: [2, 2], data: Buffer.alloc(32) },
    { name: 'model.rotary.inv_freq', dtype: 'F32', shape: [4], data: Buffer.alloc(16) },
    { name: 'model.empty.weight', dtype: 'F32', shape: [0, 128], data: Buffer.alloc(0) },
  ]);
  for (const engine of [[], ['--engine', 'cpu'], ['--engine', 'gpu']]) {
    assert.match(badInput(['quant', empty, ...engine]), /empty\.safetensors: expected at least one 2-D F32, F16 or BF16 weight tensor to measure; the header lists no tensors$/);
    assert.match(
      badInput(['quant', oneD, ...engine]),
      /norms\.safetensors: expected at least one 2-D .* to measure; found 2 tensors, none measurable: 2 not 2-D \(model\.norm\.weight: 1-D, model\.layers\.0\.input_layernorm\.weight: 1-D\)$/,
    );
    assert.match(
      badInput(['quant', ints, ...engine]),
      /ints\.safetensors: .*found 3 tensors, none measurable: 1 of dtype I64 \(model\.position_ids\), 1 not 2-D \(model\.rotary\.inv_freq: 1-D\), 1 empty \(model\.empty\.weight\)$/,
    );
  }
});

test('an empty format list is rejected, naming the option', () => {
  const config = join(samples, 'llama-3.1-8b.json');
  for (const [path, option] of [
    [config, '--weights'],
    [config, '--kv'],
    [model, '--formats'],
  ] as const) {
    for (const value of ['', ',', ' , ']) {
      assert.match(badInput(['quant', path, option, value]), new RegExp(`^ridgeline: ${option}: expected a comma-separated list of one or more formats, e\\.g\\. int4,fp8 \\(got ".*"\\)$`));
    }
  }
  assert.match(badInput(['quant', model, '--rank-by', '']), /--rank-by: expected a weight format/);
  // --rank-by must be one of the measured formats, checked before anything is measured
  assert.match(badInput(['quant', model, '--formats', 'int8', '--rank-by', 'nf4']), /--rank-by: expected one of the measured --formats \(got "nf4"\)/);
});

test('the path must be a regular file or a folder: devices and FIFOs are rejected without opening them', () => {
  for (const dev of ['/dev/zero', '/dev/urandom', '/dev/null']) {
    if (!existsSync(dev)) continue;
    assert.match(badInput(['quant', dev]), new RegExp(`${dev}: path: expected a regular file \\(\\.safetensors or model\\.safetensors\\.index\\.json\\) or a folder, not a character device$`));
  }
  const fifo = join(dir, 'pipe.safetensors');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo on this system
  assert.match(badInput(['quant', fifo]), /pipe\.safetensors: path: expected a regular file .* not a named pipe$/);
  // A shard named by an index, and model.safetensors in a folder, get the same check.
  const sharded = join(dir, 'fifo-shard');
  mkdirSync(sharded);
  spawnSync('mkfifo', [join(sharded, 'model-00001-of-00001.safetensors')]);
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': 'model-00001-of-00001.safetensors' } }));
  assert.match(badInput(['quant', sharded]), /fifo-shard\/model-00001-of-00001\.safetensors: path: expected a regular \.safetensors file, not a named pipe$/);
  const single = join(dir, 'fifo-single');
  mkdirSync(single);
  spawnSync('mkfifo', [join(single, 'model.safetensors')]);
  assert.match(badInput(['quant', single]), /fifo-single\/model\.safetensors: path: expected a regular \.safetensors file, not a named pipe$/);
});

test('an option of the other mode says which input it applies to', () => {
  const config = join(samples, 'llama-3.1-8b.json');
  for (const [option, value] of [['--hardware', 'h100-sxm'], ['--devices', 'd.json'], ['--batch', '2'], ['--prompt', '8'], ['--generate', '8'], ['--tp', '2'], ['--max-decode-ms', '5'], ['--weights', 'int4'], ['--kv', 'fp8']]) {
    const line = badInput(['quant', model, option!, value!]);
    assert.ok(
      line.endsWith(`${option}: expected only when quant is given a model config.json; ${model} is read as safetensors weights (their options: --formats, --rank-by, --top, --threads, --engine)`),
      line,
    );
  }
  for (const [option, value] of [['--formats', 'int4'], ['--rank-by', 'int4'], ['--top', '3'], ['--threads', '1'], ['--engine', 'cpu']]) {
    const line = badInput(['quant', config, option!, value!]);
    assert.ok(line.endsWith(`${option}: expected only when quant is given safetensors weights; ${config} is read as a model config (its options: --hardware, --devices, --batch, --prompt, --generate, --tp, --max-decode-ms, --weights, --kv, --serving-engine)`), line);
  }
});

test('only embeddings and an LM head: their errors are listed, no empty whole-model summary', () => {
  const p = writeModel('heads.safetensors', [
    { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [1, 128], data: handWorkedRow() },
    { name: 'lm_head.weight', dtype: 'F32', shape: [1, 128], data: handWorkedRow() },
  ]);
  const r = run('quant', p, '--formats', 'int8', '--engine', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /No linear weights: only embeddings and LM heads were measured/);
  assert.match(r.stdout, /model\.embed_tokens\.weight +1x128 +F32 +54\.12/);
  assert.match(r.stdout, /lm_head\.weight +1x128 +F32 +54\.12/);
  assert.doesNotMatch(r.stdout, /exact|Whole model/);
});

test('ridgeline quant --serving-engine: costs and default formats of the profile (llama.cpp: fp16 cache, fp16 activations for quantized weights)', () => {
  const cfg = join(__dirname, '../../samples/mistral-7b-v0.1.json'); // bf16
  const r = run('quant', cfg, '--hardware', 'rtx-4090', '--serving-engine', 'llama.cpp', '--weights', 'int4-g32,bf16', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { options: Array<{ weights: string; kv: string; activations: string }> };
  assert.ok(j.options.some((o) => o.kv === 'fp16') && !j.options.some((o) => o.kv === 'bf16'));
  assert.ok(j.options.filter((o) => o.weights === 'int4-g32').every((o) => o.activations === 'fp16'));
  // Only with a config: the weights mode's --engine is the measurement engine.
  const bad = run('quant', cfg, '--serving-engine', 'vlm');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--serving-engine: unknown serving engine "vlm"/);
});
