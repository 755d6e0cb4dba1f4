import type { Command } from './args';
import { RidgelineError } from '../errors';

export const quantCommand: Command = {
  name: 'quant',
  summary: '(not yet available)',
  usage: 'ridgeline quant',
  async run() {
    throw new RidgelineError('ridgeline quant is not available yet', { exitCode: 1 });
  },
};
