import { inputError } from '../errors';
import { kvFormat } from '../memory/kvFormats';
import { lmHeadBitsPerWeight, tensorBitsPerWeight, weightFormat } from '../quant/formats';
import type { Dtype, LayerGroup, MlpSpec, ModelSpec, Op, OpBytes, OpClass, OpGraph, Phase, Workload } from './types';
import { mlaDownParamsPerLayer } from './params';

/**
 * ModelSpec + Workload -> per-device op graph for one phase.
 *
 * Conventions (stated once, relied on by the cost model):
 * - FLOPs count 2 per multiply-add. Rows cover identical layers: flops, bytes and launches are totals.
 * - Prefill processes `contextTokens` prompt tokens per sequence (callers pass workload.promptTokens) for
 *   the whole batch, with causal attention; logits are computed for the last token of each sequence only.
 *   Its K/V come straight from the fresh projections (bytes.actIn); with `opts.cachedTokens` (a cached prefix or
 *   the earlier chunks of a chunked prefill) the new tokens also attend to those, read from the cache (kvRead).
 * - Decode processes one token per sequence with `contextTokens` tokens already cached: attention reads
 *   min(contextTokens + 1, window) cached positions (the new token is written first), per KV head.
 * - Attention is one fused kernel per layer (FlashAttention style: scores stay on chip): attn_qk carries the
 *   launch and the Q/K traffic, attn_softmax and attn_sv are `fusedInto: 'attn_qk'` with no launch.
 * - Tensor parallelism (Megatron style): heads, KV heads (replicated when fewer than tp), MLP and expert
 *   intermediate widths and the LM head's vocabulary are split over tp devices; the graph is per device.
 *   Each layer adds all-reduces of the hidden activations (opClass 'comm', message size in bytes.actIn):
 *   two per layer, one when attention and MLP run in parallel and are reduced together.
 * - MoE: expert weights are read for the expected number of distinct experts the step's tokens reach
 *   (expectedExpertsTouched: uniform top-k routing); experts are split by tp along their intermediate width
 *   (every device holds a slice of every expert). The expert GEMMs carry their routing, from which the
 *   roofline prices each expert's padded rows (expectedPaddedRows).
 * - Weight-only quantized formats add their dequantization FLOPs to the GEMMs that read the weights.
 */

/**
 * Expected number of distinct experts that `tokens` tokens reach when each picks `topK` of `experts`
 * uniformly: an expert is missed by one token with probability 1 - topK / experts, so by all of them with
 * (1 - topK / experts)^tokens. One token reaches exactly topK; Mixtral (8 experts, top 2) at 4 tokens reaches
 * 8 x (1 - 0.75^4) = 5.47, at 16 tokens 7.92. Routing in trained models is close to balanced (an auxiliary
 * load-balancing loss is part of their training), so the uniform case is the default.
 */
export function expectedExpertsTouched(experts: number, topK: number, tokens: number): number {
  if (tokens <= 0) return 0;
  if (topK >= experts) return experts;
  return experts * (1 - Math.pow(1 - topK / experts, tokens));
}

interface ActFormat {
  bytes: number;
  dtype: Dtype;
}

const ACT_FORMATS: Record<string, ActFormat> = {
  fp32: { bytes: 4, dtype: 'fp32' },
  float32: { bytes: 4, dtype: 'fp32' },
  fp16: { bytes: 2, dtype: 'fp16' },
  float16: { bytes: 2, dtype: 'fp16' },
  bf16: { bytes: 2, dtype: 'bf16' },
  bfloat16: { bytes: 2, dtype: 'bf16' },
  fp8: { bytes: 1, dtype: 'fp8' },
  'fp8-e4m3': { bytes: 1, dtype: 'fp8' },
  int8: { bytes: 1, dtype: 'int8' },
  // FP4 as NVFP4 stores it, the activations of W4A4 nvfp4: E2M1 values with an E4M3 scale per 16 (4 + 8 / 16 = 4.5 bits).
  fp4: { bytes: 0.5625, dtype: 'fp4' },
  nvfp4: { bytes: 0.5625, dtype: 'fp4' },
};

/** Activation formats the graph understands (ids for `--activations`). */
export const ACTIVATION_FORMAT_IDS = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'fp4'] as const;

export function activationFormat(id: string, field = '--activations'): ActFormat {
  const f = ACT_FORMATS[id.toLowerCase()];
  if (!f) throw inputError({ field, expected: `an activation format: ${ACTIVATION_FORMAT_IDS.join(', ')}`, got: id });
  return f;
}

/** FLOPs per element of an activation function (exp/tanh counted as one; stated approximations). */
function actFlops(name: string): number {
  const n = name.toLowerCase();
  if (n === 'relu') return 1;
  if (n.startsWith('gelu')) return 8; // tanh approximation: x * 0.5 * (1 + tanh(c * (x + 0.044715 x^3)))
  return 4; // silu / swish: x / (1 + exp(-x))
}

function checkInt(v: number, field: string, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw inputError({ field, expected: `an integer from ${min} to ${max}`, got: v });
}

/** The default workload for a spec: batch 1, 512 prompt + 512 generated tokens, the model's own dtype. */
export function defaultWorkload(spec: ModelSpec, over: Partial<Workload> = {}): Workload {
  return {
    batch: 1,
    promptTokens: 512,
    generateTokens: 512,
    weights: spec.dtype,
    activations: spec.dtype === 'fp32' ? 'fp16' : spec.dtype,
    kv: spec.dtype,
    tp: 1,
    ...over,
  };
}

/** Prompt tokens per sequence the prefill computes: the prompt less its prefix-cache hit (Workload.cachedPromptTokens). */
export function computedPromptTokens(w: Workload): number {
  return w.promptTokens - (w.cachedPromptTokens ?? 0);
}

/** The workload with a prefix-cache hit of `cachedPromptTokens` per sequence; without one (0) the field stays out. */
export function withPrefixHit(w: Workload, cachedPromptTokens: number | undefined): Workload {
  return cachedPromptTokens ? { ...w, cachedPromptTokens } : w;
}

/**
 * Weights tensor parallelism does not split tp ways (the graph keeps them so): `total` parameters over the
 * model, of which each device holds `perDevice`. MLA's q_a_proj and kv_a_proj (with their norms) and the MoE
 * router are whole on every device; K/V projections with fewer KV heads than devices hold one KV head per
 * device (tpSplit). Everything else splits evenly.
 */
export function tpReplicatedParams(spec: ModelSpec, tp: number): { total: number; perDevice: number } {
  if (tp === 1) return { total: 0, perDevice: 0 };
  const a = spec.attention;
  const h = spec.hiddenSize;
  const L = spec.numLayers;
  let whole = spec.params.router;
  if (a.mla) {
    whole += L * mlaDownParamsPerLayer(a.mla, h);
    return { total: whole, perDevice: whole };
  }
  let kvTotal = 0;
  if (tpSplit(spec, tp).kvReplicated) {
    kvTotal = L * (h * a.kvHeads * (a.headDim + a.vHeadDim) + (a.qkvBias ? a.kvHeads * (a.headDim + a.vHeadDim) : 0));
  }
  return { total: whole + kvTotal, perDevice: whole + kvTotal / a.kvHeads };
}

/** Tensor-parallel widths per device; throws when tp does not divide the heads. */
export function tpSplit(spec: ModelSpec, tp: number): { heads: number; kvHeads: number; kvReplicated: boolean } {
  const a = spec.attention;
  if (a.heads % tp !== 0) throw inputError({ field: '--tp', expected: `a divisor of the ${a.heads} attention heads of ${spec.name}`, got: tp });
  if (a.mla) return { heads: a.heads / tp, kvHeads: 1, kvReplicated: true };
  if (a.kvHeads >= tp) {
    if (a.kvHeads % tp !== 0) throw inputError({ field: '--tp', expected: `a divisor of the ${a.kvHeads} KV heads of ${spec.name} or a multiple of them`, got: tp });
    return { heads: a.heads / tp, kvHeads: a.kvHeads / tp, kvReplicated: false };
  }
  // Fewer KV heads than ranks: each KV head is replicated on tp / kvHeads ranks, so tp must be a multiple of them
  // (else a rank's query heads would straddle two KV heads; vLLM refuses such a tp too).
  if (tp % a.kvHeads !== 0) throw inputError({ field: '--tp', expected: `a divisor of the ${a.kvHeads} KV heads of ${spec.name} or a multiple of them`, got: tp });
  return { heads: a.heads / tp, kvHeads: 1, kvReplicated: true };
}

/**
 * (query, key) pairs per sequence of causal attention for t new tokens after `cached` tokens, with an
 * optional window: query at position p (1-based) sees min(p, window) keys.
 */
export function causalPairs(t: number, window: number | null, cached = 0): number {
  return pairsUpTo(cached + t, window) - pairsUpTo(cached, window);
}

/** Sum over p = 1..n of min(p, window). */
function pairsUpTo(n: number, window: number | null): number {
  if (window === null || window >= n) return (n * (n + 1)) / 2;
  return (window * (window + 1)) / 2 + (n - window) * window;
}

/** Options of buildGraph. */
export interface GraphOptions {
  /**
   * Prefill only: tokens per sequence already in the KV cache before this prefill (a cached prefix, or the
   * earlier chunks of a chunked prefill). The new tokens attend to them too, read from the cache. Default 0.
   */
  cachedTokens?: number;
  /**
   * Prefill only: false for a chunk of a chunked prefill that is not the prompt's last; it computes no output
   * head (final norm and LM head). Default true.
   */
  output?: boolean;
}

/**
 * Labels telling a model's layer groups apart in op rows (`Op.layerGroup`): what differs between them, the
 * attention window (Gemma 2, gpt-oss: "window 4096" / "full attention") or the MLP (DeepSeek's first
 * layers: "dense MLP" / "MoE"), else the layers. None for a model of one group.
 */
export function layerGroupLabels(groups: readonly LayerGroup[]): (string | undefined)[] {
  if (groups.length < 2) return groups.map(() => undefined);
  const windows = new Set(groups.map((g) => g.window)).size > 1;
  const mlps = new Set(groups.map((g) => g.mlp.kind)).size > 1;
  const layersText = (g: LayerGroup) => {
    const l = g.layers;
    return l.length === 1 ? `layer ${l[0]}` : l[l.length - 1]! - l[0]! + 1 === l.length ? `layers ${l[0]}-${l[l.length - 1]}` : `${l.length} layers from ${l[0]}`;
  };
  const labels = groups.map((g) => {
    const parts: string[] = [];
    if (windows) parts.push(g.window === null ? 'full attention' : `window ${g.window}`);
    if (mlps) parts.push(g.mlp.kind === 'moe' ? 'MoE' : 'dense MLP');
    return parts.join(', ');
  });
  // Groups that differ in something else (expert sizes, say) are told apart by their layers.
  return labels.map((label, i) => (label === '' || labels.indexOf(label) !== labels.lastIndexOf(label) ? (label ? `${label}, ` : '') + layersText(groups[i]!) : label));
}

export function buildGraph(spec: ModelSpec, workload: Workload, phase: Phase, contextTokens: number, opts?: GraphOptions): OpGraph {
  checkInt(workload.batch, '--batch', 1, 1 << 20);
  checkInt(workload.tp, '--tp', 1, 4096);
  checkInt(contextTokens, phase === 'prefill' ? '--prompt' : 'contextTokens', phase === 'prefill' ? 1 : 0, 1 << 30);
  const wf = weightFormat(workload.weights);
  const af = activationFormat(workload.activations);
  const kf = kvFormat(workload.kv);
  const tp = workload.tp;
  const split = tpSplit(spec, tp);
  const a = spec.attention;
  const s = spec.structure;
  const h = spec.hiddenSize;
  const B = workload.batch;
  const prefill = phase === 'prefill';
  const T = prefill ? contextTokens : 1;
  const cached = prefill && opts?.cachedTokens ? opts.cachedTokens : 0;
  if (cached !== 0) checkInt(cached, 'cachedTokens', 0, 1 << 30);
  const M = B * T;

  // Bytes per element.
  const hiBytes = spec.dtype === 'fp32' && wf.bitsPerWeight >= 32 ? 4 : 2;
  // A format of scope `experts` stores the routed experts in its bits and every other weight in 16-bit.
  const expertWB = wf.bitsPerWeight / 8;
  const wB = wf.scope === 'experts' ? hiBytes : expertWB;
  const lmB = lmHeadBitsPerWeight(wf, hiBytes * 8, spec) / 8;
  // Tied embeddings share the output matrix's table, in its format where the format names one (llama.cpp: Q6_K).
  const embedB = spec.tieWordEmbeddings && wf.lmHead !== undefined ? lmB : wf.keepsHighPrecision.includes('embeddings') ? hiBytes : wB;
  const normB = wf.keepsHighPrecision.includes('norms') ? hiBytes : wB;
  // FP4 activations exist only as the inputs of an FP4 GEMM: with other weights the GEMMs run in 16-bit and so
  // do the activations (analyze warns).
  const aB = af.dtype === 'fp4' && wf.computeDtype !== 'fp4' ? 2 : af.bytes;
  const kvB = kf.bitsPerElement / 8;

  // What the math runs in: 8-bit activations with <= 8-bit weights run the 8-bit kernel (W8A8 int8, FP8), FP4
  // activations with FP4 weights the FP4 one (W4A4 nvfp4: both operands block-scaled E2M1);
  // otherwise the weights are dequantized into the 16-bit activation dtype (W4A16 -> fp16).
  const narrowAct = af.bytes < 2;
  const dt16: Dtype = af.dtype === 'fp32' ? 'fp32' : af.dtype === 'bf16' || (narrowAct && spec.dtype === 'bf16') ? 'bf16' : 'fp16';
  const gemmDtype: Dtype = af.dtype === 'fp4' ? (wf.computeDtype === 'fp4' ? 'fp4' : dt16) : af.bytes === 1 && wf.bitsPerWeight <= 8.5 ? af.dtype : dt16;
  // Dequantization FLOPs per weight read: narrower weights into an 8-bit kernel (a format's own cost where the
  // kernel is its native one, else its fallback cost: nvfp4 weights into an fp8 GEMM), or any quantized weight
  // into a 16-bit kernel (formats without native support pay their fallback cost).
  const dequant =
    gemmDtype === af.dtype && narrowAct
      ? wf.bitsPerWeight < 8 * af.bytes ? (wf.computeDtype === gemmDtype ? wf.dequantFlopsPerWeight : wf.fallbackDequantFlopsPerWeight) : 0
      : wf.bitsPerWeight < 16 ? (wf.weightOnly ? wf.dequantFlopsPerWeight : wf.fallbackDequantFlopsPerWeight ?? wf.dequantFlopsPerWeight) : 0;
  const attnDtype: Dtype = af.dtype === 'fp8' && kf.bitsPerElement === 8 ? 'fp8' : dt16;

  // RMSNorm: square, sum, scale, weight = 4 FLOPs per element; LayerNorm adds the mean and the bias: 6.
  const normFlops = spec.norm.kind === 'rmsnorm' ? 4 : spec.norm.bias ? 6 : 5;
  const b = new GraphBuilder(phase, tp, M, h, s.fusedGateUp, wB, hiBytes, aB, dequant, dt16, gemmDtype, normFlops, spec.norm.bias ? 2 : 1, normB);
  if (wf.scope === 'experts') b.expertWB = expertWB;
  // Embeddings: one row per token read from the table (plus the learned position row), written out.
  const ed = s.embedDim;
  b.add('embed', 1, undefined, 'elementwise', dt16, M, ed, 1, 1, 1, (s.embedScale ? M * ed : 0) + (s.positionTableRows > 0 ? M * h : 0), {
    weights: M * ed * embedB + (s.positionTableRows > 0 ? M * h * embedB : 0),
    actIn: 0,
    actOut: M * ed * aB,
    kvRead: 0,
    kvWrite: 0,
  });
  if (ed !== h) b.gemm('project_in', 1, undefined, M, h, ed, false);

  const heads = split.heads;
  const kvh = split.kvHeads;
  const hd = a.headDim;
  const vhd = a.vHeadDim;
  const softmaxFlops = 5 + (spec.positionEmbedding === 'alibi' ? 1 : 0) + (s.attnLogitSoftcap !== null ? 3 : 0);
  const kvQuantFlops = kf.bitsPerElement < 16 ? 2 : 0;
  // Bytes per down-projection weight of a layer group (a mixed format promotes some layers' ffn_down).
  const downB = (layers: readonly number[]): number => (wf.moreBits ? tensorBitsPerWeight(wf, 'ffn_down', layers, spec.numLayers) / 8 : wB);

  const groupLabels = layerGroupLabels(spec.layerGroups);
  for (let gi = 0; gi < spec.layerGroups.length; gi++) {
    const g = spec.layerGroups[gi]!;
    const L = g.layers.length;
    const li = L === 1 ? g.layers[0] : undefined;
    b.layerGroup = groupLabels[gi];
    b.norm('attn_norm', L, li, M, h);

    // Attention: queries per sequence T, keys per query (decode) or causal pairs (prefill).
    const keys = prefill ? cached + T : g.window === null ? contextTokens + 1 : Math.min(contextTokens + 1, g.window);
    const pairs = prefill ? causalPairs(T, g.window, cached) : keys;
    // Prefill with a cached prefix reads the prefix positions the new tokens can see from the cache.
    const prefixRead = cached === 0 ? 0 : g.window === null ? cached : Math.min(cached, g.window);
    if (a.mla) {
      const m = a.mla;
      const qHead = m.qkNopeHeadDim + m.qkRopeHeadDim;
      const latent = m.kvLoraRank + m.qkRopeHeadDim;
      if (m.qLoraRank !== null) {
        b.gemm('q_a_proj', L, li, M, m.qLoraRank, h, false);
        b.norm('q_a_norm', L, li, M, m.qLoraRank);
        b.gemm('q_b_proj', L, li, M, heads * qHead, m.qLoraRank, false);
      } else {
        b.gemm('q_proj', L, li, M, heads * qHead, h, false);
      }
      // The latent projection is replicated on every device (its output is small and shared by all heads).
      b.gemm('kv_a_proj', L, li, M, latent, h, false);
      b.norm('kv_a_norm', L, li, M, m.kvLoraRank);
      b.elementwise('rotary', L, li, M * (heads + 1) * m.qkRopeHeadDim, 1, 3);
      b.add('kv_cache_write', L, li, 'elementwise', dt16, M, latent, 1, 1, 1, kvQuantFlops * M * latent, {
        weights: 0, actIn: M * latent * aB, actOut: 0, kvRead: 0, kvWrite: M * latent * kvB,
      });
      if (prefill) {
        // Prefill decompresses the latent into per-head keys and values and runs ordinary attention.
        // A cached prefix is read as latents and decompressed too.
        if (prefixRead > 0) {
          b.add('kv_cache_read', L, li, 'elementwise', dt16, B * prefixRead, latent, 1, 1, 1, 0, {
            weights: 0, actIn: 0, actOut: B * prefixRead * latent * aB, kvRead: B * prefixRead * latent * kvB, kvWrite: 0,
          });
        }
        b.gemm('kv_b_proj', L, li, M + B * prefixRead, heads * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank, false);
        const rowsKv = M + B * prefixRead;
        b.add('attn_qk', L, li, 'attention', attnDtype, T, keys, qHead, heads * B, 1, 2 * B * heads * pairs * qHead, {
          weights: 0, actIn: (M + rowsKv) * heads * qHead * aB, actOut: 0, kvRead: 0, kvWrite: 0,
        });
        b.add('attn_softmax', L, li, 'attention', attnDtype, T, keys, 1, heads * B, 0, softmaxFlops * B * heads * pairs, zeroBytes(), 'attn_qk');
        b.add('attn_sv', L, li, 'attention', attnDtype, T, m.vHeadDim, keys, heads * B, 0, 2 * B * heads * pairs * m.vHeadDim, {
          weights: 0, actIn: rowsKv * heads * m.vHeadDim * aB, actOut: M * heads * m.vHeadDim * aB, kvRead: 0, kvWrite: 0,
        }, 'attn_qk');
      } else {
        // Decode attends in the latent space (weights absorbed, DeepSeek-V2 paper): queries are mapped into the
        // latent per head, scores and values use the cached latent directly, read once for all heads.
        b.gemm('attn_q_absorb', L, li, B, m.kvLoraRank, m.qkNopeHeadDim, false, wB, heads);
        b.add('attn_qk', L, li, 'attention', attnDtype, 1, keys, latent, heads * B, 1, 2 * B * heads * keys * latent, {
          weights: 0, actIn: B * heads * latent * aB, actOut: 0, kvRead: B * keys * latent * kvB, kvWrite: 0,
        });
        b.add('attn_softmax', L, li, 'attention', attnDtype, 1, keys, 1, heads * B, 0, softmaxFlops * B * heads * keys, zeroBytes(), 'attn_qk');
        b.add('attn_sv', L, li, 'attention', attnDtype, 1, m.kvLoraRank, keys, heads * B, 0, 2 * B * heads * keys * m.kvLoraRank, {
          weights: 0, actIn: 0, actOut: B * heads * m.kvLoraRank * aB, kvRead: 0, kvWrite: 0,
        }, 'attn_qk');
        b.gemm('attn_v_up', L, li, B, m.vHeadDim, m.kvLoraRank, false, wB, heads);
      }
      b.gemm('o_proj', L, li, M, h, heads * m.vHeadDim, false);
    } else {
      const nq = heads * hd;
      const nk = kvh * hd;
      const nv = kvh * vhd;
      if (s.fusedQkv) b.gemm('qkv_proj', L, li, M, nq + nk + nv, h, a.qkvBias);
      else {
        b.gemm('q_proj', L, li, M, nq, h, a.qkvBias);
        b.gemm('k_proj', L, li, M, nk, h, a.qkvBias);
        b.gemm('v_proj', L, li, M, nv, h, a.qkvBias, wf.moreBits ? tensorBitsPerWeight(wf, 'attn_v', g.layers, spec.numLayers) / 8 : wB);
      }
      if (s.qkNorm) b.add('qk_norm', L, li, 'norm', dt16, M * (heads + kvh), hd, 1, 1, 1, normFlops * M * (heads + kvh) * hd, {
        weights: 2 * hd * normB, actIn: M * (nq + nk) * aB, actOut: M * (nq + nk) * aB, kvRead: 0, kvWrite: 0,
      });
      if (spec.rope) b.elementwise('rotary', L, li, Math.round(M * (heads + kvh) * hd * spec.rope.partialRotaryFactor), 1, 3);
      b.add('kv_cache_write', L, li, 'elementwise', dt16, M, nk + nv, 1, 1, 1, kvQuantFlops * M * (nk + nv), {
        weights: 0, actIn: M * (nk + nv) * aB, actOut: 0, kvRead: 0, kvWrite: M * (nk + nv) * kvB,
      });
      // Prefill: new K/V come from the projections, a cached prefix from the cache; decode: all `keys` from the cache.
      const kRead = (prefill ? B * prefixRead : B * keys) * nk * kvB;
      const vRead = (prefill ? B * prefixRead : B * keys) * nv * kvB;
      // gpt-oss's sinks: one learned logit per head joins each softmax (a weight read, no value).
      b.add('attn_qk', L, li, 'attention', attnDtype, T, keys, hd, heads * B, 1, 2 * B * heads * pairs * hd, {
        weights: a.sinks ? heads * hiBytes : 0, actIn: M * nq * aB + (prefill ? M * nk * aB : 0), actOut: 0, kvRead: kRead, kvWrite: 0,
      });
      b.add('attn_softmax', L, li, 'attention', attnDtype, T, keys, 1, heads * B, 0, softmaxFlops * B * heads * pairs, zeroBytes(), 'attn_qk');
      b.add('attn_sv', L, li, 'attention', attnDtype, T, vhd, keys, heads * B, 0, 2 * B * heads * pairs * vhd, {
        weights: 0, actIn: prefill ? M * nv * aB : 0, actOut: M * heads * vhd * aB, kvRead: vRead, kvWrite: 0,
      }, 'attn_qk');
      if (kvh < heads) b.setKvGroup(3, heads / kvh);
      b.gemm('o_proj', L, li, M, h, heads * vhd, a.outBias);
    }

    if (spec.parallelAttention) {
      // Attention and MLP read the same normed input (second norm only where the model has one) and are
      // summed with the residual in one add after a single all-reduce.
      if (s.normsPerLayer !== 1) b.norm('mlp_norm', L, li, M, h);
      b.mlp(g.mlp, L, li, downB(g.layers));
      b.allreduce('allreduce', L, li, M);
      b.elementwise('residual_add', L, li, M * h, 3, 2);
    } else {
      if (s.normsPerLayer === 4) b.norm('post_attn_norm', L, li, M, h);
      b.allreduce('allreduce_attn', L, li, M);
      b.elementwise('residual_add_attn', L, li, M * h, 2, 1);
      if (s.normsPerLayer !== 1) b.norm('mlp_norm', L, li, M, h);
      b.mlp(g.mlp, L, li, downB(g.layers));
      if (s.normsPerLayer === 4) b.norm('post_mlp_norm', L, li, M, h);
      b.allreduce('allreduce_mlp', L, li, M);
      b.elementwise('residual_add_mlp', L, li, M * h, 2, 1);
    }
  }
  b.layerGroup = undefined;

  // Output: final norm and LM head on the last token of each sequence only (prefill) or the new token.
  if (prefill && opts?.output === false) return { phase, contextTokens, ops: b.ops };
  const outRows = B;
  if (s.finalNorm) b.norm('final_norm', 1, undefined, outRows, h);
  if (ed !== h) b.gemm('project_out', 1, undefined, outRows, ed, h, false);
  b.gemm('lm_head', 1, undefined, outRows, Math.ceil(spec.vocabSize / tp), ed, s.lmHeadBias === true, lmB);

  return { phase, contextTokens, ops: b.ops };
}

interface BlockNames {
  gateUp: string;
  gate: string;
  up: string;
  act: string;
  down: string;
}
const MLP_NAMES: BlockNames = { gateUp: 'mlp_gate_up', gate: 'mlp_gate', up: 'mlp_up', act: 'mlp_act', down: 'mlp_down' };
const SHARED_NAMES: BlockNames = { gateUp: 'shared_gate_up', gate: 'shared_gate', up: 'shared_up', act: 'shared_act', down: 'shared_down' };

/** Appends op rows; methods (not per-call closures) keep graph building allocation-light. */
class GraphBuilder {
  readonly ops: Op[] = [];
  constructor(
    readonly phase: Phase,
    readonly tp: number,
    readonly M: number,
    readonly h: number,
    readonly fusedGateUp: boolean,
    readonly wB: number,
    readonly hiBytes: number,
    readonly aB: number,
    readonly dequant: number,
    readonly dt16: Dtype,
    readonly gemmDtype: Dtype,
    readonly normFlops: number,
    readonly normParamsPerElem: number,
    readonly normB: number,
  ) {}

  add(
    name: string,
    layers: number,
    layer: number | undefined,
    opClass: OpClass,
    computeDtype: Dtype,
    m: number,
    n: number,
    k: number,
    count: number,
    launchesPerLayer: number,
    flopsPerLayer: number,
    b: OpBytes,
    fusedInto?: string,
    dequantPerLayer = 0,
  ): void {
    if (layers !== 1) {
      b.weights *= layers;
      b.actIn *= layers;
      b.actOut *= layers;
      b.kvRead *= layers;
      b.kvWrite *= layers;
    }
    // One object shape for every op (layer/fusedInto may be undefined) keeps property access monomorphic.
    this.ops.push({
      name,
      phase: this.phase,
      layer,
      layers,
      opClass,
      computeDtype,
      shape: { m, n, k },
      count,
      launches: launchesPerLayer * layers,
      flops: flopsPerLayer * layers,
      dequantFlops: dequantPerLayer * layers,
      kvGroup: 1,
      routing: undefined,
      bytes: b,
      fusedInto,
      layerGroup: this.layerGroup,
    });
  }

  /** Label of the layer group the next ops belong to (undefined for a model of one group). */
  layerGroup: string | undefined = undefined;
  /** Bytes per routed-expert weight where they differ from the others (a format of scope `experts`). */
  expertWB: number | undefined = undefined;

  /** Marks the last `n` ops (attention of one layer group) as reading K/V shared by `group` query heads. */
  setKvGroup(n: number, group: number): void {
    for (let i = this.ops.length - n; i < this.ops.length; i++) this.ops[i]!.kvGroup = group;
  }

  /** A GEMM of `rows` rows, k -> n, optional bias, weights at `wBytes` per element (dequantized if quantized). */
  gemm(name: string, L: number, layer: number | undefined, rows: number, n: number, k: number, bias: boolean, wBytes = this.wB, count = 1): void {
    const wElems = count * n * k;
    const aB = this.aB;
    // Weights stored narrower than 16 bits are dequantized (the format's own, a mixed format's promoted tensors,
    // a quantized output matrix); tensors kept in the model's dtype are not.
    const dq = wBytes < this.hiBytes ? this.dequant * wElems : 0;
    this.add(name, L, layer, 'gemm', this.gemmDtype, rows, n, k, count, 1, 2 * count * rows * n * k + (bias ? count * rows * n : 0) + dq, {
      weights: wElems * wBytes + (bias ? count * n * this.hiBytes : 0),
      actIn: count * rows * k * aB,
      actOut: count * rows * n * aB,
      kvRead: 0,
      kvWrite: 0,
    }, undefined, dq);
  }

  elementwise(name: string, L: number, layer: number | undefined, elemsOut: number, inputs: number, flopsPerElem: number): void {
    this.add(name, L, layer, 'elementwise', this.dt16, elemsOut, 1, 1, 1, 1, flopsPerElem * elemsOut, {
      weights: 0,
      actIn: inputs * elemsOut * this.aB,
      actOut: elemsOut * this.aB,
      kvRead: 0,
      kvWrite: 0,
    });
  }

  norm(name: string, L: number, layer: number | undefined, rows: number, width: number): void {
    this.add(name, L, layer, 'norm', this.dt16, rows, width, 1, 1, 1, this.normFlops * rows * width, {
      weights: width * this.normParamsPerElem * this.normB,
      actIn: rows * width * this.aB,
      actOut: rows * width * this.aB,
      kvRead: 0,
      kvWrite: 0,
    });
  }

  /** All-reduce of `rows` hidden vectors over the tp devices; the message size is bytes.actIn. */
  allreduce(name: string, L: number, layer: number | undefined, rows: number): void {
    if (this.tp === 1) return;
    this.add(name, L, layer, 'comm', this.dt16, rows, this.h, 1, 1, 1, 0, { weights: 0, actIn: rows * this.h * (this.aB < 2 ? 2 : this.aB), actOut: 0, kvRead: 0, kvWrite: 0 });
  }

  /** The MLP of one layer group; `downB`: bytes per down-projection weight. */
  mlp(m: MlpSpec, L: number, li: number | undefined, downB = this.wB): void {
    const { tp, M, h, gemmDtype, hiBytes, aB, wB, dequant } = this;
    if (m.kind === 'dense') {
      const inter = Math.ceil(m.intermediateSize / tp);
      this.denseBlock(MLP_NAMES, L, li, M, inter, m.gated, m.bias, m.activation, downB);
      return;
    }
    const e = m.numExperts;
    const ie = Math.ceil(m.expertIntermediateSize / tp);
    // Router on every device (replicated): logits, then softmax/sigmoid and top-k (about 5 FLOPs per logit).
    this.add('moe_router', L, li, 'gemm', gemmDtype, M, e, h, 1, 1, 2 * M * e * h + 5 * M * e, {
      weights: (e * h + m.routerBiasParams) * hiBytes, actIn: M * h * aB, actOut: M * e * aB, kvRead: 0, kvWrite: 0,
    });
    const routedRows = M * m.topK;
    const touched = expectedExpertsTouched(e, m.topK, M);
    // Whole rows per expert (the tile padding counts rows). As the tokens grow the expectation approaches every
    // expert and leaves averages a hair above a whole number (Mixtral at batch 64: 128 / 7.99999992): a
    // thousandth of a row is not rounded up.
    const rowsPerExpert = touched > 0 ? Math.ceil(routedRows / touched - 1e-3) : 0;
    const up = m.gated ? 2 * ie : ie;
    const upElems = touched * up * h;
    // The experts' own bytes where the format quantizes only them; then nothing else is dequantized either.
    const ewB = this.expertWB ?? wB;
    const eDownB = this.expertWB ?? downB;
    // gpt-oss's experts add a bias to each projection's output, read in 16-bit: 2 x intermediate and hidden per expert.
    const bias = m.expertBias === true;
    this.add('expert_gate_up', L, li, 'gemm', gemmDtype, rowsPerExpert, up, h, touched, 1, 2 * routedRows * up * h + dequant * upElems + (bias ? routedRows * up : 0), {
      weights: upElems * ewB + (bias ? touched * up * hiBytes : 0), actIn: routedRows * h * aB, actOut: routedRows * up * aB, kvRead: 0, kvWrite: 0,
    }, undefined, dequant * upElems);
    this.markRouted(e, m.topK, M);
    this.elementwise('expert_act', L, li, routedRows * ie, m.gated ? 2 : 1, actFlops(m.activation) + (m.gated ? 1 : 0));
    const downElems = touched * ie * h;
    this.add('expert_down', L, li, 'gemm', gemmDtype, rowsPerExpert, h, ie, touched, 1, 2 * routedRows * ie * h + dequant * downElems + (bias ? routedRows * h : 0), {
      weights: downElems * eDownB + (bias ? touched * h * hiBytes : 0), actIn: routedRows * ie * aB, actOut: routedRows * h * aB, kvRead: 0, kvWrite: 0,
    }, undefined, dequant * downElems);
    this.markRouted(e, m.topK, M);
    // Weighted sum of the top-k expert outputs per token.
    this.elementwise('moe_combine', L, li, M * h, m.topK, 2 * m.topK);
    if (m.sharedExperts > 0) {
      this.denseBlock(SHARED_NAMES, L, li, M, Math.ceil((m.sharedExperts * m.sharedIntermediateSize) / tp), m.gated, false, m.activation, downB);
      if (m.sharedExpertGate) {
        // Qwen2-MoE: sigmoid(x . w) scales the shared expert output (replicated, hidden -> 1).
        this.add('shared_expert_gate', L, li, 'gemm', gemmDtype, M, 1, h, 1, 1, 2 * M * h + 6 * M * h, {
          weights: h * hiBytes, actIn: 2 * M * h * aB, actOut: M * h * aB, kvRead: 0, kvWrite: 0,
        });
      }
    }
  }

  /** Marks the op just added as a routed-expert GEMM of `tokens` tokens picking `topK` of `experts`. */
  markRouted(experts: number, topK: number, tokens: number): void {
    this.ops[this.ops.length - 1]!.routing = { experts, topK, tokens };
  }

  denseBlock(names: BlockNames, L: number, li: number | undefined, rows: number, inter: number, gated: boolean, bias: boolean, act: string, downB = this.wB): void {
    const h = this.h;
    if (gated && this.fusedGateUp) this.gemm(names.gateUp, L, li, rows, 2 * inter, h, bias);
    else {
      if (gated) this.gemm(names.gate, L, li, rows, inter, h, bias);
      this.gemm(names.up, L, li, rows, inter, h, bias);
    }
    // The activation (and the gate product) runs over the intermediate width, not the hidden size.
    this.elementwise(names.act, L, li, rows * inter, gated ? 2 : 1, actFlops(act) + (gated ? 1 : 0));
    this.gemm(names.down, L, li, rows, h, inter, bias, downB);
  }
}

const zeroBytes = (): OpBytes => ({ weights: 0, actIn: 0, actOut: 0, kvRead: 0, kvWrite: 0 });

/** Sums of a graph's rows: FLOPs, bytes by kind, launches. */
export function graphTotals(g: OpGraph): { flops: number; bytes: number; launches: number } & OpBytes {
  let flops = 0;
  let launches = 0;
  let weights = 0;
  let actIn = 0;
  let actOut = 0;
  let kvRead = 0;
  let kvWrite = 0;
  for (const op of g.ops) {
    flops += op.flops;
    launches += op.launches;
    weights += op.bytes.weights;
    actIn += op.bytes.actIn;
    actOut += op.bytes.actOut;
    kvRead += op.bytes.kvRead;
    kvWrite += op.bytes.kvWrite;
  }
  return { flops, launches, weights, actIn, actOut, kvRead, kvWrite, bytes: weights + actIn + actOut + kvRead + kvWrite };
}
