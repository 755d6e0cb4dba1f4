import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Args, Command } from './args';
import { inputError } from '../errors';
import { fileKind } from '../textfile';
import { getDevice, loadDeviceFile, registerDevices } from '../hardware/index';
import { KernelAnalyzer, MAX_SOURCE_BYTES, dimsNotInSource, languageOf, parseDimsOption, renderKernelTable, skipReason, type KernelFileReport, type KernelLanguage } from '../kernels/index';

const USAGE = `ridgeline kernels <file.cu|file.cuh|file.py|file.wgsl> [options]

Finds the CUDA (__global__), Triton (@triton.jit) and WGSL (@compute) kernels in a file: launch shape,
shared memory, loops, global loads/stores, FLOPs and bytes per launch, roofline bound, occupancy, lints.

  --hardware ID          device for bounds, occupancy and limits (default h100-sxm; \`ridgeline hardware\` lists them)
  --devices FILE         load extra devices from a JSON file first
  --dims M=4096,N=4096   problem dims (override \`// ridgeline: M=...\` annotations in the file): each a
                         positive integer from 1 to 2^40 (a tensor extent), each name once. A name the
                         file never mentions is ignored with a warning on stderr (the same --dims can
                         serve several files whose kernels use different dims)
  --language cuda|triton|wgsl   when the file extension does not tell
  --profile              WGSL: run the kernel on this machine's WebGPU adapter (buffers from the
                         \`// ridgeline: dispatch=... buffers=...\` annotation), time it and place it on the
                         measured roofline (\`ridgeline bench\` measures it; else the --hardware roofs)
  --kernel NAME          WGSL entry point to profile (default: the first @compute kernel)
  --format table|json    output (default table)
  --out FILE             write the output to FILE

Exit codes: 0 analyzed (diagnostics included), 2 bad input or a file that is skipped (binary, over 5 MB),
3 no WebGPU adapter (--profile).`;

function renderProfile(p: import('../kernels/profile').KernelProfile, roofNote: string): string {
  const g = (x: number | null, unit: string) => (x === null ? '-' : `${(x / 1e9).toPrecision(3)} G${unit}`);
  const lines = [
    `profile: ${p.kernel} on ${p.adapter} (${p.timing} timing)`,
    `  dispatch ${p.dispatch.join('x')} x workgroup ${p.workgroupSize.join('x')} = ${p.invocations} invocations`,
    `  time ${(p.timeS * 1e3).toPrecision(4)} ms   ${g(p.achievedFlopsPerS, 'FLOP/s')}   ${g(p.achievedBandwidthBytesPerS, 'B/s')}   ${p.intensity === null ? '' : `${p.intensity.toFixed(2)} FLOP/B`}`,
  ];
  if (p.roofline) {
    lines.push(`  roofline (${roofNote}): ${p.roofline.bound} bound, ${(p.roofline.fractionOfRoof * 100).toFixed(1)}% of the attainable ${g(p.roofline.attainableFlopsPerS, 'FLOP/s')}`);
  }
  for (const n of p.notes) lines.push(`  ${n}`);
  return lines.join('\n');
}

/**
 * Warning for --dims names that `file` never mentions, with the names it can take (sorted): its dims,
 * its kernels' value and constexpr parameters (not WGSL builtins) and the members of the structs its
 * WGSL kernels bind.
 */
function unusedDimsNote(file: string, unused: string[], report: KernelFileReport): string {
  const known = new Set(Object.keys(report.dims));
  for (const k of report.kernels) {
    for (const p of k.params) if (p.kind !== 'global' && !p.type.startsWith('@builtin')) known.add(p.name);
    for (const b of k.bindings ?? []) for (const m of b.members ?? []) known.add(m.name);
  }
  const list = [...known].sort();
  const takes = list.length ? `dims it can take: ${list.join(', ')}` : 'it names no dims';
  return `warning: --dims ${unused.join(', ')}: not used by ${file}, ignored (no identifier of that name in the file; ${takes})`;
}

export const KERNELS_DEFAULTS = { hardware: 'h100-sxm' } as const;

/** Directory with tree-sitter.wasm and the grammars: next to the bundle (dist/wasm), else node_modules. */
function wasmDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (const d of [join(here, 'wasm'), join(here, '..', 'dist', 'wasm'), join(here, '..', '..', 'dist', 'wasm')]) {
    try {
      if (statSync(join(d, 'tree-sitter.wasm')).isFile()) return d;
    } catch {
      // try the next
    }
  }
  return join(here, '..', '..', 'node_modules');
}

export const kernelsCommand: Command = {
  name: 'kernels',
  summary: 'kernels in a CUDA / Triton / WGSL file: launch shape, shared memory, FLOPs, bytes, bound, lints',
  usage: USAGE,
  booleanFlags: ['--profile'],
  async run(args: Args) {
    const file = args.positional[0];
    if (!file) throw inputError({ field: 'file', expected: 'a kernel source path: ridgeline kernels <file.cu|.py|.wgsl>' });
    args.positionalAtMost(1, 'one kernel source path');
    const format = args.choice('--format', ['table', 'json'] as const, 'table');
    const hardware = args.str('--hardware', KERNELS_DEFAULTS.hardware);
    const devicesFile = args.str('--devices');
    const dimsRaw = args.str('--dims');
    const langRaw = args.str('--language');
    const profile = args.flag('--profile');
    const kernelName = args.str('--kernel');
    args.str('--out');
    args.rejectUnknown();

    let language: KernelLanguage | null = languageOf(file);
    if (langRaw !== undefined) {
      if (!['cuda', 'triton', 'wgsl'].includes(langRaw)) throw inputError({ field: '--language', expected: 'one of cuda, triton, wgsl', got: langRaw });
      language = langRaw as KernelLanguage;
    }
    let dims: Record<string, number> = {};
    if (dimsRaw !== undefined) {
      const d = parseDimsOption(dimsRaw);
      if (!d.ok) throw inputError({ field: d.field, expected: d.expected, got: d.got });
      dims = d.dims;
    }

    // the path first: a directory or a missing file is named as such, whatever its extension
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw inputError({ file, field: 'path', expected: `a regular file, not ${fileKind(st)}` });
      size = st.size;
    } catch (e) {
      if (e instanceof Error && e.name === 'RidgelineError') throw e;
      throw inputError({ file, field: 'path', expected: 'a readable file' });
    }
    if (!language) throw inputError({ file, field: 'extension', expected: '.cu, .cuh (CUDA), .py (Triton) or .wgsl, or --language' });
    if (devicesFile) registerDevices(loadDeviceFile(devicesFile), devicesFile);
    const device = getDevice(hardware);
    if (size > MAX_SOURCE_BYTES) throw inputError({ file, field: 'size', expected: `a source file of at most 5 MiB (${MAX_SOURCE_BYTES.toLocaleString('en-US')} bytes); skipped`, got: `${size.toLocaleString('en-US')} bytes` });
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      throw inputError({ file, field: 'path', expected: 'a readable file' });
    }
    const skip = skipReason(bytes);
    if (skip) throw inputError({ file, field: 'content', expected: 'a text source file', got: skip });

    if ((profile || kernelName !== undefined) && language !== 'wgsl') throw inputError({ field: profile ? '--profile' : '--kernel', expected: 'a .wgsl file (only WGSL kernels run on the WebGPU engine)' });
    const source = bytes.toString('utf8');
    // a --dims name the file never mentions binds nothing: it is left out, with a warning
    const unused = dimsNotInSource(source, Object.keys(dims), language === 'wgsl');
    for (const n of unused) delete dims[n];
    const analyzer = await KernelAnalyzer.create(wasmDir(), [language]);
    try {
      const report = await analyzer.analyze(source, language, { file, dims, device });
      const dimNotes = unused.length ? [unusedDimsNote(file, unused, report)] : [];
      if (!profile) return { text: format === 'json' ? JSON.stringify(report, null, 2) : renderKernelTable(report), notes: dimNotes };
      const { nodeRunner, closeNodeGpu } = await import('../gpu/node');
      const { loadMeasuredDevice } = await import('../gpu/measured');
      const { profileWgslKernel } = await import('../kernels/profile');
      const measured = loadMeasuredDevice();
      const { runner, notes } = await nodeRunner({ timeoutMs: 120_000 });
      try {
        const p = await profileWgslKernel(runner, analyzer, source, { file, dims, kernel: kernelName, device: measured ?? device });
        const roofNote = measured ? 'roofs measured on this machine by `ridgeline bench`' : `roofs of ${device.name} (run \`ridgeline bench\` to measure this machine)`;
        if (format === 'json') return { text: JSON.stringify({ ...report, profile: p }, null, 2), notes: [...dimNotes, ...notes] };
        return { text: `${renderKernelTable(report)}\n\n${renderProfile(p, roofNote)}`, notes: [...dimNotes, ...notes] };
      } finally {
        runner.destroy();
        closeNodeGpu();
      }
    } finally {
      analyzer.dispose();
    }
  },
};
