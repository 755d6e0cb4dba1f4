import type { Args, Command } from './args';
import { inputError } from '../errors';
import { loadConfigFile } from '../model/parse';
import { getDevice, loadDeviceFile, registerDevices } from '../hardware/index';
import { adviseQuant, type QuantAdvice } from '../quant/advice';
import { servingEngine } from '../cost/engines';
import { measureModel, planMeasurement, type MeasureOptions, type QuantErrorResult } from '../quant/measure';
import { measureModelGpu } from '../quant/gpu';
import { closeNodeGpu, nodeRunner } from '../gpu/node';
import { fmtBytes, fmtTime, textTable } from '../report/format';

const USAGE = `ridgeline quant <config.json | model.safetensors | model.safetensors.index.json | folder> [options]

With a model config: every weights x KV-cache format option on a device (bytes, fit, prefill and
decode time) with its quality risk and the published evidence behind it, and a recommendation: the
highest-quality option that fits (and meets --max-decode-ms).
  --hardware ID          device id (default h100-sxm; \`ridgeline hardware\` lists them)
  --devices FILE         load extra devices from a JSON file first
  --batch N              sequences (default 1)
  --prompt N             prompt tokens per sequence (default 1024)
  --generate N           generated tokens per sequence (default 256)
  --tp N                 tensor-parallel degree: bytes and fit per device, times on N devices (default 1)
  --max-decode-ms X      decode step target in milliseconds
  --weights a,b          weight formats to consider (default: every format up to the model's width)
  --kv a,b               KV-cache formats to consider (default: every format up to the model's width)
  --serving-engine ID    serving engine profile, as analyze --engine: its costs and default formats (llama.cpp:
                         fp16 activations for quantized weights, an fp16 cache)

With safetensors weights: the error of each format measured on every 2-D weight (quantize,
dequantize, compare): SQNR in dB and relative RMSE, and the layers ranked by sensitivity. A weight
holding NaN or Inf values is not measured: it is named on stderr and listed under "skipped".
  --formats a,b          formats to measure (default: fp8, fp8-e5m2, int8, int4-g128, int4-g32, nf4,
                         mxfp4, int3-g128, int2-g64, ternary)
  --rank-by FMT          format that orders the sensitivity ranking (default int4-g128)
  --top N                rows in the table output (default 20; json lists every tensor)
  --threads N            CPU worker threads (default: every core)
  --engine auto|cpu|gpu  auto (default): the WebGPU engine when a hardware GPU adapter exists, else the
                         CPU; gpu: WebGPU even on a software adapter (SwiftShader); cpu: never the GPU

  --format table|json    output (default table)
  --out FILE             write the output to FILE`;

function isWeights(path: string): boolean {
  return /\.safetensors$/i.test(path) || /\.safetensors\.index\.json$/i.test(path) || !/\.json$/i.test(path);
}

/** A comma-separated option: undefined when not given; given but empty (`''`, `,`) is an error. */
function list(args: Args, option: string): string[] | undefined {
  const raw = args.str(option);
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw inputError({ field: option, expected: 'a comma-separated list of one or more formats, e.g. int4,fp8', got: raw });
  return items;
}

/** Options of each mode: given to the other mode, they get an error saying where they apply. */
const CONFIG_OPTIONS = ['--hardware', '--devices', '--batch', '--prompt', '--generate', '--tp', '--max-decode-ms', '--weights', '--kv', '--serving-engine'];
const WEIGHTS_OPTIONS = ['--formats', '--rank-by', '--top', '--threads', '--engine'];

function rejectOtherMode(args: Args, file: string, weights: boolean): void {
  const other = weights ? CONFIG_OPTIONS : WEIGHTS_OPTIONS;
  for (const o of other) {
    if (!args.has(o)) continue;
    throw inputError({
      field: o,
      expected: weights
        ? `only when quant is given a model config.json; ${file} is read as safetensors weights (their options: ${WEIGHTS_OPTIONS.join(', ')})`
        : `only when quant is given safetensors weights; ${file} is read as a model config (its options: ${CONFIG_OPTIONS.join(', ')})`,
    });
  }
}

export const quantCommand: Command = {
  name: 'quant',
  summary: 'quantization options with quality evidence; measured error on safetensors weights',
  usage: USAGE,
  async run(args: Args) {
    const file = args.positional[0];
    if (!file) throw inputError({ field: 'path', expected: 'a model config.json or a .safetensors file: ridgeline quant <path>' });
    args.positionalAtMost(1, 'one path');
    const format = args.choice('--format', ['table', 'json'] as const, 'table');
    args.str('--out');
    const weightsMode = isWeights(file);
    rejectOtherMode(args, file, weightsMode);
    if (weightsMode) {
      const formats = list(args, '--formats');
      const rankBy = args.str('--rank-by');
      const top = args.int('--top', 20, { min: 1, max: 1 << 20 });
      const threads = args.has('--threads') ? args.int('--threads', 1, { min: 1, max: 256 }) : undefined;
      const engine = args.choice('--engine', ['auto', 'cpu', 'gpu'] as const, 'auto');
      args.rejectUnknown();
      const notes: string[] = [];
      const r = await measureWeights(file, { formats, rankBy, threads }, engine, notes);
      notes.push(...r.notes);
      const other = r.skipped.filter((t) => !t.nonFinite).length;
      if (other) notes.push(`${other} tensor(s) not measured (not 2-D, not F32/F16/BF16, or empty); listed under "skipped"`);
      return { text: format === 'json' ? JSON.stringify(r, null, 2) : renderErrors(r, top), notes };
    }
    const devicesFile = args.str('--devices');
    const hardware = args.str('--hardware', 'h100-sxm');
    const batch = args.int('--batch', 1, { min: 1, max: 1 << 20 });
    const promptTokens = args.int('--prompt', 1024, { min: 1, max: 1 << 24 });
    const generateTokens = args.int('--generate', 256, { min: 1, max: 1 << 24 });
    const tp = args.int('--tp', 1, { min: 1, max: 1024 });
    const maxMs = args.has('--max-decode-ms') ? args.num('--max-decode-ms', 0, { min: 1e-6, max: 1e9 }) : undefined;
    const weights = list(args, '--weights');
    const kv = list(args, '--kv');
    const servingEngineId = args.has('--serving-engine') ? servingEngine(args.str('--serving-engine', ''), '--serving-engine').id : undefined;
    args.rejectUnknown();
    if (devicesFile) registerDevices(loadDeviceFile(devicesFile), devicesFile);
    const spec = loadConfigFile(file);
    const device = getDevice(hardware);
    const r = adviseQuant(spec, device, {
      batch,
      promptTokens,
      generateTokens,
      tp,
      maxDecodeTimeS: maxMs === undefined ? undefined : maxMs / 1000,
      weights,
      kv,
      servingEngine: servingEngineId,
    });
    return { text: format === 'json' ? JSON.stringify(r, null, 2) : renderAdvice(r), notes: r.notes };
  },
};

/**
 * Picks the engine: `auto` takes the WebGPU engine only on a hardware adapter (a software adapter is
 * slower than the CPU path), `gpu` takes any adapter and fails with exit code 3 when there is none.
 */
async function measureWeights(file: string, opts: MeasureOptions, engine: 'auto' | 'cpu' | 'gpu', notes: string[]): Promise<QuantErrorResult> {
  if (engine === 'cpu') return measureModel(file, opts);
  // A bad file, format or a file with nothing to measure is an input error before any GPU is touched
  // (and before the driver says anything).
  planMeasurement(file, opts);
  let g: Awaited<ReturnType<typeof nodeRunner>> | null = null;
  try {
    g = await nodeRunner({ timeoutMs: 120_000 });
  } catch (e) {
    if (engine === 'gpu') throw e;
    notes.push('no WebGPU adapter: measured on the CPU');
    return measureModel(file, opts);
  }
  try {
    if (engine === 'auto' && g.software) {
      notes.push('only a software WebGPU adapter (SwiftShader): measured on the CPU, which is faster (--engine gpu to use it anyway)');
      return await measureModel(file, opts);
    }
    notes.push(...g.notes);
    const r = g.runner.report;
    return await measureModelGpu(g.runner, file, opts, `webgpu (${[r.vendor, r.architecture, r.description].filter(Boolean).join(' ')})`);
  } finally {
    g.runner.destroy();
    closeNodeGpu();
  }
}

function db(v: number | null): string {
  return v === null ? 'exact' : v.toFixed(2);
}

function renderErrors(r: QuantErrorResult, top: number): string {
  const out: string[] = [];
  out.push(`${r.path}: ${r.tensors.length} weights measured (${fmtBytes(r.bytesRead)}) in ${fmtTime(r.timeS)} on ${r.engine}`);
  out.push('');
  if (r.ranking.length === 0) {
    // Only embeddings and LM heads: the summary and the ranking cover linear weights only.
    out.push('No linear weights: only embeddings and LM heads were measured. SQNR dB per format:');
    out.push(textTable(['tensor', 'shape', 'dtype', ...r.formats], r.tensors.map((t) => [t.name, t.shape.join('x'), t.dtype, ...r.formats.map((f) => db(t.errors[f]!.sqnrDb))])));
    return out.join('\n');
  }
  out.push('Whole model (linear weights), SQNR in dB (higher is better) and relative RMSE:');
  out.push(
    textTable(
      ['format', 'SQNR dB', 'rel RMSE', 'params'],
      r.formats.map((f) => [f, db(r.summary[f]!.sqnrDb), r.summary[f]!.relRmse.toExponential(2), String(r.summary[f]!.params)]),
    ),
  );
  out.push('');
  out.push(`Most sensitive linear weights under ${r.rankedBy} (lowest SQNR first), SQNR dB per format:`);
  const rows = r.ranking.slice(0, top).map((x) => {
    const t = r.tensors.find((u) => u.name === x.name)!;
    return [t.name, `${t.shape.join('x')}`, t.dtype, ...r.formats.map((f) => db(t.errors[f]!.sqnrDb))];
  });
  out.push(textTable(['tensor', 'shape', 'dtype', ...r.formats], rows));
  if (r.ranking.length > top) out.push(`(${r.ranking.length - top} more; --top N or --format json for all)`);
  return out.join('\n');
}

function renderAdvice(r: QuantAdvice): string {
  const out: string[] = [];
  out.push(
    `${r.model.name} (${(r.model.params / 1e9).toFixed(2)}B params, ${r.model.dtype}) on ${r.hardware.name}${r.workload.tp > 1 ? ` x ${r.workload.tp} (tp; bytes and fit per device)` : ''}: batch ${r.workload.batch}, prompt ${r.workload.promptTokens}, generate ${r.workload.generateTokens}` +
      (r.maxDecodeTimeS !== null ? `, decode target ${fmtTime(r.maxDecodeTimeS)}` : ''),
  );
  out.push('');
  const rows = r.options.map((o) => [
    o.weights,
    o.kv,
    o.bitsPerWeight.toFixed(3).replace(/\.?0+$/, ''),
    fmtBytes(o.weightsBytes),
    fmtBytes(o.kvCacheBytes),
    fmtBytes(o.totalBytes),
    o.fits ? 'yes' : 'no',
    fmtTime(o.prefillTimeS),
    fmtTime(o.decodeTimeS),
    o.quality.risk,
    o.quality.evidence.join(' '),
  ]);
  out.push(textTable(['weights', 'kv', 'bits/w', 'weights', 'kv cache', 'total', 'fits', 'prefill', 'decode/step', 'risk', 'evidence'], rows));
  out.push('');
  out.push(r.recommendation ? `Recommendation: ${r.recommendation.why}` : 'Recommendation: none: no option fits' + (r.maxDecodeTimeS !== null ? ' and meets the decode target' : ''));
  out.push('');
  out.push('Evidence:');
  for (const e of r.evidence) out.push(`  ${e.id}: ${e.title}: ${e.model}: ${e.delta}${e.kind === 'caveat' ? ' (caveat)' : ''}`);
  return out.join('\n');
}
