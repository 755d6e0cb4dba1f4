/**
 * Normalized model description and the op graph built from it.
 * Every other part of the engine (cost, memory, quant, report) reads these types, never a raw config.
 * Units live in names; FLOPs are counts (2 per multiply-add), never rates.
 */

export type AttentionKind = 'mha' | 'gqa' | 'mqa' | 'mla';
export type Phase = 'prefill' | 'decode';
/** Numeric types an op can compute in. The cost model picks the device peak by this. */
export type Dtype = 'fp32' | 'tf32' | 'fp16' | 'bf16' | 'fp8' | 'fp4' | 'int8' | 'int4';

export interface MlaSpec {
  kvLoraRank: number;
  /** null when queries are projected directly (DeepSeek-V2-Lite). */
  qLoraRank: number | null;
  qkRopeHeadDim: number;
  qkNopeHeadDim: number;
  vHeadDim: number;
}

export interface AttentionSpec {
  kind: AttentionKind;
  heads: number;
  /** Heads that have their own K/V (== heads for MHA, 1 for MQA). For MLA: == heads (decompressed). */
  kvHeads: number;
  /** Query/key head dimension (MLA: qkNopeHeadDim + qkRopeHeadDim). */
  headDim: number;
  /** Value head dimension (== headDim except MLA and a few others). */
  vHeadDim: number;
  qkvBias: boolean;
  outBias: boolean;
  mla: MlaSpec | null;
  /** gpt-oss: one learned sink logit per query head and layer (a softmax term with no value; parameters only). */
  sinks?: boolean;
}

export interface DenseMlpSpec {
  kind: 'dense';
  intermediateSize: number;
  /** Gated (SwiGLU/GeGLU: gate, up, down) vs plain (up, act, down). */
  gated: boolean;
  activation: string;
  bias: boolean;
}

export interface MoeMlpSpec {
  kind: 'moe';
  numExperts: number;
  topK: number;
  expertIntermediateSize: number;
  /** Shared (always-active) experts, each of sharedIntermediateSize. 0 when none. */
  sharedExperts: number;
  sharedIntermediateSize: number;
  /** Qwen2-MoE has a sigmoid gate (hidden -> 1) on the shared expert output. */
  sharedExpertGate: boolean;
  /** Router bias / correction bias parameters (DeepSeek-V3 e_score_correction_bias: numExperts). */
  routerBiasParams: number;
  /** Routed experts with biases on their projections (gpt-oss: gate_up 2 x intermediate, down hidden). */
  expertBias?: boolean;
  gated: boolean;
  activation: string;
}

export type MlpSpec = DenseMlpSpec | MoeMlpSpec;

/** A set of layers with identical structure (not necessarily contiguous, e.g. Gemma 2 local/global). */
export interface LayerGroup {
  /** 0-based layer indices in this group, ascending. */
  layers: number[];
  /** Sliding attention window in tokens for these layers; null = full attention. */
  window: number | null;
  mlp: MlpSpec;
}

export interface ParamBreakdown {
  /** Token embedding table (vocab x hidden). */
  embeddings: number;
  /** Learned absolute position embeddings (GPT-2, OPT); 0 for RoPE/ALiBi. */
  positionEmbeddings: number;
  /** All attention projections (+ biases, MLA low-rank projections and their norms) over all layers. */
  attention: number;
  /** Dense MLP parameters over all layers. */
  mlp: number;
  /** Routed expert parameters over all layers. */
  experts: number;
  /** Shared expert parameters (+ shared expert gates) over all layers. */
  sharedExperts: number;
  /** Router (gate) parameters over all layers. */
  router: number;
  /** Norm weights (and biases) in layers plus the final norm. */
  norms: number;
  /** Output projection; 0 when tied to the embeddings. */
  lmHead: number;
  total: number;
  /** Parameters touched per token (MoE: top-k routed + shared + router + everything else). */
  active: number;
}

export interface ModelSpec {
  /** Display name: `_name_or_path`, else the file name, else model_type. */
  name: string;
  modelType: string;
  /** `architectures[0]` when present. */
  architecture: string | null;
  /** True when an unknown model_type was analyzed with the generic decoder path. */
  generic: boolean;
  hiddenSize: number;
  numLayers: number;
  vocabSize: number;
  maxPositionEmbeddings: number | null;
  tieWordEmbeddings: boolean;
  /** Parameter dtype from `torch_dtype` (default fp16 when absent, with a warning). */
  dtype: 'fp32' | 'fp16' | 'bf16';
  positionEmbedding: 'rope' | 'learned' | 'alibi' | 'none';
  rope: {
    theta: number;
    /** Fraction of the head dim rotated (Phi, NeoX partial rotary). */
    partialRotaryFactor: number;
    /** Raw `rope_scaling` normalized: type (`linear`, `dynamic`, `yarn`, `llama3`, `longrope`...) and factor. */
    scaling: { type: string; factor: number; originalMaxPositionEmbeddings: number | null } | null;
  } | null;
  norm: { kind: 'rmsnorm' | 'layernorm'; bias: boolean };
  /** Attention and MLP read the same normed input and are summed (GPT-J, Falcon, NeoX use_parallel_residual). */
  parallelAttention: boolean;
  attention: AttentionSpec;
  layerGroups: LayerGroup[];
  params: ParamBreakdown;
  /** Structural details behind the parameter count and the op graph. */
  structure: ModelStructure;
  /** Non-fatal notes for the user (generic path, defaulted fields...). */
  warnings: string[];
  /** quantization_config.quant_method of a checkpoint published quantized ("fp8", "awq", ...; "unknown" without one), else null. */
  quantMethod: string | null;
  /** The weight formats that reproduce that quantization, best first; null when not quantized or not known. */
  quantFormats: string[] | null;
}

/** Family-specific structure the parameter count and op graph need beyond the fields above. */
export interface ModelStructure {
  /** q/k/v as one fused projection (GPT-2 c_attn, NeoX/Falcon query_key_value, Phi-3 qkv_proj). */
  fusedQkv: boolean;
  /** gate and up as one fused projection (Phi-3 gate_up_proj). */
  fusedGateUp: boolean;
  /** Norm modules per decoder layer (2 usually; 4 in Gemma 2; 1 in Falcon-7B's parallel block). */
  normsPerLayer: number;
  /** A final norm before the LM head. */
  finalNorm: boolean;
  /** Rows of the learned absolute position table (OPT: max_position_embeddings + 2); 0 when none. */
  positionTableRows: number;
  /** Width of the token embedding (OPT `word_embed_proj_dim`, projected in/out when != hidden). */
  embedDim: number;
  /** Embeddings multiplied by a scalar before the first layer (Gemma: sqrt(hidden)). */
  embedScale: boolean;
  /** Attention / final logit soft-capping values (Gemma 2); null when absent. */
  attnLogitSoftcap: number | null;
  finalLogitSoftcap: number | null;
  /**
   * Multi-token-prediction modules shipped in the checkpoint but not part of the main model
   * (DeepSeek-V3 `num_nextn_predict_layers`). Excluded from `params`; their count is here.
   */
  mtpLayers: number;
  mtpParams: number;
  /** Per-head RMSNorm of queries and keys (Qwen3 q_norm/k_norm, head_dim weights each). */
  qkNorm?: boolean;
  /** The LM head carries a bias, one per vocabulary entry (GPT-J). */
  lmHeadBias?: boolean;
}

/** What the user asks the model to do. Format ids are those of engine/quant/formats. */
export interface Workload {
  batch: number;
  promptTokens: number;
  generateTokens: number;
  /** Weight format id (e.g. `fp16`, `int4-g128`); default: the model's dtype. */
  weights: string;
  /** Activation format id (e.g. `fp16`, `int8`, `fp8`). */
  activations: string;
  /** KV-cache format id (e.g. `fp16`, `fp8`, `int4`). */
  kv: string;
  /** Tensor-parallel degree. */
  tp: number;
  /**
   * Prompt tokens per sequence whose K/V are already in the cache when the request arrives (a prefix-cache
   * hit: a shared system prompt, a repeated request). The prefill computes only the rest of the prompt,
   * attending to them; the KV cache and every decode step still hold the whole prompt. Default 0; at most
   * promptTokens - 1 (an engine recomputes at least the last prompt token to get its logits).
   */
  cachedPromptTokens?: number;
}

/** Efficiency class of an op: the cost model applies a per-class efficiency and launch overhead. */
export type OpClass = 'gemm' | 'attention' | 'elementwise' | 'norm' | 'comm';

export interface OpBytes {
  weights: number;
  actIn: number;
  actOut: number;
  kvRead: number;
  kvWrite: number;
}

/**
 * One op of the graph. A row may stand for the same op in several identical layers (`layers` > 1):
 * `flops`, `bytes` and `launches` are then totals over those layers, `shape` is per layer.
 */
export interface Op {
  /** Stable op name, e.g. `q_proj`, `attn_qk`, `attn_softmax`, `mlp_down`, `lm_head`. */
  name: string;
  phase: Phase;
  /**
   * The layer group of a model with several (graph.ts layerGroupLabels: "window 4096", "full attention", "MoE",
   * ...); undefined for a model of one group and for the rows outside the layers.
   */
  layerGroup?: string;
  /** Set when the row is one layer; undefined (omitted in JSON) for rows covering several layers or none. */
  layer?: number;
  /** Number of layers this row covers (1 for lm_head, embeddings). */
  layers: number;
  opClass: OpClass;
  /** Dtype the math runs in (W4A16 dequantizes to fp16, so fp16). */
  computeDtype: Dtype;
  /**
   * Per-layer GEMM view: m = rows (tokens x batch), n = output features, k = reduction length.
   * Attention ops use m = query rows, n = keys, k = head dim (per head, `heads` in `count`).
   */
  shape: { m: number; n: number; k: number };
  /** Independent instances per layer (heads for attention, active experts for MoE). */
  count: number;
  /** Kernel launches in total (per layer x layers), for the launch-overhead term. */
  launches: number;
  flops: number;
  /**
   * Part of `flops` spent dequantizing weights (weight-only formats), counted once per weight. GEMM kernels
   * dequantize each weight tile once per row tile, on the vector units: the cost model scales and prices it so.
   */
  dequantFlops?: number;
  /**
   * Attention ops of grouped-query (or multi-query) attention: query heads per K/V head. A decode kernel that
   * loads each K/V head once for its whole group reads `kvRead`; one that reloads it per query head reads
   * kvGroup x kvRead (CostParams.groupedDecodeAttention).
   */
  kvGroup?: number;
  /**
   * Set on the routed-expert GEMMs of an MoE layer only (grouped over experts; they compute at
   * CostParams.moeGemmComputeScale): `tokens` tokens each pick `topK` of `experts`. Tokens per expert are
   * Binomial(tokens, topK / experts) under uniform routing; the roofline pads each expert's rows to its tile
   * and takes the expectation over that distribution (shape.m holds the mean rows of a touched expert).
   */
  routing?: { experts: number; topK: number; tokens: number };
  bytes: OpBytes;
  /**
   * Set when this op runs inside another op's kernel (softmax and S*V inside a fused attention kernel):
   * the name of that op. Its `launches` is 0 and its bytes are only what it adds to that kernel's traffic.
   */
  fusedInto?: string;
}

export interface OpGraph {
  phase: Phase;
  /** Context length the graph was built at (decode: tokens already in the cache). */
  contextTokens: number;
  ops: Op[];
}
