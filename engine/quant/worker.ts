/**
 * Worker thread of the measured-error path: receives tensors one at a time and answers with their
 * signal and per-format noise sums (the same code as the in-process path, measureTensorCpu).
 * Bundled as dist/quant-worker.js; run from source under tsx as this file.
 */
import { parentPort } from 'node:worker_threads';
import { weightFormat } from './formats';
import { makeKernel } from './quantize';
import { measureTensorCpu } from './measure';
import type { TensorInfo } from './safetensors';

export interface WorkerJob {
  index: number;
  tensor: TensorInfo;
  formats: string[];
  chunkBytes: number;
}

export type WorkerReply = { index: number; signal: number; noise: number[] } | { index: number; error: string; exitCode: number };

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: WorkerJob) => {
    try {
      const formats = job.formats.map((id) => weightFormat(id));
      const sums = measureTensorCpu(job.tensor, formats, job.chunkBytes, formats.map((f) => makeKernel(f.quantizer)));
      port.postMessage({ index: job.index, signal: sums.signal, noise: Array.from(sums.noise) } satisfies WorkerReply);
    } catch (e) {
      const exitCode = (e as { exitCode?: number }).exitCode ?? 1;
      port.postMessage({ index: job.index, error: e instanceof Error ? e.message : String(e), exitCode } satisfies WorkerReply);
    }
  });
}
