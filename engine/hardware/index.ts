import { parseJsonInput, readTextInput } from '../textfile';
import type { Device } from './types';
import { inputError, RidgelineError } from '../errors';
import data from './devices.json';
import { loadMeasuredDevice, measuredDevicePath } from '../gpu/measured';
import { checkUserDeviceId, closeMatches, isObj, MEASURED_DEVICE_ID, validateDevice } from './validate';

export { closeMatches, validateDevice } from './validate';

export type { Device } from './types';


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
  const ok = list.map((d) => {
    const v = validateDevice(d, file);
    checkUserDeviceId(v, file);
    return v;
  });
  for (const d of ok) registered.set(d.id, d);
}

/**
 * Checks a user's list of devices (a `--devices` file, the editor's customDevices setting): each one as
 * validateDevice does, the measured device's id refused, and an id an earlier device of the list took refused.
 * Returns the good devices and, in list order, an input error for each bad one (its field named `at(i).field`).
 */
export function checkUserDevices(list: readonly unknown[], file: string, at: (i: number) => string, what = 'file'): { devices: Device[]; errors: RidgelineError[] } {
  const devices: Device[] = [];
  const errors: RidgelineError[] = [];
  const seen = new Set<string>();
  list.forEach((raw, i) => {
    try {
      const d = validateDevice(raw, file, at(i));
      checkUserDeviceId(d, file, at(i));
      if (seen.has(d.id)) throw inputError({ file, field: `${at(i)}.id`, expected: `an id not used by an earlier device of the ${what}`, got: d.id });
      seen.add(d.id);
      devices.push(d);
    } catch (e) {
      if (!(e instanceof RidgelineError)) throw e;
      errors.push(e);
    }
  });
  return { devices, errors };
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

/**
 * The device measured on this machine (served as `this`), or null when there is none. The file `ridgeline bench`
 * wrote can be edited or damaged since: it gets the same checks as any device file, and a bad one throws.
 */
export function measuredDevice(): Device | null {
  const d = measuredLoader();
  if (d) validateDevice(structuredClone(d), measuredDevicePath());
  return d;
}

/** Looks a device up by id (case-insensitive). `this` is the device measured on this machine. */
export function getDevice(id: string, field = '--hardware'): Device {
  const key = id.trim().toLowerCase();
  if (key === '') throw inputError({ field, expected: `a hardware id: ${listDevices().map((d) => d.id).join(', ')}` });
  if (key === MEASURED_DEVICE_ID) {
    const d = measuredDevice();
    if (!d) throw new RidgelineError(`${field}: no measured device: run \`ridgeline bench\` first`, { exitCode: 2, field });
    return d;
  }
  const all = listDevices();
  const hit = all.find((d) => d.id === key);
  if (hit) return hit;
  // `this` is a known id while a (readable) measurement exists.
  const ids = all.map((d) => d.id);
  try {
    if (measuredDevice()) ids.push(MEASURED_DEVICE_ID);
  } catch {
    // a damaged measurement: not offered
  }
  const close = closeMatches(key, ids);
  const hint = close.length ? `; close matches: ${close.join(', ')}` : `; known ids: ${ids.join(', ')}`;
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
  const { devices, errors } = checkUserDevices(list, path, (i) => `devices[${i}]`);
  if (errors.length > 0) throw errors[0];
  return devices;
}
