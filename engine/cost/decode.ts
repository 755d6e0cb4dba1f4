import type { ModelSpec, Op, Workload } from '../model/types';
import { buildGraph } from '../model/graph';

/**
 * Decode graphs at any (batch, context) from three built graphs, exactly.
 *
 * For a dense model without sliding windows every numeric field of a decode op has the form
 *   f(b, c) = alpha + beta x b + delta x b x c
 * (weights are fixed, activations scale with the batch, KV reads and attention FLOPs with batch x context),
 * the GEMM rows `m` and instance `count` are affine in the batch, and the attention key count `n` is
 * affine in the context. Three graphs, at (b0, c0), (b0, c1) and (2 b0, c0), determine every coefficient (the third is built only when
 * another batch is asked for).
 * Models with windowed layers (keys capped) or MoE layers (experts touched grow sub-linearly with the batch)
 * break that form: for them every point is built directly. test/unit/cost.test.ts checks the
 * reconstruction against buildGraph at random points.
 */
export class DecodeGraphs {
  private exact: boolean;
  private readonly base: Op[] = [];
  private readonly dB: Float64Array = new Float64Array(0);
  private readonly dBC: Float64Array = new Float64Array(0);
  private readonly dM: Float64Array = new Float64Array(0);
  private readonly dCount: Float64Array = new Float64Array(0);
  private readonly dN: Float64Array = new Float64Array(0);
  private readonly b0: number;
  private readonly c0: number;
  private c1 = 0;
  private hasBatchSlopes = false;
  /** Graphs built so far (for the benchmark's accounting). */
  builds = 0;

  constructor(
    private readonly spec: ModelSpec,
    private readonly workload: Workload,
    c0: number,
  ) {
    this.b0 = workload.batch;
    this.c0 = c0;
    this.exact = !interpolable(spec);
    if (this.exact) return;
    const c1 = c0 + 1024;
    this.c1 = c1;
    const g00 = this.build(this.b0, c0);
    const g01 = this.build(this.b0, c1);
    const n = g00.length;
    if (g01.length !== n) {
      this.exact = true;
      return;
    }
    this.base = g00;
    const F = FIELDS;
    this.dB = new Float64Array(n * F);
    this.dBC = new Float64Array(n * F);
    this.dM = new Float64Array(n);
    this.dCount = new Float64Array(n);
    this.dN = new Float64Array(n);
    const b0 = this.b0;
    for (let i = 0; i < n; i++) {
      const a = g00[i]!;
      const c = g01[i]!;
      if (a.name !== c.name) {
        this.exact = true;
        return;
      }
      for (let f = 0; f < F; f++) this.dBC[i * F + f] = (get(c, f) - get(a, f)) / (b0 * (c1 - c0)); // delta
      this.dN[i] = (c.shape.n - a.shape.n) / (c1 - c0);
    }
  }

  /** Batch slopes from a third graph at (2 b0, c0), built on the first call at another batch. */
  private batchSlopes(): boolean {
    if (this.hasBatchSlopes) return true;
    const g10 = this.build(2 * this.b0, this.c0);
    const n = this.base.length;
    if (g10.length !== n) return false;
    const F = FIELDS;
    const b0 = this.b0;
    for (let i = 0; i < n; i++) {
      const a = this.base[i]!;
      const b = g10[i]!;
      if (a.name !== b.name) return false;
      for (let f = 0; f < F; f++) this.dB[i * F + f] = (get(b, f) - get(a, f)) / b0; // beta + delta c0
      this.dM[i] = (b.shape.m - a.shape.m) / b0;
      this.dCount[i] = (b.count - a.count) / b0;
    }
    this.hasBatchSlopes = true;
    return true;
  }

  private build(batch: number, context: number): Op[] {
    this.builds++;
    context = Math.round(context);
    return buildGraph(this.spec, batch === this.workload.batch ? this.workload : { ...this.workload, batch }, 'decode', context).ops;
  }

  private scratch: Op[] | null = null;

  /**
   * The decode ops at `batch` sequences with `context` tokens cached. With `reuse`, the returned array and
   * its ops are overwritten by the next `reuse` call (for sweeps that only read them once).
   */
  at(batch: number, context: number, reuse = false): Op[] {
    if (!this.exact && batch !== this.b0 && !this.batchSlopes()) this.exact = true;
    if (this.exact) return this.build(batch, context);
    const n = this.base.length;
    let out: Op[];
    if (reuse) {
      if (!this.scratch) this.scratch = this.base.map(cloneOp);
      out = this.scratch;
    } else {
      out = this.base.map(cloneOp);
    }
    const db = batch - this.b0;
    const dbc = batch * (context - this.c0);
    const dc = context - this.c0;
    const F = FIELDS;
    const dB = this.dB;
    const dBC = this.dBC;
    for (let i = 0; i < n; i++) {
      const a = this.base[i]!;
      const o = out[i]!;
      const j = i * F;
      o.shape.m = a.shape.m + db * this.dM[i]!;
      o.shape.n = a.shape.n + dc * this.dN[i]!;
      o.count = a.count + db * this.dCount[i]!;
      o.launches = a.launches + db * dB[j]! + dbc * dBC[j]!;
      o.flops = a.flops + db * dB[j + 1]! + dbc * dBC[j + 1]!;
      const ab = a.bytes;
      const ob = o.bytes;
      ob.weights = ab.weights + db * dB[j + 2]! + dbc * dBC[j + 2]!;
      ob.actIn = ab.actIn + db * dB[j + 3]! + dbc * dBC[j + 3]!;
      ob.actOut = ab.actOut + db * dB[j + 4]! + dbc * dBC[j + 4]!;
      ob.kvRead = ab.kvRead + db * dB[j + 5]! + dbc * dBC[j + 5]!;
      ob.kvWrite = ab.kvWrite + db * dB[j + 6]! + dbc * dBC[j + 6]!;
    }
    return out;
  }
}

function cloneOp(a: Op): Op {
  const op: Op = {
    name: a.name,
    phase: a.phase,
    layers: a.layers,
    opClass: a.opClass,
    computeDtype: a.computeDtype,
    shape: { ...a.shape },
    count: a.count,
    launches: a.launches,
    flops: a.flops,
    bytes: { ...a.bytes },
  };
  if (a.layer !== undefined) op.layer = a.layer;
  if (a.fusedInto !== undefined) op.fusedInto = a.fusedInto;
  return op;
}

const FIELDS = 7;

function get(op: Op, f: number): number {
  switch (f) {
    case 0: return op.launches;
    case 1: return op.flops;
    case 2: return op.bytes.weights;
    case 3: return op.bytes.actIn;
    case 4: return op.bytes.actOut;
    case 5: return op.bytes.kvRead;
    default: return op.bytes.kvWrite;
  }
}

/** True when decode ops are bilinear in (batch, context): no windowed layers, no MoE layers. */
export function interpolable(spec: ModelSpec): boolean {
  return spec.layerGroups.every((g) => g.window === null && g.mlp.kind === 'dense');
}
