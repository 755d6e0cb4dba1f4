import { parseJsonInput, readTextInput } from '../textfile';
import type { Dtype } from '../model/types';
import type { Device } from './types';
import { inputError, RidgelineError } from '../errors';
import data from './devices.json';
import { loadMeasuredDevice, measuredDevicePath } from '../gpu/measured';

export type { Device } from './types';

const DTYPES: readonly Dtype[] = ['fp32', 'tf32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'];

const builtIn: Device[] = (data as { devices: Device[] }).devices.map((d) => validateDevice(d, 'engine/hardware/devices.json'));
const registered = new Map<string, Device>();
let measuredLoader: () => Device | null = loadMeasuredDevice;

/** Every known device: the built-in database, then devices registered from user files. */
export function listDevices(): Device[] {
  const out = builtIn.filter((d) => !registered.has(d.id));
  return [...out, ...registered.values()];
}

/**
 * Adds (or replaces, by id) devices, e.g. from a user file or the editor settings.
 * Each one is validated first; a bad one throws and nothing is registered.
 */
export function registerDevices(list: readonly Device[], file = 'devices'): void {
  const ok = list.map((d) => validateDevice(d, file));
  for (const d of ok) registered.set(d.id, d);
}

/** Forgets registered devices (tests, settings reload). */
export function clearRegisteredDevices(): void {
  registered.clear();
}

/**
 * Replaces where the device measured on this machine (`ridgeline bench`, served as the id `this`) comes from;
 * null restores the default (the file `ridgeline bench` writes, engine/gpu/measured.ts).
 */
export function setMeasuredDeviceLoader(loader: (() => Device | null) | null): void {
  measuredLoader = loader ?? loadMeasuredDevice;
}

/**
 * True for a device of the built-in database as it ships: the object getDevice returns, or one equal to it
 * (a copy). A measured device, a user file's device that replaces a built-in id, or an edited copy is not.
 */
export function isBuiltInDevice(device: Device): boolean {
  if (device.measured !== undefined || registered.has(device.id)) return false;
  const b = builtIn.find((d) => d.id === device.id);
  return b !== undefined && (b === device || JSON.stringify(b) === JSON.stringify(device));
}

/** Looks a device up by id (case-insensitive). `this` is the device measured on this machine. */
export function getDevice(id: string, field = '--hardware'): Device {
  const key = id.trim().toLowerCase();
  if (key === '') throw inputError({ field, expected: `a hardware id: ${listDevices().map((d) => d.id).join(', ')}` });
  if (key === 'this') {
    const d = measuredLoader();
    if (!d) throw new RidgelineError(`${field}: no measured device: run \`ridgeline bench\` first`, { exitCode: 2, field });
    // The file `ridgeline bench` wrote can be edited or damaged since: the same checks as any device file.
    validateDevice(structuredClone(d), measuredDevicePath());
    return d;
  }
  const all = listDevices();
  const hit = all.find((d) => d.id === key);
  if (hit) return hit;
  const close = closeMatches(key, all.map((d) => d.id));
  const hint = close.length ? `; close matches: ${close.join(', ')}` : `; known ids: ${all.map((d) => d.id).join(', ')}`;
  throw new RidgelineError(`${field}: unknown hardware id "${id}"${hint}`, { exitCode: 2, field });
}

/** Reads a user device file: `{ "devices": [Device...] }` or a bare array. Registers nothing by itself. */
export function loadDeviceFile(path: string): Device[] {
  const read = readTextInput(path);
  if ('why' in read) throw inputError({ file: path, expected: `a readable device file (JSON): ${read.why}` });
  const raw = parseJsonInput(read.text, path, 'a device file: { "devices": [...] } or an array of devices');
  const list = Array.isArray(raw) ? raw : isObj(raw) && Array.isArray(raw.devices) ? raw.devices : null;
  if (!list) throw inputError({ file: path, field: 'devices', expected: 'an array of devices' });
  if (list.length === 0) throw inputError({ file: path, field: 'devices', expected: 'at least one device (the array is empty)' });
  const devices = list.map((d: unknown, i: number) => validateDevice(d, path, `devices[${i}]`));
  const seen = new Set<string>();
  devices.forEach((d, i) => {
    if (seen.has(d.id)) throw inputError({ file: path, field: `devices[${i}].id`, expected: 'an id not used by an earlier device of the file', got: d.id });
    seen.add(d.id);
  });
  return devices;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * [min, max, integer] of a device field: bounds a real device sits far inside (1 MB/s to 1 PB/s of memory
 * bandwidth, 1 MFLOP/s to 1 EFLOP/s per dtype, up to 1 PiB of memory), so that only a unit mistake is refused.
 */
function fieldRange(field: string): readonly [number, number, boolean] {
  if (field.startsWith('peakFlopsPerS.') || field === 'fp16AccumulateFlopsPerS') return [1e6, 1e18, false];
  switch (field) {
    case 'memoryBytes':
      return [2 ** 20, 2 ** 50, false];
    case 'memoryBandwidthBytesPerS':
    case 'interconnect.bandwidthBytesPerS':
      return [1e6, 1e15, false];
    case 'l2CacheBytes':
    case 'sharedMemoryPerSmBytes':
    case 'maxSharedMemoryPerBlockBytes':
      return [1, 2 ** 40, true];
    case 'tdpWatts':
      return [0.1, 1e5, false];
    default:
      // smCount, maxThreadsPerSm, maxThreadsPerBlock, registersPerSm, simdWidth: counts.
      return [1, 1e8, true];
  }
}

/** A bound as people write it: 2^40, 1e15, 0.1. */
function boundText(n: number): string {
  const log2 = Math.log2(n);
  if (n > 1024 && Number.isInteger(log2)) return `2^${log2}`;
  return n >= 1e5 ? n.toExponential().replace('e+', 'e') : String(n);
}

/** Checks one device record: required fields present, numbers finite, positive and within fieldRange. */
export function validateDevice(d: unknown, file: string, at = 'device'): Device {
  if (!isObj(d)) throw inputError({ file, field: at, expected: 'an object' });
  const where = (f: string) => `${at}${typeof d.id === 'string' ? `(${d.id})` : ''}.${f}`;
  const str = (f: string) => {
    if (typeof d[f] !== 'string' || (d[f] as string).trim() === '') throw inputError({ file, field: where(f), expected: 'a non-empty string', got: d[f] });
  };
  // Positive, and within what a real device could have: a typo of a few orders of magnitude (bytes/s for
  // GB/s, 1e300) would otherwise price every op at zero or forever.
  const pos = (v: unknown, f: string) => {
    const [min, max, integer] = fieldRange(f);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v < min || v > max || (integer && !Number.isInteger(v))) {
      const what = integer ? 'a positive integer' : 'a positive number';
      throw inputError({ file, field: where(f), expected: `${what} from ${boundText(min)} to ${boundText(max)}`, got: v });
    }
  };
  str('id');
  str('name');
  str('source');
  if (d.vendor === undefined) d.vendor = 'custom';
  pos(d.memoryBytes, 'memoryBytes');
  pos(d.memoryBandwidthBytesPerS, 'memoryBandwidthBytesPerS');
  if (!isObj(d.peakFlopsPerS)) throw inputError({ file, field: where('peakFlopsPerS'), expected: `an object of dense FLOP/s per dtype (${DTYPES.join(', ')})` });
  const peaks = d.peakFlopsPerS;
  for (const [k, v] of Object.entries(peaks)) {
    if (!(DTYPES as readonly string[]).includes(k)) throw inputError({ file, field: where(`peakFlopsPerS.${k}`), expected: `a dtype: ${DTYPES.join(', ')}` });
    pos(v, `peakFlopsPerS.${k}`);
  }
  if (!['fp32', 'fp16', 'bf16', 'fp8', 'int8'].some((k) => k in peaks)) {
    throw inputError({ file, field: where('peakFlopsPerS'), expected: 'at least one of fp32, fp16, bf16, fp8, int8' });
  }
  for (const f of ['l2CacheBytes', 'sharedMemoryPerSmBytes', 'maxSharedMemoryPerBlockBytes', 'smCount', 'maxThreadsPerSm', 'maxThreadsPerBlock', 'registersPerSm', 'simdWidth', 'tdpWatts']) {
    if (d[f] !== undefined) pos(d[f], f);
  }
  // Factors on the cost model's efficiencies, each with its source.
  for (const side of ['memory', 'compute'] as const) {
    const s = d[`${side}EfficiencyScale`];
    if (s !== undefined && (typeof s !== 'number' || !(s > 0 && s <= 1))) throw inputError({ file, field: where(`${side}EfficiencyScale`), expected: 'a fraction in (0, 1]', got: s });
    if (d[`${side}EfficiencySource`] !== undefined) str(`${side}EfficiencySource`);
  }
  if (d.fp16AccumulateFlopsPerS !== undefined) pos(d.fp16AccumulateFlopsPerS, 'fp16AccumulateFlopsPerS');
  if (d.interconnect !== undefined) {
    if (!isObj(d.interconnect)) throw inputError({ file, field: where('interconnect'), expected: '{ kind, bandwidthBytesPerS }' });
    pos(d.interconnect.bandwidthBytesPerS, 'interconnect.bandwidthBytesPerS');
    if (typeof d.interconnect.kind !== 'string') throw inputError({ file, field: where('interconnect.kind'), expected: 'a string' });
  }
  if (d.measured !== undefined) {
    if (!isObj(d.measured)) throw inputError({ file, field: where('measured'), expected: 'an object' });
    const m = d.measured;
    if (typeof m.dispatchOverheadS !== 'number' || !Number.isFinite(m.dispatchOverheadS) || m.dispatchOverheadS < 0) {
      throw inputError({ file, field: where('measured.dispatchOverheadS'), expected: 'a number >= 0 (seconds)', got: m.dispatchOverheadS });
    }
    if (m.efficiency !== undefined) {
      if (!isObj(m.efficiency)) throw inputError({ file, field: where('measured.efficiency'), expected: 'an object of fractions per op class' });
      for (const [k, v] of Object.entries(m.efficiency)) {
        if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw inputError({ file, field: where(`measured.efficiency.${k}`), expected: 'a fraction in (0, 1]', got: v });
      }
    }
  }
  (d as { id: string }).id = (d.id as string).trim().toLowerCase();
  return d as unknown as Device;
}

/** Ids within a small edit distance of `key`, or sharing a token with it, best first. */
export function closeMatches(key: string, ids: readonly string[], max = 4): string[] {
  const scored = ids.map((id) => {
    let s = editDistance(key, id);
    if (id.includes(key) || key.includes(id)) s = Math.min(s, 1);
    const tokens = key.split(/[-_ ]/).filter((t) => t.length >= 2);
    if (tokens.some((t) => id.split('-').includes(t))) s = Math.min(s, 2);
    return { id, s };
  });
  const limit = Math.max(2, Math.ceil(key.length / 3));
  return scored
    .filter((x) => x.s <= limit)
    .sort((a, b) => a.s - b.s || a.id.localeCompare(b.id))
    .slice(0, max)
    .map((x) => x.id);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
