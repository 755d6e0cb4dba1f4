/**
 * The extension's one door into the engine for model configs: settings in, plain results out.
 * No vscode types cross into engine/ and no cost formulas live here: every figure shown in the editor is
 * the engine's, recomputed on a modified config where the editor shows "what if".
 */
import { analyze, resolveFormats } from '../engine/analyze';
import type { AnalysisResult } from '../engine/analysis';
import { RidgelineError } from '../engine/errors';
import { checkUserDevices, clearRegisteredDevices, getDevice, listDevices, registerDevices, setMeasuredDeviceLoader, type Device } from '../engine/hardware/index';
import { parseConfig } from '../engine/model/parse';
import { withPrefixHit } from '../engine/model/graph';
import type { ModelSpec, OpClass, Workload } from '../engine/model/types';
import { costParamsFor, type CostParams } from '../engine/cost/params';
import { servingEngine, servingEngines, type ServingEngine } from '../engine/cost/engines';
import type { Settings } from './settings';

export type { AnalysisResult, Device, ModelSpec, Workload };

/** Applies settings that live in the engine's registries: custom devices and the measured device. */
export function applyDeviceSettings(s: Settings, measured: () => Device | null): string[] {
  clearRegisteredDevices();
  // The same checks as a --devices file, naming the entry; a bad or repeated entry is skipped, the rest register.
  const { devices, errors } = checkUserDevices(s.customDevices, '', (i) => `ridgeline.customDevices[${i}]`, 'setting');
  registerDevices(devices, 'ridgeline.customDevices');
  const problems = errors.map((e) => `${e.message}; this entry is skipped`);
  setMeasuredDeviceLoader(measured);
  return problems;
}

export function devices(): Device[] {
  return listDevices();
}

/** The serving engine profiles (engine/cost/engines.json). */
export function engineProfiles(): readonly Readonly<ServingEngine>[] {
  return servingEngines();
}

/** One profile by id; an unknown id throws a line naming the close matches. */
export function engineProfile(id: string): Readonly<ServingEngine> {
  return servingEngine(id, 'ridgeline.servingEngine');
}

export function device(id: string): Device {
  return getDevice(id, 'ridgeline.hardware');
}

/**
 * The workload the settings describe, with the model's own dtype where a format is left empty (and, for
 * activations, what the weight format runs with on that device, as `ridgeline analyze` does).
 */
export function workloadFor(spec: ModelSpec, s: Settings, d: Device): Workload {
  return withPrefixHit({
    batch: s.batch,
    promptTokens: s.promptTokens,
    generateTokens: s.generateTokens,
    ...formatsFor(spec, d, { weights: s.weightsFormat, activations: s.activationsFormat, kv: s.kvFormat }, s.servingEngine || undefined),
    tp: s.tensorParallel,
  }, s.cachedPromptTokens);
}

/** The formats of the settings, resolved as the CLI resolves its options (engine/analyze.ts resolveFormats). */
export function formatsFor(spec: ModelSpec, d: Device, ids: { weights?: string; activations?: string; kv?: string }, engineId?: string): Pick<Workload, 'weights' | 'activations' | 'kv'> {
  return resolveFormats(spec, d, ids, { weights: 'ridgeline.weightsFormat', activations: 'ridgeline.activationsFormat', kv: 'ridgeline.kvFormat' }, engineId);
}

export interface ConfigAnalysis {
  spec: ModelSpec;
  result: AnalysisResult;
}

/** Parses and analyzes a config's text on the settings' hardware and workload. Throws RidgelineError. */
export function analyzeConfigText(text: string, file: string, s: Settings, opts: { sweeps?: boolean } = {}): ConfigAnalysis {
  const spec = parseConfig(text, file);
  return { spec, result: analyzeSpec(spec, s, opts) };
}

/**
 * Cost-model overrides from the settings: each `ridgeline.efficiency.<class>` fraction replaces both the
 * compute and the memory efficiency of that op class (on top of the defaults or the measured device).
 */
export function costOverrides(s: Settings, d: Device): Partial<CostParams> | undefined {
  const classes = Object.entries(s.efficiency) as Array<[OpClass, number]>;
  if (classes.length === 0) return undefined;
  // A copy: the device's parameters are shared by every analysis (and frozen).
  const efficiency = structuredClone(costParamsFor(d).efficiency);
  for (const [cls, v] of classes) efficiency[cls] = { compute: v, memory: v };
  return { efficiency };
}

/** The engine's analysis on the settings' hardware and workload (`sweeps` off for lenses and hovers). */
export function analyzeSpec(spec: ModelSpec, s: Settings, opts: { sweeps?: boolean } = {}): AnalysisResult {
  const d = device(s.hardware);
  return analyze(spec, workloadFor(spec, s, d), d, { servingEngine: s.servingEngine || undefined, params: costOverrides(s, d), sweeps: opts.sweeps ?? false });
}

/** One line for the user from anything thrown (RidgelineError message, else the first line). */
export function errorLine(e: unknown): string {
  if (e instanceof RidgelineError) return e.message;
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}

/** The CLI options the engine's input errors name, as the editor's settings and panel controls call them. */
const EDITOR_NAMES: Record<string, readonly [setting: string, control: string]> = {
  '--hardware': ['ridgeline.hardware', 'Hardware'],
  '--engine': ['ridgeline.servingEngine', 'Serving engine'],
  '--batch': ['ridgeline.batch', 'Batch'],
  '--prompt': ['ridgeline.promptTokens', 'Prompt tokens'],
  '--cached-prompt': ['ridgeline.cachedPromptTokens', 'Cached prompt tokens'],
  '--generate': ['ridgeline.generateTokens', 'Generate tokens'],
  '--weights': ['ridgeline.weightsFormat', 'Weights'],
  '--activations': ['ridgeline.activationsFormat', 'Activations'],
  '--kv': ['ridgeline.kvFormat', 'KV cache'],
  '--tp': ['ridgeline.tensorParallel', 'Tensor parallel'],
};

/**
 * errorLine for the editor: an option the engine names as the CLI spells it (`--tp: expected ...`) becomes the
 * setting (`ridgeline.tensorParallel: ...`) or, in a panel, its control (`Tensor parallel: ...`), and "run
 * `ridgeline bench`" the command that does it here.
 */
export function editorLine(e: unknown, where: 'settings' | 'panel' = 'settings'): string {
  return errorLine(e)
    .replace(/(^|[\s(])(--[a-z-]+)(?=:)/g, (all: string, pre: string, flag: string) => {
      const n = EDITOR_NAMES[flag];
      return n ? pre + (where === 'settings' ? n[0] : n[1]) : all;
    })
    .replace(/run `ridgeline bench`/g, 'run Ridgeline: Run Device Benchmark');
}

export function isInputError(e: unknown): e is RidgelineError {
  return e instanceof RidgelineError;
}

// ---- what-if variants for hovers: each modifies the raw config, the engine recomputes everything ----

export interface Variant {
  /** Shown as "If you <label>:". */
  label: string;
  apply(raw: Record<string, unknown>): Record<string, unknown> | null;
  /**
   * Evaluate both the current and the modified config at another workload (e.g. a long context, where a
   * window or the trained context length matters). Returns null when it does not apply.
   */
  workload?: (raw: Record<string, unknown>, s: Settings, spec: ModelSpec) => { settings: Settings; label: string } | null;
}

/** The trained context length as a workload: one sequence, the whole context as prompt. */
function atMaxContext(raw: Record<string, unknown>, s: Settings, spec: ModelSpec): { settings: Settings; label: string } | null {
  // The parsed value where a family defaults it (Gemma 3's multimodal checkpoints leave it out).
  const max = spec.maxPositionEmbeddings ?? num(raw.max_position_embeddings) ?? num(raw.n_positions);
  if (max === null || max <= s.promptTokens + s.generateTokens) return null;
  return { settings: { ...s, batch: 1, promptTokens: max - 1, generateTokens: 1 }, label: `at ${max.toLocaleString('en-US')} tokens of context, batch 1` };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function scaleField(field: string, factor: number, label: string, min = 1): Variant {
  return {
    label,
    apply(raw) {
      const v = num(raw[field]);
      if (v === null) return null;
      const next = Math.round(v * factor);
      if (next < min || next === v) return null;
      return { ...raw, [field]: next };
    },
  };
}

/** What each cost-relevant field means, and how to vary it to show its effect. */
export interface FieldInfo {
  what: string;
  variants: Variant[];
  /** Why the field changes nothing for this config (a layout that does not use it), when that is known. */
  unused?: string;
}

/** KV heads as the config spells them (Falcon's num_kv_heads, ...), and the field to write a new count to. */
function kvHeadsOf(r: Record<string, unknown>): { field: string; value: number } | null {
  for (const f of ['num_key_value_heads', 'num_kv_heads', 'n_head_kv']) {
    const v = num(r[f]);
    if (v !== null) return { field: f, value: v };
  }
  return null;
}

const EXPERT_FIELDS = ['num_local_experts', 'num_experts', 'n_routed_experts'];
const TOPK_FIELDS = ['num_experts_per_tok', 'moe_topk'];

export function fieldInfo(field: string, raw: Record<string, unknown>, spec: ModelSpec): FieldInfo | null {
  const mla = spec.attention.mla !== null;
  const moe = spec.layerGroups.some((g) => g.mlp.kind === 'moe');
  const allMoe = spec.layerGroups.every((g) => g.mlp.kind === 'moe');
  switch (field) {
    case 'num_key_value_heads': {
      const heads = num(raw.num_attention_heads);
      const v: Variant[] = [scaleField(field, 0.5, 'halve `num_key_value_heads` (more grouped-query sharing)')];
      const kv = num(raw[field]);
      if (heads !== null && kv !== null && kv < heads && heads % (kv * 2) === 0) v.push(scaleField(field, 2, 'double `num_key_value_heads`'));
      return {
        what: 'Heads with their own K and V: the KV cache grows linearly with it; query heads do not.',
        variants: mla ? [] : v,
        unused: mla ? 'this model caches a compressed latent per token (MLA, `kv_lora_rank`), not K and V per head: its KV cache does not depend on this field.' : undefined,
      };
    }
    case 'num_attention_heads':
      return {
        what: 'Query heads: attention FLOPs; with no explicit head_dim, head_dim = hidden_size / heads, so fewer heads means wider heads (and a larger KV cache per KV head).',
        variants: [
          {
            label: 'halve `num_attention_heads`',
            apply: (r) => {
              const h = num(r.num_attention_heads);
              const kvs = kvHeadsOf(r);
              const kv = kvs?.value ?? h;
              if (h === null || kv === null || h % 2 !== 0) return null;
              const half = h / 2;
              const out: Record<string, unknown> = { ...r, num_attention_heads: half };
              if (kv === h) out[kvs?.field ?? 'num_key_value_heads'] = half;
              else if (half % kv !== 0) return null;
              return out;
            },
          },
        ],
      };
    case 'num_hidden_layers':
      return {
        what: 'Decoder layers: weights, KV cache and time all scale with it.',
        variants: [
          {
            label: 'remove one layer',
            apply: (r) => {
              const v = num(r[field]);
              if (v === null || v < 2) return null;
              const out: Record<string, unknown> = { ...r, [field]: v - 1 };
              if (Array.isArray(r.layer_types)) out.layer_types = (r.layer_types as unknown[]).slice(0, v - 1);
              return out;
            },
          },
        ],
      };
    case 'intermediate_size':
      // Unused only where every layer is MoE and the experts are sized by their own field (Mixtral's are not).
      return allMoe && num(raw.moe_intermediate_size) !== null
        ? { what: 'MLP width of dense layers.', variants: [], unused: 'every layer of this model is a mixture of experts (`moe_intermediate_size` sizes them): no layer uses it.' }
        : { what: 'MLP width: most of the weights and most of the FLOPs of a dense model.', variants: [scaleField(field, 0.5, 'halve `intermediate_size`')] };
    case 'moe_intermediate_size':
      return moe
        ? { what: 'Width of each routed expert.', variants: [scaleField(field, 0.5, 'halve `moe_intermediate_size`')] }
        : { what: 'Width of each routed expert.', variants: [], unused: 'this model has no mixture-of-experts layer: no layer uses it.' };
    case 'hidden_size':
      return {
        what: 'Model width: every projection, the embeddings and activations scale with it.',
        variants: [
          {
            label: 'halve `hidden_size` (and the heads, keeping the head dimension)',
            apply: (r) => {
              const d = num(r.hidden_size);
              const h = num(r.num_attention_heads);
              if (d === null || h === null || d % 2 !== 0 || h % 2 !== 0) return null;
              const kvs = kvHeadsOf(r);
              const out: Record<string, unknown> = { ...r, hidden_size: d / 2, num_attention_heads: h / 2 };
              if (kvs !== null) {
                const kv = kvs.value;
                if (kv === h) out[kvs.field] = h / 2;
                else if (kv % 2 === 0 && kv / 2 >= 1) out[kvs.field] = kv / 2;
                else return null;
              }
              return out;
            },
          },
        ],
      };
    case 'vocab_size':
      return {
        what: 'Vocabulary: the embedding table and the LM head (vocab x hidden each, unless tied).',
        variants: [scaleField(field, 0.5, 'halve `vocab_size`')],
      };
    case 'torch_dtype': {
      const cur = typeof raw.torch_dtype === 'string' ? raw.torch_dtype : '';
      const alt = cur === 'float32' ? 'bfloat16' : 'float32';
      return {
        what: 'Parameter dtype: bytes per weight, and the default KV-cache and activation format.',
        variants: [{ label: `store the weights in ${alt}`, apply: (r) => ({ ...r, torch_dtype: alt }) }],
      };
    }
    case 'sliding_window': {
      const windowed = spec.layerGroups.some((g) => g.window !== null);
      if (!windowed) {
        return {
          what: 'Attention window: the KV cache of windowed layers stops growing at this many tokens.',
          variants: [],
          unused: 'no layer of this config is windowed as Ridgeline reads it (`sliding_window` null, `use_sliding_window` false or `max_window_layers` past the last layer, a window as long as the context, or a family read as a generic decoder): its KV cache grows with the whole context.',
        };
      }
      return {
        what: 'Attention window: the KV cache of windowed layers stops growing at this many tokens.',
        variants: [
          {
            label: 'turn the window off (full attention)',
            // A window as long as the trained context is none (Gemma's families default a null window to 4096).
            apply: (r) => {
              const max = spec.maxPositionEmbeddings ?? num(r.max_position_embeddings);
              return max !== null ? { ...r, sliding_window: max } : { ...r, sliding_window: null, use_sliding_window: false };
            },
            workload: atMaxContext,
          },
          { ...scaleField(field, 0.5, 'halve `sliding_window`'), workload: atMaxContext },
        ],
      };
    }
    case 'max_position_embeddings':
      return {
        what: 'Longest context the model was trained for: the KV cache at this context is the worst case per sequence.',
        variants: [{ label: 'fill the whole context', apply: (r) => ({ ...r }), workload: atMaxContext }],
      };
    case 'kv_lora_rank':
      return mla
        ? { what: 'MLA latent width: the KV cache stores this latent (plus the rope dims) instead of full K and V.', variants: [scaleField(field, 0.5, 'halve `kv_lora_rank`')] }
        : { what: 'MLA latent width.', variants: [], unused: 'this model does not use multi-head latent attention (MLA): it caches K and V per KV head.' };
    case 'tie_word_embeddings':
      return {
        what: 'Whether the LM head shares the embedding matrix (no separate lm_head weights).',
        variants: [{ label: `set it to ${raw.tie_word_embeddings === true ? 'false' : 'true'}`, apply: (r) => ({ ...r, tie_word_embeddings: r.tie_word_embeddings !== true }) }],
      };
    case 'num_experts_per_tok':
    case 'moe_topk':
      if (!moe) return { what: 'Experts each token is routed to.', variants: [], unused: 'this model has no mixture-of-experts layer: no layer uses it.' };
      return {
        what: 'Experts each token is routed to: active parameters and decode FLOPs per token scale with it.',
        variants: [scaleField(field, 0.5, `halve \`${field}\``), scaleField(field, 2, `double \`${field}\``)],
      };
    default:
      if (EXPERT_FIELDS.includes(field)) {
        if (!moe) return { what: 'Routed experts.', variants: [], unused: 'this model has no mixture-of-experts layer: no layer uses it.' };
        return {
          what: 'Routed experts: every expert must be in memory, though each token only uses the top-k of them.',
          variants: [
            {
              label: `halve \`${field}\``,
              apply: (r) => {
                const v = num(r[field]);
                if (v === null || v < 2) return null;
                const next = Math.round(v / 2);
                const out: Record<string, unknown> = { ...r, [field]: next };
                for (const k of TOPK_FIELDS) {
                  const t = num(r[k]);
                  if (t !== null && t > next) out[k] = next;
                }
                return out;
              },
            },
          ],
        };
      }
      return null;
  }
}

/** Fields the hover explains, in the order a reader meets them. */
export const HOVER_FIELDS = [
  'num_key_value_heads', 'num_attention_heads', 'num_hidden_layers', 'intermediate_size', 'moe_intermediate_size',
  'hidden_size', 'vocab_size', 'torch_dtype', 'sliding_window', 'max_position_embeddings', 'kv_lora_rank',
  'tie_word_embeddings', ...TOPK_FIELDS, ...EXPERT_FIELDS,
];

export interface WhatIf {
  label: string;
  /** Set when the comparison is at another workload than the settings' (e.g. the full context). */
  workloadLabel?: string;
  before: AnalysisResult;
  after: AnalysisResult | null;
  /** Set when the engine rejects the modified config (e.g. heads no longer divide). */
  error?: string;
}

/** Re-runs the engine on each variant of the config. */
export function whatIfs(
  raw: Record<string, unknown>,
  file: string,
  field: string,
  s: Settings,
  current: ConfigAnalysis,
  scope?: 'text_config',
): { info: FieldInfo | null; results: WhatIf[] } {
  // The config as analyzed (the lenses' parse of the same text): its layout decides what a field does.
  const spec = current.spec;
  const before = current.result;
  // A field of a multimodal config's text_config varies there; the whole config is analyzed.
  const inner = scope ? (raw[scope] as Record<string, unknown>) : raw;
  const wrap = (next: Record<string, unknown> | null) => (next && scope ? { ...raw, [scope]: next } : next);
  const info = fieldInfo(field, inner, spec);
  if (!info) return { info, results: [] };
  const results: WhatIf[] = [];
  for (const v of info.variants) {
    const next = wrap(v.apply(inner));
    if (!next) continue;
    let settings = s;
    let base = before;
    let workloadLabel: string | undefined;
    if (v.workload) {
      const w = v.workload(inner, s, spec);
      if (!w) continue;
      settings = w.settings;
      workloadLabel = w.label;
      try {
        base = analyzeSpec(parseConfig(raw, file), settings);
      } catch {
        continue;
      }
    }
    try {
      const spec = parseConfig(next, file);
      results.push({ label: v.label, workloadLabel, before: base, after: analyzeSpec(spec, settings) });
    } catch (e) {
      results.push({ label: v.label, workloadLabel, before: base, after: null, error: editorLine(e) });
    }
  }
  return { info, results };
}
