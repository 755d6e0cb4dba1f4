/** The webview side of the protocol: the VS Code API handle, validated messages in and out, and state. */
import { checkHostMessage, type HostMessage, type ViewKind, type WebviewMessage } from '../protocol';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = acquireVsCodeApi();

export function post(msg: WebviewMessage): void {
  api.postMessage(msg);
}

export function getState<T>(): T | undefined {
  return (api.getState() as T | undefined) ?? undefined;
}

export function setState<T>(state: T): void {
  api.setState(state);
}

/**
 * Listens for host messages, drops (and logs) malformed ones, then posts `ready`.
 * Returns nothing: the handler receives only validated messages.
 */
export function connect(view: ViewKind, onMessage: (msg: HostMessage) => void): void {
  window.addEventListener('message', (ev: MessageEvent) => {
    const checked = checkHostMessage(ev.data);
    if (!checked.ok) {
      console.error(`ridgeline ${view}: dropped a malformed message: ${checked.reason}`);
      return;
    }
    onMessage(checked.value);
  });
  post({ type: 'ready', view });
}

/**
 * Shows how long a render took in #render-ms (its text and `data-render-ms`, which tests read) and reports it
 * to the host as `rendered`.
 */
export function reportRendered(requestId: number, t0: number, describe: (ms: number) => string = (ms) => `${ms.toFixed(2)} ms`): void {
  const ms = performance.now() - t0;
  const el = $('#render-ms');
  el.textContent = describe(ms);
  el.dataset.renderMs = String(ms);
  el.dataset.requestId = String(requestId);
  post({ type: 'rendered', requestId, renderMs: ms });
}

/** Sets an element's text; returns it for chaining. */
export function text(el: Element | null, s: string): void {
  if (el) el.textContent = s;
}

export function $(sel: string): HTMLElement {
  const el = document.querySelector(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el as HTMLElement;
}

/** Calls `cb` when VS Code switches theme (it sets vscode-light / vscode-dark / vscode-high-contrast on <body>). */
export function onThemeChange(cb: () => void): void {
  let last = document.body.className;
  new MutationObserver(() => {
    if (document.body.className !== last) {
      last = document.body.className;
      cb();
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
