import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KernelAnalyzer, LINT_RULES, MAX_DIM, dimsNotInSource, parseDimsOption, type KernelFileReport, type KernelInfo } from '../../engine/kernels/index';
import type { Device } from '../../engine/hardware/types';
import { getDevice } from '../../engine/hardware/index';
import { SyntaxSource, directRead, readTopLevel, readWhole, setDirectRead, type SyntaxNode } from '../../engine/kernels/syntax';
import { TreeStore } from '../../engine/kernels/parser';
import { analyzeKernels, combineUnits } from '../../engine/kernels/analyze';
import { emptyUnit, type Expr, type Pos } from '../../engine/kernels/ir';

const root = join(__dirname, '../..');
const samples = join(root, 'samples/kernels');
let analyzer: KernelAnalyzer;

/** A device with round figures so that bounds and times can be worked by hand. */
const DEV: Device = {
  id: 'test-gpu',
  name: 'Test GPU',
  vendor: 'nvidia',
  memoryBytes: 80e9,
  memoryBandwidthBytesPerS: 2e12,
  peakFlopsPerS: { fp32: 50e12, tf32: 400e12, fp16: 800e12, bf16: 800e12 },
  smCount: 100,
  maxThreadsPerSm: 2048,
  maxThreadsPerBlock: 1024,
  sharedMemoryPerSmBytes: 228 * 1024,
  maxSharedMemoryPerBlockBytes: 227 * 1024,
  simdWidth: 32,
  source: 'round figures for tests',
};

before(async () => {
  analyzer = await KernelAnalyzer.create(join(root, 'node_modules'));
});
after(() => analyzer.dispose());

async function run(file: string, opts: { dims?: Record<string, number>; device?: Device | null } = {}): Promise<KernelFileReport> {
  const lang = file.endsWith('.py') ? 'triton' : file.endsWith('.wgsl') ? 'wgsl' : 'cuda';
  return analyzer.analyze(readFileSync(join(samples, file), 'utf8'), lang, { file, device: opts.device === undefined ? DEV : opts.device, dims: opts.dims });
}
function kernel(r: KernelFileReport, name: string): KernelInfo {
  const k = r.kernels.find((x) => x.name === name);
  assert.ok(k, `kernel ${name} in ${r.kernels.map((x) => x.name).join(', ')}`);
  return k;
}
function codesOf(r: KernelFileReport, name: string): string[] {
  return r.diagnostics.filter((d) => d.kernel === name).map((d) => d.code);
}
function lineOf(file: string, needle: string): number {
  const lines = readFileSync(join(samples, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, needle);
  return i + 1;
}

test('CUDA tiled GEMM: #define tiles, dim3 launch, shared memory, loops, FLOPs and bytes', async () => {
  const r = await run('gemm_tiled.cu');
  assert.equal(r.language, 'cuda');
  assert.deepEqual(r.kernels.map((k) => k.name), ['gemm_tiled']); // launch_gemm is host code
  const k = kernel(r, 'gemm_tiled');
  assert.equal(k.line, lineOf('gemm_tiled.cu', '__global__ void gemm_tiled'));
  assert.deepEqual(k.workgroupSize, [16, 16, 1]); // dim3 block(TILE, TILE), TILE=16
  assert.equal(k.sharedMemoryBytes, 2 * 16 * 16 * 4); // As + Bs, float
  assert.deepEqual(k.launches[0]!.grid, [256, 256, 1]); // (4096 + 15) / 16
  assert.deepEqual(k.params.map((p) => [p.name, p.kind]), [['A', 'global'], ['B', 'global'], ['C', 'global'], ['M', 'value'], ['N', 'value'], ['K', 'value']]);
  assert.deepEqual(k.loops.map((l) => [l.tripCount, l.constant]), [[256, false], [16, true]]); // K/TILE needs K; TILE is constant
  // per thread: 256 tiles x 2 loads, 1 store; 256 x 16 multiply-adds = 8192 FLOPs
  assert.equal(k.globalLoadsPerThread, 512);
  assert.equal(k.globalStoresPerThread, 1);
  const e = k.estimate!;
  const M = 4096, N = 4096, K = 4096;
  assert.equal(e.flops, 2 * M * N * K);
  assert.equal(e.bytes, M * N * (2 * (K / 16) + 1) * 4);
  assert.equal(e.dtype, 'fp32');
  // intensity = 2K / ((2K/16 + 1) * 4) = 8192 / 2052 = 3.99 FLOP/B < ridge 50e12/2e12 = 25: memory bound
  assert.ok(Math.abs(e.intensity - 8192 / 2052) < 1e-9);
  assert.equal(e.device!.ridgeIntensity, 25);
  assert.equal(e.device!.bound, 'memory');
  assert.ok(Math.abs(e.device!.timeS - e.bytes / 2e12) < 1e-12);
  // the notes show the counts with thousands separators
  assert.ok(e.notes.includes('FLOPs counted in the source: 8,192 per thread x 16,777,216 threads (branches on the thread index weighted by the share of threads taking them)'), e.notes.join('\n'));
  assert.ok(e.notes.includes('bytes: 2,052 global bytes per thread x 16,777,216 threads (every load counted; caches not modelled)'), e.notes.join('\n'));
  // occupancy: 256 threads -> 8 blocks (2048 threads); smem 8 x (2048 + 1024 reserved) fits 228 KiB
  assert.equal(k.occupancy!.blocksPerSm, 8);
  assert.equal(k.occupancy!.occupancy, 1);
  for (const c of ['RL001', 'RL002', 'RL003', 'RL004', 'RL005', 'RL006', 'RL010']) assert.ok(!codesOf(r, 'gemm_tiled').includes(c), c);
});

test('CUDA templated reduction: template arguments from the launch, helpers are not kernels', async () => {
  const r = await run('reduce_sum.cu');
  assert.deepEqual(r.kernels.map((k) => k.name), ['reduce_sum']); // warp_sum is __device__, launch_reduce host
  const k = kernel(r, 'reduce_sum');
  assert.equal(k.sharedMemoryBytes, 256 * 4); // __shared__ T partial[BLOCK_SIZE], T=float, BLOCK_SIZE=BLOCK=256
  assert.deepEqual(k.workgroupSize, [256, 1, 1]);
  assert.deepEqual(k.launches[0]!.grid, [65536, 1, 1]); // (2^24 + 255) / 256
  assert.deepEqual(k.loops.map((l) => l.tripCount), [8]); // s = 128, 64, ..., 1
  const n = 16777216;
  // tree adds: each block adds 128 + 64 + ... + 1 = 255 pairs -> n / 256 * 255 FLOPs; each thread reads one float
  assert.equal(k.estimate!.flops, (n / 256) * 255);
  assert.equal(k.estimate!.bytes, n * 4);
  assert.ok(!codesOf(r, 'reduce_sum').includes('RL004'), 'guarded tree reduction with barriers is race-free');
});

test('CUDA softmax: thread-strided loops, two shared-memory reductions', async () => {
  const r = await run('softmax.cu');
  const k = kernel(r, 'softmax_rows');
  assert.deepEqual(k.workgroupSize, [256, 1, 1]);
  assert.deepEqual(k.launches[0]!.grid, [8192, 1, 1]);
  assert.equal(k.sharedMemoryBytes, 1024);
  assert.deepEqual(k.loops.map((l) => l.tripCount), [16, 8, 16, 8, 16]); // 4096 / 256 columns per thread
  // each element is read 3 times and written once: 4 x rows x cols x 4 bytes
  assert.equal(k.estimate!.bytes, 4 * 8192 * 4096 * 4);
  assert.equal(k.globalLoadsPerThread, 48);
  assert.deepEqual(codesOf(r, 'softmax_rows').filter((c) => c !== 'RL007'), []);
});

test('WGSL reduction: override constant, workgroup memory, dispatch annotation', async () => {
  const r = await run('reduce.wgsl');
  const k = kernel(r, 'reduce_sum');
  assert.equal(k.line, lineOf('reduce.wgsl', 'fn reduce_sum'));
  assert.deepEqual(k.workgroupSize, [256, 1, 1]); // override WG: u32 = 256
  assert.equal(k.sharedMemoryBytes, 256 * 4); // var<workgroup> scratch: array<f32, WG>
  assert.deepEqual(k.launches[0]!.grid, [2048, 1, 1]); // dispatch=N/512
  const N = 1048576;
  // per workgroup: 256 first adds + 255 tree adds; bytes: N reads + one partial per workgroup
  assert.equal(k.estimate!.flops, 2048 * 511);
  assert.equal(k.estimate!.bytes, N * 4 + 2048 * 4);
  assert.ok(!codesOf(r, 'reduce_sum').includes('RL004'));
});

test('WGSL tiled matmul: 2D tiles in workgroup memory, struct uniform, FLOPs = 2MNK', async () => {
  const r = await run('matmul_tiled.wgsl');
  const k = kernel(r, 'matmul');
  assert.deepEqual(k.workgroupSize, [16, 16, 1]);
  assert.equal(k.sharedMemoryBytes, 2 * 16 * 16 * 4);
  assert.equal(k.estimate!.flops, 2 * 1024 ** 3);
  assert.equal(k.estimate!.bytes, 1024 * 1024 * (2 * 64 + 1) * 4);
  assert.deepEqual(codesOf(r, 'matmul').filter((c) => c !== 'RL007'), []);
});

test('Triton autotuned matmul: configs, num_warps x 32, block shapes, tl.dot FLOPs', async () => {
  const r = await run('matmul_autotune.py');
  assert.equal(r.language, 'triton');
  assert.deepEqual(r.kernels.map((k) => k.name), ['matmul_kernel']); // matmul() is the host wrapper
  const k = kernel(r, 'matmul_kernel');
  assert.equal(k.line, lineOf('matmul_autotune.py', 'def matmul_kernel'));
  assert.equal(k.configs!.length, 2);
  assert.deepEqual(k.constexprs, { BLOCK_M: 128, BLOCK_N: 128, BLOCK_K: 32 });
  assert.deepEqual(k.workgroupSize, [8 * 32, 1, 1]); // num_warps=8 of the first config
  assert.deepEqual(k.launches[0]!.grid, [32, 32, 1]); // cdiv(4096, 128) each way
  assert.deepEqual(k.loops.map((l) => l.tripCount), [128]); // cdiv(K, BLOCK_K)
  const e = k.estimate!;
  assert.equal(e.flops, 2 * 4096 ** 3); // 2*BM*BN*BK per dot x 128 iterations x 1024 programs
  assert.equal(e.bytes, 2 * 3 * 4096 * 4096); // annotation: bytes=2*(M*K+K*N+M*N)
  assert.equal(e.dtype, 'fp16'); // dtype=fp16 annotation
  assert.equal(e.device!.bound, 'compute'); // 1365 FLOP/B > 800e12 / 2e12 = 400
});

test('Triton heuristics + launch keywords; plain @triton.jit kernel; non-kernel helper skipped', async () => {
  const r = await run('softmax_triton.py');
  assert.deepEqual(r.kernels.map((k) => k.name), ['softmax_kernel', 'add_kernel']);
  const s = kernel(r, 'softmax_kernel');
  assert.deepEqual(s.constexprs, { BLOCK_SIZE: 4096 }); // next_power_of_2(n_cols)
  assert.deepEqual(s.workgroupSize, [256, 1, 1]); // num_warps=8 at the launch
  assert.deepEqual(s.launches[0]!.grid, [8192, 1, 1]);
  // per row of 4096: sub, max, exp, sum, div = 5 FLOPs per element; one load and one store of 4-byte elements
  assert.equal(s.estimate!.flops, 8192 * 4096 * 5);
  assert.equal(s.estimate!.bytes, 8192 * 4096 * 4 * 2);
  const a = kernel(r, 'add_kernel');
  assert.deepEqual(a.workgroupSize, [128, 1, 1]); // Triton default num_warps=4
  assert.deepEqual(a.launches[0]!.grid, [16384, 1, 1]);
  assert.equal(a.estimate!.flops, 16777216);
  assert.equal(a.estimate!.bytes, 16777216 * 12);
  assert.equal(a.globalLoadsPerThread, 2);
});

test('syntax errors: partial results plus an RL008 diagnostic', async () => {
  const r = await run('syntax_error.cu');
  assert.deepEqual(r.kernels.map((k) => k.name).sort(), ['broken', 'offset', 'scale']);
  const errs = r.diagnostics.filter((d) => d.code === 'RL008');
  assert.ok(errs.length >= 1);
  assert.equal(errs[0]!.severity, 'error');
  const brokenLine = lineOf('syntax_error.cu', 'if (i < n {');
  assert.ok(errs.some((d) => d.line === brokenLine || d.line === brokenLine - 1), JSON.stringify(errs));
  assert.deepEqual(kernel(r, 'offset').workgroupSize, [128, 1, 1]);
});

test('dims: options override annotations; missing dims explain the missing estimate', async () => {
  const r = await run('gemm_tiled.cu', { dims: { M: 1024, N: 1024, K: 1024 } });
  assert.equal(kernel(r, 'gemm_tiled').estimate!.flops, 2 * 1024 ** 3);
  const src = readFileSync(join(samples, 'gemm_tiled.cu'), 'utf8').replace(/\/\/ ridgeline:.*\n/, '');
  const r2 = await analyzer.analyze(src, 'cuda', { device: DEV });
  const k = kernel(r2, 'gemm_tiled');
  assert.equal(k.estimate, undefined);
  assert.match(k.estimateUnavailable!, /grid size does not resolve|needs K/);
});

test('every lint fires on its bad CUDA case and not on the good one', async () => {
  const r = await run('lints/cases.cu');
  const pairs: Array<[string, string, string | null]> = [
    ['RL001', 'bad_simd', 'good_simd'],
    ['RL002', 'bad_block_limit', 'good_block_limit'],
    ['RL003', 'bad_smem_limit', 'good_smem_limit'],
    ['RL004', 'bad_race', 'good_race'],
    ['RL005', 'bad_untiled', 'good_race'],
    ['RL006', 'bad_coalesce', 'good_coalesce'],
    ['RL007', 'bad_f32_add', 'good_f16_add'],
    ['RL009', 'bad_occupancy', 'good_simd'],
    ['RL010', 'bad_divergent', 'good_divergent'],
  ];
  for (const [code, bad, good] of pairs) {
    assert.ok(codesOf(r, bad).includes(code), `${code} on ${bad}: ${codesOf(r, bad)}`);
    if (good) assert.ok(!codesOf(r, good).includes(code), `${code} not on ${good}`);
  }
  const race = r.diagnostics.find((d) => d.code === 'RL004' && d.kernel === 'bad_race')!;
  assert.equal(race.line, lineOf('lints/cases.cu', 'As[threadIdx.y][threadIdx.x] = A[row * K + t + threadIdx.x];'));
  assert.match(race.message, /As\[threadIdx\.y\]\[threadIdx\.x\]/);
  assert.ok(race.fix && /__syncthreads/.test(race.fix));
  assert.equal(kernel(r, 'bad_occupancy').sharedMemoryBytes, 100000); // extern __shared__ sized by <<<.., .., 100000>>>
});

test('every lint fires on its bad WGSL / Triton case and not on the good one', async () => {
  const w = await run('lints/cases.wgsl');
  const pairs: Array<[string, string, string]> = [
    ['RL001', 'bad_simd', 'good_simd'],
    ['RL002', 'bad_wg_limit', 'good_simd'],
    ['RL003', 'bad_wg_memory', 'good_wg_memory'],
    ['RL004', 'bad_race', 'good_wg_memory'],
    ['RL006', 'bad_coalesce', 'good_coalesce'],
  ];
  for (const [code, bad, good] of pairs) {
    assert.ok(codesOf(w, bad).includes(code), `${code} on ${bad}: ${codesOf(w, bad)}`);
    assert.ok(!codesOf(w, good).includes(code), `${code} not on ${good}`);
  }
  assert.deepEqual(kernel(w, 'bad_wg_limit').workgroupSize, [512, 1, 1]); // override BIG = 512
  assert.equal(kernel(w, 'bad_wg_memory').sharedMemoryBytes, 8192 * 4); // only `huge` is used by it
  assert.equal(kernel(w, 'good_simd').sharedMemoryBytes, 0); // uses no workgroup variable
  const t = await run('lints/cases.py');
  assert.ok(codesOf(t, 'bad_arange').includes('RL011'));
  assert.ok(!codesOf(t, 'good_arange').includes('RL011'));
});

test('lint table: stable codes, unique, each explained', () => {
  const codes = LINT_RULES.map((r) => r.code);
  assert.equal(new Set(codes).size, codes.length);
  for (const r of LINT_RULES) {
    assert.match(r.code, /^RL\d{3}$/);
    assert.ok(r.explanation.length > 40, r.code);
  }
});

test('incremental update: same result as a full parse, only the edited declaration walked again', async () => {
  const src = readFileSync(join(samples, 'lints/cases.cu'), 'utf8');
  const doc = 'mem://cases.cu';
  const a = await KernelAnalyzer.create(join(root, 'node_modules'), ['cuda']);
  try {
    await a.update(doc, src, 'cuda', { device: DEV });
    const needle = '  if (i < n) c[i] = a[i] + b[i];';
    const at = src.indexOf(needle);
    const insert = at + needle.length;
    const text = ' // edited';
    const next = src.slice(0, insert) + text + src.slice(insert);
    const before = src.slice(0, insert).split('\n');
    const line = before.length - 1;
    const col = before[before.length - 1]!.length;
    const inc = await a.update(doc, next, 'cuda', {
      device: DEV,
      edits: [{ startOffset: insert, oldEndOffset: insert, startLine: line, startColumn: col, oldEndLine: line, oldEndColumn: col, newText: text }],
    });
    assert.equal(a.lastWalkedUnits, 1);
    const full = await analyzer.analyze(next, 'cuda', { device: DEV });
    assert.deepEqual(inc, full);
    // an edit that adds a line shifts everything below it
    const nl = '\n// a new comment line';
    const next2 = next.slice(0, insert) + nl + next.slice(insert);
    const inc2 = await a.update(doc, next2, 'cuda', {
      device: DEV,
      edits: [{ startOffset: insert, oldEndOffset: insert, startLine: line, startColumn: col, oldEndLine: line, oldEndColumn: col, newText: nl }],
    });
    const full2 = await analyzer.analyze(next2, 'cuda', { device: DEV });
    assert.deepEqual(inc2, full2);
    assert.equal(kernel(inc2, 'bad_occupancy').line, kernel(full, 'bad_occupancy').line + 1);
  } finally {
    a.dispose();
  }
});

test('parsed trees are freed after the report is returned: on the next turn of the event loop, or at dispose', async () => {
  const src = readFileSync(join(samples, 'reduce_sum.cu'), 'utf8');
  const a = await KernelAnalyzer.create(join(root, 'node_modules'), ['cuda']);
  const first = await a.analyze(src, 'cuda', { device: DEV });
  await a.update('mem://r.cu', src, 'cuda', { device: DEV });
  await a.update('mem://r.cu', src, 'cuda', { device: DEV });
  // the one-shot tree and the document's replaced tree wait; the document's current tree is kept
  assert.equal(a.pendingTreeFrees, 2);
  await new Promise((r) => setImmediate(r));
  assert.equal(a.pendingTreeFrees, 0);
  // a tree waiting to be freed does not disturb the next analysis
  const again = await a.analyze(src, 'cuda', { device: DEV });
  assert.equal(a.pendingTreeFrees, 1);
  assert.deepEqual(again, first);
  // a caller that never yields keeps at most 4 trees waiting
  for (let i = 0; i < 10; i++) await a.analyze(src, 'cuda', { device: DEV });
  assert.equal(a.pendingTreeFrees, 4);
  a.dispose();
  assert.equal(a.pendingTreeFrees, 0);
  await new Promise((r) => setImmediate(r));
});

test('names that JavaScript objects inherit (valueOf, constructor) are plain identifiers, dims and constants', async () => {
  const src = [
    '// ridgeline: constructor=128',
    '#define valueOf 64',
    '__global__ void k(float* x) {',
    '  for (int i = 0; i < valueOf; ++i) x[threadIdx.x * valueOf + i] += 1.0f;',
    '  x[threadIdx.constructor] = 0.0f;',
    '}',
    'void launch(float* x) { k<<<constructor, 256>>>(x); }',
  ].join('\n');
  const r = await analyzer.analyze(src, 'cuda', { device: DEV });
  assert.deepEqual(r.dims, { constructor: 128 });
  const k = kernel(r, 'k');
  // a constant from the source: the trip count is known without dims
  assert.deepEqual(k.loops.map((l) => [l.tripCount, l.constant]), [[64, true]]);
  assert.deepEqual(k.launches[0]!.grid, [128, 1, 1]);
  assert.deepEqual(k.launches[0]!.block, [256, 1, 1]);
  // threadIdx.constructor is a member, not a thread index: no finding on that store, no annotation warning
  assert.deepEqual(r.diagnostics.filter((d) => d.line === 5 || d.code === 'RL008'), []);
});

test('device from the hardware table: H100 SXM limits and peaks apply', async () => {
  const h100 = getDevice('h100-sxm');
  const r = await run('gemm_tiled.cu', { device: h100 });
  const e = kernel(r, 'gemm_tiled').estimate!;
  assert.equal(e.device!.id, 'h100-sxm');
  assert.equal(e.device!.peakFlopsPerS, h100.peakFlopsPerS.fp32);
  const none = await run('gemm_tiled.cu', { device: null });
  assert.equal(kernel(none, 'gemm_tiled').estimate!.device, undefined);
});

test('16-bit storage: tensor-core peak only where the kernel issues wmma / mma; else the fp32 rate (WGSL always)', async () => {
  const analyze = (src: string, lang: 'cuda' | 'wgsl', device: Device = DEV) => analyzer.analyze(src, lang, { file: `k.${lang === 'cuda' ? 'cu' : 'wgsl'}`, device, dims: {} });
  // A naive GEMM over __half inputs with a float accumulator: scalar fp32 arithmetic. 2 x 4096^3 FLOPs at DEV's
  // 50 TFLOP/s fp32 = 2.749 ms, where its 800 TFLOP/s fp16 tensor peak would give 0.172 ms.
  const naive = [
    '// ridgeline: M=4096 N=4096 K=4096 flops=2*M*N*K bytes=2*(M*K+K*N+M*N)',
    '__global__ void hgemm(const __half* A, const __half* B, __half* C, int M, int N, int K) {',
    '  int r = blockIdx.y * 16 + threadIdx.y; int c = blockIdx.x * 16 + threadIdx.x;',
    '  float acc = 0.0f;',
    '  for (int k = 0; k < K; ++k) acc += __half2float(A[r * K + k]) * __half2float(B[k * N + c]);',
    '  C[r * N + c] = __float2half(acc);',
    '}',
    'void go(const __half* A, const __half* B, __half* C) { hgemm<<<dim3(256, 256), dim3(16, 16)>>>(A, B, C, 4096, 4096, 4096); }',
  ].join('\n');
  const n = kernel(await analyze(naive, 'cuda'), 'hgemm').estimate!;
  assert.equal(n.dtype, 'fp16');
  assert.equal(n.device!.peakFlopsPerS, 50e12);
  assert.ok(Math.abs(n.device!.timeS - (2 * 4096 ** 3) / 50e12) < 1e-12);
  assert.ok(n.notes.some((x) => /fp16 storage; the arithmetic is priced at the fp32 peak \(no wmma \/ mma tensor-core instructions/.test(x)));
  // The README's H100 figure: compute-bound, 2.05 ms at its 67 TFLOP/s fp32 rate.
  const h100 = kernel(await analyze(naive, 'cuda', getDevice('h100-sxm')), 'hgemm').estimate!.device!;
  assert.equal(Math.round(h100.timeS * 1e5) / 100, 2.05);
  assert.equal(h100.bound, 'compute');
  // The same shapes through wmma fragments run on the tensor cores.
  const wmma = [
    '// ridgeline: M=4096 N=4096 K=4096 flops=2*M*N*K bytes=2*(M*K+K*N)+4*M*N',
    '__global__ void tc(const __half* A, const __half* B, float* C, int K) {',
    '  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;',
    '  wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;',
    '  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;',
    '  for (int k = 0; k < K; k += 16) { wmma::load_matrix_sync(a, A + k, K); wmma::load_matrix_sync(b, B + k, K); wmma::mma_sync(acc, a, b, acc); }',
    '  wmma::store_matrix_sync(C, acc, 4096, wmma::mem_row_major);',
    '}',
    'void go(const __half* A, const __half* B, float* C) { tc<<<dim3(256, 256), 32>>>(A, B, C, 4096); }',
  ].join('\n');
  assert.equal(kernel(await analyze(wmma, 'cuda'), 'tc').estimate!.device!.peakFlopsPerS, 800e12);
  // WGSL f16: no tensor-core instructions in the language.
  const wgsl = readFileSync(join(samples, 'matmul_tiled.wgsl'), 'utf8').replace(/\bf32\b/g, 'f16');
  const w = (await analyze(`enable f16;\n${wgsl}`, 'wgsl')).kernels[0]!.estimate!;
  assert.equal(w.dtype, 'fp16');
  assert.equal(w.device!.peakFlopsPerS, 50e12);
  // A device with no fp32 peak: the fallback the cost model takes (fp16), named, instead of no estimate.
  const noFp32: Device = { ...DEV, peakFlopsPerS: { fp16: 800e12 } };
  const f = kernel(await run('gemm_tiled.cu', { device: noFp32 }), 'gemm_tiled').estimate!;
  assert.equal(f.device!.peakFlopsPerS, 800e12);
  assert.ok(f.notes.some((x) => /test-gpu has no native fp32: fp32 ops run at the fp16 peak/.test(x)), f.notes.join('; '));
});

test("CUDA occupancy follows the device's compute capability: resident blocks per SM and reserved shared memory", async () => {
  const analyze = (src: string, device: Device) => analyzer.analyze(src, 'cuda', { file: 'k.cu', device, dims: {} });
  const small = ['__global__ void scale(float* x) { x[blockIdx.x * 32 + threadIdx.x] *= 2.0f; }', 'void go(float* x) { scale<<<8192, 32>>>(x); }'].join('\n');
  // 32 threads = one warp per block. T4 (cc 7.5): 16 resident blocks of the 32 warps an SM holds, 50%;
  // H100 (cc 9.0): 32 blocks of 64 warps, 50%; L4 (cc 8.9): 24 blocks of 48 warps, 50%.
  for (const [id, blocks] of [['t4', 16], ['h100-sxm', 32], ['l4', 24]] as const) {
    const o = kernel(await analyze(small, getDevice(id)), 'scale').occupancy!;
    assert.equal(o.blocksPerSm, blocks, id);
    assert.equal(o.limitedBy, 'blocks', id);
    assert.equal(o.occupancy, 0.5, id);
  }
  // 32 KiB of static shared memory per 128-thread block on a T4 (64 KiB per SM, nothing reserved before cc 8.0):
  // 2 blocks, 25%; with cc 8.0's 1 KiB reserved per block it would be 1 block and 13% (and an RL009).
  const smem = ['__global__ void k2(float* x) { __shared__ float t[8192]; t[threadIdx.x] = x[threadIdx.x]; __syncthreads(); x[threadIdx.x] = t[127 - threadIdx.x]; }', 'void go(float* x) { k2<<<1024, 128>>>(x); }'].join('\n');
  const r = await analyze(smem, getDevice('t4'));
  assert.equal(kernel(r, 'k2').occupancy!.blocksPerSm, 2);
  assert.ok(!codesOf(r, 'k2').includes('RL009'));
  assert.equal(kernel(await analyze(smem, { ...getDevice('t4'), reservedSharedMemoryPerBlockBytes: 1024 }), 'k2').occupancy!.blocksPerSm, 1);
});

test('README lint table lists every code with its rule name and severity', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const r of LINT_RULES) assert.match(readme, new RegExp(`\\| ${r.code} \\| ${r.severity} \\| ${r.name} \\|`), r.code);
});

test('WGSL newer syntax (alias, const_assert) parses without false syntax errors; aliases size buffers', async () => {
  const src = [
    'alias T = f32;',
    'const_assert 4 > 2;',
    '@group(0) @binding(0) var<storage, read_write> buf: array<T>;',
    'var<workgroup> tile: array<T, 128>;',
    '@compute @workgroup_size(128)',
    'fn main(@builtin(local_invocation_id) lid: vec3<u32>) {',
    '  tile[lid.x] = buf[lid.x];',
    '  workgroupBarrier();',
    '  buf[lid.x] = tile[127u - lid.x];',
    '}',
  ].join('\n');
  const r = await analyzer.analyze(src, 'wgsl', { device: DEV });
  assert.deepEqual(r.diagnostics.filter((d) => d.code === 'RL008'), []);
  const k = kernel(r, 'main');
  assert.equal(k.line, 6);
  assert.equal(k.sharedMemoryBytes, 128 * 4);
  assert.equal(k.bindings![0]!.elementBytes, 4);
});

test('the engine\'s own WGSL kernels parse cleanly and the tiled GEMM has no coalescing or race findings', async () => {
  const src = readFileSync(join(root, 'kernels/gemm.wgsl'), 'utf8');
  const r = await analyzer.analyze(src, 'wgsl', { device: DEV });
  assert.deepEqual(r.diagnostics.filter((d) => d.code === 'RL008'), []);
  assert.deepEqual(codesOf(r, 'main').filter((c) => ['RL004', 'RL005', 'RL006'].includes(c)), []);
  assert.ok(codesOf(r, 'naive').includes('RL005')); // the untiled baseline
});

test('incremental update equals a full parse for WGSL and Triton too (line-adding edit above the kernels)', async () => {
  for (const [file, lang] of [['matmul_tiled.wgsl', 'wgsl'], ['matmul_autotune.py', 'triton'], ['softmax_triton.py', 'triton']] as const) {
    const src = readFileSync(join(samples, file), 'utf8');
    const a = await KernelAnalyzer.create(join(root, 'node_modules'), [lang]);
    try {
      await a.update(file, src, lang, { device: DEV });
      // insert a new line at the start of line 3 (a comment in every sample)
      const lines = src.split('\n');
      const offset = lines[0]!.length + 1 + lines[1]!.length + 1;
      const text = lang === 'wgsl' ? '// added\n' : '# added\n';
      const next = src.slice(0, offset) + text + src.slice(offset);
      const inc = await a.update(file, next, lang, { device: DEV, edits: [{ startOffset: offset, oldEndOffset: offset, startLine: 2, startColumn: 0, oldEndLine: 2, oldEndColumn: 0, newText: text }] });
      const full = await analyzer.analyze(next, lang, { device: DEV });
      assert.deepEqual(inc, full, file);
      const before = await analyzer.analyze(src, lang, { device: DEV });
      assert.deepEqual(inc.kernels.map((k) => k.line), before.kernels.map((k) => k.line + 1), file);
    } finally {
      a.dispose();
    }
  }
});

test('annotation problems are warnings on the annotation line, not silent', async () => {
  const r = await analyzer.analyze('// ridgeline: M=abc flops=2**\n__global__ void k(float* x) { x[threadIdx.x] = 0.0f; }\n', 'cuda', { device: DEV });
  const msgs = r.diagnostics.filter((d) => d.code === 'RL008' && d.line === 1).map((d) => d.message);
  assert.ok(msgs.some((m) => /M does not resolve to a number \(needs abc\)/.test(m)), msgs.join('; '));
  assert.ok(msgs.some((m) => /"flops=2\*\*": expected an arithmetic formula/.test(m)), msgs.join('; '));
  assert.ok(r.diagnostics.filter((d) => d.code === 'RL008').every((d) => d.severity === 'warning'));
});

test('the tree copy reads the same from the runtime memory and through the public TreeCursor', async () => {
  assert.ok(directRead(), 'the runtime memory was captured at initialization');
  const files = readdirSync(samples, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(cu|wgsl|py)$/.test(f));
  assert.ok(files.length >= 8);
  // a syntax error and a missing token exercise the error flags
  const broken = 'const int N = 4;\n__global__ void k(float* x) { x[threadIdx.x] = 1.0f\n}\n__global__ void j(float* y { y[0] = 2; }\n';
  const viaBoth = async (src: string, lang: 'cuda' | 'wgsl' | 'triton') => {
    const fresh = async () => {
      const a = await KernelAnalyzer.create(join(root, 'node_modules'), [lang]);
      try {
        return await a.analyze(src, lang, { file: 'x', device: DEV });
      } finally {
        a.dispose();
      }
    };
    const direct = await fresh();
    setDirectRead(false);
    try {
      assert.ok(!directRead());
      return { direct, public: await fresh() };
    } finally {
      setDirectRead(true);
    }
  };
  for (const f of files) {
    const lang = f.endsWith('.py') ? 'triton' : f.endsWith('.wgsl') ? 'wgsl' : 'cuda';
    const r = await viaBoth(readFileSync(join(samples, f), 'utf8'), lang);
    assert.deepEqual(r.direct, r.public, f);
    assert.ok(r.direct.kernels.length > 0, f);
  }
  const b = await viaBoth(broken, 'cuda');
  assert.deepEqual(b.direct, b.public);
  assert.ok(b.direct.diagnostics.some((d) => d.code === 'RL008'));
});

test('the copy from runtime memory equals the public TreeCursor node by node: types, fields, ranges, rows, error flags', async () => {
  assert.ok(directRead());
  const store = new TreeStore(join(root, 'node_modules'));
  // every node as one line: depth, type, field names it is reached by, range, start row and error flags
  const dump = (n: SyntaxNode, fields: string[], out: string[], depth = 0): void => {
    out.push(`${depth} ${n.type} ${n.isNamed} ${n.startIndex}-${n.endIndex} r${n.startPosition.row}c${n.startPosition.column} ${n.isMissing} ${n.hasError}`);
    const byField = new Map<SyntaxNode, string[]>();
    for (const f of fields) for (const c of n.childrenForFieldName(f)) (byField.get(c) ?? byField.set(c, []).get(c)!).push(f);
    for (const c of n.children) {
      out.push(`  field ${byField.get(c)?.join(',') ?? '-'}`);
      dump(c, fields, out, depth + 1);
    }
  };
  const read = async (src: string, lang: 'cuda' | 'wgsl' | 'triton') => {
    const tree = await store.parse(src, lang);
    try {
      const fields = tree.language.fields.filter((f): f is string => !!f);
      const s = new SyntaxSource(src, tree.language);
      const lines: string[] = [];
      const top = readTopLevel(tree, s, () => true, (n) => dump(n, fields, lines));
      dump(readWhole(tree, s), fields, lines);
      return { top: top.map((t) => `${t.type} ${t.row}:${t.column} ${t.text.length}`), lines };
    } finally {
      tree.delete();
    }
  };
  const cases: Array<[string, string, 'cuda' | 'wgsl' | 'triton']> = readdirSync(samples, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(cu|wgsl|py)$/.test(f))
    .map((f) => [f, readFileSync(join(samples, f), 'utf8'), f.endsWith('.py') ? 'triton' : f.endsWith('.wgsl') ? 'wgsl' : 'cuda']);
  cases.push(['broken', '__global__ void k(float* x) { x[threadIdx.x] = 1.0f\n}\n__global__ void j(float* y { y[0] = 2; }\n', 'cuda']);
  cases.push(['non-ASCII', '// naïve → ∑\n__global__ void k(float* x) { /* ü */ x[0] = 1.0f; }\n', 'cuda']);
  let nodes = 0;
  try {
    for (const [name, src, lang] of cases) {
      const heap = await read(src, lang);
      setDirectRead(false);
      let cursor;
      try {
        cursor = await read(src, lang);
      } finally {
        setDirectRead(true);
      }
      assert.deepEqual(heap.top, cursor.top, name);
      assert.deepEqual(heap.lines, cursor.lines, name);
      nodes += heap.lines.length;
    }
  } finally {
    store.dispose();
  }
  assert.ok(nodes > 5000, `${nodes} nodes compared`);
  // the reader's check against the public API never found the runtime's layout different
  assert.ok(directRead(), 'still reading from memory');
});

test('a declaration nested thousands of levels deep is left out with RL008; the rest of the file is still analyzed', async () => {
  const P = (s: string) => `${'('.repeat(20000)}${s}${')'.repeat(20000)}`;
  const cases: Array<[string, 'cuda' | 'wgsl' | 'triton', number]> = [
    [`__global__ void k(float* x) { x[0] = ${P('1')}; }\n__global__ void j(float* y) { y[threadIdx.x] = 2.0f; }\n`, 'cuda', 1],
    [`@compute @workgroup_size(64) fn k() { let a = ${P('1.0')}; }\n@compute @workgroup_size(64) fn j() { }\n`, 'wgsl', 1],
    ['import triton\n\n@triton.jit\ndef k(x):\n    a = ' + P('1') + '\n\n@triton.jit\ndef j(y):\n    pass\n', 'triton', 3],
  ];
  for (const [src, lang, line] of cases) {
    const r = await analyzer.analyze(src, lang, { device: DEV });
    assert.deepEqual(r.kernels.map((k) => k.name), ['j'], lang);
    const d = r.diagnostics.filter((x) => x.code === 'RL008');
    assert.equal(d.length, 1, lang);
    assert.equal(d[0]!.line, line, lang);
    assert.match(d[0]!.message, /nests too deeply to analyze; it is left out/);
  }
});

test('a generated 2,500-term expression is still analyzed: the tree copy falls back to the cursor when too deep for its recursion', async () => {
  const src = `__global__ void k(float* x) { x[threadIdx.x] = ${Array(2500).fill('x[1]').join(' + ')}; }\n`;
  const r = await analyzer.analyze(src, 'cuda', { device: DEV });
  assert.deepEqual(r.kernels.map((k) => k.name), ['k']);
  // one load per term, one store
  assert.equal(r.kernels[0]!.globalLoadsPerThread, 2500);
  assert.equal(r.kernels[0]!.globalStoresPerThread, 1);
  assert.deepEqual(r.diagnostics.filter((d) => d.code === 'RL008'), []);
  assert.ok(directRead(), 'still reading from memory for other trees');
});

test('a kernel whose IR nests deeper than the analysis can follow is left out with RL008; the others are analyzed', () => {
  const at = (row: number): Pos => ({ row, col: 0, endRow: row, endCol: 1 });
  // x[tid.x] = x[1] + x[1] + ... : a left-deep chain of 200,000 additions, built directly as IR
  const load: Expr = { k: 'idx', base: { k: 'id', name: 'x' }, idx: [{ k: 'num', v: 1, float: false }], pos: at(0) };
  let sum: Expr = load;
  for (let i = 1; i < 200000; i++) sum = { k: 'bin', op: '+', l: sum, r: load };
  const kernel = (name: string, row: number, value: Expr) => ({
    name, namePos: at(row), pos: at(row), kind: 'kernel' as const, templateParams: [], shared: [], workgroupSize: null, calls: [], idents: ['x'],
    params: [{ name: 'x', type: 'float*', kind: 'global' as const, elemType: 'float' }],
    body: [{ k: 'assign' as const, target: { k: 'idx' as const, base: { k: 'id' as const, name: 'x' }, idx: [{ k: 'tid' as const, dim: 0 }], pos: at(row) }, op: '=', value, pos: at(row) }],
  });
  const unit = { ...emptyUnit(), funcs: [kernel('deep', 0, sum), kernel('plain', 1, load)] };
  const r = analyzeKernels({ ir: combineUnits('cuda', [{ unit, row: 0 }]), env: new Map(), annotations: [], device: DEV, dims: {} });
  assert.deepEqual(r.kernels.map((k) => k.name), ['plain']);
  const d = r.diagnostics.filter((x) => x.code === 'RL008');
  assert.equal(d.length, 1);
  assert.equal(d[0]!.line, 1);
  assert.match(d[0]!.message, /^deep: expressions nest too deeply to analyze; the kernel is left out/);
});

test('parseDimsOption: positive integers up to 2^40, each name once; what is wrong names the dim', () => {
  assert.equal(MAX_DIM, 1099511627776);
  assert.deepEqual(parseDimsOption('M=4096,N=2048 K=4e3'), { ok: true, dims: { M: 4096, N: 2048, K: 4000 } });
  assert.deepEqual(parseDimsOption(`M=${2 ** 40}`), { ok: true, dims: { M: 2 ** 40 } });
  const expected = 'a positive integer dim from 1 to 2^40 (1099511627776)';
  assert.deepEqual(parseDimsOption('M=4096,N=1.5'), { ok: false, field: '--dims N', expected, got: '1.5' });
  assert.deepEqual(parseDimsOption(`M=${2 ** 40 + 1}`), { ok: false, field: '--dims M', expected, got: '1099511627777' });
  assert.deepEqual(parseDimsOption('M=1e30'), { ok: false, field: '--dims M', expected, got: '1e30' });
  assert.deepEqual(parseDimsOption('M=0'), { ok: false, field: '--dims M', expected, got: '0' });
  assert.deepEqual(parseDimsOption(''), { ok: false, field: '--dims', expected: 'NAME=VALUE pairs such as M=4096,N=4096', got: '' });
  assert.deepEqual(parseDimsOption('M=1 M=1'), { ok: false, field: '--dims', expected: 'M once, not twice', got: 'M=1 M=1' });
  // names that JavaScript objects inherit stay plain own dims
  const p = parseDimsOption('__proto__=8,constructor=4');
  assert.ok(p.ok);
  assert.deepEqual(Object.entries(p.dims), [['__proto__', 8], ['constructor', 4]]);
});

test('dimsNotInSource: whole identifiers only; WGSL ignores case (uniform members bind by name)', () => {
  const cu = '// ridgeline: M=4096\n__global__ void k(float* x, int ROWS) { x[ROWS_2] = 0; }\n';
  assert.deepEqual(dimsNotInSource(cu, ['M', 'ROWS', 'ROWS_2', 'ROW', 'rows'], false), ['ROW', 'rows']);
  assert.deepEqual(dimsNotInSource('struct P { k: u32 }', ['K', 'k', 'N'], true), ['N']);
});

test('annotation dims that are not positive integers are RL008 warnings and left out (CUDA, Triton, WGSL)', async () => {
  const expected = 'expected a positive integer dim from 1 to 2^40 (1099511627776)';
  const cu = await analyzer.analyze('// ridgeline: ROWS=-8192 COLS=0.5 BIG=2**41 OK=64 HALF=OK-100\n__global__ void k(float* x) { x[threadIdx.x] = 0.0f; }\n', 'cuda', { device: DEV });
  assert.deepEqual(cu.dims, { OK: 64 });
  assert.deepEqual(
    cu.diagnostics.filter((d) => d.code === 'RL008').map((d) => [d.line, d.column, d.severity, d.message]),
    [
      [1, 15, 'warning', `ridgeline annotation: "ROWS=-8192": ${expected}`],
      [1, 26, 'warning', `ridgeline annotation: "COLS=0.5": ${expected}`],
      [1, 35, 'warning', `ridgeline annotation: "BIG=2**41": ${expected}`],
      [1, 51, 'warning', `ridgeline annotation: "HALF=OK-100" resolves to -36: ${expected}`],
    ],
  );
  // --dims still wins over a bad annotation, which is reported all the same
  const over = await analyzer.analyze('// ridgeline: ROWS=-8192\n__global__ void k(float* x) { x[threadIdx.x] = 0.0f; }\n', 'cuda', { device: DEV, dims: { ROWS: 8 } });
  assert.deepEqual(over.dims, { ROWS: 8 });
  assert.equal(over.diagnostics.filter((d) => d.code === 'RL008').length, 1);
  const py = await analyzer.analyze(
    '# ridgeline: n_elements=-5\nimport triton\nimport triton.language as tl\n@triton.jit\ndef k(x_ptr, n_elements, BLOCK: tl.constexpr):\n    pid = tl.program_id(0)\n',
    'triton',
    { device: DEV },
  );
  assert.deepEqual(py.dims, {});
  assert.deepEqual(py.diagnostics.filter((d) => d.code === 'RL008').map((d) => [d.line, d.message]), [[1, `ridgeline annotation: "n_elements=-5": ${expected}`]]);
  const wgsl = await analyzer.analyze('// ridgeline: N=1024 M=N-2048\n@compute @workgroup_size(64)\nfn main() {}\n', 'wgsl', { device: DEV });
  assert.deepEqual(wgsl.dims, { N: 1024 });
  assert.deepEqual(wgsl.diagnostics.filter((d) => d.code === 'RL008').map((d) => [d.line, d.column, d.message]), [[1, 22, `ridgeline annotation: "M=N-2048" resolves to -1024: ${expected}`]]);
});

test('WGSL @workgroup_size of 0 in a dimension: the note says each must be at least 1', async () => {
  const r = await analyzer.analyze('// ridgeline: dispatch=4,1,1\n@compute @workgroup_size(8, 0, 1)\nfn main() {}\n', 'wgsl', { device: DEV });
  const k = kernel(r, 'main');
  assert.equal(k.workgroupSize, null);
  assert.equal(k.estimateUnavailable, 'the workgroup size is not known; workgroup size must be at least 1 in each dimension (got 8,0,1)');
  // a size that needs a dim still says which
  const d = await analyzer.analyze('@compute @workgroup_size(WG)\nfn main() {}\n', 'wgsl', { device: DEV });
  assert.match(kernel(d, 'main').estimateUnavailable!, /workgroup size needs WG/);
});
