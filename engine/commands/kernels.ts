import type { Command } from './args';
import { RidgelineError } from '../errors';

export const kernelsCommand: Command = {
  name: 'kernels',
  summary: '(not yet available)',
  usage: 'ridgeline kernels',
  async run() {
    throw new RidgelineError('ridgeline kernels is not available yet', { exitCode: 1 });
  },
};
