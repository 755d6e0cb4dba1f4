import type { Dtype, Op, OpClass } from '../model/types';
import type { Device } from '../hardware/types';
import type { CostParams } from './params';

/**
 * The roofline of one op on one device, with real-kernel effects:
 *   compute time = flops x (padded m / m) / (peak[dtype] x efficiency.compute x dtype scale)
 *   memory time  = bytes / (bandwidth x efficiency.memory)
 *   time         = max(compute, memory) + overlap x min(compute, memory) + launches x launch overhead
 * `bound` is `overhead` when the launch term exceeds both others, else the larger of compute and memory.
 * Communication ops (tensor-parallel all-reduce) use a ring: 2 (N-1)/N x message bytes over the
 * interconnect plus a latency per collective.
 */
export type Bound = 'compute' | 'memory' | 'overhead' | 'comm';

export interface PeakChoice {
  /** Dtype whose peak is used. */
  dtype: Dtype;
  flopsPerS: number;
  /** Set when the device lacks the requested dtype: what runs instead. */
  note?: string;
}

/** Where each dtype falls back to when a device has no native peak for it. */
const FALLBACK: Record<Dtype, readonly Dtype[]> = {
  fp32: ['fp32', 'tf32', 'fp16'],
  tf32: ['tf32', 'fp32', 'fp16'],
  fp16: ['fp16', 'bf16', 'fp32'],
  bf16: ['bf16', 'fp16', 'fp32'],
  fp8: ['fp8', 'fp16', 'bf16', 'fp32'],
  int8: ['int8', 'fp16', 'bf16', 'fp32'],
  int4: ['int4', 'int8', 'fp16', 'bf16', 'fp32'],
};

/** The peak FLOP/s an op computing in `dtype` gets on `device`, falling back (and saying so) when absent. */
export function peakFor(device: Device, dtype: Dtype): PeakChoice {
  for (const d of FALLBACK[dtype]) {
    const v = device.peakFlopsPerS[d];
    if (v !== undefined && v > 0) {
      return d === dtype ? { dtype: d, flopsPerS: v } : { dtype: d, flopsPerS: v, note: `${device.id} has no native ${dtype}: ${dtype} ops run at the ${d} peak` };
    }
  }
  // validateDevice guarantees one of fp32/fp16/bf16/fp8/int8; take the largest.
  let best: Dtype = 'fp32';
  let v = 0;
  for (const [k, x] of Object.entries(device.peakFlopsPerS)) if ((x ?? 0) > v) { v = x!; best = k as Dtype; }
  return { dtype: best, flopsPerS: v, note: `${device.id} has no native ${dtype}: ${dtype} ops run at the ${best} peak` };
}

/** m padded up to the smallest GEMM tile that covers it (multiples of the largest tile above it). */
export function paddedM(m: number, tiles: readonly number[]): number {
  if (!(m > 0)) return m;
  for (const t of tiles) if (m <= t) return t;
  const last = tiles[tiles.length - 1] ?? 1;
  return Math.ceil(m / last) * last;
}

export interface OpCost {
  /** Output row name: the op name, or `flash_attention` for a fused attention kernel. */
  name: string;
  opClass: OpClass;
  computeDtype: Dtype;
  /** Dtype of the peak actually used. */
  peakDtype: Dtype;
  flops: number;
  bytes: number;
  /** FLOPs per byte (flops / bytes; 0 when no bytes). */
  intensity: number;
  /** The roofline ceiling at this intensity with the class efficiencies: min(peak, intensity x bandwidth). */
  attainableFlopsPerS: number;
  computeS: number;
  memoryS: number;
  overheadS: number;
  timeS: number;
  bound: Bound;
  launches: number;
  /** Names of ops fused into this kernel. */
  fused?: string[];
}

/** Context the roofline needs besides the op: the device, parameters and the tensor-parallel degree. */
export interface CostContext {
  device: Device;
  params: CostParams;
  tp: number;
  /** Per-direction link bandwidth used for all-reduce (the device's interconnect, or a stated fallback). */
  linkBytesPerS: number;
  /** Filled with fallback notes (deduplicated by the caller). */
  notes: Set<string>;
}

function bytesOf(op: Op): number {
  const b = op.bytes;
  return b.weights + b.actIn + b.actOut + b.kvRead + b.kvWrite;
}

/**
 * Costs one kernel: `ops[0]` is the launching op, the rest run inside it (fusedInto). Flops and bytes
 * are summed, the roofline applied once, the launch overhead counted once per launch of the host.
 */
export function costKernel(ops: readonly Op[], ctx: CostContext): OpCost {
  const host = ops[0]!;
  const { device, params } = ctx;
  let flops = 0;
  let bytes = 0;
  let padFlops = 0;
  let launches = 0;
  let extraBytes = 0;
  let extraLaunches = 0;
  for (const op of ops) {
    flops += op.flops;
    bytes += bytesOf(op);
    launches += op.launches;
    if (op.opClass === 'gemm' && op.shape.m > 0) padFlops += op.flops * (paddedM(op.shape.m, params.gemmTileM) / op.shape.m);
    else padFlops += op.flops;
  }
  const fusedAttention = ops.length > 1 && host.opClass === 'attention';
  if (fusedAttention && !params.fusedAttention) {
    // Unfused: every fused member becomes its own kernel, and the scores/probabilities go through memory:
    // QK^T writes S, softmax reads S and writes P, PV reads P: 4 passes over m x n x count per layer.
    const s = host.shape.m * host.shape.n * host.count * host.layers * params.scoreBytesPerElement;
    extraBytes = 4 * s;
    extraLaunches = (ops.length - 1) * host.layers;
  }
  bytes += extraBytes;
  launches += extraLaunches;

  const cls = host.opClass;
  const eff = params.efficiency[cls];
  if (cls === 'comm') {
    const n = Math.max(1, ctx.tp);
    const ring = n > 1 ? (2 * (n - 1)) / n : 0;
    const memoryS = n > 1 ? (ring * messageBytes(ops)) / (ctx.linkBytesPerS * eff.memory) : 0;
    const overheadS = n > 1 ? launches * params.allreduceLatencyS : 0;
    return {
      name: host.name, opClass: cls, computeDtype: host.computeDtype, peakDtype: host.computeDtype,
      flops, bytes, intensity: bytes > 0 ? flops / bytes : 0, attainableFlopsPerS: 0,
      computeS: 0, memoryS, overheadS, timeS: memoryS + overheadS, bound: 'comm', launches,
    };
  }
  const peak = peakFor(device, host.computeDtype);
  if (peak.note) ctx.notes.add(peak.note);
  const scale = cls === 'gemm' || cls === 'attention' ? params.dtypeComputeScale[peak.dtype] ?? 1 : 1;
  const peakEff = peak.flopsPerS * eff.compute * scale;
  const bwEff = device.memoryBandwidthBytesPerS * eff.memory;
  const computeS = padFlops / peakEff;
  const memoryS = bytes / bwEff;
  const overheadS = launches * params.launchOverheadS;
  const hi = computeS > memoryS ? computeS : memoryS;
  const lo = computeS > memoryS ? memoryS : computeS;
  const timeS = hi + params.overlap * lo + overheadS;
  const bound: Bound = overheadS > hi ? 'overhead' : computeS >= memoryS ? 'compute' : 'memory';
  const intensity = bytes > 0 ? flops / bytes : 0;
  const attainable = bytes > 0 ? Math.min(peakEff, intensity * bwEff) : peakEff;
  const out: OpCost = {
    name: fusedAttention ? (params.fusedAttention ? 'flash_attention' : 'attention_unfused') : host.name,
    opClass: cls, computeDtype: host.computeDtype, peakDtype: peak.dtype,
    flops, bytes, intensity, attainableFlopsPerS: attainable,
    computeS, memoryS, overheadS, timeS, bound, launches,
  };
  if (ops.length > 1) out.fused = ops.map((o) => o.name);
  return out;
}

/** Bytes one all-reduce moves per call, summed over calls: the larger of the op's input and output. */
function messageBytes(ops: readonly Op[]): number {
  let s = 0;
  for (const op of ops) s += Math.max(op.bytes.actIn, op.bytes.actOut);
  return s;
}

/** Groups a graph's ops into kernels (an op plus the ops fused into it), in graph order. */
export function kernels(ops: readonly Op[]): Op[][] {
  const out: Op[][] = [];
  const byHost = new Map<string, Op[]>();
  const key = (name: string, op: Op) => `${name}|${op.layer ?? ''}|${op.layers}`;
  for (const op of ops) {
    if (op.fusedInto) {
      const g = byHost.get(key(op.fusedInto, op));
      if (g) {
        g.push(op);
        continue;
      }
    }
    const g = [op];
    byHost.set(key(op.name, op), g);
    out.push(g);
  }
  return out;
}

/** Costs every kernel of a graph. */
export function costOps(ops: readonly Op[], ctx: CostContext): OpCost[] {
  return kernels(ops).map((k) => costKernel(k, ctx));
}
