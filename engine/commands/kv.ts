import { engineFormatWarnings } from '../cost/engineFormats';
import type { Args, Command } from './args';
import { inputError } from '../errors';
import { loadConfigFile } from '../model/index';
import { publishedQuantWarning } from '../model/parse';
import { servingEngine } from '../cost/engines';
import type { Workload } from '../model/types';
import { getDevice, loadDeviceFile, registerDevices } from '../hardware/index';
import { weightFormat } from '../quant/formats';
import { kvFormat, defaultKvFormatId, listKvFormats, kvReport, MAX_CONTEXT_SEARCH_TOKENS, DEFAULT_PREFILL_CHUNK_TOKENS, type KvReport, type MemoryOptions } from '../memory/index';

const USAGE = `ridgeline kv <config.json> [options]

KV-cache size per token in every KV format, the tokens that fit, max batch for contexts 1k..128k, and the
memory plan (weights + KV + activations + overhead vs device memory x utilization).

  --hardware ID          device (default h100-sxm; \`ridgeline hardware\` lists them)
  --devices FILE         load extra devices from a JSON file first
  --kv FMT               KV format of the plan and the context table: ${listKvFormats().map((f) => f.id).join(', ')}
                         (default: the model's dtype, or the serving engine's cache: llama.cpp's fp16)
  --engine ID            serving engine profile: its default KV format and prefill chunk (llama.cpp: fp16, 512)
  --weights FMT          weight format (default: the model's dtype)
  --batch N              sequences in the plan (default 1)
  --context N            tokens per sequence in the plan (default 4096)
  --block N              paged-allocator block size in tokens (default 16)
  --tp N                 tensor-parallel degree; figures are per device (default 1)
  --utilization F        fraction of device memory the runtime may use (default 0.9)
  --overhead-gib N       runtime overhead in GiB (default 1.25: CUDA context + graphs/workspaces)
  --prefill-chunk N      most tokens per prefill forward pass, for peak activations (default 8192, or the engine's)
  --group N --residual N group size and full-precision recent tokens of int8/int4/int2 (default 32, 128)
  --window N             sliding window imposed on every layer
  --sinks N --recent N   attention sinks + recent window (StreamingLLM)
  --heavy-hitters N|P%   heavy-hitter budget in tokens or % of context (H2O)
  --prefix N             prompt prefix shared by --sequences N sequences, stored once
  --sequences N          sequences sharing the prefix, the plan's batch (default --batch)
  --format table|json    output (default table)
  --out FILE             write the output to FILE`;

export const kvCommand: Command = {
  name: 'kv',
  summary: 'KV-cache size per format, tokens that fit, max batch per context, memory plan',
  usage: USAGE,
  async run(args: Args) {
    const file = args.positional[0];
    if (!file) throw inputError({ field: 'config', expected: 'a model config.json path: ridgeline kv <config.json>' });
    args.positionalAtMost(1, 'one config path');
    const format = args.choice('--format', ['table', 'json'] as const, 'table');
    const spec = loadConfigFile(file);
    const devicesFile = args.str('--devices');
    if (devicesFile) registerDevices(loadDeviceFile(devicesFile), devicesFile);
    const device = getDevice(args.str('--hardware', 'h100-sxm'));
    const engine = args.has('--engine') ? servingEngine(args.str('--engine', '')) : undefined;
    const kv = kvFormat(args.str('--kv', engine?.kvCache ?? defaultKvFormatId(spec.dtype))).id;
    const weights = weightFormat(args.str('--weights', spec.dtype), '--weights').id;
    const maxTok = MAX_CONTEXT_SEARCH_TOKENS;
    const batch = args.int('--batch', 1, { min: 1, max: 1e7 });
    const context = args.int('--context', 4096, { min: 1, max: maxTok });
    const tp = args.int('--tp', 1, { min: 1, max: 4096 });
    const opts: MemoryOptions = {
      blockTokens: args.int('--block', 16, { min: 1, max: 65536 }),
      prefillChunkTokens: args.int('--prefill-chunk', engine?.params.prefillChunkTokens || DEFAULT_PREFILL_CHUNK_TOKENS, { min: 1, max: maxTok }),
      contextTokens: context,
    };
    if (args.has('--utilization')) opts.utilization = args.num('--utilization', 0.9, { min: 0.01, max: 1 });
    if (args.has('--overhead-gib')) opts.overheadBytes = args.num('--overhead-gib', 0, { min: 0, max: 1e6 }) * 2 ** 30;
    if (args.has('--group')) opts.kvGroupSize = args.int('--group', 32, { min: 1, max: 4096 });
    if (args.has('--residual')) opts.kvResidualTokens = args.int('--residual', 128, { min: 0, max: maxTok });
    if (args.has('--window')) opts.windowTokens = args.int('--window', 0, { min: 1, max: maxTok });
    if (args.has('--sinks')) opts.sinkTokens = args.int('--sinks', 0, { min: 0, max: maxTok });
    if (args.has('--recent')) opts.recentTokens = args.int('--recent', 0, { min: 0, max: maxTok });
    const hh = args.str('--heavy-hitters');
    if (hh !== undefined) {
      const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(hh);
      if (m) {
        const pctv = Number(m[1]);
        if (!(pctv > 0 && pctv <= 100)) throw inputError({ field: '--heavy-hitters', expected: 'a percentage in (0%, 100%] or a token count', got: hh });
        opts.heavyHitterFraction = pctv / 100;
      } else {
        opts.heavyHitterTokens = args.int('--heavy-hitters', 0, { min: 1, max: maxTok });
      }
    }
    if (opts.sinkTokens !== undefined && opts.recentTokens === undefined && opts.heavyHitterTokens === undefined && opts.heavyHitterFraction === undefined) {
      throw inputError({ field: '--sinks', expected: 'a --recent window (or --heavy-hitters) with the attention sinks' });
    }
    let sequences = batch;
    if (args.has('--sequences')) {
      if (!args.has('--prefix')) throw inputError({ field: '--sequences', expected: 'a --prefix N to share among the sequences' });
      sequences = args.int('--sequences', 1, { min: 1, max: 1e7 });
      // The sequences sharing the prefix are the plan's batch: two different counts would be one ignored.
      if (args.has('--batch') && sequences !== batch) {
        throw inputError({ field: '--sequences', expected: `the --batch of the plan (${batch}), or one of the two left out: the sequences sharing the prefix are the batch`, got: sequences });
      }
    }
    if (args.has('--prefix')) {
      opts.prefixTokens = args.int('--prefix', 0, { min: 1, max: maxTok });
      if (opts.prefixTokens > context) {
        throw inputError({ field: '--prefix', expected: `a shared prefix no longer than --context (${context})`, got: opts.prefixTokens });
      }
    }
    args.rejectUnknown();
    const workload: Workload = {
      batch: sequences,
      promptTokens: context,
      generateTokens: 0,
      weights,
      activations: spec.dtype === 'fp32' ? 'fp16' : spec.dtype,
      kv,
      tp,
    };
    const report = kvReport(spec, workload, device, opts);
    const published = publishedQuantWarning(spec, weights);
    // Formats an engine does not run as asked (a GGUF or llama.cpp cache type elsewhere, an fp8 cache under llama.cpp).
    const engineNotes = engineFormatWarnings(spec, workload, engine?.id);
    const notes = [...spec.warnings, ...(published ? [published] : []), ...engineNotes, ...report.warnings];
    if (spec.dtype === 'fp32' && (!args.has('--weights') || !args.has('--kv'))) {
      notes.push('the checkpoint is stored in fp32 and planned as such; serving engines usually load it in 16-bit: pass --weights bf16 --kv bf16');
    }
    return { text: format === 'json' ? JSON.stringify(report, null, 2) : renderTable(report), notes };
  },
};

/** " (beyond max_position_embeddings N)" when a token count passes what the model was trained for. */
function beyond(n: number | null | undefined, maxPos: number | null): string {
  return typeof n === 'number' && maxPos !== null && n > maxPos ? ` (beyond max_position_embeddings ${tokens(maxPos)}: memory only)` : '';
}

function gib(b: number): string {
  return `${(b / 2 ** 30).toFixed(2)} GiB`;
}

function kib(b: number): string {
  return `${(b / 1024).toFixed(b % 1024 === 0 ? 0 : 1)} KiB`;
}

function tokens(n: number | null | undefined): string {
  if (n === null) return 'unbounded';
  if (n === undefined) return '-';
  return n.toLocaleString('en-US');
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [pad(head, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => pad(r, widths))];
}

export function renderTable(r: KvReport): string {
  const m = r.model;
  const p = r.plan;
  const out: string[] = [];
  const byWindow = new Map<number | null, number>();
  for (const g of m.layerGroups) byWindow.set(g.window, (byWindow.get(g.window) ?? 0) + g.layers);
  const groups = [...byWindow].map(([w, n]) => `${n} x ${w === null ? 'full' : `window ${w}`}`).join(', ');
  const shape =
    m.attentionKind === 'mla'
      ? `MLA latent ${m.mlaLatentDim} per layer`
      : `${m.attentionKind.toUpperCase()} ${m.heads} heads, ${m.kvHeads} KV heads x ${m.headDim}`;
  out.push(`${m.name}: ${m.layers} layers (${groups}), ${shape}`);
  out.push(`${r.hardware.name} (${gib(r.hardware.memoryBytes)})${r.tp > 1 ? `, tp=${r.tp}: per device` : ''}, blocks of ${r.blockTokens} tokens`);
  out.push('');
  const withOpt = r.contexts.some((c) => c.withOptions !== null);
  out.push(
    ...table(
      ['KV format', 'bits/elem', 'bytes/token', 'tokens that fit', `max batch @ ${tokens(p.contextTokens)}${withOpt ? ' (opts)' : ''}`],
      r.formats.map((f) => [f.id, f.bitsPerElement.toFixed(2), kib(r.tp > 1 ? f.bytesPerTokenPerDevice : f.bytesPerToken), tokens(f.budgetTokens), tokens(f.maxBatch)]),
    ),
  );
  out.push('');
  out.push(`Max batch per context (${r.kvFormat})${withOpt ? ', without -> with the window/eviction options' : ''}:`);
  out.push(
    ...table(
      withOpt ? ['context', 'KV/sequence', 'max batch', 'KV/seq (opts)', 'max batch (opts)'] : ['context', 'KV/sequence', 'max batch'],
      r.contexts.map((c) => {
        const row = [`${tokens(c.contextTokens)}${c.beyondMaxPosition ? '*' : ''}`, gib(c.bytesPerSequence), tokens(c.maxBatch)];
        if (c.withOptions) row.push(gib(c.withOptions.bytesPerSequence), tokens(c.withOptions.maxBatch));
        else if (withOpt) row.push('-', '-');
        return row;
      }),
    ),
  );
  if (r.contexts.some((c) => c.beyondMaxPosition)) out.push(`* beyond max_position_embeddings (${m.maxPositionEmbeddings})`);
  out.push('');
  const mc = r.maxContextTokens;
  out.push(
    `Max context at batch ${mc.batch}: ${tokens(mc.withoutOptions)} tokens${beyond(mc.withoutOptions, m.maxPositionEmbeddings)}` +
      ('withOptions' in mc ? `; with the options: ${tokens(mc.withOptions)}${beyond(mc.withOptions, m.maxPositionEmbeddings)}` : ''),
  );
  if (r.prefixSharing) {
    const s = r.prefixSharing;
    out.push(
      `Prefix sharing: ${s.sequences} sequences x ${tokens(s.contextTokens)} tokens sharing ${tokens(s.prefixTokens)}: ${gib(s.bytesWithoutSharing)} -> ${gib(s.bytesWithSharing)} (saves ${gib(s.savedBytes)})`,
    );
  }
  out.push('');
  out.push(`Memory plan: ${p.sequences} x ${tokens(p.contextTokens)} tokens, weights ${p.weights.format}, KV ${p.kv.format}${r.tp > 1 ? ', per device' : ''}`);
  out.push(
    ...table(
      ['', 'bytes'],
      [
        ['weights', gib(p.weightsBytes)],
        ['KV cache', gib(p.kvCacheBytes)],
        [`activations (peak, ${tokens(p.activations.chunkTokens)} tokens)`, gib(p.activationsBytes)],
        ['runtime overhead', gib(p.overheadBytes)],
        ['total', gib(p.totalBytes)],
        [`usable (${Math.round(p.utilization * 100)}% of ${gib(p.deviceBytes)})`, gib(p.usableBytes)],
        ['KV budget', `${gib(Math.max(0, p.kv.budgetBytes))} = ${tokens(p.kv.budgetBlocks)} blocks`],
      ],
    ),
  );
  out.push(`fits: ${p.fits ? 'yes' : 'NO'}`);
  return out.join('\n');
}
