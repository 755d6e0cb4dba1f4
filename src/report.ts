/**
 * Export Report and Compare Two Configs: the engine's renderers (engine/report) by format. JSON is the
 * AnalysisResult itself, the same object `ridgeline analyze --format json` prints.
 */
import type { AnalysisResult } from '../engine/analysis';
import { escapeMd, fmtBytes, fmtInt, fmtRate, fmtTime, renderAnalysisHtml, renderAnalysisMarkdown } from '../engine/report/index';

export const REPORT_FORMATS = ['markdown', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function renderReport(format: ReportFormat, r: AnalysisResult): string {
  switch (format) {
    case 'markdown':
      return renderAnalysisMarkdown(r);
    case 'html':
      return renderAnalysisHtml(r);
    case 'json':
      return JSON.stringify(r, null, 2) + '\n';
  }
}

/** Two analyses side by side (same hardware and workload settings), with the ratio b / a. */
export function renderComparison(a: AnalysisResult, b: AnalysisResult): string {
  const ratio = (x: number, y: number) => (x > 0 && Number.isFinite(y / x) ? `${(y / x).toFixed(2)}x` : 'n/a');
  const rows: Array<[string, string, string, string]> = [
    ['parameters', fmtInt(a.model.params.total), fmtInt(b.model.params.total), ratio(a.model.params.total, b.model.params.total)],
    ['active parameters', fmtInt(a.model.params.active), fmtInt(b.model.params.active), ratio(a.model.params.active, b.model.params.active)],
    ['attention', `${a.model.attention.kind} ${a.model.attention.heads}/${a.model.attention.kvHeads}`, `${b.model.attention.kind} ${b.model.attention.heads}/${b.model.attention.kvHeads}`, ''],
    ['weights', fmtBytes(a.memory.weightsBytes), fmtBytes(b.memory.weightsBytes), ratio(a.memory.weightsBytes, b.memory.weightsBytes)],
    ['KV cache per token', fmtBytes(a.kvCache.bytesPerToken), fmtBytes(b.kvCache.bytesPerToken), ratio(a.kvCache.bytesPerToken, b.kvCache.bytesPerToken)],
    ['KV cache (workload)', fmtBytes(a.memory.kvCacheBytes), fmtBytes(b.memory.kvCacheBytes), ratio(a.memory.kvCacheBytes, b.memory.kvCacheBytes)],
    ['total memory', fmtBytes(a.memory.totalBytes), fmtBytes(b.memory.totalBytes), ratio(a.memory.totalBytes, b.memory.totalBytes)],
    ['fits', a.memory.fits ? 'yes' : 'no', b.memory.fits ? 'yes' : 'no', ''],
    ['prefill (TTFT)', `${fmtTime(a.prefill.timeS)} (${a.prefill.bound})`, `${fmtTime(b.prefill.timeS)} (${b.prefill.bound})`, ratio(a.prefill.timeS, b.prefill.timeS)],
    ['decode step', `${fmtTime(a.decode.timeS)} (${a.decode.bound})`, `${fmtTime(b.decode.timeS)} (${b.decode.bound})`, ratio(a.decode.timeS, b.decode.timeS)],
    ['decode tokens/s', fmtRate(a.decode.tokensPerS), fmtRate(b.decode.tokensPerS), ratio(a.decode.tokensPerS, b.decode.tokensPerS)],
    ['end to end', fmtTime(a.e2e.timeS), fmtTime(b.e2e.timeS), ratio(a.e2e.timeS, b.e2e.timeS)],
  ];
  const w = a.workload;
  return [
    `# ${escapeMd(a.model.name)} vs ${escapeMd(b.model.name)} on ${escapeMd(a.hardware.name)}`,
    '',
    `Workload: batch ${w.batch}, prompt ${w.promptTokens}, generate ${w.generateTokens}, tp ${w.tp}; formats: ${a.workload.weights}/${a.workload.kv} vs ${b.workload.weights}/${b.workload.kv} (weights/KV).`,
    '',
    `| | ${escapeMd(a.model.name)} | ${escapeMd(b.model.name)} | b / a |`,
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.map(escapeMd).join(' | ')} |`),
    '',
  ].join('\n');
}
