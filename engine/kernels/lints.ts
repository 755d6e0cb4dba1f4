/**
 * Lint rules for kernel sources: stable codes, default severity and the explanation shown in hovers
 * and in the README table. Codes are never renumbered; a retired rule keeps its code unused.
 */
import type { Severity } from './types';

export interface LintRule {
  code: string;
  name: string;
  severity: Severity;
  /** Why it matters, in one or two sentences. */
  explanation: string;
}

export const LINT_RULES: readonly LintRule[] = [
  {
    code: 'RL001',
    name: 'workgroup-size-simd',
    severity: 'warning',
    explanation:
      'Threads per block / workgroup is not a multiple of the SIMD width (32 on NVIDIA, 64 on AMD CDNA wavefronts). The last warp runs partly empty: those lanes are paid for and do nothing.',
  },
  {
    code: 'RL002',
    name: 'workgroup-size-limit',
    severity: 'error',
    explanation:
      'Threads per block / workgroup exceed the device limit (CUDA: 1024 per block; WebGPU default: 256 invocations, 256 x 256 x 64 per dimension). The launch or pipeline creation fails.',
  },
  {
    code: 'RL003',
    name: 'shared-memory-limit',
    severity: 'error',
    explanation:
      'Shared / workgroup memory exceeds what one block may use (CUDA: 48 KiB static, more only as opt-in dynamic memory up to the device maximum; WebGPU default: 16 KiB). Compilation or the launch fails.',
  },
  {
    code: 'RL004',
    name: 'shared-memory-race',
    severity: 'warning',
    explanation:
      'Shared / workgroup memory written by one thread is read (or overwritten) by another without a barrier in between (__syncthreads / workgroupBarrier). Loop-carried cases count: a tile overwritten by the next iteration before every thread has finished reading it.',
  },
  {
    code: 'RL005',
    name: 'untiled-global-loop',
    severity: 'info',
    explanation:
      'Global memory is read inside the innermost loop at an address other threads of the block read too, and the loop does not stage data through shared memory. Each element is fetched many times from L2/DRAM; tiling through shared memory (or registers) cuts traffic by the tile size.',
  },
  {
    code: 'RL006',
    name: 'uncoalesced-access',
    severity: 'warning',
    explanation:
      'The fastest-varying thread index (threadIdx.x, local/global_invocation_id.x) is multiplied by a row stride in a global address, or indexes a slow array dimension. Neighbouring threads touch addresses far apart, so a warp needs many memory transactions instead of one or a few.',
  },
  {
    code: 'RL007',
    name: 'f32-memory-bound',
    severity: 'info',
    explanation:
      'The kernel moves f32 data and is memory bound on the chosen device, which supports f16/bf16. Storing the data in 16-bit halves the bytes and, for a memory-bound kernel, roughly halves the time (accumulate in f32 if precision needs it).',
  },
  {
    code: 'RL008',
    name: 'syntax-error',
    severity: 'error',
    explanation: 'The parser found a syntax error, or a declaration nests too deeply to analyze (parentheses or blocks hundreds to thousands of levels deep). Results are partial: kernels around it are still analyzed.',
  },
  {
    code: 'RL009',
    name: 'low-occupancy',
    severity: 'info',
    explanation:
      'Threads per block and shared memory per block let fewer than a quarter of the SM warp slots be resident (registers not counted). Low occupancy leaves too few warps to hide memory latency unless the kernel has a lot of instruction-level parallelism.',
  },
  {
    code: 'RL010',
    name: 'barrier-in-divergent-branch',
    severity: 'warning',
    explanation:
      'A barrier inside a branch that depends on the thread index: threads that skip the branch never reach it. In CUDA this is undefined behaviour (often a hang); in WGSL it violates uniformity and the shader is rejected.',
  },
  {
    code: 'RL011',
    name: 'arange-not-power-of-two',
    severity: 'error',
    explanation:
      'Triton: `tl.arange(lo, hi)` needs hi - lo to be a power of two (block shapes are powers of two). Round the block size up with triton.next_power_of_2 and mask the tail.',
  },
];

export function rule(code: string): LintRule {
  const r = LINT_RULES.find((x) => x.code === code);
  if (!r) throw new Error(`unknown lint code ${code}`);
  return r;
}
