/**
 * The host <-> webview protocol: every message either side may send, as discriminated unions on `type`,
 * plus the validators both sides run before acting on a message. Payloads are plain JSON (no functions,
 * no Dates, no class instances), so a message survives `postMessage` and `getState`/`setState` unchanged.
 *
 * Handshake: the webview posts `ready` once its script runs; the host answers with `init` (the controls'
 * options and current values) followed by the view's data message. Until `ready` arrives the host sends
 * nothing, so no message is lost to a webview that has not loaded yet.
 *
 * This file imports types only (no `vscode`, no DOM values): it is bundled into the webviews and the host.
 */
import type { AnalysisResult } from '../engine/analysis';
import type { Workload } from '../engine/model/types';

export type ViewKind = 'roofline' | 'kv' | 'quant' | 'sidebar';
export const VIEW_KINDS: readonly ViewKind[] = ['roofline', 'kv', 'quant', 'sidebar'];

/** The engine control's value for "no serving engine profile" (the cost model's defaults). */
export const NO_ENGINE = 'none';

/** What the user controls; the host turns it into an engine workload. */
export interface Controls extends Omit<Workload, 'cachedPromptTokens'> {
  /** Prompt tokens per sequence served from the prefix cache (0: none); must stay below promptTokens. */
  cachedPromptTokens: number;
  hardware: string;
  /** Serving engine profile id (engine/cost/engines.json), or NO_ENGINE for the cost model's defaults. */
  engine: string;
  /** KV panel: context length (tokens per sequence) the stack is drawn at. */
  contextTokens: number;
  /** KV panel: sliding window cap in tokens (0 = none). */
  windowTokens: number;
  /** KV panel: eviction budget in tokens kept per sequence (0 = keep everything). */
  evictionTokens: number;
  /** KV panel: paged block size in tokens (0 = contiguous allocation). */
  blockTokens: number;
}

export interface Choice {
  id: string;
  label: string;
}

/** Options the controls offer; ids are engine ids (hardware ids, format ids). */
export interface ControlOptions {
  hardware: Choice[];
  engine: Choice[];
  weights: Choice[];
  activations: Choice[];
  kv: Choice[];
}

/** A device's roofs: one bandwidth slope and one compute ceiling per dtype. */
export interface Roofs {
  id: string;
  name: string;
  bandwidthBytesPerS: number;
  peaks: Array<{ dtype: string; flopsPerS: number }>;
  measured: boolean;
}

export interface RooflineData {
  source: string;
  result: AnalysisResult;
  roofs: Roofs;
  /** Roofs measured on this machine by the WebGPU microbenchmarks, when a measurement exists. */
  measuredRoofs: Roofs | null;
}

/** One point of the memory stack (bytes per device). */
export interface MemoryStack {
  contextTokens: number;
  batch: number;
  weightsBytes: number;
  kvCacheBytes: number;
  activationsBytes: number;
  overheadBytes: number;
  /** Usable device memory minus everything above; negative when it does not fit. */
  freeBytes: number;
  fits: boolean;
}

export interface KvData {
  source: string;
  modelName: string;
  deviceName: string;
  deviceBytes: number;
  /** Device memory the plan may use (device x utilization fraction). */
  usableBytes: number;
  /** The stack at the chosen context and batch. */
  current: MemoryStack;
  /** The stack at the chosen batch across context lengths. */
  byContext: MemoryStack[];
  /** The stack at the chosen context across batch sizes. */
  byBatch: MemoryStack[];
  /** bytesAtContext: the whole batch's cache at the chosen context in that format (window, eviction, blocks). */
  formats: Array<{ id: string; label: string; bytesPerToken: number; bytesAtContext: number }>;
  /** Largest batch that fits at each context (0 = not even one sequence). */
  maxBatch: Array<{ contextTokens: number; maxBatch: number }>;
  verdict: { fits: boolean; text: string };
  notes: string[];
}

export type QualityRisk = 'none' | 'low' | 'medium' | 'high';
export const QUALITY_RISKS: readonly QualityRisk[] = ['none', 'low', 'medium', 'high'];

export interface Evidence {
  claim: string;
  source: string;
}

export interface QuantOption {
  weights: string;
  kv: string;
  bitsPerWeight: number;
  weightsBytes: number;
  kvCacheBytes: number;
  totalBytes: number;
  fits: boolean;
  prefillTimeS: number;
  decodeTimeS: number;
  risk: QualityRisk;
  evidence: Evidence[];
}

export interface LayerSensitivity {
  name: string;
  params: number;
  /** Per format id: signal-to-quantization-noise ratio in dB (higher is better); null = reproduced exactly. */
  sqnrDb: Record<string, number | null>;
}

export interface QuantData {
  source: string;
  modelName: string;
  deviceName: string;
  options: QuantOption[];
  recommendation: { weights: string; kv: string; why: string } | null;
  /** Present when a .safetensors file has been analyzed; most sensitive first. */
  layers: LayerSensitivity[] | null;
  layersSource: string | null;
  /** What the advisor notes about these options (formats run without native compute, the analysis's warnings). */
  notes: string[];
}

export interface KernelRow {
  name: string;
  file: string;
  /** 0-based line of the kernel's entry point. */
  line: number;
  timeS: number | null;
  flopsPerS: number | null;
  bytesPerS: number | null;
  verified: boolean | null;
}

export interface RecentAnalysis {
  label: string;
  file: string;
  hardware: string;
  decodeTokensPerS: number;
  prefillTimeS: number;
}

export interface SidebarData {
  adapter: { description: string; vendor: string; isFallback: boolean } | null;
  adapterNote: string;
  measuredRoofs: Roofs | null;
  benchmark: { running: boolean; fraction: number; message: string };
  kernels: KernelRow[];
  recent: RecentAnalysis[];
}

// ---------------------------------------------------------------------------------------------------
// Messages

export type HostMessage =
  | { type: 'init'; view: ViewKind; controls: Controls; options: ControlOptions }
  | { type: 'roofline'; requestId: number; data: RooflineData }
  | { type: 'kv'; requestId: number; data: KvData }
  | { type: 'quant'; requestId: number; data: QuantData }
  | { type: 'sidebar'; data: SidebarData }
  | { type: 'error'; requestId: number; message: string }
  | { type: 'exported'; format: ExportFormat; path: string | null };

export type ExportFormat = 'svg' | 'png' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['svg', 'png', 'csv'];

export type WebviewMessage =
  | { type: 'ready'; view: ViewKind }
  | { type: 'setControls'; requestId: number; controls: Controls }
  | { type: 'export'; format: ExportFormat; fileName: string; content: string }
  | { type: 'rendered'; requestId: number; renderMs: number }
  | { type: 'openSource'; file: string; line: number }
  | { type: 'runBenchmark' }
  | { type: 'refresh' }
  /** Quantization panel: ask the host for a .safetensors file to measure per-layer error on. */
  | { type: 'pickSafetensors' };

// ---------------------------------------------------------------------------------------------------
// Validation. Each returns the typed message or a one-line reason; callers log the reason and drop it.

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min = 0): v is number => Number.isInteger(v) && (v as number) >= min;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

class Invalid extends Error {}
function need(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Invalid(what);
}

const CONTROL_INTS: Array<[keyof Controls, number]> = [
  ['batch', 1],
  ['promptTokens', 1],
  ['cachedPromptTokens', 0],
  ['generateTokens', 1],
  ['tp', 1],
  ['contextTokens', 1],
  ['windowTokens', 0],
  ['evictionTokens', 0],
  ['blockTokens', 0],
];
/** The controls chosen from a list (ControlOptions holds the choices of each); the others are integers. */
export const SELECT_CONTROLS = ['hardware', 'engine', 'weights', 'activations', 'kv'] as const satisfies ReadonlyArray<keyof Controls & keyof ControlOptions>;

/** Upper bound for every integer control: beyond this the numbers stop meaning anything. */
export const MAX_CONTROL_VALUE = 16_777_216;

export function checkControls(raw: unknown, at = 'controls'): Controls {
  need(isObj(raw), `${at}: expected an object`);
  // State saved before the engine and prefix-cache controls existed restores with their defaults.
  const v: Obj = { ...raw, engine: raw.engine === undefined ? NO_ENGINE : raw.engine, cachedPromptTokens: raw.cachedPromptTokens === undefined ? 0 : raw.cachedPromptTokens };
  for (const k of SELECT_CONTROLS) need(isStr(v[k]) && (v[k] as string).length > 0, `${at}.${k}: expected a non-empty string`);
  for (const [k, min] of CONTROL_INTS) {
    need(isInt(v[k], min) && (v[k] as number) <= MAX_CONTROL_VALUE, `${at}.${k}: expected an integer from ${min} to ${MAX_CONTROL_VALUE}`);
  }
  const out = {} as Record<string, unknown>;
  for (const k of SELECT_CONTROLS) out[k] = v[k];
  for (const [k] of CONTROL_INTS) out[k] = v[k];
  return out as unknown as Controls;
}

function checkChoices(v: unknown, at: string): void {
  need(Array.isArray(v), `${at}: expected an array`);
  v.forEach((c, i) => need(isObj(c) && isStr(c.id) && isStr(c.label), `${at}[${i}]: expected {id, label}`));
}

function checkRoofs(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  need(isStr(v.id) && isStr(v.name), `${at}: expected id and name`);
  need(isNum(v.bandwidthBytesPerS) && v.bandwidthBytesPerS > 0, `${at}.bandwidthBytesPerS: expected a positive number`);
  need(isBool(v.measured), `${at}.measured: expected a boolean`);
  need(Array.isArray(v.peaks), `${at}.peaks: expected an array`);
  v.peaks.forEach((p, i) => need(isObj(p) && isStr(p.dtype) && isNum(p.flopsPerS) && p.flopsPerS > 0, `${at}.peaks[${i}]: expected {dtype, flopsPerS > 0}`));
}

function checkPhase(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  for (const k of ['flops', 'bytes', 'timeS']) need(isNum(v[k]) && (v[k] as number) >= 0, `${at}.${k}: expected a number >= 0`);
  need(isStr(v.bound), `${at}.bound: expected a string`);
}

function checkEvidenceStats(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected null or an object`);
  need(isNum(v.rows) && v.rows >= 0 && isNum(v.within15) && v.within15 >= 0 && v.within15 <= v.rows, `${at}: expected rows >= within15 >= 0`);
  need(isNum(v.medianAbsError) && v.medianAbsError >= 0, `${at}.medianAbsError: expected a number >= 0`);
}

/** The published measurements behind an analysis: null (a device of no table row) or counts per device and engine. */
function checkEvidence(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  if (v.hardware !== null) checkEvidenceStats(v.hardware, `${at}.hardware`);
  if (v.servingEngine !== null) {
    checkEvidenceStats(v.servingEngine, `${at}.servingEngine`);
    need(isStr((v.servingEngine as Record<string, unknown>).id), `${at}.servingEngine.id: expected a string`);
  }
}

function checkAnalysis(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  need(isObj(v.model) && isStr(v.model.name), `${at}.model.name: expected a string`);
  need(isObj(v.hardware) && isStr(v.hardware.id), `${at}.hardware.id: expected a string`);
  checkPhase(v.prefill, `${at}.prefill`);
  checkPhase(v.decode, `${at}.decode`);
  need(isObj(v.decode) && isNum(v.decode.tokensPerS), `${at}.decode.tokensPerS: expected a number`);
  need(isObj(v.e2e) && isNum(v.e2e.timeS) && isNum(v.e2e.outputTokensPerS), `${at}.e2e: expected timeS and outputTokensPerS`);
  need(isObj(v.memory) && isNum(v.memory.totalBytes) && isNum(v.memory.usableBytes) && isNum(v.memory.deviceBytes) && isNum(v.memory.utilization) && isBool(v.memory.fits), `${at}.memory: expected totalBytes, usableBytes, deviceBytes, utilization and fits`);
  const cm = v.costModel;
  need(isObj(cm) && (cm.servingEngine === null || (isObj(cm.servingEngine) && isStr(cm.servingEngine.id) && isStr(cm.servingEngine.name))), `${at}.costModel.servingEngine: expected null or {id, name}`);
  checkEvidence(v.evidence, `${at}.evidence`);
  need(Array.isArray(v.ops), `${at}.ops: expected an array`);
  v.ops.forEach((o, i) => {
    const p = `${at}.ops[${i}]`;
    need(isObj(o) && isStr(o.name), `${p}.name: expected a string`);
    need(o.phase === 'prefill' || o.phase === 'decode', `${p}.phase: expected prefill or decode`);
    for (const k of ['flops', 'bytes', 'intensity', 'timeS']) need(isNum(o[k]) && (o[k] as number) >= 0, `${p}.${k}: expected a number >= 0`);
    need(isStr(o.bound), `${p}.bound: expected a string`);
    need(o.layerGroup === undefined || isStr(o.layerGroup), `${p}.layerGroup: expected a string when present`);
  });
}

function checkStack(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  for (const k of ['contextTokens', 'batch', 'weightsBytes', 'kvCacheBytes', 'activationsBytes', 'overheadBytes', 'freeBytes']) {
    need(isNum(v[k]), `${at}.${k}: expected a number`);
  }
  need(isBool(v.fits), `${at}.fits: expected a boolean`);
}

function checkKv(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  for (const k of ['source', 'modelName', 'deviceName']) need(isStr(v[k]), `${at}.${k}: expected a string`);
  need(isNum(v.deviceBytes) && isNum(v.usableBytes), `${at}: expected deviceBytes and usableBytes`);
  checkStack(v.current, `${at}.current`);
  for (const k of ['byContext', 'byBatch'] as const) {
    need(Array.isArray(v[k]), `${at}.${k}: expected an array`);
    (v[k] as unknown[]).forEach((s, i) => checkStack(s, `${at}.${k}[${i}]`));
  }
  need(Array.isArray(v.formats), `${at}.formats: expected an array`);
  v.formats.forEach((f, i) => need(isObj(f) && isStr(f.id) && isStr(f.label) && isNum(f.bytesPerToken) && isNum(f.bytesAtContext), `${at}.formats[${i}]: expected {id, label, bytesPerToken, bytesAtContext}`));
  need(Array.isArray(v.maxBatch), `${at}.maxBatch: expected an array`);
  v.maxBatch.forEach((m, i) => need(isObj(m) && isInt(m.contextTokens, 1) && isInt(m.maxBatch, 0), `${at}.maxBatch[${i}]: expected {contextTokens, maxBatch}`));
  need(isObj(v.verdict) && isBool(v.verdict.fits) && isStr(v.verdict.text), `${at}.verdict: expected {fits, text}`);
  need(Array.isArray(v.notes) && v.notes.every(isStr), `${at}.notes: expected strings`);
}

function checkQuant(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  for (const k of ['source', 'modelName', 'deviceName']) need(isStr(v[k]), `${at}.${k}: expected a string`);
  need(Array.isArray(v.options), `${at}.options: expected an array`);
  v.options.forEach((o, i) => {
    const p = `${at}.options[${i}]`;
    need(isObj(o) && isStr(o.weights) && isStr(o.kv), `${p}: expected weights and kv ids`);
    for (const k of ['bitsPerWeight', 'weightsBytes', 'kvCacheBytes', 'totalBytes', 'prefillTimeS', 'decodeTimeS']) {
      need(isNum(o[k]) && (o[k] as number) >= 0, `${p}.${k}: expected a number >= 0`);
    }
    need(isBool(o.fits), `${p}.fits: expected a boolean`);
    need(QUALITY_RISKS.includes(o.risk as QualityRisk), `${p}.risk: expected ${QUALITY_RISKS.join('|')}`);
    need(Array.isArray(o.evidence) && o.evidence.every((e) => isObj(e) && isStr(e.claim) && isStr(e.source)), `${p}.evidence: expected [{claim, source}]`);
  });
  const r = v.recommendation;
  need(r === null || (isObj(r) && isStr(r.weights) && isStr(r.kv) && isStr(r.why)), `${at}.recommendation: expected null or {weights, kv, why}`);
  need(v.layers === null || Array.isArray(v.layers), `${at}.layers: expected null or an array`);
  if (Array.isArray(v.layers)) {
    v.layers.forEach((l, i) => need(isObj(l) && isStr(l.name) && isNum(l.params) && isObj(l.sqnrDb) && Object.values(l.sqnrDb).every((x) => x === null || isNum(x)), `${at}.layers[${i}]: expected {name, params, sqnrDb}`));
  }
  need(v.layersSource === null || isStr(v.layersSource), `${at}.layersSource: expected null or a string`);
  need(Array.isArray(v.notes) && v.notes.every(isStr), `${at}.notes: expected strings`);
}

function checkSidebar(v: unknown, at: string): void {
  need(isObj(v), `${at}: expected an object`);
  const a = v.adapter;
  need(a === null || (isObj(a) && isStr(a.description) && isStr(a.vendor) && isBool(a.isFallback)), `${at}.adapter: expected null or {description, vendor, isFallback}`);
  need(isStr(v.adapterNote), `${at}.adapterNote: expected a string`);
  if (v.measuredRoofs !== null) checkRoofs(v.measuredRoofs, `${at}.measuredRoofs`);
  const b = v.benchmark;
  need(isObj(b) && isBool(b.running) && isNum(b.fraction) && b.fraction >= 0 && b.fraction <= 1 && isStr(b.message), `${at}.benchmark: expected {running, fraction 0..1, message}`);
  need(Array.isArray(v.kernels), `${at}.kernels: expected an array`);
  v.kernels.forEach((k, i) => need(isObj(k) && isStr(k.name) && isStr(k.file) && isInt(k.line, 0), `${at}.kernels[${i}]: expected {name, file, line}`));
  need(Array.isArray(v.recent), `${at}.recent: expected an array`);
  v.recent.forEach((r, i) => need(isObj(r) && isStr(r.label) && isStr(r.file) && isStr(r.hardware) && isNum(r.decodeTokensPerS) && isNum(r.prefillTimeS), `${at}.recent[${i}]: expected {label, file, hardware, decodeTokensPerS, prefillTimeS}`));
}

function run<T>(f: () => T): Checked<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message };
    return { ok: false, reason: `malformed message: ${(e as Error).message}` };
  }
}

/** Validates a message from the host (run in the webview). */
export function checkHostMessage(v: unknown): Checked<HostMessage> {
  return run(() => {
    need(isObj(v) && isStr(v.type), 'message: expected an object with a string type');
    switch (v.type) {
      case 'init':
        need(VIEW_KINDS.includes(v.view as ViewKind), 'init.view: expected a view kind');
        checkControls(v.controls, 'init.controls');
        need(isObj(v.options), 'init.options: expected an object');
        for (const k of SELECT_CONTROLS) checkChoices(v.options[k], `init.options.${k}`);
        break;
      case 'roofline':
        need(isInt(v.requestId), 'roofline.requestId: expected an integer');
        need(isObj(v.data) && isStr(v.data.source), 'roofline.data.source: expected a string');
        checkAnalysis(v.data.result, 'roofline.data.result');
        checkRoofs(v.data.roofs, 'roofline.data.roofs');
        if (v.data.measuredRoofs !== null) checkRoofs(v.data.measuredRoofs, 'roofline.data.measuredRoofs');
        break;
      case 'kv':
        need(isInt(v.requestId), 'kv.requestId: expected an integer');
        checkKv(v.data, 'kv.data');
        break;
      case 'quant':
        need(isInt(v.requestId), 'quant.requestId: expected an integer');
        checkQuant(v.data, 'quant.data');
        break;
      case 'sidebar':
        checkSidebar(v.data, 'sidebar.data');
        break;
      case 'error':
        need(isInt(v.requestId) && isStr(v.message), 'error: expected requestId and message');
        break;
      case 'exported':
        need(EXPORT_FORMATS.includes(v.format as ExportFormat), 'exported.format: expected svg, png or csv');
        need(v.path === null || isStr(v.path), 'exported.path: expected null or a string');
        break;
      default:
        throw new Invalid(`message.type: unknown host message ${JSON.stringify(v.type)}`);
    }
    return v as unknown as HostMessage;
  });
}

/** Largest export the host accepts (a PNG of the chart is far below this). */
export const MAX_EXPORT_CHARS = 32 * 1024 * 1024;

/** Validates a message from a webview (run in the host). */
export function checkWebviewMessage(v: unknown): Checked<WebviewMessage> {
  return run(() => {
    need(isObj(v) && isStr(v.type), 'message: expected an object with a string type');
    switch (v.type) {
      case 'ready':
        need(VIEW_KINDS.includes(v.view as ViewKind), 'ready.view: expected a view kind');
        return { type: 'ready', view: v.view as ViewKind };
      case 'setControls':
        need(isInt(v.requestId), 'setControls.requestId: expected an integer');
        return { type: 'setControls', requestId: v.requestId as number, controls: checkControls(v.controls, 'setControls.controls') };
      case 'export':
        need(EXPORT_FORMATS.includes(v.format as ExportFormat), 'export.format: expected svg, png or csv');
        need(isStr(v.fileName) && /^[\w.-]{1,120}$/.test(v.fileName), 'export.fileName: expected a plain file name');
        need(isStr(v.content) && v.content.length > 0 && v.content.length <= MAX_EXPORT_CHARS, 'export.content: expected a non-empty string');
        if (v.format === 'png') need((v.content as string).startsWith('data:image/png;base64,'), 'export.content: expected a PNG data URL');
        return { type: 'export', format: v.format as ExportFormat, fileName: v.fileName as string, content: v.content as string };
      case 'rendered':
        need(isInt(v.requestId) && isNum(v.renderMs) && (v.renderMs as number) >= 0, 'rendered: expected requestId and renderMs >= 0');
        return { type: 'rendered', requestId: v.requestId as number, renderMs: v.renderMs as number };
      case 'openSource':
        need(isStr(v.file) && v.file.length > 0 && isInt(v.line, 0), 'openSource: expected file and line >= 0');
        return { type: 'openSource', file: v.file as string, line: v.line as number };
      case 'runBenchmark':
        return { type: 'runBenchmark' };
      case 'refresh':
        return { type: 'refresh' };
      case 'pickSafetensors':
        return { type: 'pickSafetensors' };
      default:
        throw new Invalid(`message.type: unknown webview message ${JSON.stringify(v.type)}`);
    }
  });
}
