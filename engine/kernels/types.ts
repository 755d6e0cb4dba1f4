/**
 * Results of kernel source analysis: what `ridgeline kernels` prints as JSON and what the extension
 * turns into code lenses, hovers and diagnostics. Lines are 1-based; columns are 1-based (UTF-16 units).
 */
import type { Dtype } from '../model/types';

export type KernelLanguage = 'cuda' | 'triton' | 'wgsl';
export type Severity = 'error' | 'warning' | 'info';
export type Bound = 'memory' | 'compute';

export interface KernelDiagnostic {
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  /** Stable code, `RL001`..; see LINT_RULES. */
  code: string;
  severity: Severity;
  message: string;
  /** Kernel the finding belongs to, when it belongs to one. */
  kernel?: string;
  /** A concrete change that fixes it, when one is obvious. */
  fix?: string;
}

export interface KernelParam {
  name: string;
  /** Type as written (`const float*`, `array<f32>`, `tl.constexpr`, or '' when untyped). */
  type: string;
  /** `global` for pointers / storage buffers, `constexpr` for Triton compile-time values, else `value`. */
  kind: 'global' | 'value' | 'constexpr';
}

export interface KernelLaunch {
  /** 1-based line of the launch site (CUDA `<<<>>>`, Triton `kernel[grid](...)`) or the annotation (WGSL). */
  line: number;
  /** Grid / dispatch in workgroups, when every dimension resolves to a number. */
  grid: [number, number, number] | null;
  /** Threads per block (CUDA) when it resolves. */
  block: [number, number, number] | null;
  /** Dynamic shared memory bytes (third `<<<>>>` argument), 0 when absent. */
  dynamicSharedMemoryBytes: number | null;
  /** Source text of the launch configuration, for display. */
  text: string;
}

export interface KernelLoop {
  line: number;
  /** Loop variable, when the loop has one. */
  variable: string | null;
  /** Iterations per thread (per program for Triton) when known from constants and dims; null otherwise. */
  tripCount: number | null;
  /** True when the trip count follows from the source alone (no problem dims needed). */
  constant: boolean;
  /** Nesting depth inside the kernel, 1 = outermost loop. */
  depth: number;
}

export interface Occupancy {
  threadsPerBlock: number;
  sharedMemoryPerBlockBytes: number;
  blocksPerSm: number;
  /** Resident warps / max warps per SM, 0..1. */
  occupancy: number;
  /** What limits resident blocks: `threads`, `sharedMemory` or `blocks`. */
  limitedBy: 'threads' | 'sharedMemory' | 'blocks';
  /** Registers are not known from source: the figure is an upper bound. */
  note: string;
}

export interface KernelEstimate {
  /** FLOPs per launch (a count, 2 per multiply-add). */
  flops: number;
  /** Global-memory bytes per launch as requested by the threads (no cache reuse assumed beyond registers). */
  bytes: number;
  /** FLOPs per byte. */
  intensity: number;
  /** The dtype whose peak applies. */
  dtype: Dtype;
  /** Threads (CUDA/WGSL invocations) or programs (Triton) per launch. */
  threads: number;
  /** Present when a device is given: roofline bound and time on it. */
  device?: {
    id: string;
    peakFlopsPerS: number;
    bandwidthBytesPerS: number;
    /** Ridge point of the device for `dtype`: FLOPs per byte. */
    ridgeIntensity: number;
    bound: Bound;
    /** max(flops / peak, bytes / bandwidth): the roofline lower bound. */
    timeS: number;
  };
  /** Where each figure came from (`flops from annotation`, `trip count of loop at line 12 from K`...). */
  notes: string[];
}

export interface KernelInfo {
  name: string;
  /** 1-based line of the kernel's name. */
  line: number;
  column: number;
  endLine: number;
  language: KernelLanguage;
  params: KernelParam[];
  /** Threads per workgroup / block as [x, y, z]; for Triton [num_warps x 32, 1, 1]. null when unknown. */
  workgroupSize: [number, number, number] | null;
  /** Static shared / workgroup memory plus dynamic shared memory at the first launch. null when unknown. */
  sharedMemoryBytes: number | null;
  /** Triton: compile-time block sizes (first autotune config, or launch keywords). */
  constexprs?: Record<string, number>;
  /** Triton: every autotune config as given. */
  configs?: Array<{ values: Record<string, number>; numWarps: number | null; numStages: number | null }>;
  launches: KernelLaunch[];
  loops: KernelLoop[];
  /** Global loads and stores per thread (per program for Triton), counted in the source, loops weighted by trip count when known. */
  globalLoadsPerThread: number | null;
  globalStoresPerThread: number | null;
  estimate?: KernelEstimate;
  /** Why there is no estimate (missing dims, unknown grid, unknown trip count). */
  estimateUnavailable?: string;
  occupancy?: Occupancy;
  /** WGSL: the resource bindings the entry point uses (directly or through the functions it calls). */
  bindings?: KernelBinding[];
}

export interface KernelBinding {
  group: number;
  binding: number;
  name: string;
  /** `storage`, `uniform`, `handle` (textures, samplers). */
  space: string;
  /** `read`, `read_write` or '' (uniform). */
  access: string;
  type: string;
  /** Bytes of one array element (runtime-sized arrays), or of the whole variable otherwise; null when unknown. */
  elementBytes: number | null;
  /** True for runtime-sized arrays: the size comes from the buffer bound. */
  runtimeSized: boolean;
  /** Scalar type of the data (`f32`, `u32`, ...), when there is one. */
  scalar: string | null;
  /** Struct members (uniform structs), for filling dims by name when profiling. */
  members?: Array<{ name: string; offsetBytes: number; scalar: string | null }>;
}

export interface KernelFileReport {
  file: string;
  language: KernelLanguage;
  /** Problem dims used (annotation merged with options; options win). */
  dims: Record<string, number>;
  kernels: KernelInfo[];
  diagnostics: KernelDiagnostic[];
}

/** One change to a document, 0-based positions in the text before the change (VS Code contentChanges order). */
export interface KernelTextEdit {
  startOffset: number;
  oldEndOffset: number;
  startLine: number;
  startColumn: number;
  oldEndLine: number;
  oldEndColumn: number;
  newText: string;
}
