import type { Args, Command } from './args';
import { inputError } from '../errors';
import { loadConfigFile } from '../model/parse';
import { ACTIVATION_FORMAT_IDS, withPrefixHit } from '../model/graph';
import type { Workload } from '../model/types';
import { getDevice, loadDeviceFile, registerDevices } from '../hardware/index';
import { listWeightFormats } from '../quant/formats';
import { listKvFormats } from '../memory/kvFormats';
import { analyze, resolveFormats } from '../analyze';
import { servingEngines } from '../cost/engines';
import { renderAnalysisCsv, renderAnalysisHtml, renderAnalysisMarkdown, renderAnalysisTable } from '../report/analysis';

const USAGE = `ridgeline analyze <config.json> [options]

Parameters, memory, per-op roofline, prefill (TTFT), decode (per token, at the mid-point of generation),
end-to-end time and throughput of a static batch, a batch sweep and a decode curve over context.

  --hardware ID          device id (default h100-sxm; \`ridgeline hardware\` lists them; \`this\` = measured by \`ridgeline bench\`)
  --devices FILE         load extra devices from a JSON file first
  --batch N              sequences in the static batch (default 1)
  --prompt N             prompt tokens per sequence (default 1024)
  --generate N           generated tokens per sequence (default 256)
  --weights FMT          weight format: ${listWeightFormats().map((f) => f.id).join(', ')}
                         (default: the model's dtype); aliases such as int4, gptq, awq (int4-g128), float16
                         (fp16) are accepted
  --activations FMT      activation format: ${ACTIVATION_FORMAT_IDS.join(', ')} (default: the model's dtype; fp8 / int8 /
                         fp4 with --weights fp8 / w8a8 / nvfp4 where the device computes them natively)
  --kv FMT               KV-cache format: ${listKvFormats().map((f) => f.id).join(', ')}
                         (default: the model's dtype, or the serving engine's cache: llama.cpp's fp16)
  --tp N                 tensor-parallel degree; must divide the attention heads and split the KV heads evenly
                         (a divisor or a multiple of their count) (default 1)
  --engine ID            serving engine profile: ${servingEngines().map((e) => e.id).join(', ')} (default: none,
                         the cost model's defaults, which match tensorrt-llm); sets the host work per forward pass,
                         attention kernels, launch overhead, prefill chunks and GEMM efficiency the engine runs
                         with (engine/cost/engines.json)
  --attention fused|unfused   FlashAttention-style fused kernel or scores through memory (default: the engine's;
                         fused)
  --decode-attention grouped|per-head
                         grouped-query decode kernels load each K/V head once per group (XQA, FlashDecoding;
                         default: the engine's; grouped) or once per query head (masked MHA kernels, e.g.
                         TensorRT-LLM before v0.8; 60% of the repeats reach DRAM, the rest hit L2)
  --cached-prompt N      prompt tokens per sequence already in the KV cache (a prefix-cache hit: a shared system
                         prompt, a repeated request): the prefill computes only the rest, attending to them;
                         memory and decode still hold the whole prompt (default 0; less than --prompt)
  --prefill-chunk N      most prompt tokens of one prefill pass, over the batch: a longer prefill runs in chunks,
                         each attending to the ones before it through the KV cache (chunked prefill; llama.cpp's
                         micro-batch); 0 = the whole prompt in one pass (default: the engine's; 0, llama.cpp 512)
  --format table|json|markdown|html|csv   output (default table)
  --out FILE             write the output to FILE`;

export const ANALYZE_DEFAULTS = { hardware: 'h100-sxm', batch: 1, promptTokens: 1024, generateTokens: 256, tp: 1 } as const;

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'per-op roofline, TTFT, TPOT, throughput, memory of a model config on a device',
  usage: USAGE,
  async run(args: Args) {
    const file = args.positional[0];
    if (!file) throw inputError({ field: 'config', expected: 'a model config.json path: ridgeline analyze <config.json>' });
    args.positionalAtMost(1, 'one config path');
    const format = args.choice('--format', ['table', 'json', 'markdown', 'html', 'csv'] as const, 'table');
    const devicesFile = args.str('--devices');
    const hardware = args.str('--hardware', ANALYZE_DEFAULTS.hardware);
    const batch = args.int('--batch', ANALYZE_DEFAULTS.batch, { min: 1, max: 1 << 20 });
    const promptTokens = args.int('--prompt', ANALYZE_DEFAULTS.promptTokens, { min: 1, max: 1 << 24 });
    const generateTokens = args.int('--generate', ANALYZE_DEFAULTS.generateTokens, { min: 1, max: 1 << 24 });
    const tp = args.int('--tp', ANALYZE_DEFAULTS.tp, { min: 1, max: 1024 });
    const cachedPromptTokens = args.optionalInt('--cached-prompt', { min: 0, max: 1 << 24 });
    const engineId = args.str('--engine');
    const attention = args.optionalChoice('--attention', ['fused', 'unfused'] as const);
    const decodeAttention = args.optionalChoice('--decode-attention', ['grouped', 'per-head'] as const);
    const prefillChunk = args.optionalInt('--prefill-chunk', { min: 0, max: 1 << 24 });
    const weightsRaw = args.str('--weights');
    const actRaw = args.str('--activations');
    const kvRaw = args.str('--kv');
    args.str('--out');
    args.rejectUnknown();

    if (devicesFile) registerDevices(loadDeviceFile(devicesFile), devicesFile);
    const spec = loadConfigFile(file);
    const device = getDevice(hardware);
    const workload: Workload = withPrefixHit({
      batch,
      promptTokens,
      generateTokens,
      ...resolveFormats(spec, device, { weights: weightsRaw, activations: actRaw, kv: kvRaw }, undefined, engineId),
      tp,
    }, cachedPromptTokens);
    const r = analyze(spec, workload, device, {
      servingEngine: engineId,
      params: {
        fusedAttention: attention === undefined ? undefined : attention === 'fused',
        groupedDecodeAttention: decodeAttention === undefined ? undefined : decodeAttention === 'grouped',
        prefillChunkTokens: prefillChunk,
      },
    });
    switch (format) {
      case 'json':
        return { text: JSON.stringify(r, null, 2) };
      case 'markdown':
        return { text: renderAnalysisMarkdown(r) };
      case 'html':
        return { text: renderAnalysisHtml(r) };
      case 'csv':
        return { text: renderAnalysisCsv(r) };
      default:
        return { text: renderAnalysisTable(r) };
    }
  },
};
