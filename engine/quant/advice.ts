import type { ModelSpec, Workload } from '../model/types';
import type { Device } from '../hardware/types';
import { analyze } from '../analyze';
import type { CostParams } from '../cost/params';
import { servingEngine } from '../cost/engines';
import { engineRuns } from '../cost/engineFormats';
import { withPrefixHit } from '../model/graph';
import { listKvFormats, kvFormat, type KvFormat } from '../memory/kvFormats';
import { defaultActivations, effectiveCompute, linearBitsPerWeight, listWeightFormats, weightFormat, type WeightFormat } from './formats';
import table from './evidence.json';

/**
 * Quantization advice: a risk level per weights x KV option, each resting on rows of the evidence
 * table (evidence.json: published results, one claim per row with its paper), and the cost of each
 * option (bytes, fit, prefill and decode time) from the engine's analysis of the user's model on the
 * user's device. The recommendation is the highest-quality option that fits (and meets the latency
 * target when one is given).
 */

export type Risk = 'none' | 'low' | 'medium' | 'high';
const RISK_ORDER: readonly Risk[] = ['none', 'low', 'medium', 'high'];

export interface EvidenceRow {
  id: string;
  kind: 'direct' | 'caveat';
  title: string;
  target: 'weights' | 'weights+activations' | 'kv';
  formats?: string[];
  relation?: { format: string; is: 'no-worse' };
  kvMinBits?: number;
  kvMaxBits?: number;
  maxBits?: number;
  maxParams?: number;
  model: string;
  metric: string;
  delta: string;
  verdict: 'none' | 'small' | 'moderate' | 'large' | 'relative';
  conditions?: string;
}

export const EVIDENCE: readonly EvidenceRow[] = table.rows as EvidenceRow[];

export function evidenceRow(id: string): EvidenceRow {
  const r = EVIDENCE.find((x) => x.id === id);
  if (!r) throw new Error(`evidence.json has no row ${id}`);
  return r;
}

export interface QualityAdvice {
  risk: Risk;
  /** Ids of the evidence rows the level rests on (direct rows) and caveats that apply. */
  evidence: string[];
  /** How the level was reached, in words. */
  basis: string;
}

const VERDICT_RISK: Record<string, Risk> = { none: 'low', small: 'low', moderate: 'medium', large: 'high' };

function worse(a: Risk, b: Risk): Risk {
  return RISK_ORDER.indexOf(a) >= RISK_ORDER.indexOf(b) ? a : b;
}

/**
 * The level most direct rows support (ties go to the worse level): one dissenting paper neither
 * clears nor condemns a format. A `relation` row votes the level of the format it is compared with.
 */
function vote(levels: Risk[]): Risk {
  const counts = new Map<Risk, number>();
  for (const l of levels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best: Risk = levels[0]!;
  for (const [l, c] of counts) {
    const bc = counts.get(best)!;
    if (c > bc || (c === bc && worse(l, best) === l)) best = l;
  }
  return best;
}

export interface AdviceContext {
  /** Total parameters of the model (rows with maxParams apply only below it). */
  params: number;
  /** The model's own dtype. */
  dtype: 'fp32' | 'fp16' | 'bf16';
  /** Routed-expert parameters (what a format of scope `experts` quantizes); absent: unknown, taken as some. */
  experts?: number;
  /** The formats of the checkpoint's published quantization (spec.quantFormats). */
  published?: readonly string[] | null;
}

const DTYPE_BITS = { fp32: 32, fp16: 16, bf16: 16 } as const;

/** Risk of storing the weights in `format`, from the evidence table. */
export function weightsRisk(formatId: string, ctx: AdviceContext, seen: string[] = []): QualityAdvice {
  const f = weightFormat(formatId);
  if (f.id === ctx.dtype || f.bitsPerWeight > DTYPE_BITS[ctx.dtype]) {
    return { risk: 'none', evidence: [], basis: `the model's own precision (${ctx.dtype}) or wider` };
  }
  if (f.scope === 'experts' && ctx.experts === 0) {
    return { risk: 'none', evidence: [], basis: `${f.id} quantizes routed experts only; this model has none, so its weights stay ${ctx.dtype}` };
  }
  if (ctx.published?.includes(f.id)) {
    return { risk: 'none', evidence: [], basis: 'the format the checkpoint is published in (quantization_config): the model as its authors ship it' };
  }
  if (f.bitsPerWeight === 16) {
    return {
      risk: 'low',
      evidence: [],
      basis: `16-bit to 16-bit conversion: no published row needed; ${ctx.dtype} and ${f.id} differ in range (fp16 overflows above 65504) and mantissa, check with the measured error`,
    };
  }
  // A scope format (mxfp4-experts) rests on the evidence of its full-model counterpart (mxfp4): it quantizes less.
  const evId = f.evidenceAs ?? f.id;
  const direct = EVIDENCE.filter(
    (r) => r.kind === 'direct' && r.target !== 'kv' && r.formats?.includes(evId) && (r.maxParams === undefined || ctx.params <= r.maxParams),
  );
  const caveats = EVIDENCE.filter(
    (r) => r.kind === 'caveat' && r.target !== 'kv' && (r.formats?.includes(evId) || (r.maxBits !== undefined && f.bitsPerWeight <= r.maxBits)),
  );
  const levels: Risk[] = [];
  const ids: string[] = [];
  for (const r of direct) {
    if (r.relation) {
      if (seen.includes(r.relation.format)) continue;
      const other = weightsRisk(r.relation.format, ctx, [...seen, f.id]);
      levels.push(other.risk);
    } else {
      levels.push(VERDICT_RISK[r.verdict] ?? 'medium');
    }
    ids.push(r.id);
  }
  const caveatIds = caveats.map((r) => r.id);
  if (levels.length === 0) {
    return {
      risk: 'medium',
      evidence: caveatIds,
      basis: 'no published result in the evidence table for this format: medium by default; measure it on the weights (`ridgeline quant model.safetensors`)',
    };
  }
  const risk = vote(levels);
  const tally = RISK_ORDER.filter((l) => levels.includes(l))
    .map((l) => `${levels.filter((x) => x === l).length} ${l}`)
    .join(', ');
  return {
    risk,
    evidence: [...ids, ...caveatIds],
    basis: `${direct.length} published result${direct.length === 1 ? '' : 's'} (${tally}): the level most rows support${caveatIds.length ? `; caveats: ${caveatIds.join(', ')}` : ''}`,
  };
}

/** Risk of storing the KV cache in `kv`, from the evidence table's KV rows (by bits per element). */
export function kvRisk(kvId: string, ctx: AdviceContext): QualityAdvice {
  const k = kvFormat(kvId);
  if (k.elementBits >= 16) {
    if (k.id === ctx.dtype || k.elementBits > DTYPE_BITS[ctx.dtype]) return { risk: 'none', evidence: [], basis: "KV cache at the model's own precision or wider" };
    return { risk: 'low', evidence: [], basis: `16-bit KV in ${k.id} instead of ${ctx.dtype}: same size, different range and mantissa` };
  }
  const bits = k.elementBits;
  const direct = EVIDENCE.filter((r) => r.kind === 'direct' && r.target === 'kv' && (r.kvMinBits ?? Infinity) <= bits);
  const caveats = EVIDENCE.filter((r) => r.kind === 'caveat' && r.target === 'kv' && bits <= (r.kvMaxBits ?? -1));
  if (direct.length === 0) {
    return { risk: 'medium', evidence: caveats.map((r) => r.id), basis: 'no published KV result at this width: medium by default' };
  }
  const levels = direct.map((r) => VERDICT_RISK[r.verdict] ?? 'medium');
  return {
    risk: vote(levels),
    evidence: [...direct.map((r) => r.id), ...caveats.map((r) => r.id)],
    basis: `${direct.length} published KV result${direct.length === 1 ? '' : 's'} at ${bits} bits or fewer${caveats.length ? `; caveats: ${caveats.map((r) => r.id).join(', ')}` : ''}`,
  };
}

/** Weights and KV together: the worse of the two, resting on both sets of rows. */
export function optionRisk(weights: string, kv: string, ctx: AdviceContext): QualityAdvice & { weights: QualityAdvice; kv: QualityAdvice } {
  const w = weightsRisk(weights, ctx);
  const k = kvRisk(kv, ctx);
  return {
    risk: worse(w.risk, k.risk),
    evidence: [...new Set([...w.evidence, ...k.evidence])],
    basis: `weights: ${w.risk} (${w.basis}); KV: ${k.risk} (${k.basis})`,
    weights: w,
    kv: k,
  };
}

export interface QuantOption {
  weights: string;
  kv: string;
  /** Format activations take into the matmul on this device (native W8A8/FP8, else the model's 16-bit). */
  activations: string;
  computeDtype: string;
  /** True when the device computes in the weight format natively (fp8 on Hopper, int8 on Turing+). */
  native: boolean;
  /** Bits per quantized linear weight: the format's, or a mixed format's average (Llama-3-8B in Q4_K_M: 4.80). */
  bitsPerWeight: number;
  kvBitsPerElement: number;
  weightsBytes: number;
  kvCacheBytes: number;
  totalBytes: number;
  fits: boolean;
  prefillTimeS: number;
  decodeTimeS: number;
  /** Prefill and decode time relative to the model's own precision (1 = same; < 1 faster). */
  prefillVsBaseline: number;
  decodeVsBaseline: number;
  meetsLatency: boolean | null;
  quality: { risk: Risk; evidence: string[]; basis: string };
}

export interface QuantAdvice {
  model: { name: string; params: number; dtype: string };
  hardware: { id: string; name: string; memoryBytes: number };
  /** tp: the tensor-parallel degree (bytes and fit are per device); cachedPromptTokens: the prefix-cache hit. */
  workload: { batch: number; promptTokens: number; generateTokens: number; tp: number; cachedPromptTokens: number };
  /** Decode step target in seconds, when given. */
  maxDecodeTimeS: number | null;
  options: QuantOption[];
  recommendation: { weights: string; kv: string; why: string } | null;
  /** Every evidence row any option cites (ids resolve here). */
  evidence: EvidenceRow[];
  notes: string[];
}

export interface AdviseOptions {
  batch: number;
  promptTokens: number;
  generateTokens: number;
  maxDecodeTimeS?: number;
  /** Restrict the weight formats considered (default: every catalog format no wider than the model's dtype). */
  weights?: string[];
  /** Restrict the KV formats considered (default: every KV format no wider than the model's dtype). */
  kv?: string[];
  /** Tensor-parallel degree (default 1): every option is costed and planned per device, as `analyze --tp`. */
  tp?: number;
  /** Prompt tokens per sequence served from the prefix cache (default 0). */
  cachedPromptTokens?: number;
  /** Serving engine profile id (engine/cost/engines.json); default: the cost model's defaults. */
  servingEngine?: string;
  /** Cost-model overrides on top (e.g. the editor's efficiency settings). */
  params?: Partial<CostParams>;
}

/**
 * Candidate weight formats: the catalog up to the model's own width (fp32 only for fp32 models). A format for
 * named engines (GGUF: llama.cpp) is a candidate under those engines only, and an engine with formats of its own
 * gets those as its quantized candidates (llama.cpp loads no GPTQ, AWQ, FP8 or bitsandbytes checkpoints).
 */
export function candidateWeights(spec: ModelSpec, only?: string[], servingEngineId?: string): WeightFormat[] {
  if (only && only.length) return [...new Set(only.map((id) => weightFormat(id, '--weights')))];
  const own = DTYPE_BITS[spec.dtype];
  // A format that quantizes only routed experts is a candidate for a model that has them.
  return listWeightFormats().filter(
    (f) => f.bitsPerWeight <= own && (f.bitsPerWeight < 16 || f.id === spec.dtype) && engineRuns('weights', f, servingEngineId) && (f.scope !== 'experts' || spec.params.experts > 0),
  );
}

/**
 * KV options: the 16-bit cache (the serving engine's, e.g. llama.cpp's fp16, else the model's dtype) and below. As
 * for the weights, a cache type for named engines (llama.cpp's q8_0 and q4_0) is a candidate under those only, and
 * an engine with cache types of its own gets those as its quantized options.
 */
export function candidateKv(spec: ModelSpec, only?: string[], engineKv?: string, servingEngineId?: string): KvFormat[] {
  if (only && only.length) return [...new Set(only.map((id) => kvFormat(id, '--kv')))];
  const own = engineKv ?? (spec.dtype === 'fp32' ? 'fp32' : spec.dtype);
  const ownBits = (DTYPE_BITS as Record<string, number>)[own] ?? 16;
  return listKvFormats().filter(
    (k) => k.elementBits <= ownBits && (k.elementBits < 16 || k.id === own || (own === 'fp32' && k.id === 'fp16')) && engineRuns('kv', k, servingEngineId),
  );
}

/**
 * Every weights x KV option, costed by the engine's analysis, with its quality advice; then the
 * recommendation. Activations follow the weight format where the device computes it natively
 * (fp8 weights with fp8 activations on Hopper; W8A8 int8 on Turing and later); elsewhere the
 * weights are dequantized and the matmul runs in the model's 16-bit dtype.
 */
export function adviseQuant(spec: ModelSpec, device: Device, opts: AdviseOptions): QuantAdvice {
  const ctx: AdviceContext = { params: spec.params.total, dtype: spec.dtype, experts: spec.params.experts, published: spec.quantFormats };
  const act16 = spec.dtype === 'fp32' ? 'fp16' : spec.dtype;
  const engine = opts.servingEngine ? servingEngine(opts.servingEngine) : undefined;
  const weights = candidateWeights(spec, opts.weights, engine?.id);
  const kvs = candidateKv(spec, opts.kv, engine?.kvCache, engine?.id);
  const notes: string[] = [];
  const base: Workload = withPrefixHit({
    batch: opts.batch,
    promptTokens: opts.promptTokens,
    generateTokens: opts.generateTokens,
    weights: spec.dtype,
    activations: act16,
    kv: engine?.kvCache ?? spec.dtype,
    tp: opts.tp ?? 1,
  }, opts.cachedPromptTokens ?? 0);
  const how = { sweeps: false, servingEngine: opts.servingEngine, params: opts.params };
  const baseline = analyze(spec, base, device, how);
  const options: QuantOption[] = [];
  // The analyses' warnings that hold for every option (the config's notes, the device's pricing, replicated KV heads,
  // contexts past the trained length); one option's own (its fit, a published format it is not) are not notes.
  let common: Set<string> | null = null;
  for (const w of weights) {
    const eff = effectiveCompute(w, device);
    const activations = defaultActivations(w, device, spec.dtype, engine?.quantizedActivations);
    if (!eff.native && !w.weightOnly) {
      notes.push(`${w.id}: ${device.id} has no native ${w.computeDtype} compute; modelled as weight-only (dequantized to ${eff.computeDtype})`);
    }
    for (const k of kvs) {
      const r = analyze(spec, { ...base, weights: w.id, activations, kv: k.id }, device, how);
      common = common === null ? new Set(r.warnings) : new Set(r.warnings.filter((x) => common!.has(x)));
      const q = optionRisk(w.id, k.id, ctx);
      const decodeTimeS = r.decode.timeS;
      options.push({
        weights: w.id,
        kv: k.id,
        activations,
        computeDtype: eff.computeDtype,
        native: eff.native,
        bitsPerWeight: linearBitsPerWeight(spec, w),
        kvBitsPerElement: k.bitsPerElement,
        weightsBytes: r.memory.weightsBytes,
        kvCacheBytes: r.memory.kvCacheBytes,
        totalBytes: r.memory.totalBytes,
        fits: r.memory.fits,
        prefillTimeS: r.prefill.timeS,
        decodeTimeS,
        prefillVsBaseline: r.prefill.timeS / baseline.prefill.timeS,
        decodeVsBaseline: decodeTimeS / baseline.decode.timeS,
        meetsLatency: opts.maxDecodeTimeS === undefined ? null : decodeTimeS <= opts.maxDecodeTimeS,
        quality: { risk: q.risk, evidence: q.evidence, basis: q.basis },
      });
    }
  }
  notes.unshift(...(common ?? []));
  const recommendation = recommend(options, opts.maxDecodeTimeS, device, spec.quantFormats);
  const cited = new Set(options.flatMap((o) => o.quality.evidence));
  return {
    model: { name: spec.name, params: spec.params.total, dtype: spec.dtype },
    hardware: { id: device.id, name: device.name, memoryBytes: device.memoryBytes },
    workload: { batch: opts.batch, promptTokens: opts.promptTokens, generateTokens: opts.generateTokens, tp: base.tp, cachedPromptTokens: base.cachedPromptTokens ?? 0 },
    maxDecodeTimeS: opts.maxDecodeTimeS ?? null,
    options,
    recommendation,
    evidence: EVIDENCE.filter((r) => cited.has(r.id)),
    notes: [...new Set(notes)],
  };
}

/**
 * Highest quality first: lowest risk, then the checkpoint's published format (wider weights would only hold its
 * values in more bits), then more weight bits, then more KV bits; among equals the faster decode. Only options
 * that fit (and meet the decode target, when given) are eligible.
 */
export function recommend(options: readonly QuantOption[], maxDecodeTimeS: number | undefined, device: Pick<Device, 'id'>, published?: readonly string[] | null): QuantAdvice['recommendation'] {
  const eligible = options.filter((o) => o.fits && (maxDecodeTimeS === undefined || o.decodeTimeS <= maxDecodeTimeS));
  if (eligible.length === 0) return null;
  const rank = (o: QuantOption) => RISK_ORDER.indexOf(o.quality.risk);
  const pub = (o: QuantOption) => (published?.includes(o.weights) ? 0 : 1);
  const sorted = [...eligible].sort(
    (a, b) => rank(a) - rank(b) || pub(a) - pub(b) || b.bitsPerWeight - a.bitsPerWeight || b.kvBitsPerElement - a.kvBitsPerElement || a.decodeTimeS - b.decodeTimeS,
  );
  const best = sorted[0]!;
  const fitting = options.filter((o) => o.fits).length;
  const parts = [
    `${best.weights} weights with ${best.kv} KV cache: ${best.quality.risk === 'none' ? 'no quality risk' : `${best.quality.risk} quality risk`} (${best.quality.evidence.length ? 'evidence: ' + best.quality.evidence.join(', ') : published?.includes(best.weights) ? 'the format the checkpoint is published in' : 'no quantization'})`,
    `${fmtGiB(best.totalBytes)} fits on ${device.id}`,
    `decode ${fmtMs(best.decodeTimeS)} per step (${best.decodeVsBaseline.toFixed(2)}x the unquantized model), prefill ${fmtMs(best.prefillTimeS)} (${best.prefillVsBaseline.toFixed(2)}x)`,
  ];
  if (maxDecodeTimeS !== undefined) parts.push(`meets the ${fmtMs(maxDecodeTimeS)} decode target`);
  parts.push(`${eligible.length} of ${options.length} options ${maxDecodeTimeS !== undefined ? `fit and meet the target (${fitting} fit)` : 'fit'}; this one ranks first among them (lowest risk, ${published?.length ? 'then the published format, ' : ''}then most weight bits, then most KV bits, then fastest decode)`);
  return { weights: best.weights, kv: best.kv, why: parts.join('; ') };
}

function fmtGiB(b: number): string {
  return `${(b / 2 ** 30).toFixed(2)} GiB`;
}
function fmtMs(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  return `${(s * 1000).toFixed(s < 0.01 ? 3 : 1)} ms`;
}
