import type { Args, Command } from './args';
import { listDevices, loadDeviceFile, measuredDevice, registerDevices } from '../hardware/index';
import { RidgelineError } from '../errors';
import { renderDevicesTable } from '../report/hardware';

const USAGE = `ridgeline hardware [options]

Lists the device database: memory, bandwidth, dense peak FLOP/s per dtype, ridge point, interconnect, TDP
and the datasheet each figure comes from (JSON), then \`this\`, the device \`ridgeline bench\` measured, when
there is one.

  --devices FILE         also load devices from a JSON file ({ "devices": [...] } or an array)
  --format table|json    output (default table)
  --out FILE             write the output to FILE`;

export const hardwareCommand: Command = {
  name: 'hardware',
  summary: 'device database: memory, bandwidth, dense peaks per dtype, interconnect, TDP, sources',
  usage: USAGE,
  async run(args: Args) {
    args.positionalAtMost(0, 'no positional arguments');
    const format = args.choice('--format', ['table', 'json'] as const, 'table');
    const file = args.str('--devices');
    args.rejectUnknown();
    if (file) registerDevices(loadDeviceFile(file), file);
    const devices = listDevices();
    // The device `ridgeline bench` measured, as `--hardware this` serves it; a damaged file is named on stderr.
    const notes: string[] = [];
    try {
      const measured = measuredDevice();
      if (measured) devices.push(measured);
    } catch (e) {
      if (!(e instanceof RidgelineError)) throw e;
      notes.push(`this: ${e.message}`);
    }
    if (format === 'json') return { text: JSON.stringify({ devices }, null, 2), notes };
    return { text: renderDevicesTable(devices), notes };
  },
};
