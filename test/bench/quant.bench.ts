/**
 * Measured-error throughput: a bf16 safetensors shard (RIDGELINE_QUANT_BENCH_MB, default 1024 MB) of
 * Llama-shaped projections written to a temp dir, then
 *   - baseline: a plain sequential read of the same file in this process (8 MiB positional reads),
 *   - the CPU error path (every core, and one thread; one thread again with the JavaScript kernels only,
 *     the baseline of the WebAssembly SIMD kernels) with the default formats, the four formats a
 *     deployment usually chooses between, and one format,
 * as MB/s and as a ratio to the baseline; peak resident memory during the measurement against the
 * largest tensor. The file is deleted afterwards.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensorsHeader } from '../../engine/quant/safetensors';
import { measureModel, DEFAULT_ERROR_FORMATS } from '../../engine/quant/measure';
import { setSimdEnabled } from '../../engine/quant/simd';

const SHAPES: Array<[string, number, number]> = [
  ['self_attn.q_proj', 4096, 4096],
  ['self_attn.k_proj', 1024, 4096],
  ['self_attn.v_proj', 1024, 4096],
  ['self_attn.o_proj', 4096, 4096],
  ['mlp.gate_proj', 14336, 4096],
  ['mlp.up_proj', 14336, 4096],
  ['mlp.down_proj', 4096, 14336],
];

export function writeShard(path: string, targetBytes: number): { bytes: number; largestTensorBytes: number; tensors: number } {
  const entries: Array<{ name: string; dtype: 'BF16'; shape: number[] }> = [];
  let total = 0;
  for (let l = 0; total < targetBytes; l++) {
    for (const [n, r, c] of SHAPES) {
      if (total >= targetBytes) break;
      entries.push({ name: `model.layers.${l}.${n}.weight`, dtype: 'BF16', shape: [r, c] });
      total += r * c * 2;
    }
  }
  const { header } = encodeSafetensorsHeader(entries);
  // A pool of N(0, 0.02^2) values in bf16, written at rotating offsets (writing fresh Gaussians for
  // every element would dominate the setup time without changing the work measured).
  const poolN = 1 << 23;
  const pool = new Uint16Array(poolN);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 4294967296;
  for (let i = 0; i < poolN; i++) {
    f[0] = 0.02 * Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    pool[i] = u[0]! >>> 16;
  }
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    const chunk = 1 << 22;
    let off = 0;
    for (const e of entries) {
      let left = e.shape[0]! * e.shape[1]!;
      while (left > 0) {
        const n = Math.min(chunk, left);
        const start = off % (poolN - chunk);
        writeSync(fd, pool.subarray(start, start + n));
        off += 7919 * 13 + n;
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  const largest = Math.max(...entries.map((e) => e.shape[0]! * e.shape[1]! * 2));
  return { bytes: header.length + total, largestTensorBytes: largest, tensors: entries.length };
}

function sequentialReadS(path: string): number {
  const t0 = performance.now();
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(8 << 20);
  let pos = 0;
  let sum = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      sum += buf[n - 1]!;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  if (sum < 0) throw new Error('unreachable');
  return (performance.now() - t0) / 1000;
}

interface Run {
  timeS: number;
  cpuS: number;
  peakRssBytes: number;
  engine: string;
}

async function timed(path: string, formats: readonly string[], threads?: number): Promise<Run> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const c0 = process.cpuUsage();
    // The bundled worker (npm run bench builds first), as the CLI runs it; from source otherwise.
    const bundled = join(__dirname, '../../dist/quant-worker.js');
    const r = await measureModel(path, { formats, threads, workerScript: existsSync(bundled) ? bundled : undefined });
    const c = process.cpuUsage(c0);
    peak = Math.max(peak, process.memoryUsage.rss());
    return { timeS: r.timeS, cpuS: (c.user + c.system) / 1e6, peakRssBytes: peak, engine: r.engine };
  } finally {
    clearInterval(timer);
  }
}

export async function bench(): Promise<Record<string, unknown>> {
  const mb = Number(process.env.RIDGELINE_QUANT_BENCH_MB ?? 1024);
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-quant-bench-'));
  const path = join(dir, 'model-00001-of-00001.safetensors');
  try {
    const shard = writeShard(path, mb * 2 ** 20);
    const MB = shard.bytes / 1e6;
    sequentialReadS(path); // warm the page cache so every run reads from memory alike
    const readS = sequentialReadS(path);
    const rssBefore = process.memoryUsage.rss();
    const decision = ['fp8', 'int8', 'int4-g128', 'nf4'];
    const runs: Record<string, Run> = {
      defaultFormats: await timed(path, DEFAULT_ERROR_FORMATS),
      defaultFormatsOneThread: await timed(path, DEFAULT_ERROR_FORMATS, 1),
      // baseline for the SIMD kernels: the same one-thread run with the JavaScript kernels only
      defaultFormatsOneThreadJavaScriptKernels: await withoutSimd(() => timed(path, DEFAULT_ERROR_FORMATS, 1)),
      fourFormats: await timed(path, decision),
      oneFormat: await timed(path, ['int4-g128']),
    };
    const out: Record<string, unknown> = {
      fileBytes: shard.bytes,
      tensors: shard.tensors,
      largestTensorBytes: shard.largestTensorBytes,
      cores: availableParallelism(),
      baselineSequentialReadMBPerS: round(MB / readS),
      loadAverage1m: round(loadavg()[0]!, 2),
      rssBeforeBytes: rssBefore,
    };
    out.simdSpeedupOneThread = round(runs.defaultFormatsOneThreadJavaScriptKernels!.timeS / runs.defaultFormatsOneThread!.timeS);
    for (const [k, v] of Object.entries(runs)) {
      out[k] = {
        engine: v.engine,
        formats: k === 'oneFormat' ? ['int4-g128'] : k === 'fourFormats' ? decision : [...DEFAULT_ERROR_FORMATS],
        timeS: round(v.timeS),
        mbPerS: round(MB / v.timeS),
        // CPU seconds of all threads: the throughput one core delivers, whatever else the machine runs.
        cpuS: round(v.cpuS),
        mbPerCpuS: round(MB / v.cpuS),
        ratioToSequentialRead: round(readS / v.timeS, 4),
        peakRssBytes: v.peakRssBytes,
        peakRssOverLargestTensor: round(v.peakRssBytes / shard.largestTensorBytes),
        // Memory the measurement added to the process (workers, chunk buffers) over what it held before.
        addedRssBytes: v.peakRssBytes - rssBefore,
        addedRssOverLargestTensor: round((v.peakRssBytes - rssBefore) / shard.largestTensorBytes),
      };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withoutSimd<T>(f: () => Promise<T>): Promise<T> {
  setSimdEnabled(false);
  try {
    return await f();
  } finally {
    setSimdEnabled(true);
  }
}

function round(v: number, d = 3): number {
  const k = 10 ** d;
  return Math.round(v * k) / k;
}
