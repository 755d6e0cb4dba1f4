/** The cost model: roofline per kernel with real-kernel effects, decode graphs over (batch, context), validation. */
export { costParamsFor, defaultCostParams, type CostParams, type ClassEfficiency } from './params';
export { peakFor, paddedM, matrixUnits, costKernel, costOps, kernels, stepTimeS, stepSummary, type Bound, type OpCost, type CostContext, type PeakChoice } from './roofline';
export { DecodeGraphs, interpolable, contextAffine, CONTEXT_STEP } from './decode';
export { StepLine } from './step';
export { decodeStepGrid } from './grid';
export { runValidation, validationRows, metricOf, type ValidationRow, type ValidationResult } from './validate';
