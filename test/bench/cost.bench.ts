/**
 * Cost-model speed on a 70B config (Llama-2-70B, tp 4, h100-sxm, 1024 prompt + 256 generated tokens):
 *  (a) analyze() without sweeps: the contract result a live slider needs (both phases, every op, e2e, memory);
 *  (b) analyze() in full: (a) plus the 11-point batch sweep and the 16-point decode curve;
 *  a 64 x 64 (batch x context) decode-step grid.
 * Baselines in the same process: one buildGraph call (the least any analysis does per phase), a JSON
 * round trip of result (a) (JSON.parse(JSON.stringify(r))), and the grid built point by point.
 * Targets: (a) < 20 us per call; the grid < 100 ms.
 *
 * Figures are per call, the median over many timed blocks after a long warm-up, as wall time and as the
 * process's CPU time (process.cpuUsage). On a shared machine (load average well above the core count) wall
 * time counts the waits for a core; CPU time and the ratios to the baselines are the figures to compare.
 */
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { CostContext } from '../../engine/cost/roofline';

/**
 * The engine as it ships: bundled by esbuild like dist/cli.js (the tsx loader used by the test runner wraps
 * every inner function with a name helper, which slows closure-heavy code several-fold).
 */
type Engine = typeof import('./cost-entry');
function bundled(): Engine {
  const out = join(mkdtempSync(join(tmpdir(), 'ridgeline-bench-')), 'engine.cjs');
  buildSync({ entryPoints: [join(__dirname, 'cost-entry.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error', loader: { '.wgsl': 'text' } });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(out) as Engine;
}

interface Timing {
  /** Median over blocks of wall microseconds per call. */
  wallUs: number;
  /** Fastest block, wall microseconds per call. */
  wallMinUs: number;
  /** Median over blocks of CPU microseconds per call (user + system of the process). */
  cpuUs: number;
  calls: number;
}

/**
 * Per-call time of `fn`: warm up until the JIT has settled (optimizing compiles of a call tree this size take
 * most of a second on a loaded machine), then `blocks` blocks of about `blockMs` each.
 */
function time(fn: () => unknown, blocks = 31, blockMs = 30, warmMs = 1500): Timing {
  const w0 = performance.now();
  while (performance.now() - w0 < warmMs) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  let calls = 0;
  for (let b = 0; b < blocks; b++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < blockMs) {
      for (let i = 0; i < 5; i++) fn();
      n += 5;
      t = performance.now();
    }
    const c = process.cpuUsage(c0);
    wall.push(((t - t0) * 1000) / n);
    cpu.push((c.user + c.system) / n);
    calls += n;
  }
  return { wallUs: median(wall), wallMinUs: Math.min(...wall), cpuUs: median(cpu), calls };
}

/** Milliseconds of one run: median of `runs` (wall and CPU). */
function timeOnce(fn: () => unknown, runs = 7): { wallMs: number; cpuMs: number } {
  fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function bench(): Promise<Record<string, unknown>> {
  const load0 = loadavg()[0]!;
  const { buildGraph, defaultWorkload, loadConfigFile, getDevice, analyze, DecodeGraphs, decodeStepGrid, stepTimeS, costParamsFor, planMemory } = bundled();
  const spec = loadConfigFile(join(__dirname, '../../samples/llama-2-70b.json'));
  const device = getDevice('h100-sxm');
  const w = defaultWorkload(spec, { tp: 4, promptTokens: 1024, generateTokens: 256 });

  const core = analyze(spec, w, device, { sweeps: false });
  const full = analyze(spec, w, device);
  const opsPerResult = core.ops.length;

  const analyzeCore = time(() => analyze(spec, w, device, { sweeps: false }));
  // The same with a serving engine profile (its parameters merged over the device's on every call).
  const analyzeCoreEngine = time(() => analyze(spec, w, device, { servingEngine: 'vllm', sweeps: false }));
  // Chunked prefill (llama.cpp profile, 512-token micro-batches): an 8192-token prompt is 16 forward passes.
  const wLong = { ...w, promptTokens: 8192 };
  const analyzeLong = time(() => analyze(spec, wLong, device, { sweeps: false }));
  const analyzeChunked = time(() => analyze(spec, wLong, device, { servingEngine: 'llama.cpp', sweeps: false }));
  const analyzeFull = time(() => analyze(spec, w, device));
  const buildGraphT = time(() => buildGraph(spec, w, 'decode', 1152));
  const jsonRoundTrip = time(() => JSON.parse(JSON.stringify(core)));
  const planMemoryT = time(() => planMemory(spec, w, device));

  // 64 x 64 grid: batch 1..64, context 128..8192.
  const batches = Array.from({ length: 64 }, (_, i) => i + 1);
  const contexts = Array.from({ length: 64 }, (_, i) => Math.round(128 + (i * (8192 - 128)) / 63));
  const ctx: CostContext = { device, params: costParamsFor(device), tp: w.tp, linkBytesPerS: device.interconnect!.bandwidthBytesPerS, notes: new Set() };
  const grid = () => decodeStepGrid(spec, new DecodeGraphs(spec, w, contexts[0]!), batches, contexts, ctx);
  // Baselines: every point's graph interpolated then costed, and every point's graph built then costed.
  const pointByPoint = (direct: boolean): Float64Array => {
    const dg = direct ? null : new DecodeGraphs(spec, w, contexts[0]!);
    const out = new Float64Array(batches.length * contexts.length);
    let k = 0;
    for (const b of batches) {
      for (const c of contexts) out[k++] = stepTimeS(dg ? dg.at(b, c, true) : buildGraph(spec, { ...w, batch: b }, 'decode', c).ops, ctx);
    }
    return out;
  };
  const g = grid();
  const p = pointByPoint(false);
  const d = pointByPoint(true);
  for (let i = 0; i < d.length; i++) {
    if (Math.abs(g[i]! - d[i]!) > 1e-9 * d[i]! || Math.abs(p[i]! - d[i]!) > 1e-9 * d[i]!) throw new Error(`grid point ${i}: ${g[i]} / ${p[i]} vs built ${d[i]}`);
  }
  const gridT = timeOnce(grid, 15);
  const pointT = timeOnce(() => pointByPoint(false));
  const directT = timeOnce(() => pointByPoint(true), 3);

  const r2 = (v: number) => Math.round(v * 100) / 100;
  const t = (x: Timing) => ({ wallUs: r2(x.wallUs), wallMinUs: r2(x.wallMinUs), cpuUs: r2(x.cpuUs) });
  return {
    model: spec.name,
    device: device.id,
    workload: w,
    opsPerResult,
    batchSweepPoints: full.batchSweep.batch.length,
    curvePoints: full.decode.curve.contextTokens.length,
    analyzeCore: t(analyzeCore),
    analyzeCoreWithEngineProfile: t(analyzeCoreEngine),
    analyzeFull: t(analyzeFull),
    analyzeCore8kPrompt: t(analyzeLong),
    analyzeCore8kPromptIn16Chunks: t(analyzeChunked),
    planMemory: t(planMemoryT),
    buildGraphBaseline: t(buildGraphT),
    jsonRoundTripBaseline: t(jsonRoundTrip),
    // Ratios from CPU time (wall time on a loaded machine mostly measures the wait for a core).
    analyzeCoreOverBuildGraph: r2(analyzeCore.cpuUs / buildGraphT.cpuUs),
    analyzeCoreOverJsonRoundTrip: r2(analyzeCore.cpuUs / jsonRoundTrip.cpuUs),
    analyzeFullOverCore: r2(analyzeFull.cpuUs / analyzeCore.cpuUs),
    analyzeEngineProfileOverCore: r2(analyzeCoreEngine.cpuUs / analyzeCore.cpuUs),
    analyzeChunkedPrefillOverOnePass: r2(analyzeChunked.cpuUs / analyzeLong.cpuUs),
    analyzeCoreTargetUs: 20,
    grid64x64Ms: { wallMs: r2(gridT.wallMs), cpuMs: r2(gridT.cpuMs) },
    grid64x64PointByPointMs: { wallMs: r2(pointT.wallMs), cpuMs: r2(pointT.cpuMs) },
    grid64x64DirectBuildMs: { wallMs: r2(directT.wallMs), cpuMs: r2(directT.cpuMs) },
    gridSpeedupOverDirectBuild: r2(directT.cpuMs / gridT.cpuMs),
    gridTargetMs: 100,
    cpus: cpus().length,
    loadAverage1m: { start: r2(load0), end: r2(loadavg()[0]!) },
  };
}
