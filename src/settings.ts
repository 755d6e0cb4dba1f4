import * as vscode from 'vscode';
import type { Device } from '../engine/hardware/types';
import { engineProfiles } from './engine';
import { DIM_EXPECTED, isDimValue } from '../engine/kernels/annotations';

/** Op classes whose efficiency the user may override (engine/model/types OpClass). */
export const EFFICIENCY_CLASSES = ['gemm', 'attention', 'elementwise', 'norm', 'comm'] as const;
export type EfficiencyClass = (typeof EFFICIENCY_CLASSES)[number];

/** Every `ridgeline.*` setting, read and validated in this one place and handed to the engine as values. */
export interface Settings {
  hardware: string;
  customDevices: Device[];
  batch: number;
  promptTokens: number;
  /** Prompt tokens per sequence served from the prefix cache: 0 to promptTokens - 1. */
  cachedPromptTokens: number;
  generateTokens: number;
  /** Empty string: the model's own dtype. */
  weightsFormat: string;
  activationsFormat: string;
  kvFormat: string;
  tensorParallel: number;
  /** Serving engine profile id (engine/cost/engines.json); empty string: the cost model's defaults. */
  servingEngine: string;
  efficiency: Partial<Record<EfficiencyClass, number>>;
  /** Problem sizes for kernel estimates without an annotation (e.g. { M: 4096 }). */
  kernelDims: Record<string, number>;
  codeLensEnabled: boolean;
  /** The setting as written; kernels run only when this is true AND the workspace is trusted. */
  allowKernelExecution: boolean;
  /** Setting values that were out of range and replaced by their defaults: one line each. */
  problems: string[];
}

export const SECTION = 'ridgeline';

const DEFAULTS = {
  hardware: 'h100-sxm',
  batch: 1,
  promptTokens: 1024,
  generateTokens: 256,
  tensorParallel: 1,
};

function intSetting(cfg: vscode.WorkspaceConfiguration, key: string, fallback: number, max: number, problems: string[]): number {
  const v = cfg.get<unknown>(key, fallback);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max) return v;
  problems.push(`ridgeline.${key}: expected an integer from 1 to ${max} (got ${JSON.stringify(v)}); using ${fallback}`);
  return fallback;
}

function strSetting(cfg: vscode.WorkspaceConfiguration, key: string, fallback: string, problems: string[]): string {
  const v = cfg.get<unknown>(key, fallback);
  if (typeof v === 'string') return v.trim();
  problems.push(`ridgeline.${key}: expected a string (got ${JSON.stringify(v)}); using ${JSON.stringify(fallback)}`);
  return fallback;
}

/**
 * Custom devices from settings: each object is copied (the settings' own objects are read-only), with `name`
 * (the id) and `source` filled in where absent. Its fields are checked by the engine's device checks when the
 * device is registered (engine.ts applyDeviceSettings), which name the entry and the field of a bad one.
 */
function devicesSetting(raw: unknown, problems: string[]): Device[] {
  if (!Array.isArray(raw)) {
    if (raw !== undefined) problems.push('ridgeline.customDevices: expected an array of devices');
    return [];
  }
  const out: Device[] = [];
  raw.forEach((d: unknown, i: number) => {
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return void problems.push(`ridgeline.customDevices[${i}]: expected an object`);
    const o = { ...(d as Record<string, unknown>) };
    if (o.name === undefined && typeof o.id === 'string') o.name = o.id;
    if (o.source === undefined) o.source = 'user setting ridgeline.customDevices';
    out.push(o as unknown as Device);
  });
  return out;
}

function engineSetting(raw: unknown, problems: string[]): string {
  if (raw === undefined || raw === null || raw === '') return '';
  const ids = engineProfiles().map((e) => e.id);
  const id = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (ids.includes(id)) return id;
  problems.push(`ridgeline.servingEngine: expected one of ${ids.join(', ')} or empty (got ${JSON.stringify(raw)}); using the cost model's defaults`);
  return '';
}

function efficiencySetting(raw: unknown, problems: string[]): Partial<Record<EfficiencyClass, number>> {
  const out: Partial<Record<EfficiencyClass, number>> = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object') {
    problems.push('ridgeline.efficiency: expected an object of fractions per op class');
    return out;
  }
  for (const [k, v] of Object.entries(raw)) {
    if (!(EFFICIENCY_CLASSES as readonly string[]).includes(k)) {
      problems.push(`ridgeline.efficiency.${k}: expected one of ${EFFICIENCY_CLASSES.join(', ')}`);
    } else if (typeof v !== 'number' || !(v > 0 && v <= 1)) {
      problems.push(`ridgeline.efficiency.${k}: expected a fraction in (0, 1] (got ${JSON.stringify(v)})`);
    } else {
      out[k as EfficiencyClass] = v;
    }
  }
  return out;
}

function dimsSetting(raw: unknown, problems: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object') {
    problems.push('ridgeline.kernelDims: expected an object such as { "M": 4096, "N": 4096, "K": 4096 }');
    return out;
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'number' && isDimValue(v)) out[k] = v;
    else problems.push(`ridgeline.kernelDims.${k}: expected ${DIM_EXPECTED} (got ${JSON.stringify(v)})`);
  }
  return out;
}

/** Prompt tokens served from the prefix cache: 0 to promptTokens - 1 (the last prompt token is always computed). */
function cachedSetting(v: unknown, promptTokens: number, problems: string[]): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < promptTokens) return v;
  problems.push(`ridgeline.cachedPromptTokens: expected an integer from 0 to ${promptTokens - 1}, fewer than ridgeline.promptTokens (got ${JSON.stringify(v)}); using 0`);
  return 0;
}

/** Reads every ridgeline.* setting for a resource (or the window). */
export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const cfg = vscode.workspace.getConfiguration(SECTION, scope);
  const problems: string[] = [];
  const hardware = strSetting(cfg, 'hardware', DEFAULTS.hardware, problems) || DEFAULTS.hardware;
  const customDevices = devicesSetting(cfg.get('customDevices'), problems);
  const batch = intSetting(cfg, 'batch', DEFAULTS.batch, 4096, problems);
  const promptTokens = intSetting(cfg, 'promptTokens', DEFAULTS.promptTokens, 10_000_000, problems);
  return {
    hardware,
    customDevices,
    batch,
    promptTokens,
    cachedPromptTokens: cachedSetting(cfg.get('cachedPromptTokens', 0), promptTokens, problems),
    generateTokens: intSetting(cfg, 'generateTokens', DEFAULTS.generateTokens, 10_000_000, problems),
    weightsFormat: strSetting(cfg, 'weightsFormat', '', problems),
    activationsFormat: strSetting(cfg, 'activationsFormat', '', problems),
    kvFormat: strSetting(cfg, 'kvFormat', '', problems),
    tensorParallel: intSetting(cfg, 'tensorParallel', DEFAULTS.tensorParallel, 64, problems),
    servingEngine: engineSetting(cfg.get('servingEngine'), problems),
    efficiency: efficiencySetting(cfg.get('efficiency'), problems),
    kernelDims: dimsSetting(cfg.get('kernelDims'), problems),
    codeLensEnabled: cfg.get<boolean>('codeLens.enabled', true) !== false,
    allowKernelExecution: cfg.get<boolean>('allowKernelExecution', true) !== false,
    problems,
  };
}

/** True when a settings change touches anything an analysis depends on. */
export function affectsAnalysis(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(SECTION);
}

/** Kernels run only in trusted workspaces, and only when the user allows it. */
export function kernelExecutionAllowed(s: Settings): { allowed: boolean; reason?: string } {
  if (!vscode.workspace.isTrusted) {
    return { allowed: false, reason: 'Ridgeline does not run kernels in an untrusted workspace. Trust the workspace to profile kernels or run the device benchmark; analysis works without it.' };
  }
  if (!s.allowKernelExecution) {
    return { allowed: false, reason: 'Running kernels is turned off (setting ridgeline.allowKernelExecution).' };
  }
  return { allowed: true };
}
