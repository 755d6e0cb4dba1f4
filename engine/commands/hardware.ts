import type { Command } from './args';
import { RidgelineError } from '../errors';

export const hardwareCommand: Command = {
  name: 'hardware',
  summary: '(not yet available)',
  usage: 'ridgeline hardware',
  async run() {
    throw new RidgelineError('ridgeline hardware is not available yet', { exitCode: 1 });
  },
};
