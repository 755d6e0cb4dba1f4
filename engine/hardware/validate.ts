import type { Dtype } from '../model/types';
import type { Device } from './types';
import { inputError } from '../errors';
import { CLASSES } from '../cost/params';

const DTYPES: readonly Dtype[] = ['fp32', 'tf32', 'fp16', 'bf16', 'fp8', 'fp4', 'int8', 'int4'];

/** Every field a device may have (types.ts); any other name is a misspelling, except `$`-prefixed comments. */
const DEVICE_FIELDS = [
  'id', 'name', 'vendor', 'source', 'memoryBytes', 'memoryBandwidthBytesPerS', 'peakFlopsPerS', 'l2CacheBytes',
  'sharedMemoryPerSmBytes', 'maxSharedMemoryPerBlockBytes', 'smCount', 'maxThreadsPerSm', 'maxThreadsPerBlock',
  'registersPerSm', 'simdWidth', 'maxBlocksPerSm', 'reservedSharedMemoryPerBlockBytes', 'interconnect', 'tdpWatts', 'memoryEfficiencyScale', 'memoryEfficiencySource',
  'computeEfficiencyScale', 'computeEfficiencySource', 'quantizedMemoryEfficiencyScale', 'quantizedMemoryEfficiencySource',
  'fp16AccumulateFlopsPerS', 'measured',
];
const INTERCONNECT_FIELDS = ['kind', 'bandwidthBytesPerS', 'groupSize', 'beyondGroup'];
const LINK_FIELDS = ['kind', 'bandwidthBytesPerS'];
const MEASURED_FIELDS = ['adapter', 'dispatchOverheadS', 'efficiency', 'dateIso'];
/** Keys of measured.efficiency: an op class (both sides) or `class.compute` / `class.memory`. */
const EFFICIENCY_KEYS = CLASSES.flatMap((c) => [c, `${c}.compute`, `${c}.memory`]);

/** The id the device measured on this machine is served under; no user device may take it. */
export const MEASURED_DEVICE_ID = 'this';

/** A user device (file or settings) may not take the measured device's id: `--hardware this` would hide it. */
export function checkUserDeviceId(d: Device, file: string, at = 'device'): void {
  if (d.id === MEASURED_DEVICE_ID) {
    throw inputError({ file, field: `${at}(${d.id}).id`, expected: `an id other than "${MEASURED_DEVICE_ID}", which names the device \`ridgeline bench\` measured on this machine` });
  }
}

export function isObj(v: unknown): v is Record<string, unknown> {
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
    case 'interconnect.beyondGroup.bandwidthBytesPerS':
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
  // A misspelled optional field would otherwise be dropped without a word (tdpWats: no energy estimate).
  const known = (obj: Record<string, unknown>, fields: readonly string[], prefix: string) => {
    for (const k of Object.keys(obj)) {
      if (fields.includes(k) || k.startsWith('$')) continue;
      const close = closeMatches(k.toLowerCase(), fields.map((f) => f.toLowerCase()), 1);
      const hint = close.length ? ` (did you mean ${fields.find((f) => f.toLowerCase() === close[0])}?)` : '';
      throw inputError({ file, field: where(`${prefix}${k}`), expected: `a known field${hint}: ${fields.join(', ')}` });
    }
  };
  known(d, DEVICE_FIELDS, '');
  str('id');
  str('name');
  str('source');
  // The vendor decides whether GEMMs run on matrix units (nvidia, amd: tensor / matrix cores, whole tiles);
  // any other vendor, or none, prices them as SIMD kernels (cost/roofline.ts matrixUnits).
  if (d.vendor === undefined) d.vendor = 'custom';
  else str('vendor');
  pos(d.memoryBytes, 'memoryBytes');
  pos(d.memoryBandwidthBytesPerS, 'memoryBandwidthBytesPerS');
  if (!isObj(d.peakFlopsPerS)) throw inputError({ file, field: where('peakFlopsPerS'), expected: `an object of dense FLOP/s per dtype (${DTYPES.join(', ')})` });
  const peaks = d.peakFlopsPerS;
  for (const [k, v] of Object.entries(peaks)) {
    if (!(DTYPES as readonly string[]).includes(k)) throw inputError({ file, field: where(`peakFlopsPerS.${k}`), expected: `a dtype: ${DTYPES.join(', ')}` });
    pos(v, `peakFlopsPerS.${k}`);
  }
  // Float math needs a float roof: an int8 peak is no rate for fp16 GEMMs or norms.
  if (!['fp32', 'fp16', 'bf16'].some((k) => k in peaks)) {
    throw inputError({ file, field: where('peakFlopsPerS'), expected: 'at least one floating-point peak: fp32, fp16 or bf16' });
  }
  for (const f of ['l2CacheBytes', 'sharedMemoryPerSmBytes', 'maxSharedMemoryPerBlockBytes', 'smCount', 'maxThreadsPerSm', 'maxThreadsPerBlock', 'registersPerSm', 'simdWidth', 'maxBlocksPerSm', 'tdpWatts']) {
    if (d[f] !== undefined) pos(d[f], f);
  }
  // Zero is a real value here (no reservation before CUDA cc 8.0).
  const reserved = d.reservedSharedMemoryPerBlockBytes;
  if (reserved !== undefined && !(typeof reserved === 'number' && Number.isInteger(reserved) && reserved >= 0 && reserved <= 2 ** 20)) {
    throw inputError({ file, field: where('reservedSharedMemoryPerBlockBytes'), expected: 'a whole number of bytes from 0 to 2^20', got: reserved });
  }
  // Factors on the cost model's efficiencies, each with its source.
  for (const side of ['memory', 'compute', 'quantizedMemory'] as const) {
    const s = d[`${side}EfficiencyScale`];
    if (s !== undefined && (typeof s !== 'number' || !(s > 0 && s <= 1))) throw inputError({ file, field: where(`${side}EfficiencyScale`), expected: 'a fraction in (0, 1]', got: s });
    if (d[`${side}EfficiencySource`] !== undefined) str(`${side}EfficiencySource`);
  }
  if (d.fp16AccumulateFlopsPerS !== undefined) pos(d.fp16AccumulateFlopsPerS, 'fp16AccumulateFlopsPerS');
  if (d.interconnect !== undefined) {
    if (!isObj(d.interconnect)) throw inputError({ file, field: where('interconnect'), expected: '{ kind, bandwidthBytesPerS }' });
    known(d.interconnect, INTERCONNECT_FIELDS, 'interconnect.');
    pos(d.interconnect.bandwidthBytesPerS, 'interconnect.bandwidthBytesPerS');
    if (typeof d.interconnect.kind !== 'string') throw inputError({ file, field: where('interconnect.kind'), expected: 'a string' });
    const g = d.interconnect.groupSize;
    const beyond = d.interconnect.beyondGroup;
    if (g !== undefined || beyond !== undefined) {
      if (!Number.isSafeInteger(g) || (g as number) < 2 || (g as number) > 1024) throw inputError({ file, field: where('interconnect.groupSize'), expected: 'an integer from 2 to 1024, with interconnect.beyondGroup', got: g });
      if (!isObj(beyond)) throw inputError({ file, field: where('interconnect.beyondGroup'), expected: '{ kind, bandwidthBytesPerS }: the link of a ring over more than groupSize devices', got: beyond });
      known(beyond, LINK_FIELDS, 'interconnect.beyondGroup.');
      pos(beyond.bandwidthBytesPerS, 'interconnect.beyondGroup.bandwidthBytesPerS');
      if (typeof beyond.kind !== 'string') throw inputError({ file, field: where('interconnect.beyondGroup.kind'), expected: 'a string' });
    }
  }
  if (d.measured !== undefined) {
    if (!isObj(d.measured)) throw inputError({ file, field: where('measured'), expected: 'an object' });
    const m = d.measured;
    known(m, MEASURED_FIELDS, 'measured.');
    for (const f of ['adapter', 'dateIso']) {
      if (typeof m[f] !== 'string' || (m[f] as string).trim() === '') throw inputError({ file, field: where(`measured.${f}`), expected: 'a non-empty string', got: m[f] });
    }
    if (typeof m.dispatchOverheadS !== 'number' || !Number.isFinite(m.dispatchOverheadS) || m.dispatchOverheadS < 0) {
      throw inputError({ file, field: where('measured.dispatchOverheadS'), expected: 'a number >= 0 (seconds)', got: m.dispatchOverheadS });
    }
    if (m.efficiency !== undefined) {
      if (!isObj(m.efficiency)) throw inputError({ file, field: where('measured.efficiency'), expected: 'an object of fractions per op class' });
      known(m.efficiency, EFFICIENCY_KEYS, 'measured.efficiency.');
      for (const [k, v] of Object.entries(m.efficiency)) {
        if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw inputError({ file, field: where(`measured.efficiency.${k}`), expected: 'a fraction in (0, 1]', got: v });
      }
    }
  }
  (d as { id: string }).id = (d.id as string).trim().toLowerCase();
  (d as { vendor: string }).vendor = (d.vendor as string).trim().toLowerCase();
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
