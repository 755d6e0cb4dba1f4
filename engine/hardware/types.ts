import type { Dtype } from '../model/types';

/**
 * One device. Figures are dense (never 2:4 sparse) vendor datasheet numbers unless `measured`.
 * Units in names: bytes, bytes/s, FLOP/s, watts.
 */
export interface Device {
  id: string;
  name: string;
  vendor: string;
  memoryBytes: number;
  memoryBandwidthBytesPerS: number;
  /** Dense peak per dtype the device computes natively; absent = not supported natively. */
  peakFlopsPerS: Partial<Record<Dtype, number>>;
  l2CacheBytes?: number;
  sharedMemoryPerSmBytes?: number;
  /** Largest shared memory one block / workgroup may use. */
  maxSharedMemoryPerBlockBytes?: number;
  smCount?: number;
  maxThreadsPerSm?: number;
  maxThreadsPerBlock?: number;
  registersPerSm?: number;
  /** Most resident blocks per SM (CUDA: 16 on cc 7.5 and 8.6, 24 on 8.9, 32 on 7.0, 8.0, 9.0 and 10.0). */
  maxBlocksPerSm?: number;
  /** Shared memory the system reserves per resident block (CUDA: 1 KiB from cc 8.0, none before). */
  reservedSharedMemoryPerBlockBytes?: number;
  /** SIMD width: 32 (NVIDIA warp), 64 (AMD wavefront on CDNA). */
  simdWidth?: number;
  /**
   * The link a tensor-parallel all-reduce runs over, bytes/s per direction. `groupSize` and `beyondGroup`
   * describe a device whose fast link joins only a small group (the two GCDs of an MI250X card): a ring over
   * more than `groupSize` devices runs at `beyondGroup`, its slowest hop.
   */
  interconnect?: { kind: string; bandwidthBytesPerS: number; groupSize?: number; beyondGroup?: { kind: string; bandwidthBytesPerS: number } };
  tdpWatts?: number;
  /**
   * Factor on the memory efficiency of every op class for this device: the share of the datasheet bandwidth its
   * streaming kernels reach, relative to what the defaults assume (engine/cost/defaults.json). Absent = 1.
   */
  memoryEfficiencyScale?: number;
  /** Where memoryEfficiencyScale comes from. */
  memoryEfficiencySource?: string;
  /**
   * Factor on the compute efficiency of the matrix-unit op classes (GEMM and attention) for this device: the clock
   * its dense matrix kernels run at, as a share of the boost clock its datasheet peaks assume, where that share is
   * far below the one of the GPUs the defaults were fitted on (engine/cost/defaults.json). Absent = 1.
   */
  computeEfficiencyScale?: number;
  /** Where computeEfficiencyScale comes from. */
  computeEfficiencySource?: string;
  /**
   * Factor on the memory efficiency of matrix-vector products over quantized weights (GEMMs of up to 8 rows that
   * dequantize each weight in the kernel: decode, and a short prefill's LM head), on top of memoryEfficiencyScale,
   * for every quantized format: where those kernels reach less of the bandwidth than 16-bit ones (llama.cpp's Metal
   * mat-vec kernels on Apple GPUs). A measured device's own efficiencies replace it. Absent = 1.
   */
  quantizedMemoryEfficiencyScale?: number;
  /** Where quantizedMemoryEfficiencyScale comes from. */
  quantizedMemoryEfficiencySource?: string;
  /**
   * Dense FP16 tensor peak with FP16 accumulation, where the datasheet lists it above the FP32-accumulate figure
   * in peakFlopsPerS.fp16 (GeForce cards run FP32 accumulation at half rate). Used only by cost parameters that
   * say the engine accumulates in FP16 (fp16AccumulateGemm). Absent = the fp16 peak either way.
   */
  fp16AccumulateFlopsPerS?: number;
  /** Datasheet or measurement the figures come from. */
  source: string;
  /** Set for devices measured on this machine by the WebGPU microbenchmarks. */
  measured?: {
    adapter: string;
    dispatchOverheadS: number;
    /** Efficiency per op class derived from the measured kernels (replaces the defaults). */
    efficiency?: Partial<Record<string, number>>;
    dateIso: string;
  };
}
