import type { Command } from './args';
import { RidgelineError } from '../errors';

export const kvCommand: Command = {
  name: 'kv',
  summary: '(not yet available)',
  usage: 'ridgeline kv',
  async run() {
    throw new RidgelineError('ridgeline kv is not available yet', { exitCode: 1 });
  },
};
