/**
 * Profile Kernel: runs a user's WGSL compute entry point on the WebGPU adapter through the engine's runner
 * and times it. The launch comes from the kernel's annotation (`// ridgeline: dispatch=X,Y,Z` and
 * `buffers=binding:elements,...`, evaluated with the file's dims); uniform structs are filled from the dims
 * by member name (e.g. `struct Params { M: u32, N: u32 }`). FLOPs and bytes per launch are the kernel
 * analysis' estimate, so the measured time lands on the roofline as FLOP/s and bytes/s.
 */
import { evalExpr } from '../engine/kernels/ir';
import { parseAnnotations } from '../engine/kernels/annotations';
import type { KernelDiagnostic, KernelInfo } from '../engine/kernels/types';
import { RidgelineError } from '../engine/errors';
import type { ProfileOutcome } from './gpu';
import type { Settings } from './settings';
import type { GpuState } from './statusBar';

interface Binding {
  binding: number;
  name: string;
  space: 'storage' | 'uniform';
  /** Bytes per array element (storage) or the struct type name (uniform). */
  elementBytes: number;
  typeName: string;
}

const ELEMENT_BYTES: Record<string, number> = { f32: 4, u32: 4, i32: 4, f16: 2, 'vec2<f32>': 8, 'vec4<f32>': 16, 'vec2<f16>': 4, 'vec4<f16>': 8, vec4f: 16, vec2f: 8, vec4h: 8 };

/** Group-0 bindings declared in the module, read from their declarations. */
export function wgslBindings(source: string): Binding[] {
  const out: Binding[] = [];
  const re = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var<\s*(storage|uniform)[^>]*>\s*([A-Za-z_]\w*)\s*:\s*([^;]+);/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const type = m[4]!.trim();
    const arr = /^array<\s*([^,>]+(?:<[^>]+>)?)/.exec(type);
    out.push({ binding: Number(m[1]), space: m[2] as 'storage' | 'uniform', name: m[3]!, elementBytes: arr ? (ELEMENT_BYTES[arr[1]!.trim()] ?? 4) : 4, typeName: type });
  }
  return out;
}

/** Member names of a WGSL struct, in order. */
function structMembers(source: string, name: string): string[] {
  const m = new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`).exec(source);
  if (!m) return [];
  return m[1]!
    .split(/[,;\n]/)
    .map((x) => /^\s*(?:@\w+(?:\([^)]*\))?\s*)*([A-Za-z_]\w*)\s*:/.exec(x)?.[1])
    .filter((x): x is string => Boolean(x));
}

export async function profileWgsl(source: string, file: string, k: KernelInfo, s: Settings, setGpu: (st: GpuState) => void): Promise<ProfileOutcome> {
  const notes: KernelDiagnostic[] = [];
  const anns = parseAnnotations(source, notes);
  // The annotation that belongs to this kernel: the last one above its line; dims from every annotation.
  const own = anns.filter((a) => a.row < k.line - 1).pop();
  const env = new Map<string, number>();
  for (const a of anns) for (const [key, e] of Object.entries(a.dims)) {
    const v = evalExpr(e, env);
    if (v !== null) env.set(key, v);
  }
  for (const [key, v] of Object.entries(s.kernelDims)) env.set(key, v);
  const where = `${file}:${k.line}`;
  // The launch as the kernel analysis resolved it (annotation `dispatch=`, evaluated with the dims).
  const grid = k.launches.find((l) => l.grid !== null)?.grid;
  if (!grid) {
    throw new RidgelineError(`${where}: ${k.name}: expected a launch to profile: add \`// ridgeline: dispatch=X,Y,Z buffers=0:N,1:N\` above the kernel`, { exitCode: 2, file });
  }
  const wg: [number, number, number] = [grid[0], grid[1], grid[2]];
  const sizes = new Map<number, number>();
  for (const b of own?.buffers ?? []) {
    const n = evalExpr(b.elements, env);
    if (n === null || !(n > 0)) throw new RidgelineError(`${where}: buffers: binding ${b.binding}: expected a positive element count`, { exitCode: 2, file });
    sizes.set(b.binding, n);
  }
  // Bindings the entry point uses (an auto layout has only those): named in its body.
  const body = source.split('\n').slice(k.line - 1, k.endLine).join('\n');
  const bindings = wgslBindings(source).filter((b) => new RegExp(`\\b${b.name}\\b`).test(body));

  const { nodeRunner, closeNodeGpu } = await import('../engine/gpu/node');
  setGpu({ kind: 'probing' });
  const { runner, software } = await nodeRunner();
  const r = runner.report;
  const adapter = [r.vendor, r.architecture, r.description].filter((x) => x && x !== 'unknown').join(' ') || 'WebGPU adapter';
  setGpu({ kind: 'ready', adapter, software });
  const acquired: GPUBuffer[] = [];
  try {
    const pipeline = await runner.pipeline({ name: `user:${k.name}`, code: source, entryPoint: k.name, file });
    const buffers: Array<GPUBuffer | null> = [];
    for (const b of bindings) {
      let buf: GPUBuffer;
      if (b.space === 'uniform') {
        const members = structMembers(source, b.typeName);
        buf = runner.uniforms(`${k.name}:${b.name}`, members.length ? members.map((m) => env.get(m) ?? 0) : [0]);
      } else {
        const elements = sizes.get(b.binding);
        if (elements === undefined) {
          throw new RidgelineError(`${where}: buffers: expected an element count for binding ${b.binding} (${b.name}), e.g. \`buffers=${b.binding}:N\``, { exitCode: 2, file });
        }
        buf = runner.acquireBuffer(`${k.name}:${b.name}`, elements * b.elementBytes);
      }
      acquired.push(buf);
      buffers[b.binding] = buf;
    }
    for (let i = 0; i < buffers.length; i++) if (buffers[i] === undefined) buffers[i] = null;
    const d = [{ pipeline, buffers, workgroups: wg, label: k.name }];
    await runner.run(d, { label: `${k.name}:warmup`, repeats: 2 });
    const t = await runner.run(d, { label: k.name, repeats: 10 });
    const e = k.estimate;
    return {
      kernel: k.name,
      adapter,
      timeS: t.timeS,
      timing: t.timing,
      workgroups: wg,
      flopsPerS: e && t.timeS > 0 ? e.flops / t.timeS : null,
      bytesPerS: e && t.timeS > 0 ? e.bytes / t.timeS : null,
    };
  } finally {
    runner.release(...acquired);
    runner.destroy();
    closeNodeGpu();
  }
}
