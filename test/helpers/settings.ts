/** The extension's settings at their defaults, as src/settings.ts reads them from an empty configuration. */
import type { Settings } from '../../src/settings';

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  hardware: 'h100-sxm',
  customDevices: [],
  batch: 1,
  promptTokens: 1024,
  cachedPromptTokens: 0,
  generateTokens: 256,
  weightsFormat: '',
  activationsFormat: '',
  kvFormat: '',
  tensorParallel: 1,
  servingEngine: '',
  efficiency: {},
  kernelDims: {},
  codeLensEnabled: true,
  allowKernelExecution: true,
  problems: [],
};
