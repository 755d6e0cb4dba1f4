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
  /**
   * Coefficients per op i, at i x STRIDE: FIELDS batch slopes (dB), FIELDS batch x context slopes (dBC),
   * then the slopes of m (batch), count (batch) and n (context). A plain array (small typed arrays cost an
   * ArrayBuffer each).
   */
  private coef: number[] = EMPTY;
  private readonly b0: number;
  private readonly c0: number;
  private hasBatchSlopes = false;
  /** Graphs built so far (for the benchmark's accounting). */
  builds = 0;

  /**
   * `prebuilt`: the decode graphs at (workload.batch, c0) and (workload.batch, c0 + 1024) when the caller
   * has them already (they are read, never modified).
   */
  constructor(
    private readonly spec: ModelSpec,
    private readonly workload: Workload,
    c0: number,
    prebuilt?: readonly [Op[], Op[]],
  ) {
    this.b0 = workload.batch;
    this.c0 = c0;
    this.exact = !interpolable(spec);
    if (this.exact) return;
    const c1 = c0 + CONTEXT_STEP;
    const g00 = prebuilt ? prebuilt[0] : this.build(this.b0, c0);
    const g01 = prebuilt ? prebuilt[1] : this.build(this.b0, c1);
    const n = g00.length;
    if (g01.length !== n) {
      this.exact = true;
      return;
    }
    this.base = g00;
    const F = FIELDS;
    const coef: number[] = (this.coef = []);
    for (let i = 0; i < n * STRIDE; i++) coef.push(0);
    const b0 = this.b0;
    for (let i = 0; i < n; i++) {
      const a = g00[i]!;
      const c = g01[i]!;
      if (a.name !== c.name) {
        this.exact = true;
        return;
      }
      const j = i * STRIDE + F;
      for (let f = 0; f < F; f++) coef[j + f] = (get(c, f) - get(a, f)) / (b0 * (c1 - c0)); // delta
      coef[i * STRIDE + N_SLOPE] = (c.shape.n - a.shape.n) / (c1 - c0);
    }
  }

  /**
   * Batch slopes from a third graph at (b1, c0), built on the first call at another batch: b1 = 2 b0, or
   * b0 - 1 when 2 b0 would pass the largest batch the graph accepts (any second batch gives the same line).
   */
  private batchSlopes(): boolean {
    if (this.hasBatchSlopes) return true;
    const b0 = this.b0;
    const b1 = 2 * b0 <= MAX_BATCH ? 2 * b0 : b0 - 1;
    const g10 = this.build(b1, this.c0);
    const n = this.base.length;
    if (g10.length !== n) return false;
    const F = FIELDS;
    const db = b1 - b0;
    const coef = this.coef;
    for (let i = 0; i < n; i++) {
      const a = this.base[i]!;
      const b = g10[i]!;
      if (a.name !== b.name) return false;
      const j = i * STRIDE;
      for (let f = 0; f < F; f++) coef[j + f] = (get(b, f) - get(a, f)) / db; // beta + delta c0
      coef[j + M_SLOPE] = (b.shape.m - a.shape.m) / db;
      coef[j + COUNT_SLOPE] = (b.count - a.count) / db;
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
    const c = this.coef;
    for (let i = 0; i < n; i++) {
      const a = this.base[i]!;
      const o = out[i]!;
      const j = i * STRIDE; // batch slopes at j.., batch x context slopes at k..
      const k = j + FIELDS;
      o.shape.m = a.shape.m + db * c[j + M_SLOPE]!;
      o.shape.n = a.shape.n + dc * c[j + N_SLOPE]!;
      o.count = a.count + db * c[j + COUNT_SLOPE]!;
      o.launches = a.launches + db * c[j]! + dbc * c[k]!;
      o.flops = a.flops + db * c[j + 1]! + dbc * c[k + 1]!;
      const ab = a.bytes;
      const ob = o.bytes;
      ob.weights = ab.weights + db * c[j + 2]! + dbc * c[k + 2]!;
      ob.actIn = ab.actIn + db * c[j + 3]! + dbc * c[k + 3]!;
      ob.actOut = ab.actOut + db * c[j + 4]! + dbc * c[k + 4]!;
      ob.kvRead = ab.kvRead + db * c[j + 5]! + dbc * c[k + 5]!;
      ob.kvWrite = ab.kvWrite + db * c[j + 6]! + dbc * c[k + 6]!;
    }
    return out;
  }
}

/** A copy with the object shape buildGraph gives every op (one hidden class for the cost model's loops). */
function cloneOp(a: Op): Op {
  const s = a.shape;
  const b = a.bytes;
  return {
    name: a.name,
    phase: a.phase,
    layer: a.layer,
    layers: a.layers,
    opClass: a.opClass,
    computeDtype: a.computeDtype,
    shape: { m: s.m, n: s.n, k: s.k },
    count: a.count,
    launches: a.launches,
    flops: a.flops,
    dequantFlops: a.dequantFlops,
    kvGroup: a.kvGroup,
    routing: a.routing,
    bytes: { weights: b.weights, actIn: b.actIn, actOut: b.actOut, kvRead: b.kvRead, kvWrite: b.kvWrite },
    fusedInto: a.fusedInto,
    layerGroup: a.layerGroup,
  };
}

/** Numeric fields interpolated per op (see get), then the m, count and n slopes. */
const FIELDS = 7;
const M_SLOPE = 2 * FIELDS;
const COUNT_SLOPE = M_SLOPE + 1;
const N_SLOPE = M_SLOPE + 2;
const STRIDE = N_SLOPE + 1;
/** Largest batch buildGraph accepts (its --batch check). */
const MAX_BATCH = 1 << 20;
/** Context distance between the two graphs the context slopes come from. */
export const CONTEXT_STEP = 1024;
const EMPTY: number[] = [];

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

/** True when decode step FLOPs and bytes are affine in the context at a fixed batch: no layer caps its keys. */
export function contextAffine(spec: ModelSpec): boolean {
  return spec.layerGroups.every((g) => g.window === null);
}

/** True when decode ops are bilinear in (batch, context): no windowed layers, no MoE layers. */
export function interpolable(spec: ModelSpec): boolean {
  return spec.layerGroups.every((g) => g.window === null && g.mlp.kind === 'dense');
}
