import type { Command } from './args';
import { RidgelineError } from '../errors';

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: '(not yet available)',
  usage: 'ridgeline analyze',
  async run() {
    throw new RidgelineError('ridgeline analyze is not available yet', { exitCode: 1 });
  },
};
