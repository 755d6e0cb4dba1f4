import type { Dtype } from '../model/types';
import type { Device } from './types';
import { inputError } from '../errors';

const DTYPES: readonly Dtype[] = ['fp32', 'tf32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'];

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
