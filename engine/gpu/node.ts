/**
 * Node-only: finds a `GPU` through Dawn's `webgpu` package (CLI, tests, extension host) and hands it to the
 * runner. Where Dawn finds no adapter and SwiftShader from Debian's chromium is installed, it uses that
 * software Vulkan driver and says so. The runner itself never finds a GPU (see ./runner.ts).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { RidgelineError } from '../errors';
import { GpuRunner, type RunnerOptions } from './runner';

/** SwiftShader's Vulkan ICD as shipped by Debian's chromium package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const RTLD_NOW = 2;
const RTLD_GLOBAL = 0x100;
/** glibc's RTLD_NODELETE: keeps the library loaded after Node's failed module registration closes it. */
const RTLD_NODELETE = 0x1000;

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/**
 * Strong reference to the object `create()` returned: Dawn crashes if it is collected while work is in
 * flight, and Node does not exit while it is held. `closeNodeGpu()` drops it.
 */
let held: GPU | null = null;
/** What nodeGpu() last returned while `held` is alive: later calls share the same Dawn instance. */
let current: NodeGpu | null = null;
let dawn: DawnModule | null = null;

export interface NodeGpu {
  gpu: GPU;
  /** Lines for the user (e.g. "using SwiftShader (software)"). */
  notes: string[];
  software: boolean;
}

async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  try {
    // A runtime import: the bundles keep `webgpu` external (dist/node_modules/webgpu).
    const m = (await import('webgpu')) as unknown as Partial<DawnModule> & { default?: DawnModule };
    dawn = typeof m.create === 'function' ? (m as DawnModule) : (m.default as DawnModule);
  } catch (e) {
    throw new RidgelineError(`no WebGPU adapter: the Dawn module (webgpu) could not be loaded (${String((e as Error).message ?? e).split('\n')[0]})`, {
      exitCode: 3,
    });
  }
  Object.assign(globalThis, dawn.globals);
  return dawn;
}

/**
 * Makes `libvulkan.so.1` loadable for Dawn on Linux where the system has no Vulkan loader but chromium
 * ships one next to SwiftShader. Dawn opens the loader by its soname; glibc then reuses the copy loaded
 * here. Returns true when the loader is available (already or now).
 */
function ensureVulkanLoader(icdPath: string): boolean {
  if (process.platform !== 'linux') return true;
  const flags = RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE;
  const tryOpen = (p: string): boolean => {
    try {
      process.dlopen({ exports: {} } as NodeJS.Module, p, flags);
      return true;
    } catch (e) {
      // Loaded, but it is not a Node module: exactly what we want.
      return /self-register|Module did not/i.test(String((e as Error).message));
    }
  };
  if (tryOpen('libvulkan.so.1')) return true;
  const beside = join(dirname(icdPath), 'libvulkan.so.1');
  return existsSync(beside) && tryOpen(beside);
}

/** Where the Vulkan loader looks for installed drivers (Linux). */
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** True when some Vulkan driver manifest is installed (or the platform is not Linux, where Dawn uses others). */
function hasInstalledVulkanDriver(): boolean {
  if (process.platform !== 'linux') return true;
  return ICD_DIRS.some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

async function firstAdapter(gpu: GPU): Promise<boolean> {
  try {
    return (await gpu.requestAdapter({ powerPreference: 'high-performance' })) !== null;
  } catch {
    return false;
  }
}

/**
 * Finds a GPU in Node: Dawn's default adapter, else SwiftShader where installed (env VK_ICD_FILENAMES set
 * by the user wins). Throws RidgelineError with exit code 3 and one line when there is none.
 */
export async function nodeGpu(opts: { icdPath?: string } = {}): Promise<NodeGpu> {
  if (held && current && current.gpu === held) return { ...current, notes: [...current.notes] };
  const found = await findGpu(opts);
  current = found;
  return { ...found, notes: [...found.notes] };
}

/** The VK_ICD_FILENAMES this process set itself (SwiftShader), told apart from the user's. */
let ownIcd: string | undefined;

async function findGpu(opts: { icdPath?: string }): Promise<NodeGpu> {
  const m = await loadDawn();
  const icd = opts.icdPath ?? SWIFTSHADER_ICD;
  const notes: string[] = [];
  const userIcd = process.env.VK_ICD_FILENAMES;
  if (userIcd) ensureVulkanLoader(userIcd) || (existsSync(icd) && ensureVulkanLoader(icd));
  else if (existsSync(icd)) ensureVulkanLoader(icd);
  // With no Vulkan driver installed at all (Linux), go straight to SwiftShader instead of a failing probe.
  const probe = Boolean(userIcd) || hasInstalledVulkanDriver() || !existsSync(icd);
  held = probe ? m.create([]) : null;
  if (held && (await firstAdapter(held))) {
    const software = Boolean(userIcd && /swiftshader/i.test(userIcd));
    if (software) notes.push('using SwiftShader (software)');
    return { gpu: held, notes, software };
  }
  if (!userIcd && existsSync(icd)) {
    process.env.VK_ICD_FILENAMES = icd;
    ownIcd = icd;
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'ridgeline-xdg-'));
    held = m.create([]);
    if (await firstAdapter(held)) {
      notes.push('using SwiftShader (software)');
      return { gpu: held, notes, software: true };
    }
  }
  held = null;
  // Say what was tried: the user's driver list (respected as given), SwiftShader, or nothing to try.
  const why = userIcd && userIcd !== ownIcd
    ? ` with VK_ICD_FILENAMES=${userIcd}${userIcd.split(delimiter).every((f) => !existsSync(f)) ? ' (no such file)' : ''}; unset it to let Ridgeline look for a GPU and SwiftShader`
    : existsSync(icd)
      ? `, and SwiftShader (${icd}) gave none`
      : ` and no software driver (install chromium for SwiftShader at ${icd})`;
  throw new RidgelineError(`no WebGPU adapter: Dawn found no GPU${why}`, { exitCode: 3 });
}

/** A runner on the Node GPU; `notes` say which driver is used. */
export async function nodeRunner(opts: RunnerOptions = {}): Promise<{ runner: GpuRunner; notes: string[]; software: boolean }> {
  const g = await nodeGpu();
  const runner = await GpuRunner.create(g.gpu, opts);
  return { runner, notes: g.notes, software: g.software };
}

/** Drops the reference to Dawn's GPU object so Node can exit. Destroy runners first. */
export function closeNodeGpu(): void {
  held = null;
  current = null;
}
