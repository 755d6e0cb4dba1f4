/**
 * Quantization advisor panel: the options table (weights x KV formats), a tradeoff chart (memory against
 * decode speed, colored by quality risk), the evidence with citations, the recommendation, and per-layer
 * sensitivity when a .safetensors file has been analyzed. All numbers come from the engine via the host.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { axisBottom, axisLeft } from 'd3-axis';
import { format as d3format } from 'd3-format';
import { scaleLinear, scaleLog, scaleOrdinal } from 'd3-scale';
import { select } from 'd3-selection';
import { symbol, symbolCircle, symbolCross } from 'd3-shape';
import type { Controls, HostMessage, QualityRisk, QuantData, QuantOption } from '../protocol';
import { QUALITY_RISKS } from '../protocol';
import { ControlBar } from '../shared/controls';
import { escapeHtml, formatBytes, formatSeconds } from '../shared/format';
import { $, connect, getState, onThemeChange, post, reportRendered, setState } from '../shared/host';
import { themeColors } from '../shared/palette';
import { injectStyle } from '../shared/style';

interface SavedState {
  view: 'quant';
  source: string;
  controls: Controls | null;
}

injectStyle(`
.recommend { border: 1px solid var(--vscode-focusBorder); border-radius: 4px; padding: 8px 12px; margin: 10px 0; }
.risk { font-weight: 600; }
#options td, #options th { white-space: nowrap; }
#evidence li { margin: 3px 0; }
.cite { color: var(--rl-muted); font-style: italic; }
#layers td.num { font-variant-numeric: tabular-nums; }
`);

document.body.innerHTML = `
  <h1 id="title">Quantization advisor</h1>
  <div class="muted" id="subtitle">Waiting for the options…</div>
  <div class="controls" id="controls" role="group" aria-label="Workload"></div>
  <div class="error" id="error" role="alert"></div>
  <div class="recommend" id="recommendation" aria-live="polite"></div>
  <h2>Memory against decode speed</h2>
  <div class="legend" id="legend"></div>
  <svg id="tradeoff" class="chart" role="img"></svg>
  <h2>Options</h2>
  <table id="options"><thead><tr>
    <th>Weights</th><th>KV</th><th>Bits/weight</th><th>Weights</th><th>KV cache</th><th>Total</th><th>Fits</th><th>Prefill</th><th>Decode step</th><th>Quality risk</th>
  </tr></thead><tbody></tbody></table>
  <ul class="muted" id="notes"></ul>
  <h2>Evidence</h2>
  <ul id="evidence"></ul>
  <h2>Per-layer sensitivity</h2>
  <div class="toolbar">
    <vscode-button id="pick-safetensors" secondary>Measure error on a .safetensors file…</vscode-button>
    <span class="muted" id="layers-status" aria-live="polite"></span>
  </div>
  <div id="layers-section" hidden>
    <p class="muted" id="layers-source"></p>
    <table id="layers"><thead></thead><tbody></tbody></table>
  </div>
  <p class="muted">Render: <span id="render-ms">–</span></p>
`;

let requestId = 0;
let lastQuant: { data: QuantData; id: number } | null = null;
let source = getState<SavedState>()?.source ?? '';
const bar = new ControlBar($('#controls'), ['hardware', 'batch', 'promptTokens', 'generateTokens', 'tp'], (c) => {
  requestId += 1;
  setState<SavedState>({ view: 'quant', source, controls: c });
  post({ type: 'setControls', requestId, controls: c });
});

function riskColors(): Record<QualityRisk, string> {
  const t = themeColors();
  return { none: t.good, low: t.categorical[0] ?? '#4e79a7', medium: t.warn, high: t.bad };
}

const key = (o: QuantOption): string => `${o.weights}+${o.kv}`;

function tradeoff(d: QuantData): void {
  const t = themeColors();
  const rc = riskColors();
  const W = 720;
  const H = 320;
  const m = { top: 12, right: 150, bottom: 42, left: 70 };
  const svg = select<SVGSVGElement, unknown>('#tradeoff');
  svg.selectAll('*').remove();
  svg.attr('viewBox', `0 0 ${W} ${H}`).attr('width', W).attr('height', H).attr('color', t.foreground).attr('font-size', 10);
  const opts = d.options.filter((o) => o.decodeTimeS > 0 && o.totalBytes > 0);
  if (opts.length === 0) return;
  const tps = (o: QuantOption): number => 1 / o.decodeTimeS;
  // x in GiB so the ticks fall on round GiB values.
  const GiB = 2 ** 30;
  const xs = opts.map((o) => o.totalBytes / GiB);
  const xg = scaleLinear().domain([0, Math.max(...xs) * 1.08]).range([m.left, W - m.right]).nice();
  const x = (bytes: number): number => xg(bytes / GiB);
  const ys = opts.map(tps);
  const y = scaleLog().domain([Math.min(...ys) / 1.3, Math.max(...ys) * 1.3]).range([H - m.bottom, m.top]).nice();
  const color = scaleOrdinal<QualityRisk, string>().domain(QUALITY_RISKS).range(QUALITY_RISKS.map((r) => rc[r]));
  svg.append('g').attr('transform', `translate(0,${H - m.bottom})`).call(axisBottom(xg).ticks(6).tickFormat((v) => `${Number(v)} GiB`));
  svg.append('g').attr('transform', `translate(${m.left},0)`).call(axisLeft(y).ticks(6, d3format('.2~s')));
  svg.append('text').attr('x', (m.left + W - m.right) / 2).attr('y', H - 6).attr('text-anchor', 'middle').attr('fill', t.foreground).text('Memory per device (weights, KV, activations, overhead)');
  svg.append('text').attr('transform', `translate(14,${(m.top + H - m.bottom) / 2}) rotate(-90)`).attr('text-anchor', 'middle').attr('fill', t.foreground).text('Decode steps per second');
  const rec = d.recommendation ? `${d.recommendation.weights}+${d.recommendation.kv}` : '';
  const g = svg
    .append('g')
    .selectAll('g')
    .data(opts)
    .join('g')
    .attr('transform', (o) => `translate(${x(o.totalBytes)},${y(tps(o))})`)
    .attr('tabindex', 0)
    .attr('role', 'img')
    .attr('data-option', key)
    .attr('aria-label', (o) => `${key(o)}: ${formatBytes(o.totalBytes)}, ${tps(o).toFixed(1)} steps/s, risk ${o.risk}${o.fits ? '' : ', does not fit'}`);
  g.append('path')
    .attr('d', (o) => symbol().type(o.fits ? symbolCircle : symbolCross).size(key(o) === rec ? 180 : 70)())
    .attr('fill', (o) => color(o.risk))
    .attr('stroke', (o) => (key(o) === rec ? t.foreground : 'none'))
    .attr('stroke-width', 2);
  g.append('title').text((o) => `${key(o)}\n${formatBytes(o.totalBytes)} · decode ${formatSeconds(o.decodeTimeS)} · risk ${o.risk}${o.fits ? '' : ' · does not fit'}`);
  // Label each weight format once (at its first KV option); formats drawn at the same spot share a label.
  const labels: Array<{ x: number; y: number; names: string[] }> = [];
  const seen = new Set<string>();
  for (const o of opts) {
    if (seen.has(o.weights)) continue;
    seen.add(o.weights);
    const px = x(o.totalBytes);
    const py = y(tps(o));
    const near = labels.find((l) => Math.abs(l.x - px) < 40 && Math.abs(l.y - py) < 12);
    if (near) near.names.push(o.weights);
    else labels.push({ x: px, y: py, names: [o.weights] });
  }
  svg
    .append('g')
    .selectAll('text')
    .data(labels)
    .join('text')
    .attr('x', (l) => l.x + 7)
    .attr('y', (l) => l.y - 6)
    .attr('fill', t.foreground)
    .text((l) => l.names.join(', '));
  const lg = $('#legend');
  lg.innerHTML =
    QUALITY_RISKS.map((r) => `<span><span class="swatch" data-risk="${r}"></span>${r} risk</span>`).join('') +
    '<span class="muted">● fits · ✕ does not fit · outlined = recommended</span>';
  lg.querySelectorAll<HTMLElement>('[data-risk]').forEach((e) => (e.style.background = rc[e.dataset.risk as QualityRisk]));
}

function sqnrText(v: number | null | undefined): string {
  if (v === undefined) return '–';
  if (v === null) return 'exact';
  return `${v.toFixed(1)} dB`;
}

$('#pick-safetensors').addEventListener('click', () => {
  $('#layers-status').textContent = 'Choose a .safetensors file…';
  post({ type: 'pickSafetensors' });
});

function render(d: QuantData, id: number): void {
  const t0 = performance.now();
  const rc = riskColors();
  $('#title').textContent = `Quantization advisor: ${d.modelName}`;
  $('#subtitle').textContent = d.deviceName;
  const rec = $('#recommendation');
  if (d.recommendation) {
    rec.innerHTML = `<strong>Recommended:</strong> weights <code data-rec-weights>${escapeHtml(d.recommendation.weights)}</code>, KV <code data-rec-kv>${escapeHtml(d.recommendation.kv)}</code>. ${escapeHtml(d.recommendation.why)}`;
  } else rec.textContent = 'No option fits this device at this workload.';
  rec.dataset.weights = d.recommendation?.weights ?? '';
  rec.dataset.kv = d.recommendation?.kv ?? '';
  tradeoff(d);
  const recKey = d.recommendation ? `${d.recommendation.weights}+${d.recommendation.kv}` : '';
  const tb = $('#options').querySelector('tbody') as HTMLElement;
  tb.innerHTML = d.options
    .map(
      (o) => `<tr data-option="${escapeHtml(key(o))}"${key(o) === recKey ? ' class="selected"' : ''}>
      <td>${escapeHtml(o.weights)}</td><td>${escapeHtml(o.kv)}</td><td>${o.bitsPerWeight.toFixed(2)}</td>
      <td data-bytes="${o.weightsBytes}">${formatBytes(o.weightsBytes)}</td><td>${formatBytes(o.kvCacheBytes)}</td>
      <td data-total-bytes="${o.totalBytes}">${formatBytes(o.totalBytes)}</td><td>${o.fits ? 'yes' : 'no'}</td>
      <td>${formatSeconds(o.prefillTimeS)}</td><td data-decode-s="${o.decodeTimeS}">${formatSeconds(o.decodeTimeS)}</td>
      <td class="risk" data-risk="${o.risk}">${o.risk}</td></tr>`,
    )
    .join('');
  tb.querySelectorAll<HTMLElement>('td.risk').forEach((e) => (e.style.color = rc[e.dataset.risk as QualityRisk]));
  $('#notes').innerHTML = d.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  // Evidence: one list entry per distinct claim, with its citation.
  const ev = new Map<string, string>();
  for (const o of d.options) for (const e of o.evidence) ev.set(e.claim, e.source);
  $('#evidence').innerHTML = [...ev].map(([claim, src]) => `<li>${escapeHtml(claim)} <span class="cite">(${escapeHtml(src)})</span></li>`).join('') || '<li class="muted">No published evidence for these formats.</li>';

  const ls = $('#layers-section');
  ls.hidden = !d.layers;
  if (d.layers) {
    const fmts = [...new Set(d.layers.flatMap((l) => Object.keys(l.sqnrDb)))];
    $('#layers-source').textContent = d.layersSource ? `Measured on ${d.layersSource}; most sensitive tensor first (lowest SQNR).` : '';
    ($('#layers').querySelector('thead') as HTMLElement).innerHTML = `<tr><th>Tensor</th><th>Params</th>${fmts.map((f) => `<th>${escapeHtml(f)} SQNR</th>`).join('')}</tr>`;
    ($('#layers').querySelector('tbody') as HTMLElement).innerHTML = d.layers
      .map((l) => `<tr data-tensor="${escapeHtml(l.name)}"><td>${escapeHtml(l.name)}</td><td class="num">${l.params}</td>${fmts.map((f) => `<td class="num" data-format="${escapeHtml(f)}" data-sqnr-db="${l.sqnrDb[f] ?? ''}">${sqnrText(l.sqnrDb[f])}</td>`).join('')}</tr>`)
      .join('');
  }
  reportRendered(id, t0);
}

function onMessage(msg: HostMessage): void {
  switch (msg.type) {
    case 'init':
      bar.build(msg.options, msg.controls);
      setState<SavedState>({ view: 'quant', source, controls: msg.controls });
      break;
    case 'quant':
      if (msg.requestId < requestId) return;
      $('#error').textContent = '';
      source = msg.data.source;
      setState<SavedState>({ view: 'quant', source, controls: bar.current() });
      $('#layers-status').textContent = msg.data.layers ? `${msg.data.layers.length} tensors measured` : '';
      lastQuant = { data: msg.data, id: msg.requestId };
      render(msg.data, msg.requestId);
      break;
    case 'error':
      if (msg.requestId < requestId) return;
      $('#error').textContent = msg.message;
      $('#layers-status').textContent = '';
      break;
    case 'roofline':
    case 'kv':
    case 'sidebar':
    case 'exported':
      console.error(`ridgeline quant: unexpected ${msg.type} message`);
      break;
    default: {
      const never: never = msg;
      void never;
    }
  }
}

onThemeChange(() => lastQuant && render(lastQuant.data, lastQuant.id));
connect('quant', onMessage);
