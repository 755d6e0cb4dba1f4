import { after, before } from 'node:test';
import { closeNodeGpu, nodeRunner } from '../../engine/gpu/node';
import type { GpuRunner } from '../../engine/gpu/runner';

/**
 * Opens the Node WebGPU runner (Dawn; SwiftShader where no hardware adapter exists) before the test file's
 * tests and closes it after them. Call at the top level of a test file; the returned function gives the runner.
 */
export function useNodeRunner(timeoutMs: number): () => GpuRunner {
  let runner: GpuRunner | null = null;
  before(async () => {
    runner = (await nodeRunner({ timeoutMs })).runner;
  });
  after(() => {
    runner?.destroy();
    closeNodeGpu();
  });
  return () => {
    if (!runner) throw new Error('the GPU runner is opened in before()');
    return runner;
  };
}
