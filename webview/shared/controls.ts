/**
 * The workload controls (hardware, batch, lengths, formats, tp, and the KV options), built from
 * @vscode-elements/elements. Each control carries `data-control="<name>"` so tests and labels find it.
 */
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import { SELECT_CONTROLS, type Choice, type ControlOptions, type Controls } from '../protocol';

type SelectKey = (typeof SELECT_CONTROLS)[number];
const isSelect = (k: keyof Controls): k is SelectKey => (SELECT_CONTROLS as readonly string[]).includes(k);
type NumberKey = Exclude<keyof Controls, SelectKey>;

const LABELS: Record<keyof Controls, string> = {
  hardware: 'Hardware',
  engine: 'Serving engine',
  batch: 'Batch',
  promptTokens: 'Prompt tokens',
  cachedPromptTokens: 'Cached prompt tokens (prefix cache)',
  generateTokens: 'Generate tokens',
  weights: 'Weights',
  activations: 'Activations',
  kv: 'KV cache',
  tp: 'Tensor parallel',
  contextTokens: 'Context tokens',
  windowTokens: 'Sliding window (0 = off)',
  evictionTokens: 'Eviction budget (0 = off)',
  blockTokens: 'Paged block (0 = contiguous)',
};

const MIN: Record<NumberKey, number> = {
  batch: 1,
  promptTokens: 1,
  cachedPromptTokens: 0,
  generateTokens: 1,
  tp: 1,
  contextTokens: 1,
  windowTokens: 0,
  evictionTokens: 0,
  blockTokens: 0,
};

interface ValueElement extends HTMLElement {
  value: string;
}

export class ControlBar {
  private readonly elements = new Map<keyof Controls, ValueElement>();
  private values: Controls | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly keys: Array<keyof Controls>,
    private readonly onChange: (c: Controls) => void,
  ) {}

  /** (Re)builds the controls from the host's options and values. */
  build(options: ControlOptions, values: Controls): void {
    this.values = { ...values };
    this.root.replaceChildren();
    this.elements.clear();
    for (const key of this.keys) {
      const id = `ctl-${key}`;
      const wrap = document.createElement('div');
      wrap.className = 'control';
      const label = document.createElement('vscode-label');
      label.setAttribute('for', id);
      label.textContent = LABELS[key];
      let el: ValueElement;
      if (isSelect(key)) {
        el = this.select(options[key], values[key]);
        el.addEventListener('change', () => this.commit(key, el.value));
      } else {
        el = document.createElement('vscode-textfield') as ValueElement;
        el.setAttribute('type', 'number');
        el.setAttribute('min', String(MIN[key]));
        el.setAttribute('step', '1');
        el.value = String(values[key]);
        // Live: every keystroke that leaves a valid integer recomputes.
        el.addEventListener('input', () => this.commit(key, el.value));
        el.addEventListener('change', () => this.commit(key, el.value));
      }
      el.id = id;
      el.dataset.control = key;
      el.setAttribute('aria-label', LABELS[key]);
      wrap.append(label, el);
      this.root.append(wrap);
      this.elements.set(key, el);
    }
  }

  private select(choices: Choice[], value: string): ValueElement {
    const sel = document.createElement('vscode-single-select') as ValueElement;
    for (const c of choices) {
      const opt = document.createElement('vscode-option') as ValueElement;
      opt.setAttribute('value', c.id);
      opt.textContent = c.label;
      if (c.id === value) opt.setAttribute('selected', '');
      sel.append(opt);
    }
    sel.value = value;
    return sel;
  }

  private commit(key: keyof Controls, raw: string): void {
    if (!this.values) return;
    const el = this.elements.get(key);
    if (isSelect(key)) {
      if (!raw || raw === this.values[key]) return;
      this.values = { ...this.values, [key]: raw };
    } else {
      const n = Number(raw);
      const ok = raw.trim() !== '' && Number.isInteger(n) && n >= MIN[key] && n <= 16_777_216;
      el?.toggleAttribute('invalid', !ok);
      if (!ok || n === this.values[key]) return;
      this.values = { ...this.values, [key]: n };
    }
    this.onChange({ ...this.values });
  }

  current(): Controls | null {
    return this.values ? { ...this.values } : null;
  }
}
