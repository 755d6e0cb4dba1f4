// Entry point the kernel benchmark bundles (see kernels.bench.ts): what it times, as the CLI and extension ship it.
export { KernelAnalyzer } from '../../engine/kernels/index';
export { TreeStore } from '../../engine/kernels/parser';
export { SyntaxSource, readTopLevel, directRead, setDirectRead } from '../../engine/kernels/syntax';
export { cudaUnit } from '../../engine/kernels/cuda';
export { getDevice } from '../../engine/hardware/index';
