/**
 * The device measured on this machine (`ridgeline bench`), stored as JSON in the user's cache directory:
 * $RIDGELINE_CACHE_DIR/measured-device.json, default ~/.cache/ridgeline/measured-device.json
 * ($XDG_CACHE_HOME/ridgeline when that is set). Node-only (file system).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { inputError } from '../errors';
import type { Device } from '../hardware/types';
import { validateDevice } from '../hardware/validate';
import { parseJsonInput, readTextInput } from '../textfile';

export const MEASURED_FILE = 'measured-device.json';

export function cacheDir(): string {
  const env = process.env.RIDGELINE_CACHE_DIR;
  if (env) return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg || join(homedir(), '.cache'), 'ridgeline');
}

export function measuredDevicePath(): string {
  return join(cacheDir(), MEASURED_FILE);
}

/**
 * The measured device, or null when `ridgeline bench` has not run. A file that exists but is not a measured
 * device throws one line naming the file and the field.
 */
export function loadMeasuredDevice(): Device | null {
  const file = measuredDevicePath();
  const read = readTextInput(file);
  if ('why' in read) {
    if (read.why === 'no such file') return null;
    throw inputError({ file, expected: `a readable measured device (${read.why}); run \`ridgeline bench\` again` });
  }
  const d = parseJsonInput(read.text, file, 'a measured device; run `ridgeline bench` again');
  // getDevice('this') runs the device file's checks on it, whichever loader serves it.
  return checkMeasured(d, file);
}

function checkMeasured(d: unknown, file: string): Device {
  const o = d as Record<string, unknown>;
  if (typeof d !== 'object' || d === null) throw inputError({ file, expected: 'a device object' });
  const num = (v: unknown, field: string) => {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw inputError({ file, field, expected: 'a positive number', got: v });
  };
  if (typeof o.id !== 'string') throw inputError({ file, field: 'id', expected: 'a string', got: o.id });
  num(o.memoryBandwidthBytesPerS, 'memoryBandwidthBytesPerS');
  num(o.memoryBytes, 'memoryBytes');
  const peaks = o.peakFlopsPerS as Record<string, unknown> | undefined;
  if (!peaks || typeof peaks !== 'object') throw inputError({ file, field: 'peakFlopsPerS', expected: 'an object of FLOP/s per dtype' });
  num(peaks.fp32, 'peakFlopsPerS.fp32');
  const m = o.measured as Record<string, unknown> | undefined;
  if (!m || typeof m !== 'object') throw inputError({ file, field: 'measured', expected: 'the measurement record' });
  if (typeof m.dispatchOverheadS !== 'number' || !(m.dispatchOverheadS >= 0)) {
    throw inputError({ file, field: 'measured.dispatchOverheadS', expected: 'seconds >= 0', got: m.dispatchOverheadS });
  }
  return d as Device;
}

/** Writes the measured device (atomically: a temp file, then a rename). Returns the path. */
export function saveMeasuredDevice(d: Device): string {
  const file = measuredDevicePath();
  checkMeasured(d, file);
  validateDevice(structuredClone(d), file); // what `--hardware this` will check when it reads the file back
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(d, null, 2) + '\n');
  renameSync(tmp, file);
  return file;
}
