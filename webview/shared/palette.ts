/** Colors resolved from the active VS Code theme (so exported SVG/PNG keep them outside VS Code). */
import { schemeTableau10 } from 'd3-scale-chromatic';

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export interface ThemeColors {
  fontFamily: string;
  foreground: string;
  muted: string;
  background: string;
  border: string;
  good: string;
  bad: string;
  warn: string;
  /** Categorical colors: the theme's chart colors first, then Tableau 10. */
  categorical: string[];
}

let cached: { key: string; colors: ThemeColors } | null = null;

/** Theme colors, resolved once per theme (VS Code changes <body>'s class when the theme changes). */
export function themeColors(): ThemeColors {
  const key = document.body.className + '|' + (document.documentElement.getAttribute('style') ?? '').length;
  if (cached && cached.key === key) return cached.colors;
  cached = { key, colors: resolveThemeColors() };
  return cached.colors;
}

function resolveThemeColors(): ThemeColors {
  const style = getComputedStyle(document.body);
  const cssVar = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  const charts = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow']
    .map((n) => cssVar(n, ''))
    .filter(Boolean);
  const categorical = [...charts, ...schemeTableau10.filter((c) => !charts.includes(c))];
  return {
    fontFamily: style.fontFamily,
    foreground: cssVar('--vscode-foreground', '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', '#999999'),
    background: cssVar('--vscode-editor-background', '#1e1e1e'),
    border: cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)'),
    good: cssVar('--vscode-charts-green', '#89d185'),
    bad: cssVar('--vscode-charts-red', '#f14c4c'),
    warn: cssVar('--vscode-charts-yellow', '#cca700'),
    categorical,
  };
}
