/**
 * Roofline panel: the device's roofs per dtype (and this machine's measured roofs), every op of prefill and
 * decode as a point, hover/keyboard details, live controls, the time breakdown per phase, and export.
 * The host runs the engine; this script only draws what it receives.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { axisBottom, axisLeft } from 'd3-axis';
import { format as d3format } from 'd3-format';
import { scaleLog, scaleOrdinal, scaleSqrt } from 'd3-scale';
import { select, type Selection } from 'd3-selection';
import { line, symbol, symbolCircle, symbolTriangle } from 'd3-shape';
import type { Controls, HostMessage, RooflineData } from '../protocol';
import { ControlBar } from '../shared/controls';
import { pngDataUrl, svgString } from '../shared/export';
import { escapeHtml, formatBytes, formatFlopsPerS, formatRate, formatSeconds, formatSi } from '../shared/format';
import { $, connect, getState, onThemeChange, post, reportRendered, setState } from '../shared/host';
import { themeColors } from '../shared/palette';
import { injectStyle } from '../shared/style';
import { buildChartModel, opsCsv, type ChartModel, type OpPoint } from './chart-data';

interface SavedState {
  view: 'roofline';
  source: string;
  controls: Controls | null;
}

injectStyle(`
#chart-wrap { position: relative; }
#chart .roof-label { font-size: 10px; }
#chart .point { cursor: pointer; }
#chart .point:focus { outline: none; stroke-width: 3px; }
.breakdown-row { display: grid; grid-template-columns: 80px 1fr 90px; gap: 8px; align-items: center; margin: 4px 0; }
`);

document.body.innerHTML = `
  <h1 id="title">Roofline</h1>
  <div class="muted" id="subtitle">Waiting for the analysis…</div>
  <div class="muted" id="evidence" aria-live="polite"></div>
  <div class="controls" id="controls" role="group" aria-label="Workload"></div>
  <div class="error" id="error" role="alert"></div>
  <div class="cards" id="cards" aria-live="polite"></div>
  <div class="toolbar">
    <vscode-button id="export-svg" data-export="svg" secondary>Export SVG</vscode-button>
    <vscode-button id="export-png" data-export="png" secondary>Export PNG</vscode-button>
    <vscode-button id="export-csv" data-export="csv" secondary>Export CSV</vscode-button>
    <span class="muted" id="export-status" aria-live="polite"></span>
  </div>
  <div class="legend" id="legend"></div>
  <div id="chart-wrap">
    <svg id="chart" class="chart" role="group" aria-label="Roofline chart: arrow keys move between ops"></svg>
  </div>
  <div class="tooltip" id="tooltip" hidden role="tooltip"></div>
  <h2>Time per phase</h2>
  <div id="breakdown"></div>
  <p class="muted">Render: <span id="render-ms" data-render-ms="">–</span></p>
`;

const W = 860;
const H = 480;
const M = { top: 16, right: 130, bottom: 44, left: 70 };

let requestId = 0;
let lastData: RooflineData | null = null;
let lastId = 0;
let lastModel: ChartModel | null = null;
const saved = getState<SavedState>();
let source = saved?.source ?? '';

const bar = new ControlBar($('#controls'), ['hardware', 'engine', 'batch', 'promptTokens', 'cachedPromptTokens', 'generateTokens', 'weights', 'activations', 'kv', 'tp'], (c) => {
  requestId += 1;
  setState<SavedState>({ view: 'roofline', source, controls: c });
  post({ type: 'setControls', requestId, controls: c });
});

function card(key: string, label: string, value: string, title = ''): string {
  return `<div class="card" data-card="${key}" title="${escapeHtml(title)}"><div class="k">${escapeHtml(label)}</div><div class="v" data-value="${key}">${escapeHtml(value)}</div></div>`;
}

/** What backs the figures: the validation table's published measurements on this device and with this engine. */
function renderEvidence(r: RooflineData['result']): void {
  const el = $('#evidence');
  const h = r.evidence.hardware;
  const e = r.evidence.servingEngine;
  el.dataset.rows = String(h?.rows ?? 0);
  el.dataset.within15 = String(h?.within15 ?? 0);
  el.dataset.engineRows = String(e?.rows ?? 0);
  el.dataset.engineWithin15 = String(e?.within15 ?? 0);
  if (!h) {
    el.textContent = 'Evidence: no published measurement covers this device (measured or user-defined); the figures are untested on it.';
    return;
  }
  if (h.rows === 0) {
    el.textContent = `Evidence: no published measurement on ${r.hardware.name} yet; the figures are untested on it.`;
    return;
  }
  const engine = r.costModel.servingEngine?.name ?? 'the defaults (TensorRT-LLM)';
  const withEngine = !e || e.rows === 0 ? `none with ${engine}` : `${e.within15} of ${e.rows} with ${engine}`;
  el.textContent = `Evidence: ${h.within15} of ${h.rows} published measurements on ${r.hardware.name} predicted within 15% (median error ${(h.medianAbsError * 100).toFixed(1)}%); ${withEngine}.`;
}

function renderCards(d: RooflineData): void {
  const r = d.result;
  $('#cards').innerHTML = [
    card('params', 'Parameters', formatSi(r.model.params.total)),
    card('ttft', 'Prefill (TTFT)', formatSeconds(r.prefill.timeS), `${r.prefill.bound}-bound`),
    card('tpot', 'Decode step', formatSeconds(r.decode.timeS), `${r.decode.bound}-bound`),
    card('decode-tps', 'Decode tokens/s', formatRate(r.decode.tokensPerS)),
    card('e2e', 'End to end', formatSeconds(r.e2e.timeS)),
    card('throughput', 'Output tokens/s', formatRate(r.e2e.outputTokensPerS)),
    card('memory', 'Memory', `${formatBytes(r.memory.totalBytes)} / ${formatBytes(r.memory.usableBytes)}`, `${r.memory.fits ? 'fits' : 'does not fit'} (${Math.round(r.memory.utilization * 100)}% of ${formatBytes(r.memory.deviceBytes)} usable)`),
  ].join('');
  $('#cards').dataset.decodeTimeS = String(r.decode.timeS);
  $('#cards').dataset.prefillTimeS = String(r.prefill.timeS);
  $('#cards').dataset.decodeTokensPerS = String(r.decode.tokensPerS);
}

const siFormat = d3format('.0s');
const fmtAxis = (v: { valueOf(): number }): string => siFormat(v.valueOf());

/** The powers of ten among a log scale's ticks. */
function decades(ticks: number[]): number[] {
  return ticks.filter((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9);
}
const tooltip = $('#tooltip');

function detail(p: OpPoint): string {
  return [
    `${p.name} (${p.phase}${p.layerGroup ? `, ${p.layerGroup}` : ''}${p.layer !== undefined ? `, layer ${p.layer}` : p.layers > 1 ? `, ${p.layers} layers` : ''})`,
    `intensity ${p.intensity.toPrecision(3)} FLOP/byte`,
    `attained ${formatFlopsPerS(p.flopsPerS)}`,
    `${formatSi(p.flops)}FLOP, ${formatBytes(p.bytes)}`,
    `time ${formatSeconds(p.timeS)} (${(p.timeShare * 100).toFixed(1)}% of ${p.phase})`,
    `${p.bound}-bound`,
  ].join('\n');
}

function showTip(p: OpPoint, x: number, y: number): void {
  tooltip.textContent = detail(p);
  tooltip.hidden = false;
  const tw = tooltip.offsetWidth;
  tooltip.style.left = `${Math.min(x + 14, window.innerWidth - tw - 8)}px`;
  tooltip.style.top = `${y + 14}px`;
}

function renderChart(m: ChartModel, d: RooflineData): void {
  const colors = themeColors();
  const svg = select<SVGSVGElement, unknown>('#chart');
  svg.selectAll('*').remove();
  svg
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('width', W)
    .attr('height', H)
    .attr('color', colors.foreground)
    .attr('font-family', colors.fontFamily)
    .attr('font-size', 11);
  const x = scaleLog().domain(m.xDomain).range([M.left, W - M.right]).clamp(true);
  const y = scaleLog().domain(m.yDomain).range([H - M.bottom, M.top]).clamp(true);
  // Ticks and grid at decades only: a log axis over 10+ decades would otherwise draw 9 minor ticks each.
  const xTicks = decades(x.ticks());
  const yTicks = decades(y.ticks());
  const color = scaleOrdinal<string, string>().domain(m.kinds).range(colors.categorical);
  const maxShare = Math.max(...m.points.map((p) => p.timeShare), 1e-9);
  const radius = scaleSqrt().domain([0, maxShare]).range([3, 14]);

  svg
    .append('g')
    .attr('class', 'grid')
    .attr('transform', `translate(0,${H - M.bottom})`)
    .call(axisBottom(x).tickValues(xTicks).tickSize(-(H - M.top - M.bottom)).tickFormat(() => ''))
    .selectAll('line')
    .attr('stroke', colors.border);
  svg
    .append('g')
    .attr('class', 'grid')
    .attr('transform', `translate(${M.left},0)`)
    .call(axisLeft(y).tickValues(yTicks).tickSize(-(W - M.left - M.right)).tickFormat(() => ''))
    .selectAll('line')
    .attr('stroke', colors.border);
  svg.selectAll('.grid path').remove();
  svg.append('g').attr('class', 'axis x').attr('transform', `translate(0,${H - M.bottom})`).call(axisBottom(x).tickValues(xTicks).tickFormat(fmtAxis));
  svg.append('g').attr('class', 'axis y').attr('transform', `translate(${M.left},0)`).call(axisLeft(y).tickValues(yTicks).tickFormat(fmtAxis));
  svg
    .append('text')
    .attr('x', (M.left + W - M.right) / 2)
    .attr('y', H - 8)
    .attr('text-anchor', 'middle')
    .attr('fill', colors.foreground)
    .text('Arithmetic intensity (FLOP/byte)');
  svg
    .append('text')
    .attr('transform', `translate(16,${(M.top + H - M.bottom) / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .attr('fill', colors.foreground)
    .text('Attained FLOP/s');

  // Roofs: bandwidth slope up to each ridge, then the dtype's ceiling. Measured roofs are dashed.
  const roofG = svg.append('g').attr('class', 'roofs');
  const path = line<[number, number]>()
    .x((p) => x(p[0]))
    .y((p) => y(p[1]));
  for (const r of m.roofs) {
    roofG
      .append('path')
      .attr('d', path(r.points))
      .attr('fill', 'none')
      .attr('stroke', r.measured ? colors.warn : colors.muted)
      .attr('stroke-width', 1.5)
      .attr('stroke-dasharray', r.measured ? '5 3' : null)
      .attr('data-roof', r.key)
      .append('title')
      .text(`${r.key}: peak ${formatFlopsPerS(r.peakFlopsPerS)}, ridge at ${r.ridgeIntensity.toFixed(1)} FLOP/byte`);
    roofG
      .append('circle')
      .attr('cx', x(r.ridgeIntensity))
      .attr('cy', y(r.peakFlopsPerS))
      .attr('r', 3)
      .attr('fill', r.measured ? colors.warn : colors.muted)
      .attr('data-ridge', r.key);
    roofG
      .append('text')
      .attr('class', 'roof-label')
      .attr('x', W - M.right + 4)
      .attr('y', y(r.peakFlopsPerS) + 3)
      .attr('fill', r.measured ? colors.warn : colors.muted)
      .text(`${r.measured ? 'measured ' : ''}${r.dtype} ${formatSi(r.peakFlopsPerS)}`);
  }

  // Ops: circles for prefill, triangles for decode; area ~ share of the phase's time.
  const sym = symbol();
  const pts = svg
    .append('g')
    .attr('class', 'points')
    .selectAll<SVGPathElement, OpPoint>('path')
    .data(m.points)
    .join('path')
    .attr('class', 'point')
    .attr('transform', (p) => `translate(${x(p.intensity)},${y(p.flopsPerS)})`)
    .attr('d', (p) => sym.type(p.phase === 'prefill' ? symbolCircle : symbolTriangle).size(Math.PI * radius(p.timeShare) ** 2)())
    .attr('fill', (p) => color(p.name))
    .attr('fill-opacity', (p) => (p.phase === 'prefill' ? 0.75 : 0.45))
    .attr('stroke', (p) => color(p.name))
    .attr('stroke-width', 1)
    .attr('tabindex', 0)
    .attr('role', 'img')
    .attr('data-op', (p) => p.id)
    .attr('aria-label', (p) => detail(p).replace(/\n/g, '; '));
  bindPoints(pts);
  renderLegend(m, color, colors.muted);
  void d;
}

function bindPoints(pts: Selection<SVGPathElement, OpPoint, SVGGElement, unknown>): void {
  pts
    .on('mouseenter', (ev: MouseEvent, p) => showTip(p, ev.clientX, ev.clientY))
    .on('mousemove', (ev: MouseEvent, p) => showTip(p, ev.clientX, ev.clientY))
    .on('mouseleave', () => (tooltip.hidden = true))
    .on('focus', (ev: FocusEvent, p) => {
      const r = (ev.target as SVGPathElement).getBoundingClientRect();
      showTip(p, r.right, r.bottom);
    })
    .on('blur', () => (tooltip.hidden = true))
    .on('keydown', (ev: KeyboardEvent) => {
      const all = [...document.querySelectorAll<SVGPathElement>('#chart .point')];
      const i = all.indexOf(ev.target as SVGPathElement);
      let next = -1;
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') next = Math.min(all.length - 1, i + 1);
      else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') next = Math.max(0, i - 1);
      else if (ev.key === 'Home') next = 0;
      else if (ev.key === 'End') next = all.length - 1;
      else if (ev.key === 'Escape') tooltip.hidden = true;
      if (next >= 0) {
        ev.preventDefault();
        all[next]?.focus();
      }
    });
}

function renderLegend(m: ChartModel, color: (k: string) => string, muted: string): void {
  const items = m.kinds.map((k) => `<span><span class="swatch" data-color="${escapeHtml(color(k))}"></span>${escapeHtml(k)}</span>`);
  items.push(`<span class="muted">● prefill ▲ decode · size = share of phase time · <span data-color="${escapeHtml(muted)}">—</span> datasheet roof, - - measured roof</span>`);
  const legend = $('#legend');
  legend.innerHTML = items.join('');
  legend.querySelectorAll<HTMLElement>('[data-color]').forEach((e) => {
    if (e.classList.contains('swatch')) e.style.background = e.dataset.color ?? '';
    else e.style.color = e.dataset.color ?? '';
  });
}

function renderBreakdown(m: ChartModel, colors: string[], kinds: string[]): void {
  const color = scaleOrdinal<string, string>().domain(kinds).range(colors);
  const root = $('#breakdown');
  root.replaceChildren();
  for (const b of m.breakdown) {
    const row = document.createElement('div');
    row.className = 'breakdown-row';
    row.dataset.phase = b.phase;
    const label = document.createElement('span');
    label.textContent = b.phase;
    const barEl = document.createElement('div');
    barEl.className = 'bar';
    barEl.setAttribute('role', 'img');
    barEl.setAttribute('aria-label', `${b.phase}: ` + b.parts.map((p) => `${p.name} ${(p.share * 100).toFixed(1)}%`).join(', '));
    for (const p of b.parts) {
      const s = document.createElement('span');
      s.style.width = `${(p.share * 100).toFixed(3)}%`;
      s.style.background = color(p.name);
      s.title = `${p.name}: ${formatSeconds(p.timeS)} (${(p.share * 100).toFixed(1)}%)`;
      barEl.append(s);
    }
    const total = document.createElement('span');
    total.textContent = formatSeconds(b.totalS);
    total.dataset.phaseTotalS = String(b.totalS);
    row.append(label, barEl, total);
    root.append(row);
  }
}

function render(d: RooflineData, id: number): void {
  const t0 = performance.now();
  const m = buildChartModel(d);
  lastModel = m;
  const r = d.result;
  $('#title').textContent = `Roofline: ${r.model.name}`;
  $('#subtitle').textContent = `${r.hardware.name} · batch ${r.workload.batch} · prompt ${r.workload.promptTokens}${r.workload.cachedPromptTokens ? ` (${r.workload.cachedPromptTokens} from the prefix cache)` : ''} · generate ${r.workload.generateTokens} · W ${r.workload.weights} / A ${r.workload.activations} / KV ${r.workload.kv} · tp ${r.workload.tp}${r.costModel.servingEngine ? ` · ${r.costModel.servingEngine.name}` : ''}${r.warnings.length ? ' · ' + r.warnings.join(' · ') : ''}`;
  renderEvidence(r);
  renderCards(d);
  renderChart(m, d);
  const colors = themeColors();
  renderBreakdown(m, colors.categorical, m.kinds);
  reportRendered(id, t0, (ms) => `${ms.toFixed(2)} ms script time for ${m.points.length} ops (request ${id})`);
}

async function exportChart(format: 'svg' | 'png' | 'csv'): Promise<void> {
  if (!lastData || !lastModel) return;
  const base = `roofline-${lastData.result.model.name.replace(/[^\w.-]+/g, '_')}-${lastData.result.hardware.id}`;
  const svgEl = document.querySelector('#chart') as SVGSVGElement;
  let content: string;
  if (format === 'csv') content = opsCsv(lastData);
  else {
    const text = svgString(svgEl, themeColors().background);
    content = format === 'svg' ? text : await pngDataUrl(text, W, H);
  }
  $('#export-status').textContent = `Exporting ${format.toUpperCase()}…`;
  post({ type: 'export', format, fileName: `${base}.${format}`, content });
}

for (const f of ['svg', 'png', 'csv'] as const) {
  const b = $(`#export-${f}`);
  b.addEventListener('click', () => void exportChart(f).catch((e: Error) => ($('#export-status').textContent = `Export failed: ${e.message}`)));
}

function onMessage(msg: HostMessage): void {
  switch (msg.type) {
    case 'init':
      bar.build(msg.options, msg.controls);
      setState<SavedState>({ view: 'roofline', source, controls: msg.controls });
      break;
    case 'roofline':
      if (msg.requestId < requestId) return; // a newer request is on its way
      $('#error').textContent = '';
      lastData = msg.data;
      lastId = msg.requestId;
      source = msg.data.source;
      setState<SavedState>({ view: 'roofline', source, controls: bar.current() });
      render(msg.data, msg.requestId);
      break;
    case 'error':
      if (msg.requestId < requestId) return;
      $('#error').textContent = msg.message;
      break;
    case 'exported':
      $('#export-status').textContent = msg.path ? `Saved ${msg.path}` : `${msg.format.toUpperCase()} export cancelled`;
      $('#export-status').dataset.exported = msg.path ?? '';
      break;
    case 'kv':
    case 'quant':
    case 'sidebar':
      console.error(`ridgeline roofline: unexpected ${msg.type} message`);
      break;
    default: {
      const never: never = msg;
      void never;
    }
  }
}

onThemeChange(() => lastData && render(lastData, lastId));
connect('roofline', onMessage);
