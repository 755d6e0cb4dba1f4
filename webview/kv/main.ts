/**
 * KV-cache planner panel: the memory stack (weights, KV, activations, overhead, free) against context length
 * and batch, bytes/token per KV format, max batch per context, window / eviction / paged options and the
 * fits verdict. Every number comes from the engine's memory plan, posted by the host.
 */
import { axisBottom, axisLeft } from 'd3-axis';
import { scaleBand, scaleLinear, scaleOrdinal } from 'd3-scale';
import { select } from 'd3-selection';
import { stack } from 'd3-shape';
import type { Controls, HostMessage, KvData, MemoryStack } from '../protocol';
import { ControlBar } from '../shared/controls';
import { escapeHtml, formatBytes, formatTokens } from '../shared/format';
import { $, connect, getState, onThemeChange, post, reportRendered, setState } from '../shared/host';
import { themeColors } from '../shared/palette';
import { injectStyle } from '../shared/style';

interface SavedState {
  view: 'kv';
  source: string;
  controls: Controls | null;
}

injectStyle(`
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.tables { display: flex; flex-wrap: wrap; gap: 32px; }
#current-bar { height: 22px; max-width: 860px; }
#current-bar > span { font-size: 0.8em; line-height: 20px; overflow: hidden; white-space: nowrap; text-indent: 4px; }
`);

document.body.innerHTML = `
  <h1 id="title">KV cache and memory</h1>
  <div class="muted" id="subtitle">Waiting for the memory plan…</div>
  <div class="controls" id="controls" role="group" aria-label="Workload and KV options"></div>
  <div class="error" id="error" role="alert"></div>
  <div class="verdict" id="verdict" aria-live="polite"></div>
  <div class="cards" id="cards"></div>
  <h2>Memory at this context and batch</h2>
  <div class="bar" id="current-bar" role="img"></div>
  <div class="legend" id="legend"></div>
  <div class="charts">
    <div><h2>Against context length (batch fixed)</h2><svg id="by-context" class="chart" role="img"></svg></div>
    <div><h2>Against batch (context fixed)</h2><svg id="by-batch" class="chart" role="img"></svg></div>
  </div>
  <div class="tables">
    <div><h2>KV bytes per token by format</h2><table id="formats"><thead><tr><th>Format</th><th>Bytes/token</th><th>At this context</th></tr></thead><tbody></tbody></table></div>
    <div><h2>Max batch per context</h2><table id="max-batch"><thead><tr><th>Context</th><th>Max batch</th></tr></thead><tbody></tbody></table></div>
  </div>
  <ul class="muted" id="notes"></ul>
  <p class="muted">Render: <span id="render-ms">–</span></p>
`;

const PARTS = ['weightsBytes', 'kvCacheBytes', 'activationsBytes', 'overheadBytes', 'freeBytes'] as const;
type Part = (typeof PARTS)[number];
const PART_LABEL: Record<Part, string> = {
  weightsBytes: 'Weights',
  kvCacheBytes: 'KV cache',
  activationsBytes: 'Activations',
  overheadBytes: 'Runtime overhead',
  freeBytes: 'Free',
};

let requestId = 0;
let lastKv: { data: KvData; id: number } | null = null;
let source = getState<SavedState>()?.source ?? '';
const bar = new ControlBar(
  $('#controls'),
  ['hardware', 'batch', 'contextTokens', 'weights', 'kv', 'tp', 'windowTokens', 'evictionTokens', 'blockTokens'],
  (c) => {
    requestId += 1;
    setState<SavedState>({ view: 'kv', source, controls: c });
    post({ type: 'setControls', requestId, controls: c });
  },
);

function partColors(): Record<Part, string> {
  const t = themeColors();
  return {
    weightsBytes: t.categorical[0] ?? '#4e79a7',
    kvCacheBytes: t.categorical[1] ?? '#f28e2b',
    activationsBytes: t.categorical[3] ?? '#b07aa1',
    overheadBytes: t.muted,
    freeBytes: t.border,
  };
}

function stackChart(svgSel: string, rows: MemoryStack[], key: 'contextTokens' | 'batch', usable: number): void {
  const t = themeColors();
  const colors = partColors();
  const Wc = 420;
  const Hc = 260;
  const m = { top: 10, right: 10, bottom: 40, left: 64 };
  const svg = select<SVGSVGElement, unknown>(svgSel);
  svg.selectAll('*').remove();
  svg.attr('viewBox', `0 0 ${Wc} ${Hc}`).attr('width', Wc).attr('height', Hc).attr('color', t.foreground).attr('font-size', 10);
  const labels = rows.map((r) => (key === 'contextTokens' ? formatTokens(r.contextTokens) : String(r.batch)));
  const x = scaleBand<string>().domain(labels).range([m.left, Wc - m.right]).padding(0.15);
  // Free is drawn only where positive; the usable line shows the limit.
  const used = (r: MemoryStack): number => r.weightsBytes + r.kvCacheBytes + r.activationsBytes + r.overheadBytes;
  const yMax = Math.max(usable, ...rows.map(used)) * 1.05;
  // The axis counts GiB so its ticks fall on round values; bars are placed in bytes through it.
  const GiB = 2 ** 30;
  const yg = scaleLinear().domain([0, yMax / GiB]).range([Hc - m.bottom, m.top]).nice();
  const y = (bytes: number): number => yg(bytes / GiB);
  const series = stack<MemoryStack, Part>()
    .keys(PARTS)
    .value((r, k) => (k === 'freeBytes' ? Math.max(0, r.freeBytes) : r[k]))(rows);
  const color = scaleOrdinal<Part, string>().domain(PARTS).range(PARTS.map((p) => colors[p]));
  svg
    .append('g')
    .selectAll('g')
    .data(series)
    .join('g')
    .attr('fill', (s) => color(s.key))
    .attr('fill-opacity', (s) => (s.key === 'freeBytes' ? 0.35 : 0.9))
    .selectAll('rect')
    .data((s) => s.map((d, i) => ({ d, i, key: s.key })))
    .join('rect')
    .attr('x', (p) => x(labels[p.i] as string) ?? 0)
    .attr('width', x.bandwidth())
    .attr('y', (p) => y(p.d[1]))
    .attr('height', (p) => Math.max(0, y(p.d[0]) - y(p.d[1])))
    .append('title')
    .text((p) => `${labels[p.i]}: ${PART_LABEL[p.key]} ${formatBytes(p.d[1] - p.d[0])}`);
  svg
    .append('line')
    .attr('x1', m.left)
    .attr('x2', Wc - m.right)
    .attr('y1', y(usable))
    .attr('y2', y(usable))
    .attr('stroke', t.bad)
    .attr('stroke-dasharray', '4 3');
  svg.append('text').attr('x', Wc - m.right).attr('y', y(usable) - 3).attr('text-anchor', 'end').attr('fill', t.bad).text(`usable ${formatBytes(usable)}`);
  svg.append('g').attr('transform', `translate(0,${Hc - m.bottom})`).call(axisBottom(x));
  svg
    .append('g')
    .attr('transform', `translate(${m.left},0)`)
    .call(axisLeft(yg).ticks(6).tickFormat((v) => `${Number(v)} GiB`));
  svg
    .append('text')
    .attr('x', (m.left + Wc) / 2)
    .attr('y', Hc - 6)
    .attr('text-anchor', 'middle')
    .attr('fill', t.foreground)
    .text(key === 'contextTokens' ? 'Context tokens per sequence' : 'Batch (sequences)');
  svg.attr('aria-label', rows.map((r, i) => `${labels[i]}: ${r.fits ? 'fits' : 'does not fit'}, KV ${formatBytes(r.kvCacheBytes)}`).join('; '));
}

function render(d: KvData, id: number): void {
  const t0 = performance.now();
  const colors = partColors();
  $('#title').textContent = `KV cache and memory: ${d.modelName}`;
  $('#subtitle').textContent = `${d.deviceName} · ${formatBytes(d.deviceBytes)} device memory, ${formatBytes(d.usableBytes)} usable`;
  const v = $('#verdict');
  v.className = `verdict ${d.verdict.fits ? 'fits' : 'nofit'}`;
  v.textContent = `${d.verdict.fits ? '✓ Fits' : '✗ Does not fit'}: ${d.verdict.text}`;
  v.dataset.fits = String(d.verdict.fits);
  const c = d.current;
  $('#cards').innerHTML = PARTS.map(
    (p) => `<div class="card" data-card="${p}"><div class="k">${PART_LABEL[p]}</div><div class="v" data-value="${p}" data-bytes="${c[p]}">${formatBytes(c[p])}</div></div>`,
  ).join('');

  const total = PARTS.reduce((s, p) => s + Math.max(0, c[p]), 0);
  const cb = $('#current-bar');
  cb.replaceChildren();
  for (const p of PARTS) {
    const val = Math.max(0, c[p]);
    if (val <= 0) continue;
    const s = document.createElement('span');
    s.style.width = `${((val / total) * 100).toFixed(3)}%`;
    s.style.background = colors[p];
    s.title = `${PART_LABEL[p]}: ${formatBytes(c[p])}`;
    s.textContent = PART_LABEL[p];
    cb.append(s);
  }
  cb.setAttribute('aria-label', PARTS.map((p) => `${PART_LABEL[p]} ${formatBytes(c[p])}`).join(', '));
  const legend = $('#legend');
  legend.innerHTML = PARTS.map((p) => `<span><span class="swatch" data-part="${p}"></span>${PART_LABEL[p]}</span>`).join('');
  legend.querySelectorAll<HTMLElement>('[data-part]').forEach((e) => (e.style.background = colors[e.dataset.part as Part]));

  stackChart('#by-context', d.byContext, 'contextTokens', d.usableBytes);
  stackChart('#by-batch', d.byBatch, 'batch', d.usableBytes);

  const fb = $('#formats').querySelector('tbody') as HTMLElement;
  fb.innerHTML = d.formats
    .map(
      (f) =>
        `<tr data-format="${escapeHtml(f.id)}"><td>${escapeHtml(f.label)}</td><td data-bytes-per-token="${f.bytesPerToken}">${formatBytes(f.bytesPerToken)}</td><td data-bytes-at-context="${f.bytesAtContext}">${formatBytes(f.bytesAtContext)}</td></tr>`,
    )
    .join('');
  const mb = $('#max-batch').querySelector('tbody') as HTMLElement;
  mb.innerHTML = d.maxBatch
    .map((m) => `<tr data-context="${m.contextTokens}"${m.contextTokens === c.contextTokens ? ' class="selected"' : ''}><td>${formatTokens(m.contextTokens)}</td><td data-max-batch="${m.maxBatch}">${m.maxBatch}</td></tr>`)
    .join('');
  $('#notes').innerHTML = d.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  reportRendered(id, t0);
}

function onMessage(msg: HostMessage): void {
  switch (msg.type) {
    case 'init':
      bar.build(msg.options, msg.controls);
      setState<SavedState>({ view: 'kv', source, controls: msg.controls });
      break;
    case 'kv':
      if (msg.requestId < requestId) return;
      $('#error').textContent = '';
      source = msg.data.source;
      setState<SavedState>({ view: 'kv', source, controls: bar.current() });
      lastKv = { data: msg.data, id: msg.requestId };
      render(msg.data, msg.requestId);
      break;
    case 'error':
      if (msg.requestId < requestId) return;
      $('#error').textContent = msg.message;
      break;
    case 'roofline':
    case 'quant':
    case 'sidebar':
    case 'exported':
      console.error(`ridgeline kv: unexpected ${msg.type} message`);
      break;
    default: {
      const never: never = msg;
      void never;
    }
  }
}

onThemeChange(() => lastKv && render(lastKv.data, lastKv.id));
connect('kv', onMessage);
