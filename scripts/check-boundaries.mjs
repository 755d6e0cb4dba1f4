// Fails when code outside src/ imports `vscode`: the engine and the webviews must run without VS Code.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const importsVscode = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/;
const bad = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx|js|mjs|cjs)$/.test(name) && importsVscode.test(readFileSync(p, 'utf8'))) bad.push(relative(root, p));
  }
}
for (const d of ['engine', 'webview']) if (existsSync(join(root, d))) walk(join(root, d));
if (bad.length) {
  console.error(`check-boundaries: these files outside src/ import 'vscode':\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
console.log('check-boundaries: engine/ and webview/ are free of vscode imports');
