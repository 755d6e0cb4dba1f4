import type { ModelSpec } from '../model/types';
import type { CostContext } from './roofline';
import { forSequences, stepTimeS } from './roofline';
import { CONTEXT_STEP, contextAffine, type DecodeGraphs } from './decode';
import { StepLine } from './step';

/**
 * Decode step seconds over a (batch x context) grid, row-major: out[i x contexts.length + j] is the step at
 * batches[i] with contexts[j] tokens cached (whole tokens; host overhead included, as stepTimeS). One
 * StepLine per batch (two graphs of that batch, from `graphs`), then a few multiply-adds per point; models
 * with windowed layers (keys capped, not affine in the context) are evaluated point by point.
 */
export function decodeStepGrid(spec: ModelSpec, graphs: DecodeGraphs, batches: readonly number[], contexts: readonly number[], ctx: CostContext): Float64Array {
  const nc = contexts.length;
  const out = new Float64Array(batches.length * nc);
  const c0 = contexts[0] ?? 0;
  const c1 = c0 + CONTEXT_STEP;
  const affine = contextAffine(spec);
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    const ctxB = forSequences(ctx, b);
    const line = affine ? StepLine.fit(graphs.at(b, c0, true), c0, () => graphs.at(b, c1, true), c1, ctxB, false) : null;
    for (let j = 0; j < nc; j++) out[i * nc + j] = line ? line.timeS(contexts[j]!) : stepTimeS(graphs.at(b, contexts[j]!, true), ctxB);
  }
  return out;
}
