/** Rendering of results: terminal tables, Markdown, self-contained HTML, CSV. */
export { renderAnalysisTable, renderAnalysisMarkdown, renderAnalysisHtml, renderAnalysisCsv, rooflineSvg, CSV_COLUMNS } from './analysis';
export { renderDevicesTable } from './hardware';
export { fmtSi, fmtBytes, fmtTime, fmtPct, fmtNum, fmtRate, fmtInt, textTable, escapeHtml, escapeMd, csvCell } from './format';
