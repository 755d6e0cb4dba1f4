import type { Command } from './args';
import { analyzeCommand } from './analyze';
import { hardwareCommand } from './hardware';
import { kvCommand } from './kv';
import { quantCommand } from './quant';
import { benchCommand } from './bench';
import { kernelsCommand } from './kernels';
import { validateCommand } from './validate';

/** Every `ridgeline` command, in the order `ridgeline help` lists them. */
export const commands: readonly Command[] = [
  analyzeCommand,
  hardwareCommand,
  kvCommand,
  quantCommand,
  kernelsCommand,
  validateCommand,
  benchCommand,
];
