/**
 * GPU speed goals, measured on this machine's adapter in one process:
 * - f32 GEMM 512x512x512: the engine's `gemm-f32` against TensorFlow.js's WebGPU `matMul` on the same
 *   adapter (goal >= 1.5x), and against the engine's naive GEMM.
 * - GEMV (f32, 4096x4096 quick: 2048x2048): bytes/s against the measured stream bandwidth (goal >= 80%).
 * Times: the engine's kernels with GPU timestamps where available; TensorFlow.js with `tf.time` kernelMs
 * (its own timestamp queries) and wall time around `matMul` + `data()`.
 */
import { kernelByName, runKernel } from '../../engine/gpu/kernels';
import { closeNodeGpu, nodeGpu } from '../../engine/gpu/node';
import { GpuRunner } from '../../engine/gpu/runner';

async function tfjsMatMul(gpu: GPU, n: number): Promise<Record<string, unknown>> {
  try {
    (globalThis as unknown as { navigator: unknown }).navigator = { gpu, userAgent: 'node' };
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return { error: 'tfjs webgpu backend did not initialise' };
    await tf.ready();
    const a = tf.randomUniform([n, n]);
    const b = tf.randomUniform([n, n]);
    const warm = tf.matMul(a, b);
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    const wallS = (performance.now() - t0) / 1000;
    c.dispose();
    const info = await tf.time(() => tf.matMul(a, b));
    const kernelS = typeof info.kernelMs === 'number' ? info.kernelMs / 1000 : NaN;
    a.dispose();
    b.dispose();
    const backend = tf.getBackend();
    tf.engine().reset();
    return { backend, kernelS: Number.isFinite(kernelS) ? kernelS : null, wallS };
  } catch (e) {
    return { error: `tfjs could not run: ${(e as Error).message.split('\n')[0]}` };
  }
}

export async function bench(): Promise<Record<string, unknown>> {
  const g = await nodeGpu();
  const runner = await GpuRunner.create(g.gpu, { timeoutMs: 120_000 });
  try {
    const rep = runner.report;
    const quick = rep.isFallback;
    const n = 512;
    const gemm = await runKernel(runner, kernelByName('gemm-f32')!, { m: n, n, k: n }, { minTimeS: 0.2 });
    const naive = await runKernel(runner, kernelByName('gemm-naive-f32')!, { m: n, n, k: n }, { minTimeS: 0.2 });
    const copy = kernelByName('stream-copy')!;
    const stream = await runKernel(runner, copy, quick ? copy.shapes.quick : copy.shapes.bench, { minTimeS: 0.2 });
    const gemvDef = kernelByName('gemv-f32')!;
    const gemv = await runKernel(runner, gemvDef, quick ? gemvDef.shapes.quick : gemvDef.shapes.bench, { minTimeS: 0.2 });
    const tf = await tfjsMatMul(g.gpu, n);
    const tfS = (tf.kernelS as number | null) ?? (tf.wallS as number | undefined);
    const flops = 2 * n ** 3;
    return {
      adapter: { vendor: rep.vendor, architecture: rep.architecture, description: rep.description, isFallback: rep.isFallback },
      timing: gemm.timing,
      gemmF32: {
        shape: { m: n, n, k: n },
        engine: { timeS: gemm.timeS, flopsPerS: gemm.flopsPerS, verified: gemm.verified },
        naive: { timeS: naive.timeS, flopsPerS: naive.flopsPerS, verified: naive.verified },
        tfjs: tfS ? { ...tf, flopsPerS: flops / tfS } : tf,
        speedupVsTfjs: tfS ? tfS / gemm.timeS : null,
        speedupVsNaive: naive.timeS / gemm.timeS,
        goalVsTfjs: 1.5,
      },
      gemvF32: {
        shape: gemv.shape,
        bytesPerS: gemv.bytesPerS,
        streamBytesPerS: stream.bytesPerS,
        fractionOfStream: gemv.bytesPerS / stream.bytesPerS,
        goal: 0.8,
        verified: gemv.verified,
      },
    };
  } finally {
    runner.destroy();
    closeNodeGpu();
  }
}
