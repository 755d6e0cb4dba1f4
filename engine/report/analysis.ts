import type { AnalysisResult, OpResult } from '../analysis';
import { csvCell, escapeHtml, escapeMd, fmtBytes, fmtInt, fmtNum, fmtPct, fmtRate, fmtSi, fmtTime, textTable } from './format';
import { servingEngines } from '../cost/engines';
import { computedPromptTokens } from '../model/graph';

/**
 * Renderers of an AnalysisResult: a terminal table, a Markdown report, a self-contained HTML report
 * (inline CSS and SVG, no remote content, no script) and CSV of the ops. They only format: every number
 * comes from the result.
 */

/** Parameter counts the way model cards say them: 6.74 B, 350 M. */
function fmtCount(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toPrecision(4)} T`;
  if (n >= 1e9) return `${(n / 1e9).toPrecision(4)} B`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(4)} M`;
  return fmtInt(n);
}

function paramsLine(r: AnalysisResult): string {
  const p = r.model.params;
  const a = r.model.attention;
  return `${fmtCount(p.total)} parameters (${fmtCount(p.active)} active per token); ${r.model.layers} layers, hidden ${r.model.hiddenSize}; attention ${a.kind.toUpperCase()} ${a.heads} heads / ${a.kvHeads} KV heads x ${a.headDim}`;
}

function workloadLine(r: AnalysisResult): string {
  const w = r.workload;
  const engine = r.costModel.servingEngine ? `; serving engine ${r.costModel.servingEngine.name}` : '';
  const cached = w.cachedPromptTokens ? ` (${w.cachedPromptTokens} from the prefix cache)` : '';
  return `batch ${w.batch}, prompt ${w.promptTokens}${cached}, generate ${w.generateTokens}; weights ${w.weights}, activations ${w.activations}, KV ${w.kv}; tp ${w.tp}${engine}`;
}

function memoryLine(r: AnalysisResult): string {
  const m = r.memory;
  return `weights ${fmtBytes(m.weightsBytes)} + KV ${fmtBytes(m.kvCacheBytes)} + activations ${fmtBytes(m.activationsBytes)} + overhead ${fmtBytes(m.overheadBytes)} = ${fmtBytes(m.totalBytes)} of ${fmtBytes(m.usableBytes)} usable (${Math.round(m.utilization * 100)}% of ${fmtBytes(m.deviceBytes)}) per device: ${m.fits ? 'fits' : 'DOES NOT FIT'}`;
}

function phaseRows(r: AnalysisResult): string[][] {
  return [
    ['prefill (TTFT)', fmtSi(r.prefill.flops, 'FLOP'), fmtBytes(r.prefill.bytes), fmtTime(r.prefill.timeS), r.prefill.bound, fmtPct(r.prefill.mfu), fmtPct(r.prefill.mbu), `${fmtRate((r.workload.batch * computedPromptTokens(r.workload)) / r.prefill.timeS, 0)} prompt tok/s`],
    [`decode step @${r.decode.contextTokens}`, fmtSi(r.decode.flops, 'FLOP'), fmtBytes(r.decode.bytes), fmtTime(r.decode.timeS), r.decode.bound, fmtPct(r.decode.mfu), fmtPct(r.decode.mbu), `${fmtRate(r.decode.tokensPerS, 1)} tok/s`],
    ['end to end', '', '', fmtTime(r.e2e.timeS), '', '', '', `${fmtRate(r.e2e.outputTokensPerS, 1)} output tok/s`],
  ];
}

/** The phase header; under tp the FLOPs and bytes are one device's (the graph is per device). */
function phaseHeader(r: AnalysisResult): string[] {
  const per = r.workload.tp > 1 ? ' per device' : '';
  return ['phase', `FLOPs${per}`, `bytes${per}`, 'time', 'bound', 'MFU', 'MBU', r.workload.tp > 1 ? `throughput (${r.workload.tp} devices)` : 'throughput'];
}

/** What the phase table's figures are: the mid-point decode step, how end to end adds up, per device under tp. */
function phasesNote(r: AnalysisResult): string {
  const e2e = `End to end = prefill (${fmtTime(r.prefill.timeS)}) + ${r.e2e.decodeSteps} decode steps (${fmtTime(r.e2e.decodeTimeS)}) = ${fmtTime(r.e2e.timeS)}.`;
  const tp = r.workload.tp > 1
    ? ` Under tp ${r.workload.tp} FLOPs, bytes, MFU and MBU are one device's (its share of the model); times are the group's, throughput and energy count all ${r.workload.tp} devices. Phase bytes are DRAM traffic; the all_reduce op rows list the bytes each device sends over the link.`
    : '';
  return `The decode step is reported at the mid-point of generation (${r.decode.contextTokens} tokens in the cache). ${e2e}${tp}`;
}

function rooflineLine(r: AnalysisResult): string {
  return `${fmtSi(r.hardware.peakFlopsPerS, 'FLOP/s')} (${r.hardware.peakDtype}, dense) and ${fmtSi(r.hardware.memoryBandwidthBytesPerS, 'B/s')}${r.workload.tp > 1 ? ' per device' : ''}: ridge at ${fmtNum(r.hardware.ridgeIntensity, 1)} FLOP/byte`;
}

function kvLine(r: AnalysisResult): string {
  return `${fmtBytes(r.kvCache.bytesPerToken)} per token (${r.kvCache.format}${r.workload.tp > 1 ? ', whole model; memory below is per device' : ''})`;
}

/** The cost parameters used, one sentence (plain text; each renderer escapes it). */
function costModelText(r: AnalysisResult): string {
  const c = r.costModel;
  const engine = c.servingEngine ? `the ${c.servingEngine.name} profile (engine/cost/engines.json) over ` : '';
  return `Cost parameters: ${engine}${c.origin}; host work ${fmtTime(c.forwardOverheadS)} per forward pass${c.sequenceOverheadS > 0 ? ` plus ${fmtTime(c.sequenceOverheadS)} per sequence of the batch` : ''}; attention ${c.fusedAttention ? 'fused (FlashAttention)' : `unfused (${c.scoreBytesPerElement}-byte scores through memory)`}${c.groupedDecodeAttention ? '' : `; decode attention reloads K/V per query head (${fmtNum(c.kvReloadDramFraction * 100, 0)}% of the repeats from DRAM)`}${c.prefillChunkTokens > 0 ? `; prefill in chunks of ${c.prefillChunkTokens} tokens` : ''}${c.fp16AccumulateGemm ? '; 16-bit GEMMs accumulate in fp16' : ''}${c.matrixUnitComputeScale !== 1 ? `; tensor-core GEMM and attention kernels at ${c.matrixUnitComputeScale} of their compute efficiency` : ''}${c.dequantizeToBuffer ? '; quantized prompt GEMMs dequantize to a 16-bit buffer first' : ''}${c.blockRescaleGemm ? '; quantized prompt GEMMs multiply 32-wide blocks as integers and rescale each block (MMQ)' : ''}${!c.dequantizeToBuffer && c.quantizedGemmComputeScale !== 1 ? `; quantized prompt GEMMs at ${c.quantizedGemmComputeScale} of their compute efficiency` : ''}${r.model.params.experts > 0 ? `; routed-expert GEMMs at ${c.moeGemmComputeScale} of the GEMM compute efficiency` : ''}; launch overhead ${fmtTime(c.launchOverheadS)} per kernel${c.interconnect && r.workload.tp > 1 ? `; all-reduce latency ${fmtTime(c.interconnect.allreduceLatencyS)} per call` : ''}.`;
}

/** The decode step against context (the static batch's step as its cache grows): a line, and rows for tables. */
function curveLine(r: AnalysisResult): string {
  const c = r.decode.curve;
  const n = c.contextTokens.length;
  if (n === 0) return '';
  return `decode step against context (batch ${r.workload.batch}): ${fmtTime(c.timeS[0]!)} at ${fmtInt(c.contextTokens[0]!)} tokens to ${fmtTime(c.timeS[n - 1]!)} at ${fmtInt(c.contextTokens[n - 1]!)} (${fmtRate(c.tokensPerS[0]!, 1)} to ${fmtRate(c.tokensPerS[n - 1]!, 1)} tok/s)`;
}

const CURVE_HEADER = ['context tokens', 'step time', 'tokens/s'];

function curveRows(r: AnalysisResult): string[][] {
  const c = r.decode.curve;
  return c.contextTokens.map((t, i) => [fmtInt(t), fmtTime(c.timeS[i]!), fmtRate(c.tokensPerS[i]!, 1)]);
}

/** Plain text with `code` spans, as HTML. */
function htmlInline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function topOps(r: AnalysisResult, phase: 'prefill' | 'decode', n: number): OpResult[] {
  return r.ops.filter((o) => o.phase === phase).sort((a, b) => b.timeS - a.timeS).slice(0, n);
}

/** An op row's name, with its layer group where the model has several ("mlp_down (window 4096)"). */
export function opLabel(o: Pick<OpResult, 'name' | 'layerGroup'>): string {
  return o.layerGroup ? `${o.name} (${o.layerGroup})` : o.name;
}

function opRow(o: OpResult, total: number, r: AnalysisResult): string[] {
  return [opLabel(o), String(o.layers), fmtSi(o.flops, 'FLOP'), fmtBytes(o.bytes), fmtNum(o.intensity, 1), boundCell(o), fmtTime(o.timeS), fmtPct(o.timeS / total)];
}

const OP_HEADER = ['op', 'layers', 'FLOPs', 'bytes', 'FLOP/B', 'bound', 'time', 'share'];

function sweepHeader(r: AnalysisResult): string[] {
  const h = ['batch', 'step time', 'tokens/s', 'bound', 'fits'];
  if (r.batchSweep.expertsRead) h.push(`experts read (of ${r.batchSweep.expertsPerLayer})`);
  return h;
}

function sweepRows(r: AnalysisResult): string[][] {
  const s = r.batchSweep;
  const e = s.expertsRead;
  return s.batch.map((b, i) => {
    const row = [String(b), fmtTime(s.stepTimeS[i]!), fmtRate(s.tokensPerS[i]!, 0), s.bound[i]!, s.fits[i] ? 'yes' : 'no'];
    if (e) row.push(fmtExperts(e[i]!));
    return row;
  });
}

/**
 * MoE: how many routed experts a decode step reads per layer, from batch 1 to the batch where every expert is
 * read (within 0.05 of all) or the end of the sweep. Empty for dense models.
 */
function expertsText(r: AnalysisResult): string {
  const s = r.batchSweep;
  const e = s.expertsRead;
  const all = s.expertsPerLayer;
  if (!e || all === null || e.length === 0) return '';
  const first = `${fmtExperts(e[0]!)} of ${all} at batch ${s.batch[0]}`;
  const k = e.findIndex((x) => all - x < 0.05);
  if (k === 0) return `experts read per layer: all ${all} at every batch`;
  if (k > 0) return `experts read per layer: ${first}, all from batch ${s.batch[k]}`;
  return `experts read per layer: ${first}, ${fmtExperts(e[e.length - 1]!)} at batch ${s.batch[s.batch.length - 1]}`;
}

/** An expected expert count: whole numbers as such (topK at batch 1), others to one decimal. */
function fmtExperts(x: number): string {
  return Math.abs(x - Math.round(x)) < 1e-9 ? String(Math.round(x)) : fmtNum(x, 1);
}

function energyText(r: AnalysisResult): string {
  const p = r.prefill.energyJPerTokenEstimate;
  const d = r.decode.energyJPerTokenEstimate;
  if (p === null || d === null) return 'energy: no TDP for this device';
  return `energy (estimate: TDP x time x devices): ${fmtNum(p * 1e3, 2)} mJ per prompt token, ${fmtNum(d, 3)} J per output token`;
}

/**
 * What backs the prediction: the validation table's published measurements on this device, and those run with
 * this serving engine profile (each "within 15%" of the measurement, or not).
 */
export function evidenceText(r: AnalysisResult): string {
  const ev = r.evidence;
  if (!ev.hardware) return `evidence: no published measurement covers this device (${r.hardware.id === 'this' ? 'measured on this machine' : r.hardware.measured ? 'a measured device read from a file or setting' : 'user-defined or edited'}): the prediction is untested on it`;
  if (ev.hardware.rows === 0) return `evidence: the validation table holds no published measurement on ${r.hardware.name}: the prediction is untested on this device`;
  const h = ev.hardware;
  const pct = (f: number) => `${fmtNum(f * 100, 1)}%`;
  const parts = (['ttft', 'tpot', 'e2e'] as const).filter((k) => h.byMetric[k].rows > 0).map((k) => `${k === 'e2e' ? 'throughput or batch latency' : k.toUpperCase()} ${h.byMetric[k].within15} of ${h.byMetric[k].rows}`);
  const e = ev.servingEngine!;
  const name = r.costModel.servingEngine?.name ?? `${servingEngines().find((x) => x.id === e.id)?.name ?? e.id} (the defaults)`;
  const engine = e.rows === 0 ? `none with ${name}` : `with ${name}: ${e.within15} of ${e.rows} within 15% (median error ${pct(e.medianAbsError)})`;
  return `evidence: ${h.within15} of ${h.rows} published measurements on ${r.hardware.name} predicted within 15% (median error ${pct(h.medianAbsError)}; ${parts.join(', ')}); ${engine}; \`ridgeline validate --hardware ${r.hardware.id}\` lists them`;
}

export function renderAnalysisTable(r: AnalysisResult, topN = 8): string {
  const out: string[] = [];
  out.push(`${r.model.name} (${r.model.modelType}) on ${r.hardware.name}${r.hardware.measured ? ' [measured]' : ''}`);
  out.push(`  ${paramsLine(r)}`);
  out.push(`  ${workloadLine(r)}`);
  out.push(`  KV cache ${kvLine(r)}`);
  out.push(`  memory: ${memoryLine(r)}`);
  out.push(`  roofline: ${rooflineLine(r)}`);
  out.push('');
  out.push(textTable(phaseHeader(r), phaseRows(r)));
  out.push(phasesNote(r));
  out.push('');
  const s = r.batchSweep;
  if (s.batch.length > 0) {
    const ex = expertsText(r);
    out.push(`decode batch sweep @${s.contextTokens} tokens: ${plateauText(r)}, ${ridgeText(r)}, ${fitsText(s.maxBatchFits)}${ex ? `; ${ex}` : ''}`);
  }
  if (r.decode.curve.contextTokens.length > 0) out.push(curveLine(r));
  if (s.batch.length > 0 || r.decode.curve.contextTokens.length > 0) out.push('');
  for (const phase of ['prefill', 'decode'] as const) {
    const total = phase === 'prefill' ? r.prefill.timeS : r.decode.timeS;
    out.push(`top ${phase} ops by time:`);
    const top = topOps(r, phase, topN);
    out.push(textTable(OP_HEADER, top.map((o) => opRow(o, total, r))));
    const note = boundNote(top);
    if (note) out.push(note);
    out.push('');
  }
  out.push(energyText(r));
  out.push(evidenceText(r));
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

function mdTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(escapeMd).join(' | ')} |`)].join('\n');
}

export function renderAnalysisMarkdown(r: AnalysisResult): string {
  const out: string[] = [];
  out.push(`# ${escapeMd(r.model.name)} on ${escapeMd(r.hardware.name)}`);
  out.push('');
  out.push(`- Model: ${escapeMd(r.model.modelType)}, ${paramsLine(r)}`);
  out.push(`- Workload: ${workloadLine(r)}`);
  out.push(`- KV cache: ${kvLine(r)}`);
  out.push(`- Memory: ${memoryLine(r)}`);
  out.push(`- Roofline: ${rooflineLine(r)}`);
  out.push('');
  out.push('## Phases');
  out.push('');
  out.push(mdTable(phaseHeader(r), phaseRows(r)));
  out.push('');
  out.push(escapeMd(phasesNote(r)));
  out.push('');
  out.push(`${energyText(r)}.`);
  out.push('');
  out.push(`${escapeMd(evidenceText(r).replace(/^evidence: /, 'Evidence: '))}.`);
  out.push('');
  const s = r.batchSweep;
  if (s.batch.length > 0) {
    out.push('## Decode throughput against batch');
    out.push('');
    out.push(`At ${s.contextTokens} tokens of context: ${plateauText(r, true)}; the ${ridgeText(r)}, while attention keeps reading the KV cache at memory speed; ${fitsText(s.maxBatchFits)}.${s.expertsRead ? ` Each sequence routes its token to its own experts, so a step reads more of them as the batch grows (uniform routing; ${expertsText(r)}).` : ''}`);
    out.push('');
    out.push(mdTable(sweepHeader(r), sweepRows(r)));
    out.push('');
  }
  if (r.decode.curve.contextTokens.length > 0) {
    out.push('## Decode against context');
    out.push('');
    out.push(`The step of batch ${r.workload.batch} as its KV cache grows (the attention reads grow with it; the weight reads do not).`);
    out.push('');
    out.push(mdTable(CURVE_HEADER, curveRows(r)));
    out.push('');
  }
  for (const phase of ['prefill', 'decode'] as const) {
    const total = phase === 'prefill' ? r.prefill.timeS : r.decode.timeS;
    out.push(`## ${phase === 'prefill' ? 'Prefill' : 'Decode'} ops`);
    out.push('');
    const ops = r.ops.filter((o) => o.phase === phase);
    out.push(mdTable(OP_HEADER, ops.map((o) => opRow(o, total, r))));
    out.push('');
    const note = boundNote(ops);
    if (note) out.push(escapeMd(note), '');
  }
  out.push('## Cost model');
  out.push('');
  out.push(escapeMd(costModelText(r)));
  if (r.warnings.length) {
    out.push('');
    out.push('## Warnings');
    out.push('');
    for (const w of r.warnings) out.push(`- ${escapeMd(w)}`);
  }
  return out.join('\n') + '\n';
}

/** A log-log roofline of the ops as inline SVG: the roof, the ridge, one dot per op. */
export function rooflineSvg(r: AnalysisResult, width = 640, height = 360): string {
  const pad = { l: 64, r: 16, t: 16, b: 40 };
  const peak = r.hardware.peakFlopsPerS;
  const bw = r.hardware.memoryBandwidthBytesPerS;
  const pts = r.ops.filter((o) => o.intensity > 0 && o.timeS > 0 && o.flops > 0);
  const xs = pts.map((o) => o.intensity);
  const xMin = Math.min(0.1, ...xs) / 2;
  const xMax = Math.max(r.hardware.ridgeIntensity * 10, ...xs) * 2;
  const achieved = pts.map((o) => o.flops / o.timeS);
  const yMax = peak * 2;
  const yMin = Math.min(xMin * bw, ...achieved) / 2;
  const lx = (x: number) => pad.l + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * (width - pad.l - pad.r);
  const ly = (y: number) => height - pad.b - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (height - pad.t - pad.b);
  const ridge = peak / bw;
  const roof = `M${lx(xMin).toFixed(1)},${ly(xMin * bw).toFixed(1)} L${lx(ridge).toFixed(1)},${ly(peak).toFixed(1)} L${lx(xMax).toFixed(1)},${ly(peak).toFixed(1)}`;
  const dots = pts
    .map((o, i) => `<circle cx="${lx(o.intensity).toFixed(1)}" cy="${ly(achieved[i]!).toFixed(1)}" r="4" class="${o.phase}"><title>${escapeHtml(`${o.phase} ${opLabel(o)}: ${fmtNum(o.intensity, 1)} FLOP/B, ${fmtSi(achieved[i]!, 'FLOP/s')}, ${o.bound}`)}</title></circle>`)
    .join('');
  const ticks: string[] = [];
  for (let e = Math.ceil(Math.log10(xMin)); e <= Math.floor(Math.log10(xMax)); e++) {
    ticks.push(`<text x="${lx(10 ** e).toFixed(1)}" y="${height - pad.b + 16}" text-anchor="middle">1e${e}</text>`);
  }
  for (let e = Math.ceil(Math.log10(yMin)); e <= Math.floor(Math.log10(yMax)); e += 1) {
    ticks.push(`<text x="${pad.l - 6}" y="${(ly(10 ** e) + 4).toFixed(1)}" text-anchor="end">1e${e}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="roofline">
<rect x="${pad.l}" y="${pad.t}" width="${width - pad.l - pad.r}" height="${height - pad.t - pad.b}" class="frame"/>
<path d="${roof}" class="roof"/>${dots}${ticks.join('')}
<text x="${(width + pad.l) / 2}" y="${height - 6}" text-anchor="middle">arithmetic intensity (FLOP/byte)</text>
<text x="14" y="${(height - pad.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(height - pad.b) / 2})">FLOP/s</text>
</svg>`;
}

export function renderAnalysisHtml(r: AnalysisResult): string {
  const table = (header: string[], rows: string[][]) =>
    `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const s = r.batchSweep;
  const sections: string[] = [];
  sections.push(`<h1>${escapeHtml(r.model.name)} on ${escapeHtml(r.hardware.name)}</h1>`);
  sections.push(`<ul><li>Model: ${escapeHtml(r.model.modelType)}, ${escapeHtml(paramsLine(r))}</li><li>Workload: ${escapeHtml(workloadLine(r))}</li><li>KV cache: ${escapeHtml(kvLine(r))}</li><li>Memory: ${escapeHtml(memoryLine(r))}</li></ul>`);
  sections.push(`<h2>Phases</h2>${table(phaseHeader(r), phaseRows(r))}<p>${escapeHtml(phasesNote(r))}</p><p>${escapeHtml(energyText(r))}.</p><p>${htmlInline(evidenceText(r).replace(/^evidence: /, 'Evidence: '))}.</p>`);
  sections.push(`<h2>Roofline</h2><p>${escapeHtml(rooflineLine(r))}. Dots: <span class="prefill-key">prefill</span> and <span class="decode-key">decode</span> ops at their achieved FLOP/s.</p>${rooflineSvg(r)}`);
  if (s.batch.length > 0) {
    sections.push(`<h2>Decode throughput against batch</h2><p>At ${s.contextTokens} tokens of context: ${escapeHtml(plateauText(r, true))}; the ${escapeHtml(ridgeText(r))}; ${fitsText(s.maxBatchFits)}.${s.expertsRead ? ` ${escapeHtml(expertsText(r))} (uniform routing).` : ''}</p>${table(sweepHeader(r), sweepRows(r))}`);
  }
  if (r.decode.curve.contextTokens.length > 0) {
    sections.push(`<h2>Decode against context</h2><p>The step of batch ${r.workload.batch} as its KV cache grows (the attention reads grow with it; the weight reads do not).</p>${table(CURVE_HEADER, curveRows(r))}`);
  }
  for (const phase of ['prefill', 'decode'] as const) {
    const total = phase === 'prefill' ? r.prefill.timeS : r.decode.timeS;
    const ops = r.ops.filter((o) => o.phase === phase);
    const note = boundNote(ops);
    sections.push(`<h2>${phase === 'prefill' ? 'Prefill' : 'Decode'} ops</h2>${table(OP_HEADER, ops.map((o) => opRow(o, total, r)))}${note ? `<p>${escapeHtml(note)}</p>` : ''}`);
  }
  sections.push(`<h2>Cost model</h2><p>${escapeHtml(costModelText(r))}</p>`);
  if (r.warnings.length) sections.push(`<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(r.model.name)} on ${escapeHtml(r.hardware.name)}: Ridgeline report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d1f23}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f4f6}
svg{background:#fff;border:1px solid #ddd}svg text{font-size:11px;fill:#444}.frame{fill:none;stroke:#ccc}
.roof{fill:none;stroke:#1d1f23;stroke-width:2}circle.prefill{fill:#2563eb;opacity:.75}circle.decode{fill:#dc2626;opacity:.75}
.prefill-key{color:#2563eb}.decode-key{color:#dc2626}
</style></head><body>
${sections.join('\n')}
</body></html>
`;
}

export const CSV_COLUMNS = ['phase', 'name', 'layerGroup', 'layers', 'layer', 'opClass', 'computeDtype', 'flops', 'bytes', 'intensity', 'bound', 'computeS', 'memoryS', 'dequantPassS', 'overheadS', 'timeS'] as const;

export function renderAnalysisCsv(r: AnalysisResult): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const o of r.ops) lines.push(CSV_COLUMNS.map((c) => csvCell(o[c] as string | number | undefined)).join(','));
  return lines.join('\n') + '\n';
}

export { fmtInt };

/** Where the decode step stops being flat in the batch; "no plateau" when batch 2 already costs over 10% more. */
function plateauText(r: AnalysisResult, long = false): string {
  const s = r.batchSweep;
  if (s.batch.length > 1 && s.plateauEndBatch <= s.batch[0]!) return `no plateau: the step time grows by more than 10% already at batch ${s.batch[1]}`;
  return long ? `the step time stays within 10% of batch 1 up to batch ${s.plateauEndBatch}` : `plateau up to batch ${s.plateauEndBatch}`;
}

/**
 * Where the weight GEMMs turn compute bound. Their compute time counts padded row tiles and the dequantization of
 * quantized weights besides the model's FLOPs, so it can come before the batch their intensity reaches the ridge.
 */
function ridgeText(r: AnalysisResult): string {
  const s = r.batchSweep;
  return `weight GEMMs turn compute bound ${s.ridgeBatch === null ? 'at no batch in the sweep' : `at batch ${s.ridgeBatch}`}`;
}

/**
 * An op's bound, marked when it is compute bound although its model FLOPs alone would leave it memory bound: its
 * attainable rate is the memory roof (intensity x bandwidth at the class's efficiency), so the compute time that
 * exceeds the memory time is work beyond those FLOPs (padded row tiles, dequantization).
 */
function boundCell(o: OpResult): string {
  const onMemoryRoof = o.attainableFlopsPerS > 0 && o.memoryS > 0 && Math.abs(o.flops / o.attainableFlopsPerS - o.memoryS) <= 1e-9 * o.memoryS;
  return o.bound === 'compute' && onMemoryRoof ? 'compute*' : o.bound;
}

/** The footnote for boundCell's mark, when an op of the phase carries it. */
function boundNote(ops: readonly OpResult[]): string | null {
  return ops.some((o) => boundCell(o) === 'compute*')
    ? '* compute bound where its model FLOPs alone would be memory bound: the time goes to padded GEMM row tiles or to dequantizing the weights on the vector units, work the FLOP/B column (model FLOPs) does not count.'
    : null;
}

/** "up to batch N fits in memory", or that not even one sequence does. */
function fitsText(maxBatchFits: number): string {
  return maxBatchFits > 0 ? `up to batch ${maxBatchFits} fits in memory` : 'not even batch 1 fits in memory';
}
