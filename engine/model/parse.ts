import { basename, dirname } from 'node:path';
import { RidgelineError, inputError } from '../errors';
import { readTextInput } from '../textfile';
import { ConfigReader, LIMITS, parseJsonText } from './config';
import { countParams, mtpParams } from './params';
import type { AttentionSpec, LayerGroup, MlpSpec, ModelSpec, ModelStructure } from './types';

/**
 * Hugging Face `config.json` -> normalized ModelSpec. Each supported `model_type` maps its own field names
 * and defaults (those of the matching `transformers` configuration class) onto one description; an unknown
 * type with the usual decoder fields is read as a Llama-like decoder, with a warning.
 */

export const SUPPORTED_MODEL_TYPES = [
  'llama', 'mistral', 'mixtral', 'qwen2', 'qwen2_moe', 'qwen3', 'qwen3_moe', 'gemma', 'gemma2', 'gemma3_text', 'phi3', 'gpt2',
  'gpt_neox', 'gptj', 'phi', 'falcon', 'opt', 'deepseek_v2', 'deepseek_v3', 'dbrx', 'gpt_oss',
] as const;

type Rope = ModelSpec['rope'];

interface Draft {
  hidden: number;
  layers: number;
  vocab: number;
  maxPos: number | null;
  tie: boolean;
  positionEmbedding: ModelSpec['positionEmbedding'];
  rope: Rope;
  norm: ModelSpec['norm'];
  parallelAttention: boolean;
  attention: AttentionSpec;
  /** Window (tokens) of layer i, or null for full attention. */
  windowOf: (i: number) => number | null;
  /** MLP of layer i (return the same object for identical layers). */
  mlpOf: (i: number) => MlpSpec;
  structure: Omit<ModelStructure, 'mtpParams'>;
}

/** Reads a config.json file. Unreadable files and malformed JSON fail with one line naming the file. */
export function loadConfigFile(path: string): ModelSpec {
  const read = readTextInput(path);
  if ('why' in read) {
    throw new RidgelineError(`${path}: cannot read the model config (${read.why}); expected a Hugging Face config.json`, { exitCode: 2, file: path });
  }
  return parseConfig(read.text, path);
}

/**
 * Parses a config.json given as text or as an already-parsed object. `file` names the source in errors
 * and is the display name when the config has no `_name_or_path`.
 */
export function parseConfig(input: string | unknown, file?: string): ModelSpec {
  const raw = typeof input === 'string' ? parseJsonText(input, file) : input;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RidgelineError(`${file ?? 'config'}: expected a JSON object with the fields of a Hugging Face config.json`, { exitCode: 2, file });
  }
  return parseObject(raw as Record<string, unknown>, file, '', []);
}

function parseObject(raw: Record<string, unknown>, file: string | undefined, prefix: string, warnings: string[]): ModelSpec {
  const c = new ConfigReader(raw, file, prefix);
  const modelType = c.optStr('model_type', '');
  // Multimodal wrappers (LLaVA, Gemma 3, Mllama...) nest the language model in `text_config`.
  const text = raw.text_config;
  if (!prefix && !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType) && text && typeof text === 'object' && !Array.isArray(text)) {
    const inner = text as Record<string, unknown>;
    warnings.push(
      `analyzing the language model in text_config (model_type ${JSON.stringify(inner.model_type ?? 'unknown')}) of ${modelType || 'the config'}; other towers (vision, audio) are not included`,
    );
    const merged = inner.torch_dtype === undefined && raw.torch_dtype !== undefined ? { ...inner, torch_dtype: raw.torch_dtype } : inner;
    const spec = parseObject(merged, file, 'text_config.', warnings);
    if (typeof raw._name_or_path === 'string' && spec.name === (inner.model_type ?? 'unknown')) spec.name = raw._name_or_path;
    return spec;
  }
  let generic = false;
  let d: Draft;
  switch (modelType) {
    case 'llama':
    case 'mistral':
    case 'mixtral':
    case 'qwen2':
    case 'qwen2_moe':
    case 'qwen3':
    case 'qwen3_moe':
    case 'gemma':
    case 'gemma2':
    case 'gemma3_text':
    case 'phi3':
    case 'gpt_oss':
      d = llamaLike(c, modelType, warnings);
      break;
    case 'gpt2':
      d = gpt2(c);
      break;
    case 'gpt_neox':
      d = gptNeox(c);
      break;
    case 'gptj':
      d = gptj(c);
      break;
    case 'phi':
      d = phi(c);
      break;
    case 'falcon':
      d = falcon(c, warnings);
      break;
    case 'opt':
      d = opt(c);
      break;
    case 'deepseek_v2':
    case 'deepseek_v3':
      d = deepseek(c, modelType, warnings);
      break;
    case 'dbrx':
      d = dbrx(c, warnings);
      break;
    default: {
      generic = true;
      const need = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size', 'intermediate_size'];
      const missing = need.find((f) => !c.has(f));
      const what = modelType ? `model_type "${modelType}" is not a known family` : 'the config has no model_type';
      if (missing) {
        throw inputError({
          file,
          field: c.name(missing),
          expected: `an integer (${what}; a generic decoder needs ${need.join(', ')}; known families: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
        });
      }
      warnings.push(`${what}; analyzed as a generic Llama-like decoder (RMSNorm, gated MLP, RoPE); check the counts`);
      d = llamaLike(c, 'generic', warnings);
      // Multi-token-prediction layers (MiMo, GLM-4.5...) are not part of the generic decoder's count.
      const mtp = c.optInt('num_nextn_predict_layers', LIMITS.layers, 0, 0);
      if (mtp > 0) warnings.push(`the checkpoint also holds ${mtp} multi-token-prediction layer(s) (num_nextn_predict_layers) that the generic decoder does not count (main model only)`);
    }
  }

  const layerGroups = groupLayers(d);
  const dtype = dtypeOf(c, warnings, modelType);
  let quantMethod: string | null = null;
  let quantFormats: string[] | null = null;
  if (c.has('quantization_config')) {
    const q = c.raw.quantization_config as Record<string, unknown>;
    const obj = typeof q === 'object' && q !== null && !Array.isArray(q);
    quantMethod = obj && typeof q.quant_method === 'string' ? q.quant_method : 'unknown';
    quantFormats = obj ? publishedQuantFormats(q) : null;
  }
  const name =
    typeof c.raw._name_or_path === 'string' && c.raw._name_or_path.trim() && !c.raw._name_or_path.startsWith('/')
      ? c.raw._name_or_path
      : file
        ? displayNameFromFile(file, modelType || 'model')
        : modelType || 'model';
  const spec: ModelSpec = {
    name,
    modelType: modelType || 'unknown',
    architecture: architectureOf(c),
    generic,
    hiddenSize: d.hidden,
    numLayers: d.layers,
    vocabSize: d.vocab,
    maxPositionEmbeddings: d.maxPos,
    tieWordEmbeddings: d.tie,
    dtype,
    positionEmbedding: d.positionEmbedding,
    rope: d.rope,
    norm: d.norm,
    parallelAttention: d.parallelAttention,
    attention: d.attention,
    layerGroups,
    params: undefined as unknown as ModelSpec['params'],
    structure: { ...d.structure, mtpParams: 0 },
    warnings,
    quantMethod,
    quantFormats,
  };
  spec.params = countParams(spec);
  if (spec.structure.mtpLayers > 0) {
    spec.structure.mtpParams = mtpParams(spec);
    warnings.push(
      `the checkpoint also holds ${spec.structure.mtpLayers} multi-token-prediction layer(s) (num_nextn_predict_layers, ` +
        `${spec.structure.mtpParams.toLocaleString('en-US')} parameters); they are excluded from params and the op graph (main model only)`,
    );
  }
  if (!Number.isSafeInteger(spec.params.total) || spec.params.total > 1e14) {
    throw inputError({ file, field: c.name('num_hidden_layers'), expected: 'sizes whose parameter count is below 10^14', got: spec.params.total });
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------------------
// Shared pieces

function dtypeOf(c: ConfigReader, warnings: string[], modelType = ''): ModelSpec['dtype'] {
  const f = c.pick(['torch_dtype', 'dtype']);
  const v = f ? c.raw[f] : undefined;
  switch (v) {
    case 'float16':
    case 'fp16':
    case 'half':
      return 'fp16';
    case 'bfloat16':
    case 'bf16':
      return 'bf16';
    case 'float32':
    case 'fp32':
    case 'float':
      warnings.push('torch_dtype is float32: weights and KV are costed in fp32 unless --weights/--kv say otherwise; serving engines usually load such checkpoints in bf16');
      return 'fp32';
    case undefined:
      if (modelType === 'gpt_oss') {
        // openai/gpt-oss-20b and -120b publish no torch_dtype; their tensors outside the MXFP4 experts are BF16.
        warnings.push('torch_dtype is absent; assuming bfloat16, the dtype of the gpt-oss checkpoints\' unquantized tensors');
        return 'bf16';
      }
      warnings.push('torch_dtype is absent; assuming float16 parameters');
      return 'fp16';
    default:
      warnings.push(`torch_dtype ${JSON.stringify(v)} is not float16/bfloat16/float32; assuming float16 parameters`);
      return 'fp16';
  }
}

function ropeOf(c: ConfigReader, partial: number): NonNullable<Rope> {
  const theta = c.optNum(c.has('rope_theta') ? 'rope_theta' : 'rotary_emb_base', 10000, 1e-9);
  let scaling: NonNullable<Rope>['scaling'] = null;
  const rs = c.raw.rope_scaling;
  if (rs !== undefined && rs !== null) {
    if (typeof rs !== 'object' || Array.isArray(rs)) c.fail('rope_scaling', 'an object with rope_type/type and factor, or null', rs);
    const r = rs as Record<string, unknown>;
    const type = typeof r.rope_type === 'string' ? r.rope_type : typeof r.type === 'string' ? r.type : null;
    if (type === null) c.fail('rope_scaling.rope_type', 'a scaling type such as "linear", "dynamic", "yarn", "llama3", "longrope"', r);
    const orig =
      typeof r.original_max_position_embeddings === 'number'
        ? r.original_max_position_embeddings
        : typeof c.raw.original_max_position_embeddings === 'number'
          ? (c.raw.original_max_position_embeddings as number)
          : null;
    let factor: number;
    if (r.factor === undefined || r.factor === null) {
      // Phi-3 longrope lists per-dimension factors; the overall stretch is the context ratio.
      const maxPos = typeof c.raw.max_position_embeddings === 'number' ? (c.raw.max_position_embeddings as number) : null;
      factor = orig && maxPos ? maxPos / orig : 1;
    } else if (typeof r.factor !== 'number' || !Number.isFinite(r.factor) || r.factor <= 0) {
      c.fail('rope_scaling.factor', 'a positive number', r.factor);
    } else {
      factor = r.factor;
    }
    scaling = { type, factor, originalMaxPositionEmbeddings: orig };
  }
  return { theta, partialRotaryFactor: partial, scaling };
}

function activationOf(c: ConfigReader, fallback: string): string {
  for (const f of ['hidden_activation', 'hidden_act', 'activation_function']) {
    const v = c.raw[f];
    if (typeof v === 'string') return v;
  }
  return fallback;
}

/** Heads, KV heads and head dim, with the checks every attention shape needs. */
function attentionShape(c: ConfigReader, hidden: number, heads: number, kvHeads: number, headDim: number | null): { heads: number; kvHeads: number; headDim: number } {
  // Name the fields as this config spells them (GPT-2's n_head / n_embd, Falcon's num_kv_heads, ...).
  const headsField = c.pick(['num_attention_heads', 'n_head', 'num_heads']) ?? 'num_attention_heads';
  const kvField = c.pick(['num_key_value_heads', 'num_kv_heads', 'n_head_kv']) ?? 'num_key_value_heads';
  const hiddenField = c.pick(['hidden_size', 'n_embd', 'n_embed']) ?? 'hidden_size';
  if (kvHeads > heads) c.fail(kvField, `at most ${c.name(headsField)} (${heads})`, kvHeads);
  if (heads % kvHeads !== 0) c.fail(kvField, `a divisor of ${c.name(headsField)} (${heads})`, kvHeads);
  if (headDim === null) {
    if (hidden % heads !== 0) c.fail(headsField, `a divisor of ${c.name(hiddenField)} (${hidden}) when head_dim is not given`, heads);
    headDim = hidden / heads;
  }
  return { heads, kvHeads, headDim };
}

function kindOf(heads: number, kvHeads: number): AttentionSpec['kind'] {
  return kvHeads === heads ? 'mha' : kvHeads === 1 ? 'mqa' : 'gqa';
}

/** Multi-head, grouped- or multi-query attention of the given shape (values as wide as keys, no MLA). */
function plainAttention(a: { heads: number; kvHeads: number; headDim: number }, qkvBias: boolean, outBias: boolean): AttentionSpec {
  return { kind: kindOf(a.heads, a.kvHeads), heads: a.heads, kvHeads: a.kvHeads, headDim: a.headDim, vHeadDim: a.headDim, qkvBias, outBias, mla: null };
}

function baseStructure(hidden: number): Omit<ModelStructure, 'mtpParams'> {
  return {
    fusedQkv: false,
    fusedGateUp: false,
    normsPerLayer: 2,
    finalNorm: true,
    positionTableRows: 0,
    embedDim: hidden,
    embedScale: false,
    attnLogitSoftcap: null,
    finalLogitSoftcap: null,
    mtpLayers: 0,
    qkNorm: false,
  };
}

/** An unknown type that still names routed experts and top-k. */
function moeFields(c: ConfigReader): boolean {
  return c.pick(['num_experts', 'num_local_experts', 'n_routed_experts']) !== undefined && c.has('num_experts_per_tok');
}

/** A mixture of gated experts with no shared expert and a bias-free router (Mixtral, DBRX). */
function routedExperts(numExperts: number, topK: number, expertIntermediateSize: number, activation: string): MlpSpec {
  return {
    kind: 'moe',
    numExperts,
    topK,
    expertIntermediateSize,
    sharedExperts: 0,
    sharedIntermediateSize: 0,
    sharedExpertGate: false,
    routerBiasParams: 0,
    gated: true,
    activation,
  };
}

function dense(intermediateSize: number, gated: boolean, activation: string, bias: boolean): MlpSpec {
  return { kind: 'dense', intermediateSize, gated, activation, bias };
}

/** Window of a layer from `layer_types` (newer transformers write it for Gemma 2, Qwen2, Mistral...). */
function windowFromLayerTypes(c: ConfigReader, layers: number, window: number | null): ((i: number) => number | null) | null {
  const types = c.optStrList('layer_types');
  if (!types) return null;
  if (types.length !== layers) c.fail('layer_types', `a list of ${layers} entries (one per layer)`, types.length);
  for (const t of types) {
    if (t !== 'sliding_attention' && t !== 'full_attention') c.fail('layer_types', '"sliding_attention" or "full_attention" entries', t);
  }
  if (types.includes('sliding_attention') && window === null) c.fail('sliding_window', 'a window size (layer_types has sliding_attention layers)');
  return (i) => (types[i] === 'sliding_attention' ? window : null);
}

// ---------------------------------------------------------------------------------------------------------
// Families

/**
 * Fields a family's transformers configuration class defaults, which its published configs may leave out: Gemma's
 * head_dim is its own (256), not hidden / heads (GemmaConfig, Gemma2Config); Gemma 3's multimodal checkpoints give
 * only the sizes that differ from Gemma3TextConfig's defaults in text_config (google/gemma-3-12b-it has no
 * vocab_size nor head_dim; gemma-3-4b-it no heads either).
 */
const FAMILY_DEFAULTS: Record<string, Partial<Record<'vocab_size' | 'num_attention_heads' | 'num_key_value_heads' | 'head_dim' | 'max_position_embeddings', number>>> = {
  gemma: { head_dim: 256, max_position_embeddings: 8192 },
  gemma2: { head_dim: 256, max_position_embeddings: 8192 },
  gemma3_text: { vocab_size: 262_208, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, max_position_embeddings: 131_072 },
  // GptOssConfig: head_dim 64 (not hidden / heads: 2880 / 64 = 45).
  gpt_oss: { head_dim: 64 },
};

/** Llama and its descendants: RMSNorm, RoPE, gated MLP, optional GQA; per-family extras below. */
function llamaLike(c: ConfigReader, type: string, warnings: string[]): Draft {
  const defaults = FAMILY_DEFAULTS[type] ?? {};
  const defaulted = (Object.keys(defaults) as Array<keyof typeof defaults>).filter((f) => !c.has(f));
  if (defaulted.length > 0) {
    warnings.push(`${defaulted.map((f) => c.name(f)).join(', ')} missing: transformers' ${type} defaults used (${defaulted.map((f) => `${f} ${defaults[f]}`).join(', ')})`);
  }
  const hidden = c.int('hidden_size', LIMITS.hidden);
  const layers = c.int('num_hidden_layers', LIMITS.layers);
  const vocab = defaults.vocab_size !== undefined ? c.optInt('vocab_size', LIMITS.vocab, defaults.vocab_size) : c.int('vocab_size', LIMITS.vocab);
  const heads = defaults.num_attention_heads !== undefined ? c.optInt('num_attention_heads', LIMITS.heads, defaults.num_attention_heads) : c.int('num_attention_heads', LIMITS.heads);
  const kvHeadsRaw = c.optInt('num_key_value_heads', LIMITS.heads, defaults.num_key_value_heads ?? heads);
  const headDimRaw = c.optInt('head_dim', LIMITS.headDim, defaults.head_dim ?? null);
  const a = attentionShape(c, hidden, heads, kvHeadsRaw, headDimRaw);
  const maxPos = c.optInt('max_position_embeddings', LIMITS.positions, defaults.max_position_embeddings ?? null);
  const isGemma = type === 'gemma' || type === 'gemma2' || type === 'gemma3_text';
  // transformers defaults: Gemma ties the LM head to the embeddings, the others do not.
  const tie = c.optBool('tie_word_embeddings', isGemma);
  // Qwen2 always has q/k/v biases (and none on o_proj); Qwen3 drops them and normalizes q and k per head.
  // gpt-oss (GptOssConfig) has them on q, k, v and o unless attention_bias says otherwise.
  const gptOss = type === 'gpt_oss';
  const qkvBias = type === 'qwen2' || type === 'qwen2_moe' ? true : c.optBool('attention_bias', gptOss);
  const isQwen = type.startsWith('qwen');
  const mlpBias = c.optBool('mlp_bias', false);
  const act = activationOf(c, isGemma ? 'gelu_pytorch_tanh' : 'silu');
  const partial = c.optNum('partial_rotary_factor', 1, 0, 1);
  const structure = baseStructure(hidden);
  const attention = plainAttention(a, qkvBias, type === 'qwen2' || type === 'qwen2_moe' ? false : qkvBias);
  if (gptOss) attention.sinks = true;

  // Sliding windows.
  const window = c.optInt('sliding_window', LIMITS.window, null);
  let windowOf: (i: number) => number | null = () => null;
  const fromTypes = windowFromLayerTypes(c, layers, window);
  if (fromTypes) windowOf = fromTypes;
  else if (type === 'mistral' || type === 'mixtral' || type === 'phi3') windowOf = () => window;
  else if (isQwen) {
    // Qwen2: layers from max_window_layers on use the window when use_sliding_window is set.
    const use = c.optBool('use_sliding_window', false);
    const maxWindowLayers = c.optInt('max_window_layers', LIMITS.layers, layers, 0);
    if (use && window !== null) windowOf = (i) => (i >= maxWindowLayers ? window : null);
  } else if (type === 'gemma3_text') {
    // Gemma 3: every sliding_window_pattern-th layer is global, the others local.
    const w = c.optInt('sliding_window', LIMITS.window, 4096);
    const pattern = c.optInt('sliding_window_pattern', LIMITS.layers, 6);
    windowOf = (i) => ((i + 1) % pattern !== 0 ? w : null);
  } else if (gptOss) {
    // GptOssConfig without layer_types: sliding (even layers) and full attention (odd) alternate, windows of 128.
    const w = c.optInt('sliding_window', LIMITS.window, 128);
    windowOf = (i) => (i % 2 === 0 ? w : null);
  } else if (type === 'gemma2') {
    // Gemma 2 alternates: even layers local (sliding window), odd layers global.
    const w = c.optInt('sliding_window', LIMITS.window, 4096);
    windowOf = (i) => (i % 2 === 0 ? w : null);
  }
  if (window !== null && maxPos !== null && window >= maxPos) {
    const inner = windowOf;
    windowOf = (i) => (inner(i) === null ? null : inner(i)! >= maxPos ? null : inner(i));
  }

  // MLP.
  let mlpOf: (i: number) => MlpSpec;
  if (type === 'mixtral') {
    const experts = c.int('num_local_experts', LIMITS.experts);
    const topK = c.int('num_experts_per_tok', experts);
    const moe = routedExperts(experts, topK, c.int('intermediate_size', LIMITS.intermediate), act);
    mlpOf = () => moe;
  } else if (type === 'qwen2_moe' || type === 'qwen3_moe' || gptOss || (type === 'generic' && moeFields(c))) {
    const experts = c.int(['num_experts', 'num_local_experts', 'n_routed_experts'], LIMITS.experts);
    const topK = c.int(gptOss ? ['num_experts_per_tok', 'experts_per_token'] : 'num_experts_per_tok', experts);
    if (type === 'generic') warnings.push(`read as a mixture of experts (${experts} experts, top-${topK}) from its expert fields`);
    const sharedI = c.optInt('shared_expert_intermediate_size', LIMITS.intermediate, 0, 0);
    // gpt-oss (GptOssExperts, GptOssTopKRouter): biased expert projections and router, every layer an MoE of
    // intermediate_size experts.
    const moe: MlpSpec = {
      kind: 'moe',
      numExperts: experts,
      topK,
      expertIntermediateSize: c.int((type === 'generic' || gptOss) && !c.has('moe_intermediate_size') ? 'intermediate_size' : 'moe_intermediate_size', LIMITS.intermediate),
      sharedExperts: sharedI > 0 ? 1 : 0,
      sharedIntermediateSize: sharedI,
      sharedExpertGate: sharedI > 0,
      routerBiasParams: gptOss ? experts : 0,
      expertBias: gptOss,
      gated: true,
      activation: act,
    };
    const denseMlp = dense(c.int('intermediate_size', LIMITS.intermediate), true, act, false);
    const step = c.optInt('decoder_sparse_step', LIMITS.layers, 1);
    const mlpOnly = new Set(c.optIntList('mlp_only_layers', layers - 1));
    mlpOf = (i) => (!mlpOnly.has(i) && (i + 1) % step === 0 ? moe : denseMlp);
  } else {
    const m = dense(c.int('intermediate_size', LIMITS.intermediate), true, act, mlpBias);
    mlpOf = () => m;
  }

  if (type === 'qwen3' || type === 'qwen3_moe') structure.qkNorm = true;
  if (type === 'phi3') {
    structure.fusedQkv = true;
    structure.fusedGateUp = true;
  }
  if (isGemma) structure.embedScale = true;
  if (type === 'gemma3_text') structure.qkNorm = true;
  if (type === 'gemma2' || type === 'gemma3_text') {
    structure.normsPerLayer = 4;
    structure.attnLogitSoftcap = c.optNum('attn_logit_softcapping', null, 0);
    structure.finalLogitSoftcap = c.optNum('final_logit_softcapping', null, 0);
  }
  if (type === 'generic' && !c.has('tie_word_embeddings')) {
    warnings.push('tie_word_embeddings is absent; assuming a separate lm_head');
  }
  return {
    hidden,
    layers,
    vocab,
    maxPos,
    tie,
    positionEmbedding: 'rope',
    rope: ropeOf(c, partial),
    norm: { kind: 'rmsnorm', bias: false },
    parallelAttention: false,
    attention,
    windowOf,
    mlpOf,
    structure,
  };
}

function gpt2(c: ConfigReader): Draft {
  const hidden = c.int(['n_embd', 'hidden_size'], LIMITS.hidden);
  const layers = c.int(['n_layer', 'num_hidden_layers'], LIMITS.layers);
  const heads = c.int(['n_head', 'num_attention_heads'], LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const maxPos = c.int(['n_positions', 'max_position_embeddings'], LIMITS.positions);
  const inner = c.optInt('n_inner', LIMITS.intermediate, 4 * hidden);
  const a = attentionShape(c, hidden, heads, heads, null);
  const m = dense(inner, false, activationOf(c, 'gelu_new'), true);
  return {
    hidden,
    layers,
    vocab,
    maxPos,
    tie: c.optBool('tie_word_embeddings', true),
    positionEmbedding: 'learned',
    rope: null,
    norm: { kind: 'layernorm', bias: true },
    parallelAttention: false,
    attention: plainAttention(a, true, true),
    windowOf: () => null,
    mlpOf: () => m,
    structure: { ...baseStructure(hidden), fusedQkv: true, positionTableRows: maxPos },
  };
}

function gptNeox(c: ConfigReader): Draft {
  const hidden = c.int('hidden_size', LIMITS.hidden);
  const layers = c.int('num_hidden_layers', LIMITS.layers);
  const heads = c.int('num_attention_heads', LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const a = attentionShape(c, hidden, heads, heads, null);
  const bias = c.optBool('attention_bias', true);
  const m = dense(c.int('intermediate_size', LIMITS.intermediate), false, activationOf(c, 'gelu'), true);
  const rotaryPct = c.optNum(c.has('rotary_pct') ? 'rotary_pct' : 'partial_rotary_factor', 0.25, 0, 1);
  return {
    hidden,
    layers,
    vocab,
    maxPos: c.optInt('max_position_embeddings', LIMITS.positions, null),
    tie: c.optBool('tie_word_embeddings', false),
    positionEmbedding: 'rope',
    rope: ropeOf(c, rotaryPct),
    norm: { kind: 'layernorm', bias: true },
    parallelAttention: c.optBool('use_parallel_residual', true),
    attention: plainAttention(a, bias, bias),
    windowOf: () => null,
    mlpOf: () => m,
    structure: { ...baseStructure(hidden), fusedQkv: true },
  };
}

/**
 * GPT-J (transformers GPTJConfig): one LayerNorm feeds attention and MLP side by side (parallel block);
 * q/k/v/out projections without bias, fc_in/fc_out with bias, rotary on the first `rotary_dim` of each head,
 * an untied LM head with a bias.
 */
function gptj(c: ConfigReader): Draft {
  const hidden = c.int(['n_embd', 'hidden_size'], LIMITS.hidden);
  const layers = c.int(['n_layer', 'num_hidden_layers'], LIMITS.layers);
  const heads = c.int(['n_head', 'num_attention_heads'], LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const a = attentionShape(c, hidden, heads, heads, null);
  const rotaryDim = c.optInt('rotary_dim', a.headDim, null);
  const m = dense(c.optInt('n_inner', LIMITS.intermediate, 4 * hidden), false, activationOf(c, 'gelu_new'), true);
  return {
    hidden,
    layers,
    vocab,
    maxPos: c.optInt(['n_positions', 'max_position_embeddings'], LIMITS.positions, null),
    tie: c.optBool('tie_word_embeddings', false),
    positionEmbedding: 'rope',
    rope: ropeOf(c, rotaryDim === null ? 1 : rotaryDim / a.headDim),
    norm: { kind: 'layernorm', bias: true },
    parallelAttention: true,
    attention: plainAttention(a, false, false),
    windowOf: () => null,
    mlpOf: () => m,
    structure: { ...baseStructure(hidden), normsPerLayer: 1, lmHeadBias: true },
  };
}

/**
 * Phi-1, Phi-1.5 and Phi-2 (transformers' PhiConfig): GPT-J's parallel block (one LayerNorm feeds attention and an
 * ungated gelu_new MLP) with biases on q/k/v, the output projection, both MLP layers and the LM head, and RoPE on
 * partial_rotary_factor of each head (0.5 by default, Phi-2 0.4).
 */
function phi(c: ConfigReader): Draft {
  const hidden = c.int('hidden_size', LIMITS.hidden);
  const layers = c.int('num_hidden_layers', LIMITS.layers);
  const heads = c.int('num_attention_heads', LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const a = attentionShape(c, hidden, heads, c.optInt('num_key_value_heads', LIMITS.heads, heads), null);
  const m = dense(c.int('intermediate_size', LIMITS.intermediate), false, activationOf(c, 'gelu_new'), true);
  return {
    hidden,
    layers,
    vocab,
    maxPos: c.optInt('max_position_embeddings', LIMITS.positions, 2048),
    tie: c.optBool('tie_word_embeddings', false),
    positionEmbedding: 'rope',
    rope: ropeOf(c, c.optNum('partial_rotary_factor', 0.5, 0, 1)),
    norm: { kind: 'layernorm', bias: true },
    parallelAttention: true,
    attention: plainAttention(a, true, true),
    windowOf: () => null,
    mlpOf: () => m,
    structure: { ...baseStructure(hidden), normsPerLayer: 1, lmHeadBias: true, qkNorm: c.optBool('qk_layernorm', false) },
  };
}

function falcon(c: ConfigReader, warnings: string[]): Draft {
  const hidden = c.int(['hidden_size', 'n_embed'], LIMITS.hidden);
  const layers = c.int(['num_hidden_layers', 'n_layer'], LIMITS.layers);
  const heads = c.int(['num_attention_heads', 'n_head'], LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const newArch = c.optBool('new_decoder_architecture', false);
  const multiQuery = c.optBool('multi_query', true);
  const parallel = c.optBool('parallel_attn', true);
  const alibi = c.optBool('alibi', false);
  const bias = c.optBool('bias', false);
  let kvHeads: number;
  if (newArch) kvHeads = c.optInt(['num_kv_heads', 'n_head_kv'], LIMITS.heads, heads);
  else kvHeads = multiQuery ? 1 : heads;
  const headDimRaw = c.optInt('head_dim', LIMITS.headDim, null);
  const a = attentionShape(c, hidden, heads, kvHeads, headDimRaw);
  const ffn = c.optInt('ffn_hidden_size', LIMITS.intermediate, 4 * hidden);
  const m = dense(ffn, false, activationOf(c, 'gelu'), bias);
  let norms: number;
  if (newArch) norms = c.optInt('num_ln_in_parallel_attn', 2, 2);
  else norms = parallel ? 1 : 2;
  if (newArch && !parallel) warnings.push('falcon: new_decoder_architecture implies parallel attention; parallel_attn=false is ignored');
  return {
    hidden,
    layers,
    vocab,
    maxPos: c.optInt('max_position_embeddings', LIMITS.positions, null),
    tie: c.optBool('tie_word_embeddings', true),
    positionEmbedding: alibi ? 'alibi' : 'rope',
    rope: alibi ? null : ropeOf(c, 1),
    norm: { kind: 'layernorm', bias: true },
    parallelAttention: newArch || parallel,
    attention: plainAttention(a, bias, bias),
    windowOf: () => null,
    mlpOf: () => m,
    structure: { ...baseStructure(hidden), fusedQkv: true, normsPerLayer: norms },
  };
}

function opt(c: ConfigReader): Draft {
  const hidden = c.int('hidden_size', LIMITS.hidden);
  const layers = c.int('num_hidden_layers', LIMITS.layers);
  const heads = c.int('num_attention_heads', LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const maxPos = c.int('max_position_embeddings', LIMITS.positions);
  const ffn = c.int('ffn_dim', LIMITS.intermediate);
  const embedDim = c.optInt('word_embed_proj_dim', LIMITS.hidden, hidden);
  const bias = c.optBool('enable_bias', true);
  const before = c.optBool('do_layer_norm_before', true);
  const removeFinal = c.optBool('_remove_final_layer_norm', false);
  const affine = c.optBool('layer_norm_elementwise_affine', true);
  const a = attentionShape(c, hidden, heads, heads, null);
  const m = dense(ffn, false, activationOf(c, 'relu'), bias);
  return {
    hidden,
    layers,
    vocab,
    maxPos,
    tie: c.optBool('tie_word_embeddings', true),
    positionEmbedding: 'learned',
    rope: null,
    norm: { kind: 'layernorm', bias: affine },
    parallelAttention: false,
    attention: plainAttention(a, bias, bias),
    windowOf: () => null,
    mlpOf: () => m,
    structure: {
      ...baseStructure(hidden),
      // OPT's learned positions are offset by 2 (rows 0 and 1 are reserved): the table has max_position + 2 rows.
      positionTableRows: maxPos + 2,
      embedDim,
      normsPerLayer: affine ? 2 : 0,
      finalNorm: affine && before && !removeFinal,
    },
  };
}

/** A nested settings object (DBRX's attn_config / ffn_config): its own reader, empty when absent. */
function section(c: ConfigReader, field: string): ConfigReader {
  const v = c.raw[field];
  if (v === undefined || v === null) return new ConfigReader({}, c.file, c.name(field) + '.');
  if (typeof v !== 'object' || Array.isArray(v)) c.fail(field, 'an object', v);
  return new ConfigReader(v as Record<string, unknown>, c.file, c.name(field) + '.');
}

/**
 * DBRX: d_model / n_heads / n_layers at the top, attention and experts in attn_config and ffn_config (defaults
 * of transformers' DbrxAttentionConfig and DbrxFFNConfig). Fused Wqkv without biases, LayerNorm without bias,
 * every layer a mixture of gated (GLU) experts with a bias-free router.
 */
function dbrx(c: ConfigReader, warnings: string[]): Draft {
  const hidden = c.int('d_model', LIMITS.hidden);
  const layers = c.int('n_layers', LIMITS.layers);
  const heads = c.int('n_heads', LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const attn = section(c, 'attn_config');
  const ffn = section(c, 'ffn_config');
  for (const [field, what] of [['attn_config', 'kv_n_heads 1, rope_theta 10000'], ['ffn_config', '4 experts, top-1, ffn_hidden_size 3584']] as const) {
    if (c.raw[field] === undefined || c.raw[field] === null) warnings.push(`${field} is missing: transformers' defaults used (${what})`);
  }
  const kvHeads = attn.optInt('kv_n_heads', LIMITS.heads, 1);
  if (kvHeads > heads || heads % kvHeads !== 0) attn.fail('kv_n_heads', `a divisor of n_heads (${heads})`, kvHeads);
  if (hidden % heads !== 0) c.fail('n_heads', `a divisor of d_model (${hidden})`, heads);
  const experts = ffn.optInt('moe_num_experts', LIMITS.experts, 4);
  const topK = ffn.optInt('moe_top_k', experts, 1);
  const act = section(ffn, 'ffn_act_fn').optStr('name', 'silu');
  const moe = routedExperts(experts, topK, ffn.optInt('ffn_hidden_size', LIMITS.intermediate, 3584), act);
  return {
    hidden,
    layers,
    vocab,
    maxPos: c.optInt('max_seq_len', LIMITS.positions, 2048),
    tie: c.optBool('tie_word_embeddings', false),
    positionEmbedding: 'rope',
    rope: { theta: attn.optNum('rope_theta', 10000, 1e-9), partialRotaryFactor: 1, scaling: null },
    norm: { kind: 'layernorm', bias: false },
    parallelAttention: false,
    attention: plainAttention({ heads, kvHeads, headDim: hidden / heads }, false, false),
    windowOf: () => null,
    mlpOf: () => moe,
    structure: { ...baseStructure(hidden), fusedQkv: true },
  };
}

function deepseek(c: ConfigReader, type: string, warnings: string[]): Draft {
  const hidden = c.int('hidden_size', LIMITS.hidden);
  const layers = c.int('num_hidden_layers', LIMITS.layers);
  const heads = c.int('num_attention_heads', LIMITS.heads);
  const vocab = c.int('vocab_size', LIMITS.vocab);
  const kvLoraRank = c.int('kv_lora_rank', LIMITS.hidden);
  const qLoraRank = c.optInt('q_lora_rank', LIMITS.hidden, null);
  const rope = c.int('qk_rope_head_dim', LIMITS.headDim);
  const nope = c.int('qk_nope_head_dim', LIMITS.headDim);
  const v = c.int('v_head_dim', LIMITS.headDim);
  const act = activationOf(c, 'silu');
  const denseMlp = dense(c.int('intermediate_size', LIMITS.intermediate), true, act, false);
  const routed = c.optInt('n_routed_experts', LIMITS.experts, null);
  let mlpOf: (i: number) => MlpSpec = () => denseMlp;
  if (routed !== null) {
    const topK = c.int('num_experts_per_tok', routed);
    const moeI = c.int('moe_intermediate_size', LIMITS.intermediate);
    const shared = c.optInt('n_shared_experts', 1024, 0, 0);
    // DeepSeek-V3 (topk_method "noaux_tc") adds a per-expert score correction bias to the router.
    const topkMethod = c.optStr('topk_method', type === 'deepseek_v3' ? 'noaux_tc' : 'greedy');
    const moe: MlpSpec = {
      kind: 'moe',
      numExperts: routed,
      topK,
      expertIntermediateSize: moeI,
      sharedExperts: shared,
      sharedIntermediateSize: shared > 0 ? moeI : 0,
      sharedExpertGate: false,
      routerBiasParams: topkMethod === 'noaux_tc' ? routed : 0,
      gated: true,
      activation: act,
    };
    const firstDense = c.optInt('first_k_dense_replace', layers, 0, 0);
    const freq = c.optInt('moe_layer_freq', LIMITS.layers, 1);
    mlpOf = (i) => (i >= firstDense && i % freq === 0 ? moe : denseMlp);
  }
  const mtp = type === 'deepseek_v3' ? c.optInt('num_nextn_predict_layers', 64, 0, 0) : 0;
  if (c.optBool('attention_bias', false)) warnings.push('attention_bias=true is not modelled for MLA; projections counted without bias');
  return {
    hidden,
    layers,
    vocab,
    maxPos: c.optInt('max_position_embeddings', LIMITS.positions, null),
    tie: c.optBool('tie_word_embeddings', false),
    positionEmbedding: 'rope',
    // Only the qk_rope_head_dim slice of each query/key head is rotated.
    rope: ropeOf(c, rope / (rope + nope)),
    norm: { kind: 'rmsnorm', bias: false },
    parallelAttention: false,
    attention: {
      kind: 'mla',
      heads,
      kvHeads: heads,
      headDim: nope + rope,
      vHeadDim: v,
      qkvBias: false,
      outBias: false,
      mla: { kvLoraRank, qLoraRank, qkRopeHeadDim: rope, qkNopeHeadDim: nope, vHeadDim: v },
    },
    windowOf: () => null,
    mlpOf,
    structure: { ...baseStructure(hidden), mtpLayers: mtp },
  };
}

/** Groups layers with the same window and MLP into LayerGroups (first-seen order). */
function groupLayers(d: Draft): LayerGroup[] {
  const groups: LayerGroup[] = [];
  for (let i = 0; i < d.layers; i++) {
    const window = d.windowOf(i);
    const mlp = d.mlpOf(i);
    let g: LayerGroup | undefined;
    for (let j = 0; j < groups.length; j++) {
      const x = groups[j]!;
      if (x.window === window && x.mlp === mlp) {
        g = x;
        break;
      }
    }
    if (!g) {
      g = { layers: [], window, mlp };
      groups.push(g);
    }
    g.layers.push(i);
  }
  return groups;
}

/** An integer field of a quantization_config section, or null. */
function qInt(o: unknown, k: string): number | null {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** Weight-only integer formats of `bits` bits, the group size's first. */
function intFormats(bits: number | null, group: number | null): string[] | null {
  if (bits === 8) return ['int8'];
  if (bits === 4) return group === 32 ? ['int4-g32', 'int4-g128'] : ['int4-g128', 'int4-g32'];
  if (bits === 3) return ['int3-g128'];
  if (bits === 2) return ['int2-g64'];
  return null;
}

/**
 * The weight formats that reproduce a checkpoint's published quantization (`quantization_config`), best match first;
 * null when the method or its settings are not ones the catalog has.
 */
export function publishedQuantFormats(q: Record<string, unknown>): string[] | null {
  const method = typeof q.quant_method === 'string' ? q.quant_method : '';
  switch (method) {
    case 'fp8':
    case 'fbgemm_fp8':
      return ['fp8', 'fp8-e5m2'];
    case 'awq':
      return intFormats(qInt(q, 'bits') ?? 4, qInt(q, 'group_size'));
    case 'gptq':
      return intFormats(qInt(q, 'bits') ?? 4, qInt(q, 'group_size'));
    case 'bitsandbytes':
      if (q.load_in_8bit === true) return ['int8'];
      if (q.load_in_4bit === true) return q.bnb_4bit_quant_type === 'fp4' ? null : ['nf4'];
      return null;
    case 'mxfp4': {
      // gpt-oss keeps attention (and the router, embeddings and head) out of MXFP4: only its experts are quantized.
      const skip = Array.isArray(q.modules_to_not_convert) ? q.modules_to_not_convert : [];
      return skip.some((m) => typeof m === 'string' && /self_attn/.test(m)) ? ['mxfp4-experts'] : ['mxfp4'];
    }
    case 'bitnet':
      return ['ternary'];
    case 'compressed-tensors': {
      // config_groups.<group>.weights: { num_bits, type: "int" | "float" }, input_activations likewise (or null).
      const groups = q.config_groups && typeof q.config_groups === 'object' ? Object.values(q.config_groups as Record<string, unknown>) : [];
      const g = groups[0] as Record<string, unknown> | undefined;
      const w = g?.weights as Record<string, unknown> | undefined;
      const bits = qInt(w, 'num_bits');
      if (w?.type === 'float' && bits === 8) return ['fp8', 'fp8-e5m2'];
      // llm-compressor's NVFP4 scheme: float weights and activations of 4 bits in groups of 16 (E4M3 group scales).
      // Its weight-only NVFP4A16 has no format of its own here (nvfp4 brings FP4 activations on Blackwell).
      if (w?.type === 'float' && bits === 4) return qInt(w, 'group_size') === 16 && g?.input_activations ? ['nvfp4'] : null;
      if (w?.type === 'int' && bits === 8) return g?.input_activations ? ['w8a8'] : ['int8'];
      if (w?.type === 'int') return intFormats(bits, qInt(w, 'group_size'));
      return null;
    }
    case 'modelopt': {
      const algo = typeof q.quant_algo === 'string' ? q.quant_algo.toUpperCase() : '';
      if (algo === 'FP8') return ['fp8'];
      if (algo === 'NVFP4') return ['nvfp4'];
      if (algo.includes('W4A16') || algo.includes('INT4_AWQ')) return ['int4-g128', 'int4-g32'];
      if (algo === 'W8A8_SQ_PER_CHANNEL' || algo.startsWith('INT8')) return ['w8a8', 'int8'];
      return null;
    }
    default:
      return null;
  }
}

/**
 * A checkpoint published quantized, analyzed with weights that are not its format: a warning naming the matching
 * one (null when the weights match, or the checkpoint is not quantized). An unknown method or setting always warns.
 */
export function publishedQuantWarning(spec: Pick<ModelSpec, 'quantMethod' | 'quantFormats'>, weights: string): string | null {
  const m = spec.quantMethod;
  if (m === null || spec.quantFormats?.includes(weights)) return null;
  const match = spec.quantFormats?.[0];
  return `the checkpoint is published quantized (quantization_config.quant_method "${m}"); analyzed with ${weights} weights${match ? `: --weights ${match} matches it` : '; no weight format of the catalog reproduces it exactly: pick the nearest'}`;
}

/** `models/Llama-3.1-8B/config.json` reads as `Llama-3.1-8B`; `mixtral.json` as `mixtral`. */
function displayNameFromFile(file: string, fallback: string): string {
  // A pipe or process substitution (`/dev/stdin`, `<(...)` as /dev/fd/63) names no model: the config's own name.
  if (/^\/(dev|proc\/self)\/(stdin|fd\/\d+)$/.test(file)) return fallback;
  const stem = basename(file).replace(/\.json$/i, '');
  if (stem.toLowerCase() !== 'config') return stem;
  const folder = basename(dirname(file));
  return folder && folder !== '.' && folder !== '/' ? folder : fallback;
}

/** `architectures[0]`, or null when the field is absent; anything but a list of class names is refused. */
function architectureOf(c: ConfigReader): string | null {
  const a = c.raw.architectures;
  if (a === undefined || a === null) return null;
  if (!Array.isArray(a) || !a.every((x) => typeof x === 'string')) c.fail('architectures', 'a list of class names such as ["LlamaForCausalLM"]', a);
  return a.length > 0 ? (a[0] as string) : null;
}
