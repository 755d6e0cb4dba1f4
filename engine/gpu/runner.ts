/**
 * WebGPU runner: one code path for Node (Dawn's `webgpu` package: CLI, tests, extension host) and a webview
 * (`navigator.gpu`). It takes a `GPU` object and never finds one itself (see ./node.ts for Node).
 *
 * What it owns: adapter and device acquisition (with a report of limits and features), a buffer pool,
 * a pipeline cache keyed by kernel + entry point + workgroup configuration (shapes travel in uniforms, never
 * in the key), labelled pipelines and buffers, dispatch, timing (timestamp queries, or wall time around a
 * completed submission where the adapter has none), device-lost handling (a clear message, a fresh device on
 * the next call), a timeout for runaway kernels, and WGSL compile errors with line and column.
 */
import { RidgelineError } from '../errors';

/** GPUBufferUsage flags as numbers, so this module does not depend on the host's globals. */
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

const MAP_MODE_READ = 0x0001;

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  isFallback: boolean;
  features: string[];
  /** Every numeric limit of the device (requested at the adapter's maximum for the ones the kernels use). */
  limits: Record<string, number>;
  shaderF16: boolean;
  timestampQuery: boolean;
  /** WGSL `enable subgroups;` (subgroupAdd...) is available. */
  subgroups: boolean;
}

export interface WgslDiagnostic {
  type: 'error' | 'warning' | 'info';
  line: number;
  column: number;
  message: string;
}

/** A WGSL module failed to compile. `message` is one line: `file:line:column: message`. */
export class WgslCompileError extends RidgelineError {
  readonly diagnostics: WgslDiagnostic[];
  constructor(file: string, diagnostics: WgslDiagnostic[]) {
    const first = diagnostics.find((d) => d.type === 'error') ?? diagnostics[0];
    const more = diagnostics.filter((d) => d.type === 'error').length - 1;
    super(
      first
        ? `${file}:${first.line}:${first.column}: WGSL error: ${first.message.split('\n')[0]}${more > 0 ? ` (and ${more} more)` : ''}`
        : `${file}: WGSL error (no diagnostics reported)`,
      { exitCode: 2, file },
    );
    this.name = 'WgslCompileError';
    this.diagnostics = diagnostics;
  }
}

/** The WGSL text of a kernel and what makes its pipeline distinct. */
export interface KernelSource {
  /** Kernel name (also the file name used in messages: `<name>.wgsl`). */
  name: string;
  code: string;
  entryPoint?: string;
  /** Pipeline-overridable constants (workgroup configuration). Part of the cache key. */
  constants?: Record<string, number>;
  /** File name shown in compile errors; default `kernels/<name>.wgsl`. */
  file?: string;
}

/** One dispatch: a pipeline, its bindings in binding order (group 0), and the workgroup grid. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  /**
   * Buffers bound at @binding(i) of @group(0), index = binding number. `null` leaves a binding out (an
   * entry point that does not use it: `layout: 'auto'` only has the bindings an entry point uses).
   */
  buffers: Array<GPUBuffer | null>;
  workgroups: [number, number?, number?];
  label?: string;
}

export interface RunOptions {
  /** Encode the dispatch sequence this many times in one submission; timeS is per repetition. */
  repeats?: number;
  /** Overrides the runner's timeout for this run (ms). */
  timeoutMs?: number;
  label?: string;
}

export interface RunResult {
  /** Seconds per repetition of the dispatch sequence. */
  timeS: number;
  /** `timestamp`: GPU timestamps around the passes; `wall`: wall time around a completed submission. */
  timing: 'timestamp' | 'wall';
}

export interface PoolStats {
  /** Buffers ever created by the pool on the current device. */
  created: number;
  /** Buffers handed out and not yet released. */
  inUse: number;
  /** Buffers kept for reuse. */
  free: number;
  /** Bytes held by the pool (in use + free). */
  bytes: number;
}

export interface RunnerOptions {
  /** Timeout for one submission to complete, in ms (runaway kernels). Default 30 s. */
  timeoutMs?: number;
  powerPreference?: GPUPowerPreference;
  /** Ask for `shader-f16` when the adapter has it. Default true. */
  f16?: boolean;
  /** Use timestamp queries when the adapter has them. Default true; false times with wall clock. */
  timestamps?: boolean;
}

/** Round a byte size up to the pool's size classes: 256 B minimum, then powers of two up to 1 MiB, then 1 MiB steps. */
function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}

interface Pooled {
  buffer: GPUBuffer;
  size: number;
  usage: number;
}

export class GpuRunner {
  private dev: GPUDevice | null = null;
  private lostMessage: string | null = null;
  private generation = 0;
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly freeList = new Map<string, Pooled[]>();
  private readonly inUse = new Map<GPUBuffer, Pooled>();
  private created = 0;
  private pooledBytes = 0;
  private querySet: GPUQuerySet | null = null;
  private queryResolve: GPUBuffer | null = null;
  private queryRead: GPUBuffer | null = null;
  private reportValue: AdapterReport | null = null;
  readonly timeoutMs: number;

  private constructor(
    private readonly gpu: GPU,
    private readonly opts: RunnerOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Acquires an adapter and a device. Throws RidgelineError (exit 3) when there is no adapter. */
  static async create(gpu: GPU, opts: RunnerOptions = {}): Promise<GpuRunner> {
    const r = new GpuRunner(gpu, opts);
    await r.acquire();
    return r;
  }

  /** Adapter and device report (limits, features). */
  get report(): AdapterReport {
    if (!this.reportValue) throw new RidgelineError('GPU runner has no device', { exitCode: 3 });
    return this.reportValue;
  }

  /** The live device. Throws a clear error when it was lost (the next `ensureDevice()` gets a fresh one). */
  get device(): GPUDevice {
    if (!this.dev) {
      throw new RidgelineError(
        `GPU device lost${this.lostMessage ? `: ${this.lostMessage}` : ''}; a fresh device is created on the next run`,
        { exitCode: 1 },
      );
    }
    return this.dev;
  }

  /** Message of the last device loss, if any. */
  get lastLoss(): string | null {
    return this.lostMessage;
  }

  /** Counts device acquisitions (1 after create, +1 per recovery). */
  get deviceGeneration(): number {
    return this.generation;
  }

  /** Returns a live device, acquiring a fresh one when the previous was lost. */
  async ensureDevice(): Promise<GPUDevice> {
    if (!this.dev) await this.acquire();
    return this.device;
  }

  private async acquire(): Promise<void> {
    const adapter = await this.gpu.requestAdapter({ powerPreference: this.opts.powerPreference ?? 'high-performance' });
    if (!adapter) throw new RidgelineError('no WebGPU adapter found', { exitCode: 3 });
    const wanted: GPUFeatureName[] = [];
    const timestamps = (this.opts.timestamps ?? true) && adapter.features.has('timestamp-query');
    const f16 = (this.opts.f16 ?? true) && adapter.features.has('shader-f16');
    if (timestamps) wanted.push('timestamp-query');
    if (f16) wanted.push('shader-f16');
    if (adapter.features.has('subgroups' as GPUFeatureName)) wanted.push('subgroups' as GPUFeatureName);
    const al = adapter.limits;
    const requiredLimits: Record<string, number> = {
      maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
      maxBufferSize: al.maxBufferSize,
      maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: al.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: al.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: al.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupsPerDimension: al.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: al.maxStorageBuffersPerShaderStage,
    };
    const device = await adapter.requestDevice({ requiredFeatures: wanted, requiredLimits, label: 'ridgeline' });
    this.generation++;
    const gen = this.generation;
    this.dev = device;
    this.lostMessage = null;
    void device.lost.then((info) => {
      if (this.generation !== gen) return;
      this.lostMessage = `${info.reason === 'destroyed' ? 'destroyed' : 'lost'}${info.message ? ` (${info.message.split('\n')[0]})` : ''}`;
      this.dropDeviceState();
    });
    const info = adapter.info;
    const limits: Record<string, number> = {};
    const dl = device.limits as unknown as Record<string, unknown>;
    // Limits are getters on the prototype: walk it, not own keys.
    for (let o: object | null = dl; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const k of Object.getOwnPropertyNames(o)) {
        const v = dl[k];
        if (typeof v === 'number' && !(k in limits)) limits[k] = v;
      }
    }
    const infoAny = info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    this.reportValue = {
      vendor: info.vendor || 'unknown',
      architecture: info.architecture || 'unknown',
      description: info.description || info.device || '',
      isFallback: Boolean(infoAny.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter),
      features: [...device.features].map(String).sort(),
      limits,
      shaderF16: device.features.has('shader-f16'),
      timestampQuery: device.features.has('timestamp-query'),
      subgroups: device.features.has('subgroups' as GPUFeatureName),
    };
  }

  /** Forgets everything tied to the current device (pipelines, pooled buffers, query sets). */
  private dropDeviceState(): void {
    this.dev = null;
    this.pipelines.clear();
    this.freeList.clear();
    this.inUse.clear();
    this.created = 0;
    this.pooledBytes = 0;
    this.querySet = null;
    this.queryResolve = null;
    this.queryRead = null;
  }

  /** Destroys the device and releases everything. The runner can be used again (a fresh device). */
  destroy(): void {
    const d = this.dev;
    for (const list of this.freeList.values()) for (const p of list) p.buffer.destroy();
    for (const p of this.inUse.values()) p.buffer.destroy();
    this.querySet?.destroy();
    this.queryResolve?.destroy();
    this.queryRead?.destroy();
    this.generation++; // the coming `lost` promise belongs to a device we dropped on purpose
    this.lostMessage = 'destroyed by the runner';
    this.dropDeviceState();
    d?.destroy();
  }

  // ---------------------------------------------------------------- buffers

  /** A buffer from the pool (size rounded up to a size class). Release it with `release()`. */
  acquireBuffer(label: string, sizeBytes: number, usage: number = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST): GPUBuffer {
    const device = this.device;
    const size = sizeClass(sizeBytes);
    const key = `${size}:${usage}`;
    const list = this.freeList.get(key);
    let p = list?.pop();
    if (!p) {
      const buffer = device.createBuffer({ label: `ridgeline:${label}`, size, usage });
      p = { buffer, size, usage };
      this.created++;
      this.pooledBytes += size;
    } else {
      p.buffer.label = `ridgeline:${label}`;
    }
    this.inUse.set(p.buffer, p);
    return p.buffer;
  }

  /** Returns buffers to the pool. Buffers from a lost device are dropped silently. */
  release(...buffers: GPUBuffer[]): void {
    for (const b of buffers) {
      const p = this.inUse.get(b);
      if (!p) continue;
      this.inUse.delete(b);
      const key = `${p.size}:${p.usage}`;
      const list = this.freeList.get(key) ?? [];
      list.push(p);
      this.freeList.set(key, list);
    }
  }

  /** Destroys pooled buffers that are not in use. */
  trimPool(): void {
    for (const list of this.freeList.values()) {
      for (const p of list) {
        p.buffer.destroy();
        this.pooledBytes -= p.size;
      }
    }
    this.freeList.clear();
  }

  poolStats(): PoolStats {
    let free = 0;
    for (const l of this.freeList.values()) free += l.length;
    return { created: this.created, inUse: this.inUse.size, free, bytes: this.pooledBytes };
  }

  /** A storage buffer from the pool holding `data`. */
  upload(label: string, data: ArrayBufferView, usage: number = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST): GPUBuffer {
    const b = this.acquireBuffer(label, data.byteLength, usage | Usage.COPY_DST);
    this.write(b, data);
    return b;
  }

  write(buffer: GPUBuffer, data: ArrayBufferView, offsetBytes = 0): void {
    // writeBuffer needs a multiple of 4 bytes.
    const n = Math.ceil(data.byteLength / 4) * 4;
    if (n !== data.byteLength) {
      const padded = new Uint8Array(n);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.device.queue.writeBuffer(buffer, offsetBytes, padded);
    } else {
      this.device.queue.writeBuffer(buffer, offsetBytes, data.buffer, data.byteOffset, data.byteLength);
    }
  }

  /** A uniform buffer (from the pool) holding 32-bit words: u32 for integers, f32 where `floats` marks them. */
  uniforms(label: string, words: Array<number | { f32: number }>): GPUBuffer {
    const u = new Uint32Array(Math.max(4, Math.ceil(words.length / 4) * 4));
    const f = new Float32Array(u.buffer);
    words.forEach((w, i) => {
      if (typeof w === 'number') u[i] = w >>> 0;
      else f[i] = w.f32;
    });
    return this.upload(label, u, Usage.UNIFORM | Usage.COPY_DST);
  }

  /** Copies `bytes` bytes of `buffer` back to the CPU. */
  async read(buffer: GPUBuffer, bytes: number, timeoutMs = this.timeoutMs): Promise<ArrayBuffer> {
    const device = this.device;
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.acquireBuffer('readback', size, Usage.MAP_READ | Usage.COPY_DST);
    try {
      const enc = device.createCommandEncoder({ label: 'ridgeline:readback' });
      enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
      device.queue.submit([enc.finish()]);
      await this.withTimeout(staging.mapAsync(MAP_MODE_READ, 0, size), timeoutMs, 'reading results back');
      const out = staging.getMappedRange(0, size).slice(0, bytes);
      staging.unmap();
      return out;
    } finally {
      this.release(staging);
    }
  }

  // ---------------------------------------------------------------- pipelines

  /**
   * Compiles a WGSL module (cached by its text) and reports diagnostics. Throws WgslCompileError with line
   * and column on error. Use it to check a user's kernel without running it.
   */
  async compile(src: KernelSource): Promise<{ module: GPUShaderModule; diagnostics: WgslDiagnostic[] }> {
    const device = this.device;
    const file = src.file ?? `kernels/${src.name}.wgsl`;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: `ridgeline:${src.name}`, code: src.code });
    const info = await module.getCompilationInfo();
    const scopeErr = await device.popErrorScope();
    const diagnostics: WgslDiagnostic[] = info.messages.map((m) => ({
      type: m.type,
      line: m.lineNum,
      column: m.linePos,
      message: m.message,
    }));
    if (diagnostics.some((d) => d.type === 'error')) throw new WgslCompileError(file, diagnostics);
    if (scopeErr) throw new WgslCompileError(file, [{ type: 'error', line: 0, column: 0, message: scopeErr.message }]);
    return { module, diagnostics };
  }

  /** A compute pipeline, cached by kernel name + entry point + constants + a hash of the text. */
  pipeline(src: KernelSource): Promise<GPUComputePipeline> {
    const device = this.device;
    const entryPoint = src.entryPoint ?? 'main';
    const constants = src.constants ?? {};
    const constKey = Object.keys(constants)
      .sort()
      .map((k) => `${k}=${constants[k]}`)
      .join(',');
    const key = `${src.name}|${entryPoint}|${constKey}|${hashText(src.code)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = (async () => {
        const { module } = await this.compile(src);
        device.pushErrorScope('validation');
        const pipe = await device.createComputePipelineAsync({
          label: `ridgeline:${src.name}:${entryPoint}${constKey ? `[${constKey}]` : ''}`,
          layout: 'auto',
          compute: { module, entryPoint, constants },
        });
        const err = await device.popErrorScope();
        if (err) throw new RidgelineError(`${src.file ?? `kernels/${src.name}.wgsl`}: pipeline error: ${err.message.split('\n')[0]}`);
        return pipe;
      })();
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  /** Number of cached pipelines (for tests: shapes must not add entries). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  // ---------------------------------------------------------------- dispatch and timing

  private ensureQueries(): void {
    if (this.querySet || !this.reportValue?.timestampQuery) return;
    const device = this.device;
    this.querySet = device.createQuerySet({ label: 'ridgeline:timestamps', type: 'timestamp', count: 2 });
    this.queryResolve = device.createBuffer({
      label: 'ridgeline:timestamps-resolve',
      size: 16,
      usage: Usage.QUERY_RESOLVE | Usage.COPY_SRC,
    });
    this.queryRead = device.createBuffer({ label: 'ridgeline:timestamps-read', size: 16, usage: Usage.MAP_READ | Usage.COPY_DST });
  }

  /**
   * Runs a sequence of dispatches (`repeats` times in one submission, one compute pass each) and waits for
   * completion. Timing: GPU timestamps from the start of the first pass to the end of the last where the
   * device has `timestamp-query`, otherwise wall time around the submission. Throws on validation errors,
   * on a timeout (the device is then dropped, a fresh one comes next time) and on device loss.
   */
  async run(dispatches: Dispatch[], opts: RunOptions = {}): Promise<RunResult> {
    const device = this.device;
    const repeats = Math.max(1, Math.floor(opts.repeats ?? 1));
    this.ensureQueries();
    const useTs = this.querySet !== null;
    const bindGroups = dispatches.map((d, i) =>
      device.createBindGroup({
        label: `ridgeline:${d.label ?? opts.label ?? 'dispatch'}:${i}`,
        layout: d.pipeline.getBindGroupLayout(0),
        entries: d.buffers.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : [])),
      }),
    );
    device.pushErrorScope('validation');
    const enc = device.createCommandEncoder({ label: `ridgeline:${opts.label ?? 'run'}` });
    const passes = repeats * dispatches.length;
    let n = 0;
    for (let r = 0; r < repeats; r++) {
      dispatches.forEach((d, i) => {
        const first = n === 0;
        const last = n === passes - 1;
        const timestampWrites: GPUComputePassTimestampWrites | undefined =
          useTs && (first || last)
            ? {
                querySet: this.querySet!,
                ...(first ? { beginningOfPassWriteIndex: 0 } : {}),
                ...(last ? { endOfPassWriteIndex: 1 } : {}),
              }
            : undefined;
        const pass = enc.beginComputePass({ label: `ridgeline:${d.label ?? 'pass'}`, ...(timestampWrites ? { timestampWrites } : {}) });
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, bindGroups[i]!);
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1] ?? 1, d.workgroups[2] ?? 1);
        pass.end();
        n++;
      });
    }
    if (useTs) {
      enc.resolveQuerySet(this.querySet!, 0, 2, this.queryResolve!, 0);
      enc.copyBufferToBuffer(this.queryResolve!, 0, this.queryRead!, 0, 16);
    }
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    const err = await device.popErrorScope();
    if (err) throw new RidgelineError(`GPU validation error in ${opts.label ?? 'dispatch'}: ${err.message.split('\n')[0]}`, { exitCode: 1 });
    await this.withTimeout(device.queue.onSubmittedWorkDone(), opts.timeoutMs ?? this.timeoutMs, opts.label ?? 'kernel');
    const wallS = (performance.now() - t0) / 1000;
    if (useTs) {
      await this.withTimeout(this.queryRead!.mapAsync(MAP_MODE_READ), opts.timeoutMs ?? this.timeoutMs, 'timestamps');
      const ts = new BigUint64Array(this.queryRead!.getMappedRange().slice(0));
      this.queryRead!.unmap();
      const ns = Number(ts[1]! - ts[0]!);
      // Some drivers report zeros or an inverted pair; trust wall time then.
      if (ts[1]! > ts[0]! && ns > 0 && ns / 1e9 <= wallS * 1.5 + 1e-3) return { timeS: ns / 1e9 / repeats, timing: 'timestamp' };
    }
    return { timeS: wallS / repeats, timing: 'wall' };
  }

  /**
   * Waits for `p`; after `ms` the device is dropped (a runaway kernel holds the queue) and a clear error is
   * thrown. The next `ensureDevice()` acquires a fresh device.
   */
  private async withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const d = this.dev;
        this.generation++;
        this.lostMessage = `${what} did not finish within ${(ms / 1000).toFixed(1)} s`;
        this.dropDeviceState();
        try {
          d?.destroy();
        } catch {
          /* already gone */
        }
        reject(new RidgelineError(`GPU timeout: ${what} did not finish within ${(ms / 1000).toFixed(1)} s; the device was reset`, { exitCode: 1 }));
      }, ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } catch (e) {
      if (!(e instanceof RidgelineError) && !this.dev) {
        throw new RidgelineError(`GPU device lost${this.lostMessage ? `: ${this.lostMessage}` : ''} during ${what}; a fresh device is created on the next run`, { exitCode: 1 });
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** FNV-1a of a string: distinguishes kernel texts in the pipeline cache key. */
function hashText(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
