/** Model analysis: Hugging Face config.json -> ModelSpec (exact parameters) -> per-phase op graph, KV layout. */
export * from './types';
export { parseConfig, loadConfigFile, SUPPORTED_MODEL_TYPES } from './parse';
export { countParams, attentionParamsPerLayer, denseMlpParams, expertParams, sharedExpertParams, routerParams, mtpParams } from './params';
export { buildGraph, graphTotals, type GraphOptions, defaultWorkload, computedPromptTokens, withPrefixHit, tpSplit, tpReplicatedParams, causalPairs, activationFormat, ACTIVATION_FORMAT_IDS } from './graph';
export { kvCacheLayout, kvBytesPerToken, kvElementsPerToken, type KvLayoutGroup } from './kv';
