/**
 * Kernel source analysis: CUDA, Triton and WGSL kernels read with tree-sitter.
 * Entry point: KernelAnalyzer (engine/kernels/analyzer.ts).
 */
export { KernelAnalyzer, languageOf, skipReason, MAX_SOURCE_BYTES, type AnalyzeOptions } from './analyzer';
export { LINT_RULES, rule, type LintRule } from './lints';
export { DIM_EXPECTED, MAX_DIM, dimsNotInSource, isDimValue, parseAnnotations, parseDimsOption, type Annotation, type DimsOption } from './annotations';
export { CUDA_DEFAULTS, WEBGPU_DEFAULTS } from './analyze';
export { renderKernelTable } from './render';
export * from './types';
