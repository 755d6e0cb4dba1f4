import type { Op } from '../model/types';
import type { CostContext, OpCost } from './roofline';
import { kernelEnd, kernelTimes, overlapTimeS } from './roofline';

/**
 * A decode step's time as a function of the context, for one batch, from two graphs of that batch.
 *
 * Without sliding windows, every op's FLOPs and bytes are affine in the context at a fixed batch (the KV
 * read and the attention FLOPs grow with the keys, nothing else moves), so each kernel's compute and memory
 * times are affine too:
 *   computeS(c) = compute0 + computeSlope x c,  memoryS(c) = memory0 + memorySlope x c,
 * and its time is overlapTimeS(compute, memory) + overhead, exactly as the roofline evaluates it
 * (engine/cost/roofline.ts). Two evaluated graphs fix both lines of every kernel; any further
 * context costs a few multiply-adds per kernel and builds nothing.
 */
export class StepLine {
  /** Per kernel: compute0, computeSlope, memory0, memorySlope, overheadS plus any dequantization pass (both outside the overlap; a plain array: small typed arrays cost an ArrayBuffer each). */
  private readonly k: number[];
  private readonly kernels: number;

  private constructor(
    k: number[],
    private readonly overlap: number,
    private readonly forwardOverheadS: number,
    /** Round the context to whole tokens first (for models whose graphs are built at whole contexts). */
    private readonly roundContext: boolean,
  ) {
    this.k = k;
    this.kernels = k.length / STRIDE;
  }

  /**
   * The line through the decode graphs `opsA` (context cA) and `opsB` (context cB), both at the same batch.
   * `opsB` may be produced after `opsA` is consumed (scratch graphs): pass a function for it.
   * Returns null when the two graphs do not line up kernel by kernel.
   */
  static fit(opsA: readonly Op[], cA: number, nextOps: () => readonly Op[], cB: number, ctx: CostContext, roundContext: boolean): StepLine | null {
    const k: number[] = [];
    const names: string[] = [];
    for (let i = 0; i < opsA.length; ) {
      const end = kernelEnd(opsA, i);
      const e = kernelTimes(opsA, i, end, ctx);
      names.push(opsA[i]!.name);
      k.push(e.computeS, 0, e.memoryS, 0, e.overheadS + e.dequantPassS);
      i = end;
    }
    return StepLine.second(k, names, cA, nextOps(), cB, ctx, roundContext);
  }

  /** As fit, with the first graph already costed by costOps (its kernel rows give the first point). */
  static fitCosts(costsA: readonly OpCost[], cA: number, nextOps: () => readonly Op[], cB: number, ctx: CostContext, roundContext: boolean): StepLine | null {
    // costOps ends with the host-overhead row when there is a forward overhead: not a kernel.
    const n = ctx.params.forwardOverheadS > 0 && costsA.length > 0 ? costsA.length - 1 : costsA.length;
    const k: number[] = [];
    const names: string[] = [];
    for (let j = 0; j < n; j++) {
      const r = costsA[j]!;
      names.push(r.fused ? r.fused[0]! : r.name);
      k.push(r.computeS, 0, r.memoryS, 0, r.overheadS + (r.dequantPassS ?? 0));
    }
    return StepLine.second(k, names, cA, nextOps(), cB, ctx, roundContext);
  }

  /** Slopes from the second graph; `k` holds the first point's compute, memory and overhead per kernel. */
  private static second(k: number[], names: readonly string[], cA: number, opsB: readonly Op[], cB: number, ctx: CostContext, roundContext: boolean): StepLine | null {
    const n = names.length;
    const dc = cB - cA;
    let j = 0;
    for (let i = 0; i < opsB.length; j++) {
      if (j >= n || opsB[i]!.name !== names[j]) return null;
      const end = kernelEnd(opsB, i);
      const e = kernelTimes(opsB, i, end, ctx);
      const o = j * STRIDE;
      if (e.overheadS + e.dequantPassS !== k[o + 4]) return null;
      const c0 = k[o]!;
      const m0 = k[o + 2]!;
      k[o + 1] = (e.computeS - c0) / dc;
      k[o + 3] = (e.memoryS - m0) / dc;
      // Intercepts at context 0 (the evaluation below is then one multiply-add per side).
      k[o] = c0 - k[o + 1]! * cA;
      k[o + 2] = m0 - k[o + 3]! * cA;
      i = end;
    }
    if (j !== n) return null;
    return new StepLine(k, ctx.params.overlap, ctx.params.forwardOverheadS, roundContext);
  }

  /** Seconds of one decode step with `context` tokens cached (host overhead included), as stepTimeS. */
  timeS(context: number): number {
    const c = this.roundContext ? Math.round(context) : context;
    const k = this.k;
    const overlap = this.overlap;
    let t = this.forwardOverheadS;
    for (let j = 0, o = 0; j < this.kernels; j++, o += STRIDE) {
      const cs = k[o]! + k[o + 1]! * c;
      const ms = k[o + 2]! + k[o + 3]! * c;
      t += overlapTimeS(cs, ms, overlap) + k[o + 4]!;
    }
    return t;
  }
}

const STRIDE = 5;
