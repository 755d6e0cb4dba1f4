import type { Device } from '../hardware/types';
import { fmtBytes, fmtSi, textTable } from './format';
import { evidenceFor } from '../cost/evidence';
import { MATRIX_UNIT_VENDORS } from '../cost/roofline';

const DTYPES = ['fp32', 'tf32', 'fp16', 'bf16', 'fp8', 'fp4', 'int8', 'int4'] as const;

/** Rows of the validation table on a device of the database, and how many are within 15%: "79/96"; "-" for none. */
function validated(d: Device): string {
  const h = evidenceFor(d, null).hardware;
  return h && h.rows > 0 ? `${h.within15}/${h.rows}` : '-';
}

/** TFLOP/s to one decimal; under 1, two significant digits (a software adapter measures a few GFLOP/s, not 0.0). */
function tflops(flopsPerS: number): string {
  const t = flopsPerS / 1e12;
  return t >= 1 ? t.toFixed(1) : t.toPrecision(2);
}

/** FLOP/byte: whole numbers from 10 up, two significant digits below. */
function ridge(flopsPerByte: number): string {
  return flopsPerByte >= 10 ? flopsPerByte.toFixed(0) : flopsPerByte.toPrecision(2);
}

/** One row per device: memory, bandwidth, dense peaks per dtype (TFLOP/s), ridge at fp16, interconnect, TDP. */
export function renderDevicesTable(devices: readonly Device[]): string {
  const rows = devices.map((d) => {
    const p16 = d.peakFlopsPerS.fp16 ?? d.peakFlopsPerS.bf16 ?? d.peakFlopsPerS.fp32 ?? 0;
    return [
      d.id,
      fmtBytes(d.memoryBytes),
      fmtSi(d.memoryBandwidthBytesPerS, 'B/s'),
      ...DTYPES.map((t) => (d.peakFlopsPerS[t] ? tflops(d.peakFlopsPerS[t]!) : '-')),
      ridge(p16 / d.memoryBandwidthBytesPerS),
      d.interconnect ? fmtSi(d.interconnect.bandwidthBytesPerS, 'B/s') : '-',
      d.tdpWatts ? `${d.tdpWatts} W` : '-',
      validated(d),
      d.measured
        ? 'measured'
        : [
          // The vendor decides the GEMM pricing (cost/roofline.ts matrixUnits): say where it is not tensor cores.
          MATRIX_UNIT_VENDORS.includes(d.vendor) ? '' : `SIMD GEMMs (vendor ${d.vendor})`,
          d.memoryEfficiencyScale !== undefined ? `memory eff. x${d.memoryEfficiencyScale}` : '',
          d.computeEfficiencyScale !== undefined ? `matrix eff. x${d.computeEfficiencyScale}` : '',
          d.quantizedMemoryEfficiencyScale !== undefined ? `quantized mem. eff. x${d.quantizedMemoryEfficiencyScale}` : '',
          d.interconnect?.groupSize !== undefined && d.interconnect.beyondGroup
            ? `link beyond ${d.interconnect.groupSize} devices ${fmtSi(d.interconnect.beyondGroup.bandwidthBytesPerS, 'B/s')}`
            : '',
        ].filter(Boolean).join(', '),
    ];
  });
  return [
    'Dense peak TFLOP/s per dtype (never 2:4 sparse); ridge = fp16 peak / bandwidth (FLOP/byte); link = per direction;',
    'validated = published measurements on the device predicted within 15% / rows (`ridgeline validate --hardware ID`);',
    'SIMD GEMMs = no tensor / matrix cores in the cost model (vendor other than nvidia or amd).',
    '',
    textTable(['id', 'memory', 'bandwidth', ...DTYPES, 'ridge', 'link', 'TDP', 'validated', 'notes'], rows),
  ].join('\n');
}
