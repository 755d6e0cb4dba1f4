import type { Dtype } from '../model/types';
import { inputError } from '../errors';

/**
 * Weight formats: how many bits each weight really costs (scales and zeros included), what the matmul
 * computes in, and what it costs to dequantize. The full catalog with sources lives in formats data
 * (see the quantization advisor); this module is the one lookup every other part uses.
 */
export interface WeightFormat {
  id: string;
  aliases: string[];
  label: string;
  /** Bits per weight including group scales/zeros (int4 g128 + fp16 scale + fp16 zero = 4.25). */
  bitsPerWeight: number;
  /** Dtype the matmul runs in when activations stay 16-bit (weight-only formats dequantize to fp16). */
  computeDtype: Dtype;
  /** True when only weights are quantized and activations stay in 16-bit. */
  weightOnly: boolean;
  /** Extra FLOPs per weight element to dequantize on the fly (0 for native formats). */
  dequantFlopsPerWeight: number;
  /** Tensors kept in 16-bit by default. */
  keepsHighPrecision: Array<'embeddings' | 'lmHead' | 'norms'>;
  source: string;
}

const FORMATS: WeightFormat[] = [
  { id: 'fp32', aliases: ['float32'], label: 'FP32', bitsPerWeight: 32, computeDtype: 'fp32', weightOnly: false, dequantFlopsPerWeight: 0, keepsHighPrecision: [], source: 'IEEE 754 binary32' },
  { id: 'fp16', aliases: ['float16', 'half'], label: 'FP16', bitsPerWeight: 16, computeDtype: 'fp16', weightOnly: false, dequantFlopsPerWeight: 0, keepsHighPrecision: [], source: 'IEEE 754 binary16' },
  { id: 'bf16', aliases: ['bfloat16'], label: 'BF16', bitsPerWeight: 16, computeDtype: 'bf16', weightOnly: false, dequantFlopsPerWeight: 0, keepsHighPrecision: [], source: 'bfloat16 (8-bit exponent, 7-bit mantissa)' },
  { id: 'fp8', aliases: ['fp8-e4m3', 'float8_e4m3fn'], label: 'FP8 E4M3', bitsPerWeight: 8, computeDtype: 'fp8', weightOnly: false, dequantFlopsPerWeight: 0, keepsHighPrecision: ['embeddings', 'lmHead', 'norms'], source: 'OCP FP8 formats (E4M3), per-tensor scale' },
  { id: 'int8', aliases: [], label: 'INT8 weight-only (per-channel)', bitsPerWeight: 8, computeDtype: 'fp16', weightOnly: true, dequantFlopsPerWeight: 2, keepsHighPrecision: ['embeddings', 'lmHead', 'norms'], source: 'per-output-channel fp16 scale; overhead negligible' },
  { id: 'int4-g128', aliases: ['int4'], label: 'INT4 g128 (GPTQ/AWQ)', bitsPerWeight: 4.25, computeDtype: 'fp16', weightOnly: true, dequantFlopsPerWeight: 2, keepsHighPrecision: ['embeddings', 'lmHead', 'norms'], source: '4-bit + fp16 scale + fp16 zero per 128 weights: 4 + 32/128 = 4.25 bits' },
];

export function listWeightFormats(): readonly WeightFormat[] {
  return FORMATS;
}

/** Looks a weight format up by id or alias; throws a clear input error naming the known ids. */
export function weightFormat(id: string, field = '--weights'): WeightFormat {
  const key = id.toLowerCase();
  const f = FORMATS.find((x) => x.id === key || x.aliases.includes(key));
  if (!f) throw inputError({ field, expected: `a weight format: ${FORMATS.map((x) => x.id).join(', ')}`, got: id });
  return f;
}
