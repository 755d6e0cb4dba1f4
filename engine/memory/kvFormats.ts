import { inputError } from '../errors';

/**
 * KV-cache storage formats: the bits each cached element really costs, scales included.
 * The memory planner refines group-wise formats (per-token/per-channel scales, full-precision recent window).
 */
export interface KvFormat {
  id: string;
  aliases: string[];
  label: string;
  /** Bits per cached K or V element, amortized scale overhead included. */
  bitsPerElement: number;
  source: string;
}

const KV_FORMATS: KvFormat[] = [
  { id: 'fp32', aliases: ['float32'], label: 'FP32', bitsPerElement: 32, source: 'IEEE 754 binary32' },
  { id: 'fp16', aliases: ['float16'], label: 'FP16', bitsPerElement: 16, source: 'IEEE 754 binary16' },
  { id: 'bf16', aliases: ['bfloat16'], label: 'BF16', bitsPerElement: 16, source: 'bfloat16' },
  { id: 'fp8', aliases: ['fp8-e4m3'], label: 'FP8 E4M3 (per-tensor scale)', bitsPerElement: 8, source: 'OCP FP8 E4M3; one scale per tensor, negligible' },
];

export function listKvFormats(): readonly KvFormat[] {
  return KV_FORMATS;
}

export function kvFormat(id: string, field = '--kv'): KvFormat {
  const key = id.toLowerCase();
  const f = KV_FORMATS.find((x) => x.id === key || x.aliases.includes(key));
  if (!f) throw inputError({ field, expected: `a KV-cache format: ${KV_FORMATS.map((x) => x.id).join(', ')}`, got: id });
  return f;
}
