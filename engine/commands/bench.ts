import type { Command } from './args';
import { RidgelineError } from '../errors';

export const benchCommand: Command = {
  name: 'bench',
  summary: '(not yet available)',
  usage: 'ridgeline bench',
  async run() {
    throw new RidgelineError('ridgeline bench is not available yet', { exitCode: 1 });
  },
};
