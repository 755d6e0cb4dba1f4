/** The cost model: roofline per kernel with real-kernel effects, decode graphs over (batch, context), validation. */
export { costParamsFor, defaultCostParams, type CostParams, type ClassEfficiency } from './params';
export { peakFor, paddedM, matrixUnits, costKernel, costOps, kernels, stepTimeS, stepSummary, type Bound, type OpCost, type CostContext, type PeakChoice } from './roofline';
export { DecodeGraphs, interpolable } from './decode';
export { runValidation, validationRows, metricOf, type ValidationRow, type ValidationResult } from './validate';
