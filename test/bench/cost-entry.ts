// Entry point the cost benchmark bundles (see cost.bench.ts): the functions it times.
export { buildGraph, defaultWorkload, loadConfigFile } from '../../engine/model/index';
export { getDevice } from '../../engine/hardware/index';
export { analyze } from '../../engine/analyze';
export { DecodeGraphs } from '../../engine/cost/decode';
export { decodeStepGrid } from '../../engine/cost/grid';
export { stepTimeS } from '../../engine/cost/roofline';
export { costParamsFor } from '../../engine/cost/params';
export { planMemory } from '../../engine/memory/index';
