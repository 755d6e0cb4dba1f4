/**
 * Host side of the panels: runs the engine for a config and a set of controls and shapes its results into
 * the protocol's view data. No formulas live here: every number is a field of an engine result
 * (analyze, planMemory, the quantization advisor); this module only selects and sweeps.
 */
import { analyze } from '../../engine/analyze';
import type { CostParams } from '../../engine/cost/params';
import { servingEngine, servingEngines } from '../../engine/cost/engines';
import { getDevice, listDevices, type Device } from '../../engine/hardware/index';
import { kvBytesPerToken, listKvFormats, planMemory, type MemoryOptions, type MemoryPlan } from '../../engine/memory/index';
import { ACTIVATION_FORMAT_IDS, defaultWorkload, withPrefixHit } from '../../engine/model/graph';
import type { ModelSpec, Workload } from '../../engine/model/types';
import { listWeightFormats } from '../../engine/quant/formats';
import { formatsFor } from '../engine';
import { NO_ENGINE, type ControlOptions, type Controls, type KvData, type MemoryStack, type RooflineData, type Roofs } from '../../webview/protocol';

/** Context lengths the KV panel sweeps (1k..128k tokens), plus the chosen one. */
export const KV_CONTEXTS = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];
/** Batch sizes the KV panel sweeps, plus the chosen one. */
export const KV_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/** Attention sinks kept when an eviction budget is set (StreamingLLM keeps 4 initial tokens: Efficient Streaming Language Models with Attention Sinks). */
export const EVICTION_SINK_TOKENS = 4;

/** The panels' starting point: a workload and the device it runs on. */
export interface Defaults extends Workload {
  hardware: string;
  /** Serving engine profile id; empty: the cost model's defaults. */
  engine: string;
}

/** Controls for a model: the settings' workload with the model's own dtypes where a format is empty. */
export function initialControls(spec: ModelSpec, d: Partial<Defaults>): Controls {
  const w = defaultWorkload(spec);
  // The formats as the lenses and the CLI resolve them (normalized ids; fp8 / int8 activations with fp8 / w8a8
  // weights where the device computes them natively). A bad setting or device keeps the written values: the
  // panel's first analysis names the problem.
  let formats = { weights: d.weights || w.weights, activations: d.activations || w.activations, kv: d.kv || w.kv };
  try {
    formats = formatsFor(spec, getDevice(d.hardware || 'h100-sxm', 'hardware'), { weights: d.weights, activations: d.activations, kv: d.kv }, d.engine && d.engine !== NO_ENGINE ? d.engine : undefined);
  } catch {
    // kept as written
  }
  return {
    hardware: d.hardware || 'h100-sxm',
    engine: d.engine || NO_ENGINE,
    batch: d.batch ?? w.batch,
    promptTokens: d.promptTokens ?? w.promptTokens,
    cachedPromptTokens: d.cachedPromptTokens ?? 0,
    generateTokens: d.generateTokens ?? w.generateTokens,
    ...formats,
    tp: d.tp ?? w.tp,
    contextTokens: (d.promptTokens ?? w.promptTokens) + (d.generateTokens ?? w.generateTokens),
    windowTokens: 0,
    evictionTokens: 0,
    blockTokens: 16,
  };
}

/**
 * The controls after the engine control changed: the activation and KV formats that engine takes for the
 * chosen weights, as a panel opened with it would start (llama.cpp: fp16 activations for quantized weights and
 * an fp16 cache; back to the defaults: the model's dtype). The weights and the workload stay. A device or weight
 * format the engine cannot resolve keeps the controls as they are: the analysis names the problem.
 */
export function withEngineFormats(spec: ModelSpec, c: Controls): Controls {
  try {
    const f = formatsFor(spec, getDevice(c.hardware, 'hardware'), { weights: c.weights }, servingEngineOf(c));
    return f.activations === c.activations && f.kv === c.kv ? c : { ...c, activations: f.activations, kv: f.kv };
  } catch {
    return c;
  }
}

export function workloadOf(c: Controls): Workload {
  return withPrefixHit({
    batch: c.batch,
    promptTokens: c.promptTokens,
    generateTokens: c.generateTokens,
    weights: c.weights,
    activations: c.activations,
    kv: c.kv,
    tp: c.tp,
  }, c.cachedPromptTokens);
}

/** The device measured on this machine (`this`), when a measurement exists. */
export function measuredDevice(): Device | null {
  try {
    return getDevice('this');
  } catch {
    return null;
  }
}

export function controlOptions(): ControlOptions {
  const devices = listDevices().map((d) => ({ id: d.id, label: d.name }));
  const m = measuredDevice();
  if (m) devices.unshift({ id: 'this', label: `This machine (${m.name})` });
  return {
    hardware: devices,
    engine: [{ id: NO_ENGINE, label: 'Defaults (no engine profile)' }, ...servingEngines().map((e) => ({ id: e.id, label: e.name }))],
    weights: listWeightFormats().map((f) => ({ id: f.id, label: f.label })),
    activations: ACTIVATION_FORMAT_IDS.map((id) => ({ id, label: id.toUpperCase() })),
    kv: listKvFormats().map((f) => ({ id: f.id, label: f.label })),
  };
}

export function roofsOf(d: Device): Roofs {
  return {
    id: d.id,
    name: d.name,
    bandwidthBytesPerS: d.memoryBandwidthBytesPerS,
    peaks: Object.entries(d.peakFlopsPerS)
      .filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0)
      .map(([dtype, flopsPerS]) => ({ dtype, flopsPerS })),
    measured: d.measured !== undefined,
  };
}

export interface EngineOptions {
  /** Cost-model overrides for a device (the settings' efficiencies), or undefined for the defaults. */
  params?: (d: Device) => Partial<CostParams> | undefined;
}

/** The analysis option for the engine control: undefined for the cost model's defaults. */
export function servingEngineOf(c: Controls): string | undefined {
  return c.engine === NO_ENGINE ? undefined : c.engine;
}

export function rooflineData(spec: ModelSpec, source: string, c: Controls, opts: EngineOptions = {}): RooflineData {
  const device = getDevice(c.hardware, 'hardware');
  const result = analyze(spec, workloadOf(c), device, { servingEngine: servingEngineOf(c), params: opts.params?.(device), sweeps: false });
  const measured = device.measured ? null : measuredDevice();
  const roofs = roofsOf(device);
  // An engine that accumulates fp16 GEMMs in fp16 (llama.cpp's cuBLAS path) runs them against the device's
  // fp16-accumulate rate where it lists a higher one (GeForce cards): the analysis says when an op did, and that
  // ceiling is drawn.
  const acc = device.fp16AccumulateFlopsPerS;
  if (result.costModel.fp16AccumulateGemm && acc !== undefined) roofs.peaks.push({ dtype: 'fp16 (fp16 accumulate)', flopsPerS: acc });
  return { source, result, roofs, measuredRoofs: measured ? roofsOf(measured) : null };
}

/**
 * Memory options from the KV controls: window, eviction (sinks + recent window) and paged blocks, and the
 * serving engine's prefill chunk (its activations peak), as the analysis plans them.
 */
export function memoryOptions(c: Controls, contextTokens = c.contextTokens): MemoryOptions {
  const o: MemoryOptions = { contextTokens, blockTokens: c.blockTokens > 0 ? c.blockTokens : 1 };
  // The profile's chunk, as the analysis takes it from its cost parameters (the panels pass no override of it).
  const engine = servingEngineOf(c);
  const chunk = engine === undefined ? 0 : servingEngine(engine, 'engine').params.prefillChunkTokens ?? 0;
  if (chunk > 0) o.prefillChunkTokens = chunk;
  if (c.windowTokens > 0) o.windowTokens = c.windowTokens;
  if (c.evictionTokens > 0) {
    o.sinkTokens = Math.min(EVICTION_SINK_TOKENS, c.evictionTokens);
    o.recentTokens = c.evictionTokens - o.sinkTokens;
  }
  return o;
}

function stackOf(p: MemoryPlan): MemoryStack {
  return {
    contextTokens: p.contextTokens,
    batch: p.sequences,
    weightsBytes: p.weightsBytes,
    kvCacheBytes: p.kvCacheBytes,
    activationsBytes: p.activationsBytes,
    overheadBytes: p.overheadBytes,
    freeBytes: p.usableBytes - p.totalBytes,
    fits: p.fits,
  };
}

const withValue = (list: number[], v: number): number[] => [...new Set([...list, v])].sort((a, b) => a - b);

export function kvData(spec: ModelSpec, source: string, c: Controls): KvData {
  const device = getDevice(c.hardware, 'hardware');
  const w = workloadOf(c);
  const plan = planMemory(spec, w, device, memoryOptions(c));
  const contexts = withValue(KV_CONTEXTS, c.contextTokens);
  const plans = contexts.map((ctx) => (ctx === c.contextTokens ? plan : planMemory(spec, w, device, memoryOptions(c, ctx))));
  const byBatch = withValue(KV_BATCHES, c.batch).map((b) => (b === c.batch ? plan : planMemory(spec, { ...w, batch: b }, device, memoryOptions(c))));
  const fmt = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const verdict = plan.fits
    ? `${fmt(plan.totalBytes)} of ${fmt(plan.usableBytes)} usable on ${device.name}${c.tp > 1 ? ' per device' : ''}; up to ${plan.kv.maxBatch} sequences of ${c.contextTokens} tokens`
    : plan.kv.budgetBytes < 0
      ? `weights, activations and overhead alone need ${fmt(plan.weightsBytes + plan.activationsBytes + plan.overheadBytes)} of ${fmt(plan.usableBytes)} usable on ${device.name}`
      : `${fmt(plan.totalBytes)} needed, ${fmt(plan.usableBytes)} usable on ${device.name}; at most ${plan.kv.maxBatch} sequences of ${c.contextTokens} tokens fit`;
  return {
    source,
    modelName: spec.name,
    deviceName: device.name + (c.tp > 1 ? ` × ${c.tp} (tensor parallel, per device)` : ''),
    deviceBytes: plan.deviceBytes,
    usableBytes: plan.usableBytes,
    current: stackOf(plan),
    byContext: plans.map(stackOf),
    byBatch: byBatch.map(stackOf),
    // Each format's cache at the chosen context and batch, planned by the engine with the window, eviction and
    // blocks of the controls (a window or eviction keeps fewer tokens than the context).
    formats: listKvFormats().map((f) => ({
      id: f.id,
      label: f.label,
      bytesPerToken: kvBytesPerToken(spec, f, { tp: c.tp }),
      bytesAtContext: f.id === plan.kv.format ? plan.kvCacheBytes : planMemory(spec, { ...w, kv: f.id }, device, memoryOptions(c)).kvCacheBytes,
    })),
    maxBatch: plans.map((p) => ({ contextTokens: p.contextTokens, maxBatch: Math.min(p.kv.maxBatch, Number.MAX_SAFE_INTEGER) })),
    verdict: { fits: plan.fits, text: verdict },
    notes: [
      `KV ${plan.kv.label}: ${plan.kv.bytesPerToken.toFixed(0)} bytes/token per device; ${plan.kv.blockTokens}-token blocks of ${plan.kv.blockBytes.toFixed(0)} bytes`,
      `Usable = ${(plan.utilization * 100).toFixed(0)}% of device memory (${plan.sources.utilization})`,
      ...plan.overhead.map((o) => `Overhead ${o.id}: ${fmt(o.bytes)} (${o.source})`),
      ...plan.warnings,
    ],
  };
}
