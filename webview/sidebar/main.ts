/**
 * Sidebar profiler: the GPU adapter and this machine's measured roofs, a benchmark button with progress,
 * profiled kernels (click or Enter opens the source line) and recent analyses.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import type { HostMessage, SidebarData } from '../protocol';
import { escapeHtml, formatBytesPerS, formatFlopsPerS, formatRate, formatSeconds } from '../shared/format';
import { $, connect, post } from '../shared/host';
import { injectStyle } from '../shared/style';

injectStyle(`
body { padding: 0 10px 12px; }
h2 { font-size: 1em; text-transform: uppercase; letter-spacing: 0.04em; color: var(--rl-muted); }
dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 8px; margin: 0; }
dt { color: var(--rl-muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
ul.rows { list-style: none; padding: 0; margin: 0; }
ul.rows li { padding: 3px 4px; border-radius: 3px; }
ul.rows li.link:hover, ul.rows li.link:focus { background: var(--vscode-list-hoverBackground); }
#bench-progress[hidden] { display: none; }
`);

document.body.innerHTML = `
  <h2>GPU adapter</h2>
  <div id="adapter" aria-live="polite"></div>
  <h2>Measured roofs</h2>
  <dl id="roofs"></dl>
  <div class="toolbar">
    <vscode-button id="bench">Run device benchmark</vscode-button>
  </div>
  <div id="bench-progress" hidden>
    <vscode-progress-bar id="bench-bar"></vscode-progress-bar>
    <div class="muted" id="bench-message" aria-live="polite"></div>
  </div>
  <h2>Profiled kernels</h2>
  <ul class="rows" id="kernels"></ul>
  <h2>Recent analyses</h2>
  <ul class="rows" id="recent"></ul>
`;

$('#bench').addEventListener('click', () => post({ type: 'runBenchmark' }));

function openable(li: HTMLElement, file: string, line: number): void {
  li.classList.add('link');
  li.tabIndex = 0;
  li.setAttribute('role', 'link');
  const go = (): void => post({ type: 'openSource', file, line });
  li.addEventListener('click', go);
  li.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      go();
    }
  });
}

function render(d: SidebarData): void {
  const a = d.adapter;
  $('#adapter').innerHTML = a
    ? `<div data-adapter>${escapeHtml(a.description || a.vendor)}</div><div class="muted">${escapeHtml(a.vendor)}${a.isFallback ? ' · software fallback' : ''}</div>`
    : `<div class="muted" data-adapter="none">${escapeHtml(d.adapterNote || 'No measurement yet: run the benchmark.')}</div>`;
  const r = d.measuredRoofs;
  $('#roofs').innerHTML = r
    ? `<dt>Bandwidth</dt><dd data-roof="bandwidth">${formatBytesPerS(r.bandwidthBytesPerS)}</dd>` +
      r.peaks.map((p) => `<dt>${escapeHtml(p.dtype)}</dt><dd data-roof="${escapeHtml(p.dtype)}">${formatFlopsPerS(p.flopsPerS)}</dd>`).join('')
    : '<dt>–</dt><dd class="muted">not measured</dd>';
  const b = d.benchmark;
  ($('#bench') as HTMLElement & { disabled: boolean }).disabled = b.running;
  $('#bench-progress').hidden = !b.running && !b.message;
  const pb = $('#bench-bar') as HTMLElement & { value: number; max: number; indeterminate: boolean };
  pb.max = 100;
  pb.value = Math.round(b.fraction * 100);
  pb.indeterminate = b.running && b.fraction === 0;
  pb.hidden = !b.running;
  $('#bench-message').textContent = b.message;

  const ks = $('#kernels');
  ks.replaceChildren();
  if (d.kernels.length === 0) ks.innerHTML = '<li class="muted">No kernels profiled yet.</li>';
  for (const k of d.kernels) {
    const li = document.createElement('li');
    li.dataset.kernel = k.name;
    const file = k.file.split(/[\\/]/).pop() ?? k.file;
    const perf = [k.timeS !== null ? formatSeconds(k.timeS) : null, k.flopsPerS ? formatFlopsPerS(k.flopsPerS) : null, k.bytesPerS ? formatBytesPerS(k.bytesPerS) : null]
      .filter(Boolean)
      .join(' · ');
    li.innerHTML = `<div>${escapeHtml(k.name)} ${k.verified === false ? '<span class="error">✗ wrong result</span>' : k.verified ? '✓' : ''}</div><div class="muted">${escapeHtml(`${file}:${k.line + 1}`)}${perf ? ' · ' + escapeHtml(perf) : ''}</div>`;
    openable(li, k.file, k.line);
    ks.append(li);
  }
  const rs = $('#recent');
  rs.replaceChildren();
  if (d.recent.length === 0) rs.innerHTML = '<li class="muted">No analyses yet.</li>';
  for (const x of d.recent) {
    const li = document.createElement('li');
    li.dataset.recent = x.label;
    li.innerHTML = `<div>${escapeHtml(x.label)}</div><div class="muted">${escapeHtml(x.hardware)} · ${formatRate(x.decodeTokensPerS)} tok/s decode · TTFT ${escapeHtml(formatSeconds(x.prefillTimeS))}</div>`;
    openable(li, x.file, 0);
    rs.append(li);
  }
}

function onMessage(msg: HostMessage): void {
  switch (msg.type) {
    case 'sidebar':
      render(msg.data);
      break;
    case 'init':
    case 'roofline':
    case 'kv':
    case 'quant':
    case 'error':
    case 'exported':
      console.error(`ridgeline sidebar: unexpected ${msg.type} message`);
      break;
    default: {
      const never: never = msg;
      void never;
    }
  }
}

connect('sidebar', onMessage);
