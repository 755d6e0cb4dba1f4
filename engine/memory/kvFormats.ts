import { inputError } from '../errors';
import table from './kv-formats.json';

/**
 * KV-cache storage formats: the bits each cached element really costs, scales included.
 * The table (kv-formats.json) carries a source per row. `bitsPerElement` is the long-context average
 * (what the op graph charges per cached element); the exact bytes at a given context, with the
 * full-precision recent window of grouped formats, come from `tensorBytes` in kvCache.ts.
 */
/**
 * plain: the element alone; per-tensor: one scale per K and per V tensor of a layer; grouped: KIVI's layout (keys per
 * channel over groups of tokens, values per token, a full-precision residual); block: llama.cpp's cache types, each
 * token's K and V row cut into blocks of groupSize elements along the head dimension, one scale per block.
 */
export type KvScheme = 'plain' | 'per-tensor' | 'grouped' | 'block';

export interface KvFormat {
  id: string;
  aliases: string[];
  label: string;
  /** Bits per cached K or V element, amortized scale overhead included (long-context average). */
  bitsPerElement: number;
  scheme: KvScheme;
  /** Bits of the stored element itself, scales excluded. */
  elementBits: number;
  /** per-tensor: bits of the one scale per K and per V tensor of a layer (fixed, not per token). */
  scaleBitsPerTensor: number;
  /** grouped: elements sharing one scale and zero point (keys: tokens of one channel; values: channels of one token). */
  groupSize: number;
  /** grouped: newest tokens kept at full precision until a group is complete. */
  residualTokens: number;
  /** grouped: bits of each group's scale and zero point. */
  scaleBits: number;
  zeroBits: number;
  /** grouped: bits of the full-precision residual elements. */
  fullPrecisionBits: number;
  /** Serving engines that run this cache type (llama.cpp's q8_0 and q4_0); unset: any. */
  servingEngines?: string[];
  source: string;
}

interface Row {
  id: string;
  aliases: string[];
  label: string;
  scheme: string;
  elementBits: number;
  scaleBitsPerTensor?: number;
  groupSize?: number;
  residualTokens?: number;
  scaleBits?: number;
  zeroBits?: number;
  fullPrecisionBits?: number;
  servingEngines?: string[];
  source: string;
}

function fromRow(r: Row): KvFormat {
  const scheme = r.scheme as KvScheme;
  const f: KvFormat = {
    id: r.id,
    aliases: r.aliases,
    label: r.label,
    bitsPerElement: r.elementBits,
    scheme,
    elementBits: r.elementBits,
    scaleBitsPerTensor: r.scaleBitsPerTensor ?? 0,
    groupSize: r.groupSize ?? 0,
    residualTokens: r.residualTokens ?? 0,
    scaleBits: r.scaleBits ?? 0,
    zeroBits: r.zeroBits ?? 0,
    fullPrecisionBits: r.fullPrecisionBits ?? r.elementBits,
    servingEngines: r.servingEngines,
    source: r.source,
  };
  f.bitsPerElement = averageBits(f);
  return f;
}

/** Long-context bits per element: grouped and block formats pay (scale + zero) / groupSize on top of the element. */
function averageBits(f: KvFormat): number {
  return f.scheme === 'grouped' || f.scheme === 'block' ? f.elementBits + (f.scaleBits + f.zeroBits) / f.groupSize : f.elementBits;
}

const KV_FORMATS: KvFormat[] = (table.formats as Row[]).map(fromRow);

export function listKvFormats(): readonly KvFormat[] {
  return KV_FORMATS;
}

export function kvFormat(id: string, field = '--kv'): KvFormat {
  const key = id.toLowerCase();
  const f = KV_FORMATS.find((x) => x.id === key || x.aliases.includes(key));
  if (!f) throw inputError({ field, expected: `a KV-cache format: ${KV_FORMATS.map((x) => x.id).join(', ')}`, got: id });
  return f;
}

/**
 * A grouped format with another group size and/or residual length (KIVI's G and R). The residual
 * length must be a multiple of the group size (keys are quantized a whole group of tokens at a time).
 */
export function withGrouping(f: KvFormat, o: { groupSize?: number; residualTokens?: number }): KvFormat {
  if (o.groupSize === undefined && o.residualTokens === undefined) return f;
  if (f.scheme !== 'grouped') {
    throw inputError({ field: o.groupSize !== undefined ? '--group' : '--residual', expected: `a grouped KV format (--kv int8, int4 or int2) for the group size and residual options`, got: f.id });
  }
  const groupSize = o.groupSize ?? f.groupSize;
  const residualTokens = o.residualTokens ?? f.residualTokens;
  if (!Number.isSafeInteger(groupSize) || groupSize < 1 || groupSize > 4096) {
    throw inputError({ field: '--group', expected: 'a group size from 1 to 4096', got: groupSize });
  }
  if (!Number.isSafeInteger(residualTokens) || residualTokens < 0 || residualTokens % groupSize !== 0) {
    throw inputError({ field: '--residual', expected: `a residual length >= 0 and a multiple of the group size ${groupSize}`, got: residualTokens });
  }
  const g: KvFormat = { ...f, groupSize, residualTokens, label: `${f.label.replace(/\(.*\)$/, '').trim()} (g${groupSize}, recent ${residualTokens})` };
  g.bitsPerElement = averageBits(g);
  return g;
}

/** Format id for a model's own parameter dtype (the default `--kv`). */
export function defaultKvFormatId(dtype: string): string {
  return dtype === 'fp32' ? 'fp32' : dtype === 'bf16' ? 'bf16' : 'fp16';
}
