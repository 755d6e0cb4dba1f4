import type { AttentionSpec, MlaSpec, MlpSpec, ModelSpec, MoeMlpSpec, ParamBreakdown } from './types';

/**
 * Exact parameter counts, module by module, as the `transformers` implementation of each family creates
 * them (weights and biases). Checked against published counts in test/unit/model-params.test.ts.
 */

/**
 * MLA's down projections of one layer, which take the whole hidden state: q_a_proj with q_a_layernorm (when
 * queries are low-rank) and kv_a_proj_with_mqa with kv_a_layernorm.
 */
export function mlaDownParamsPerLayer(m: MlaSpec, hidden: number): number {
  const qA = m.qLoraRank === null ? 0 : hidden * m.qLoraRank + m.qLoraRank;
  return qA + hidden * (m.kvLoraRank + m.qkRopeHeadDim) + m.kvLoraRank;
}

/** Parameters of one layer's attention block (projections, biases, MLA low-rank norms). */
export function attentionParamsPerLayer(a: AttentionSpec, hidden: number): number {
  if (a.mla) {
    const m = a.mla;
    const qHead = m.qkNopeHeadDim + m.qkRopeHeadDim;
    const qUp = m.qLoraRank === null ? hidden * a.heads * qHead : m.qLoraRank * a.heads * qHead; // q_proj or q_b_proj
    const kvB = m.kvLoraRank * a.heads * (m.qkNopeHeadDim + m.vHeadDim); // kv_b_proj
    const o = a.heads * m.vHeadDim * hidden; // o_proj
    return mlaDownParamsPerLayer(m, hidden) + qUp + kvB + o;
  }
  const qOut = a.heads * a.headDim;
  const kOut = a.kvHeads * a.headDim;
  const vOut = a.kvHeads * a.vHeadDim;
  const qkv = hidden * (qOut + kOut + vOut) + (a.qkvBias ? qOut + kOut + vOut : 0);
  const o = a.heads * a.vHeadDim * hidden + (a.outBias ? hidden : 0);
  return qkv + o + (a.sinks ? a.heads : 0);
}

/** Parameters of a dense MLP of `intermediate` width (gate+up+down, or up+down, with biases). */
export function denseMlpParams(hidden: number, intermediate: number, gated: boolean, bias: boolean): number {
  return (gated ? 3 : 2) * hidden * intermediate + (bias ? (gated ? 2 : 1) * intermediate + hidden : 0);
}

/** One routed expert (a gated MLP; with biases only in gpt-oss). */
export function expertParams(hidden: number, m: MoeMlpSpec): number {
  return denseMlpParams(hidden, m.expertIntermediateSize, m.gated, m.expertBias === true);
}

/**
 * The routed experts' matrices over the whole model: `params.experts` without the experts' biases (gpt-oss: gate_up
 * 2 x intermediate and down hidden per expert), which its checkpoints keep in 16-bit. What a weight format of scope
 * `experts` quantizes.
 */
export function expertMatrixParams(spec: Pick<ModelSpec, 'layerGroups' | 'hiddenSize' | 'params'>): number {
  let biases = 0;
  for (const g of spec.layerGroups) {
    const m = g.mlp;
    if (m.kind === 'moe' && m.expertBias === true) biases += g.layers.length * m.numExperts * ((m.gated ? 2 : 1) * m.expertIntermediateSize + spec.hiddenSize);
  }
  return spec.params.experts - biases;
}

/** Shared experts of one MoE layer, with Qwen2-MoE's shared-expert gate (hidden -> 1). */
export function sharedExpertParams(hidden: number, m: MoeMlpSpec): number {
  if (m.sharedExperts === 0) return 0;
  return denseMlpParams(hidden, m.sharedExperts * m.sharedIntermediateSize, m.gated, false) + (m.sharedExpertGate ? hidden : 0);
}

/** Router: hidden -> experts, plus its bias (gpt-oss) or DeepSeek-V3's score correction bias. */
export function routerParams(hidden: number, m: MoeMlpSpec): number {
  return hidden * m.numExperts + m.routerBiasParams;
}

/** Parameters of one norm module. */
export function normParams(spec: Pick<ModelSpec, 'norm' | 'hiddenSize'>): number {
  return spec.hiddenSize * (spec.norm.bias ? 2 : 1);
}

export function countParams(spec: ModelSpec): ParamBreakdown {
  const h = spec.hiddenSize;
  const s = spec.structure;
  const perNorm = normParams(spec);
  // Token embedding; OPT's project_in/project_out (word_embed_proj_dim <-> hidden, no bias) are counted here.
  const embeddings = spec.vocabSize * s.embedDim + (s.embedDim !== h ? 2 * s.embedDim * h : 0);
  const positionEmbeddings = s.positionTableRows * h;
  const attnPer = attentionParamsPerLayer(spec.attention, h) + qkNormParams(spec);
  let attention = 0;
  let mlp = 0;
  let experts = 0;
  let sharedExperts = 0;
  let router = 0;
  let inactiveExperts = 0;
  for (const g of spec.layerGroups) {
    const n = g.layers.length;
    attention += n * attnPer;
    const m: MlpSpec = g.mlp;
    if (m.kind === 'dense') {
      mlp += n * denseMlpParams(h, m.intermediateSize, m.gated, m.bias);
    } else {
      const e = expertParams(h, m);
      experts += n * m.numExperts * e;
      inactiveExperts += n * (m.numExperts - m.topK) * e;
      sharedExperts += n * sharedExpertParams(h, m);
      router += n * routerParams(h, m);
    }
  }
  const norms = spec.numLayers * s.normsPerLayer * perNorm + (s.finalNorm ? perNorm : 0);
  const lmHead = (spec.tieWordEmbeddings ? 0 : spec.vocabSize * s.embedDim) + (s.lmHeadBias ? spec.vocabSize : 0);
  const total = embeddings + positionEmbeddings + attention + mlp + experts + sharedExperts + router + norms + lmHead;
  return {
    embeddings,
    positionEmbeddings,
    attention,
    mlp,
    experts,
    sharedExperts,
    router,
    norms,
    lmHead,
    total,
    // Per token: every non-expert parameter, plus top-k routed experts in each MoE layer.
    active: total - inactiveExperts,
  };
}

/**
 * DeepSeek-V3 multi-token-prediction modules as published in the checkpoint, per module: a full MoE
 * decoder layer, enorm + hnorm, eh_proj (2h -> h), and its own copies of the embedding and of the output
 * head with their norm (shared_head.norm, shared_head.head).
 */
export function mtpParams(spec: ModelSpec): number {
  const h = spec.hiddenSize;
  const last = spec.layerGroups[spec.layerGroups.length - 1]!;
  const m = last.mlp;
  const layer =
    attentionParamsPerLayer(spec.attention, h) +
    qkNormParams(spec) +
    2 * normParams(spec) +
    (m.kind === 'dense'
      ? denseMlpParams(h, m.intermediateSize, m.gated, m.bias)
      : m.numExperts * expertParams(h, m) + sharedExpertParams(h, m) + routerParams(h, m));
  const perModule = layer + 2 * h + 2 * h * h + spec.vocabSize * h * 2 + h;
  return spec.structure.mtpLayers * perModule;
}

/** Per-head q and k norms of one layer: a weight per head dim each, and a bias too where the norm is a LayerNorm with one (Phi's qk_layernorm). */
function qkNormParams(spec: ModelSpec): number {
  if (!spec.structure.qkNorm) return 0;
  return 2 * spec.attention.headDim * (spec.norm.kind === 'layernorm' && spec.norm.bias ? 2 : 1);
}
