import type { Dtype, ModelSpec } from '../model/types';
import type { Device } from '../hardware/types';
import { inputError } from '../errors';
import { expertMatrixParams } from '../model/params';
import table from './formats.json';

/**
 * Weight formats: how many bits each weight really costs (scales and zeros included), what the matmul
 * computes in, and what it costs to dequantize. The catalog with a source per row is formats.json;
 * this module is the one lookup every other part of the engine uses.
 */

/** How the measured-error path rounds a weight; the layout matches the bits counted in bitsPerWeight. */
export type Quantizer =
  | { kind: 'identity' }
  /** Floating-point rounding (fp16/bf16 without a scale; fp8 with one fp32 scale per tensor mapping |max| to maxValue). */
  | { kind: 'float'; mantissaBits: number; exponentBits: number; maxValue?: number; minNormalExp?: number; scale: 'none' | 'per-tensor' }
  /**
   * Integer round-to-nearest. groupSize 0 = one scale per output channel (row); symmetric = absmax scale, no zero,
   * levels -(2^(bits-1) - 1)..2^(bits-1) - 1. signedMax (ggml's Q4_0, Q5_0, Q6_K): the scale maps the group's
   * largest-magnitude weight onto -2^(bits-1), so levels run -2^(bits-1)..2^(bits-1) - 1 and the opposite sign clamps.
   */
  | { kind: 'int'; bits: number; groupSize: number; symmetric: boolean; signedMax?: boolean }
  /** QLoRA NormalFloat-4: absmax per block, 16-value codebook. */
  | { kind: 'nf4'; blockSize: number }
  /** OCP MX FP4: E2M1 elements with one shared power-of-two (E8M0) scale per block. */
  | { kind: 'mxfp4'; blockSize: number }
  /**
   * NVIDIA NVFP4: E2M1 elements, one FP8 E4M3 scale per block (the block's |max| / 6, rounded to E4M3) in units
   * of one fp32 scale per tensor (the tensor's |max| / (448 x 6), so every block scale fits E4M3).
   */
  | { kind: 'nvfp4'; blockSize: number }
  /** BitNet b1.58: scale = mean |W| over the tensor, values rounded and clipped to {-1, 0, +1}. */
  | { kind: 'ternary' };

export type KeptTensor = 'embeddings' | 'lmHead' | 'norms';

/** Tensors a mixed format (llama.cpp's Q4_K_M) stores in more bits in some layers. */
export type MoreBitsTensor = 'attn_v' | 'ffn_down';

export interface WeightFormat {
  id: string;
  aliases: string[];
  label: string;
  family: 'float' | 'int' | 'codebook' | 'ternary';
  /** Bits per weight including group scales/zeros (int4 g128 + fp16 scale + fp16 zero = 4.25). */
  bitsPerWeight: number;
  /** The sum behind bitsPerWeight, in words. */
  bitsArithmetic: string;
  quantizer: Quantizer;
  /** Dtype the matmul runs in on a device that supports it natively (weight-only formats: fp16). */
  computeDtype: Dtype;
  /** Dtype the matmul runs in on a device without native support (weights dequantized first). */
  fallbackComputeDtype: Dtype;
  /** True when only weights are quantized and activations stay in 16-bit. */
  weightOnly: boolean;
  /** Format activations take into the matmul where the device computes natively. */
  activationFormat: string;
  /** Extra FLOPs per weight element to dequantize on the fly (0 for formats consumed natively). */
  dequantFlopsPerWeight: number;
  /** Dequantization FLOPs per weight where the device lacks native support (== dequantFlopsPerWeight when weight-only). */
  fallbackDequantFlopsPerWeight: number;
  /** Tensors kept in the model's 16-bit dtype by default. */
  keepsHighPrecision: KeptTensor[];
  /** Format the output matrix is stored in (llama.cpp: Q6_K); with tied embeddings, the shared table. Unset: lmHead follows keepsHighPrecision. */
  lmHead?: string;
  /** A mixed format: these tensors in `format` in the layers llama.cpp's use_more_bits picks (see tensorBitsPerWeight). */
  moreBits?: { format: string; tensors: MoreBitsTensor[] };
  /** k-quants: weights per super-block along a row (llama.cpp's QK_K, 256); a row must be whole super-blocks. */
  superBlock?: number;
  /** Serving engines that run this format (GGUF formats: llama.cpp); unset: any. */
  servingEngines?: string[];
  /** How the measured-error path departs from the format's own quantizer, where it does. */
  quantizerNote?: string;
  /**
   * Which weights the format quantizes: unset, every linear weight; `experts`, the routed experts' only, the rest
   * (attention, router, dense and shared MLPs) staying in the model's dtype (gpt-oss's MXFP4 checkpoints).
   */
  scope?: 'experts';
  /** The format whose published quality evidence applies (a scope format's full-model counterpart: mxfp4). */
  evidenceAs?: string;
  /** Devices that compute in this format natively, by architecture. */
  nativeSupport: string;
  source: string;
}

interface Row extends Omit<WeightFormat, 'fallbackDequantFlopsPerWeight' | 'quantizer' | 'computeDtype' | 'fallbackComputeDtype' | 'family' | 'keepsHighPrecision' | 'moreBits'> {
  moreBits?: { format: string; tensors: string[] };
  fallbackDequantFlopsPerWeight?: number;
  quantizer: { kind: string; [k: string]: unknown };
  computeDtype: string;
  fallbackComputeDtype: string;
  family: string;
  keepsHighPrecision: string[];
}

const DTYPES: readonly string[] = ['fp32', 'tf32', 'fp16', 'bf16', 'fp8', 'fp4', 'int8', 'int4'];
const KEPT: readonly string[] = ['embeddings', 'lmHead', 'norms'];
const MORE_BITS: readonly string[] = ['attn_v', 'ffn_down'];

/** Validates one catalog row; a malformed row is a programming error caught by the unit tests. */
function fromRow(r: Row): WeightFormat {
  if (!DTYPES.includes(r.computeDtype) || !DTYPES.includes(r.fallbackComputeDtype)) {
    throw new Error(`formats.json: ${r.id}: unknown compute dtype`);
  }
  if (!r.keepsHighPrecision.every((k) => KEPT.includes(k))) throw new Error(`formats.json: ${r.id}: unknown kept tensor`);
  if (r.moreBits && !r.moreBits.tensors.every((t) => MORE_BITS.includes(t))) throw new Error(`formats.json: ${r.id}: unknown moreBits tensor`);
  if (r.scope !== undefined && r.scope !== 'experts') throw new Error(`formats.json: ${r.id}: unknown scope`);
  if (!(r.bitsPerWeight > 0) || !r.source) throw new Error(`formats.json: ${r.id}: bits and source are required`);
  return {
    ...r,
    family: r.family as WeightFormat['family'],
    quantizer: r.quantizer as unknown as Quantizer,
    computeDtype: r.computeDtype as Dtype,
    fallbackComputeDtype: r.fallbackComputeDtype as Dtype,
    keepsHighPrecision: r.keepsHighPrecision as KeptTensor[],
    moreBits: r.moreBits as WeightFormat['moreBits'],
    fallbackDequantFlopsPerWeight: r.fallbackDequantFlopsPerWeight ?? r.dequantFlopsPerWeight,
  };
}

const FORMATS: WeightFormat[] = (table.formats as Row[]).map(fromRow);
for (const f of FORMATS) {
  for (const ref of [f.lmHead, f.moreBits?.format, f.evidenceAs]) {
    if (ref !== undefined && !FORMATS.some((x) => x.id === ref)) throw new Error(`formats.json: ${f.id}: unknown format ${ref}`);
  }
}

export function listWeightFormats(): readonly WeightFormat[] {
  return FORMATS;
}

/** Looks a weight format up by id or alias; throws a clear input error naming the known ids. */
export function weightFormat(id: string, field = '--weights'): WeightFormat {
  const key = id.trim().toLowerCase();
  const f = FORMATS.find((x) => x.id === key || x.aliases.includes(key));
  if (!f) {
    // A llama.cpp type the catalog does not hold (Q4_K_S, Q3_K_M, IQ4_XS, Q4_1, Q2_K, ...): name the GGUF ones it does.
    const gguf = /^(gguf-)?(i?q\d|tq\d)/.test(key) ? FORMATS.filter((x) => x.servingEngines?.includes('llama.cpp')).map((x) => x.id) : [];
    const hint = gguf.length ? ` (llama.cpp's GGUF types modelled: ${gguf.join(', ')})` : '';
    throw inputError({ field, expected: `a weight format: ${FORMATS.map((x) => x.id).join(', ')}${hint}`, got: id });
  }
  return f;
}

/**
 * The 4-bit weight format to suggest where a model does not fit: llama.cpp's Q4_K_M under that engine, NVFP4 on a
 * GPU with FP4 tensor cores (Blackwell), else GPTQ/AWQ's int4-g128.
 */
export function fourBitFormatFor(device: Pick<Device, 'peakFlopsPerS' | 'vendor'>, engineId?: string): string {
  if (engineId === 'llama.cpp') return 'q4_k_m';
  // NVFP4 is NVIDIA's; an FP4 peak elsewhere (AMD's CDNA4) runs MXFP4, which the catalog models weight-only.
  return (device.peakFlopsPerS.fp4 ?? 0) > 0 && device.vendor.toLowerCase() === 'nvidia' ? 'nvfp4' : 'int4-g128';
}

/**
 * What a format really does on one device: the native compute dtype when the device has a peak for it
 * (fp8 on Hopper/Ada/MI300, int8 on Turing and later), otherwise the weights are dequantized and the
 * matmul runs in the fallback dtype. Devices list only the dtypes they compute natively (hardware/types).
 */
export function effectiveCompute(
  format: WeightFormat,
  device: Pick<Device, 'peakFlopsPerS'>,
): { computeDtype: Dtype; native: boolean; dequantFlopsPerWeight: number; weightOnly: boolean } {
  const native = (device.peakFlopsPerS[format.computeDtype] ?? 0) > 0;
  if (native) {
    return { computeDtype: format.computeDtype, native: true, dequantFlopsPerWeight: format.dequantFlopsPerWeight, weightOnly: format.weightOnly };
  }
  return {
    computeDtype: format.fallbackComputeDtype,
    native: false,
    dequantFlopsPerWeight: format.fallbackDequantFlopsPerWeight,
    weightOnly: true,
  };
}

/**
 * The activation format a weight format runs with when the user names none: its own 8-bit activations
 * where the device computes that natively (fp8 on Hopper/Ada/MI300, W8A8 int8 on Turing and later),
 * otherwise the model's 16-bit dtype (weight-only formats, and 8-bit formats dequantized elsewhere).
 */
export function defaultActivations(format: WeightFormat, device: Pick<Device, 'peakFlopsPerS'>, modelDtype: string, quantizedActivations?: string): string {
  // A serving engine that runs quantized weights' GEMMs in a fixed format (llama.cpp: fp16, it has no fp8 or int8
  // activation GEMMs), whatever the model's dtype and the device.
  if (quantizedActivations && format.bitsPerWeight < 16) return quantizedActivations;
  const eff = effectiveCompute(format, device);
  if (eff.native && !format.weightOnly) return format.activationFormat;
  return modelDtype === 'fp32' ? 'fp16' : modelDtype;
}

/**
 * llama.cpp's use_more_bits (llama-quant.cpp): the first and the last eighth of the layers and every third layer
 * between, the layers whose attn_v and ffn_down a mixed k-quant (Q4_K_M, Q5_K_M) stores in Q6_K.
 */
export function useMoreBits(layer: number, layers: number): boolean {
  const eighth = Math.floor(layers / 8);
  return layer < eighth || layer >= Math.floor((7 * layers) / 8) || (layer - eighth) % 3 === 2;
}

/**
 * Bits per weight of one tensor kind over a group of layers: the format's own, or for a tensor a mixed format
 * promotes, the promoted layers' share at the higher format's bits (Llama-3-8B's 32 layers: 16 of them in Q6_K).
 */
export function tensorBitsPerWeight(f: WeightFormat, tensor: MoreBitsTensor, layerIndices: readonly number[], layers: number): number {
  const m = f.moreBits;
  if (!m || !m.tensors.includes(tensor) || layerIndices.length === 0) return f.bitsPerWeight;
  let promoted = 0;
  for (const i of layerIndices) if (useMoreBits(i, layers)) promoted++;
  const hi = weightFormat(m.format).bitsPerWeight;
  return f.bitsPerWeight + ((hi - f.bitsPerWeight) * promoted) / layerIndices.length;
}

/**
 * Bits per weight of the output matrix: the format's lmHead format (llama.cpp: Q6_K; with tied embeddings the
 * shared table, as llama-quantize stores token_embd when a model has no output tensor), else the kept dtype's
 * `keptBits` where the format keeps the head, else the format's own. llama-quantize writes the output matrix in
 * Q8_0 instead for Falcon and where its rows (the hidden size) are not whole super-blocks of its Q6_K
 * (llama-quant.cpp, llama_tensor_get_type: `arch == LLM_ARCH_FALCON || nx % QK_K != 0`): pass the `model` for it.
 */
export function lmHeadBitsPerWeight(f: WeightFormat, keptBits: number, model?: Pick<ModelSpec, 'modelType' | 'structure'>): number {
  if (f.lmHead !== undefined) {
    const head = weightFormat(f.lmHead);
    const q8 = model !== undefined && (model.modelType === 'falcon' || (head.superBlock !== undefined && model.structure.embedDim % head.superBlock !== 0));
    return (q8 ? weightFormat('q8_0') : head).bitsPerWeight;
  }
  return f.keepsHighPrecision.includes('lmHead') ? keptBits : f.bitsPerWeight;
}

/**
 * Parameters stored in the format's own output-matrix format (its lmHead): the output matrix, or with tied
 * embeddings (no lm_head parameters) the shared table; 0 for a format that names none.
 */
export function lmHeadFormatParams(f: WeightFormat, p: { lmHead: number; embeddings: number }): number {
  return f.lmHead === undefined ? 0 : p.lmHead > 0 ? p.lmHead : p.embeddings;
}

/**
 * Bits per quantized linear weight: the format's own, or for a mixed format (Q4_K_M) the average over the linear
 * weights with its promoted tensors (Llama-3-8B in Q4_K_M: 4.5 + 259,522,560 x 8 / 6,979,321,856 = 4.797).
 */
export function linearBitsPerWeight(spec: ModelSpec, f: WeightFormat): number {
  const linear = splitParams(spec.params).linear;
  if (f.scope === 'experts') {
    // Routed experts' matrices at the format's bits, the other linear weights (their biases too) at 16 bits.
    const experts = expertMatrixParams(spec);
    return linear > 0 ? (experts * f.bitsPerWeight + (linear - experts) * 16) / linear : f.bitsPerWeight;
  }
  return linear > 0 ? f.bitsPerWeight + (moreBitsExtraBytes(spec, f) * 8) / linear : f.bitsPerWeight;
}

/**
 * Extra bytes a mixed format's promoted tensors take over the format's own bits (0 for a format that mixes
 * nothing): attn_v (each layer's own V projection; not a fused QKV or MLA's latent projection) and ffn_down
 * (dense, routed and shared experts), over the layers use_more_bits picks.
 */
export function moreBitsExtraBytes(spec: ModelSpec, f: WeightFormat): number {
  if (!f.moreBits) return 0;
  const a = spec.attention;
  const h = spec.hiddenSize;
  let bits = 0;
  for (const g of spec.layerGroups) {
    const v = a.mla || spec.structure.fusedQkv ? 0 : a.kvHeads * a.vHeadDim * h;
    const m = g.mlp;
    const down = m.kind === 'dense' ? m.intermediateSize * h : (m.numExperts * m.expertIntermediateSize + m.sharedExperts * m.sharedIntermediateSize) * h;
    const n = g.layers.length;
    bits += v * n * (tensorBitsPerWeight(f, 'attn_v', g.layers, spec.numLayers) - f.bitsPerWeight);
    bits += down * n * (tensorBitsPerWeight(f, 'ffn_down', g.layers, spec.numLayers) - f.bitsPerWeight);
  }
  return bits / 8;
}

/** Parameter groups by how a quantized checkpoint stores them. */
export interface WeightParamSplit {
  embeddings: number;
  positionEmbeddings: number;
  lmHead: number;
  norms: number;
  /** Everything else: linear layers (attention, MLP, experts, router). */
  linear: number;
  /** The routed experts' share of `linear`, biases included; 0 or absent for a dense model (quantizedWeightBytes with the model quantizes their matrices only, expertMatrixParams). */
  experts?: number;
}

export interface QuantizedWeightBytes {
  /** Bytes of the quantized linear weights (scales and zeros included). */
  quantizedBytes: number;
  /** Bytes of the tensors kept in the model's dtype. */
  keptBytes: number;
  totalBytes: number;
  /** Average bits per parameter over the whole model. */
  bitsPerParam: number;
}

const DTYPE_BYTES: Record<string, number> = { fp32: 4, fp16: 2, bf16: 2 };

/**
 * Weight bytes of a model stored in `format`: linear weights at the format's bits per weight, the
 * tensors the format keeps (embeddings, lm_head, norms) at the model's own dtype, the output matrix in the
 * format's lmHead format where it names one (with tied embeddings, the shared table). With the `model`, a mixed
 * format's promoted tensors (moreBitsExtraBytes) and llama-quantize's Q8_0 output rule count too.
 * Worked example (Llama-3.1-8B, int4-g128, bf16 model): 6,979,321,856 linear params x 4.25 / 8
 * = 3,707,764,736 B, plus (2 x 525,336,576 embedding/lm_head + 266,240 norm params) x 2 B = 2,101,878,784 B:
 * 5,809,643,520 B in all (5.41 GiB).
 */
export function quantizedWeightBytes(
  params: WeightParamSplit,
  format: WeightFormat,
  modelDtype: 'fp32' | 'fp16' | 'bf16',
  model?: ModelSpec,
): QuantizedWeightBytes {
  const extraBytes = model ? moreBitsExtraBytes(model, format) : 0;
  const keptElemBytes = DTYPE_BYTES[modelDtype] ?? 2;
  // A tensor is kept when the format keeps it; a format wider than the model's dtype widens everything.
  const wider = format.bitsPerWeight > keptElemBytes * 8;
  const keep = (k: KeptTensor) => !wider && format.keepsHighPrecision.includes(k);
  // A format of scope `experts` quantizes the routed experts only: the other linear weights are kept.
  const expertsOnly = format.scope === 'experts';
  // The experts' biases stay 16-bit with the rest (gpt-oss's checkpoints).
  let quantParams = expertsOnly ? (model ? expertMatrixParams(model) : params.experts ?? 0) : params.linear;
  let keptParams = expertsOnly ? params.linear - quantParams : 0;
  // The output matrix in a format of its own (tied: the embedding table is the output matrix).
  const headParams = lmHeadFormatParams(format, params);
  const headBytes = Math.ceil((headParams * lmHeadBitsPerWeight(format, keptElemBytes * 8, model)) / 8);
  for (const [k, n] of [
    ['embeddings', params.embeddings + params.positionEmbeddings - (params.lmHead > 0 ? 0 : headParams)],
    ['lmHead', params.lmHead - (params.lmHead > 0 ? headParams : 0)],
    ['norms', params.norms],
  ] as Array<[KeptTensor, number]>) {
    if (keep(k)) keptParams += n;
    else quantParams += n;
  }
  const quantizedBytes = Math.ceil((quantParams * format.bitsPerWeight) / 8) + headBytes + Math.ceil(extraBytes);
  const keptBytes = keptParams * keptElemBytes;
  const total = quantParams + keptParams + headParams;
  const totalBytes = quantizedBytes + keptBytes;
  return { quantizedBytes, keptBytes, totalBytes, bitsPerParam: total > 0 ? (totalBytes * 8) / total : 0 };
}

/** Splits a ParamBreakdown-like record (engine/model/types) into the groups quantization treats differently. */
export function splitParams(p: {
  embeddings: number;
  positionEmbeddings: number;
  lmHead: number;
  norms: number;
  total: number;
  experts?: number;
}): WeightParamSplit {
  const linear = p.total - p.embeddings - p.positionEmbeddings - p.lmHead - p.norms;
  return { embeddings: p.embeddings, positionEmbeddings: p.positionEmbeddings, lmHead: p.lmHead, norms: p.norms, linear, experts: p.experts ?? 0 };
}
