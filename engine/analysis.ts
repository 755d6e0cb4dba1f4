import type { AttentionKind, Phase, Workload, ParamBreakdown } from './model/types';

/**
 * The one result of `ridgeline analyze`: the CLI's JSON output and what panels render.
 * Fields follow DESIGN.md's CLI contract (camelCase; bytes in bytes, times in seconds).
 */
export interface OpResult {
  name: string;
  phase: Phase;
  layer?: number;
  layers: number;
  flops: number;
  bytes: number;
  /** FLOPs per byte. */
  intensity: number;
  bound: Bound;
  timeS: number;
}

export type Bound = 'compute' | 'memory' | 'overhead';

export interface PhaseResult {
  flops: number;
  bytes: number;
  timeS: number;
  bound: Bound;
}

export interface AnalysisResult {
  model: {
    name: string;
    modelType: string;
    params: ParamBreakdown;
    attention: { kind: AttentionKind; heads: number; kvHeads: number; headDim: number };
    layers: number;
    hiddenSize: number;
    vocabSize: number;
    maxPositionEmbeddings: number | null;
    dtype: string;
  };
  hardware: { id: string; name: string };
  workload: Workload;
  kvCache: { bytesPerToken: number; format: string };
  memory: {
    weightsBytes: number;
    kvCacheBytes: number;
    activationsBytes: number;
    overheadBytes: number;
    totalBytes: number;
    deviceBytes: number;
    fits: boolean;
  };
  prefill: PhaseResult;
  decode: PhaseResult & { tokensPerS: number };
  e2e: { timeS: number; outputTokensPerS: number };
  ops: OpResult[];
  warnings: string[];
}
