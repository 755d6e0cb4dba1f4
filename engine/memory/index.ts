/** KV cache and memory planning. */
export { kvFormat, listKvFormats, withGrouping, defaultKvFormatId, type KvFormat, type KvScheme } from './kvFormats';
export {
  kvLayout,
  kvUse,
  kvBytesPerToken,
  bytesPerTokenOf,
  tensorBytes,
  exactTensorBytes,
  fixedKvBytes,
  keptTokens,
  blocksFor,
  evicts,
  DEFAULT_POLICY,
  type KvRole,
  type KvTensor,
  type KvGroupLayout,
  type KvLayout,
  type KvPolicy,
  type KvGroupUse,
  type KvUse,
  type KvRequest,
} from './kvCache';
export {
  planMemory,
  policyFrom,
  maxSequences,
  maxContext,
  peakActivations,
  DEFAULT_UTILIZATION,
  DEFAULT_PREFILL_CHUNK_TOKENS,
  DEFAULT_OVERHEAD,
  DEFAULT_OVERHEAD_BYTES,
  MAX_CONTEXT_SEARCH_TOKENS,
  type MemoryOptions,
  type MemoryPlan,
  type OverheadItem,
} from './plan';
export { evictionWarnings, PAPERS } from './eviction';
export { kvReport, REPORT_CONTEXTS, type KvReport } from './kvReport';
