// `npm start`: the main job on an embedded default.
// 1. Analyzes the bundled Llama-3.1-8B config on an H100 SXM (batch 1, prompt 1024, generate 256) and
//    prints the summary table.
// 2. Measures this machine through WebGPU (`ridgeline bench --quick`) where an adapter exists, and
//    analyzes the same model on the measured device ("this").
// 3. Writes everything to ridgeline-report.md (and the raw results to ridgeline-report.json).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/cli.js');
const config = join(root, 'samples/llama-3.1-8b.json');
const hardware = 'h100-sxm';

function ridgeline(args, { quiet = false } = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (!quiet && r.stderr) process.stderr.write(r.stderr);
  return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
}

function must(args) {
  const r = ridgeline(args);
  if (r.code !== 0) process.exit(r.code);
  return r.out;
}

const table = must(['analyze', config, '--hardware', hardware, '--format', 'table']);
process.stdout.write(table + '\n');
const markdown = must(['analyze', config, '--hardware', hardware, '--format', 'markdown']);
const json = { analysis: JSON.parse(must(['analyze', config, '--hardware', hardware, '--format', 'json'])) };

let measuredSection;
process.stdout.write('Measuring this machine through WebGPU (ridgeline bench --quick)...\n');
const bench = ridgeline(['bench', '--quick', '--format', 'json'], { quiet: true });
if (bench.code === 0) {
  json.bench = JSON.parse(bench.out);
  const r = json.bench.roofs;
  const a = json.bench.adapter;
  const line = `adapter ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' ')}${a.isFallback ? ' (software fallback)' : ''}: ` +
    `bandwidth ${(r.bandwidthBytesPerS / 1e9).toFixed(3)} GB/s, peak f32 ${(r.peakFlopsPerS.f32 / 1e9).toFixed(3)} GFLOP/s` +
    (r.peakFlopsPerS.f16 ? `, f16 ${(r.peakFlopsPerS.f16 / 1e9).toFixed(3)} GFLOP/s` : '') +
    `, dispatch overhead ${(r.dispatchOverheadS * 1e6).toFixed(1)} us`;
  process.stdout.write(`measured: ${line}\n`);
  const here = ridgeline(['analyze', config, '--hardware', 'this', '--format', 'markdown']);
  json.analysisOnThisMachine = here.code === 0 ? JSON.parse(ridgeline(['analyze', config, '--hardware', 'this', '--format', 'json']).out) : null;
  measuredSection = `## This machine, measured through WebGPU\n\n${line}\n\n` +
    // Its headings sit two levels under the section's (its title ###, its sections ####), so they do not read as the report's own.
    (here.code === 0 ? here.out.replace(/^(#{1,4}) /gm, (_, h) => `${'#'.repeat(h.length + 2)} `) : `Analysis on the measured device failed: ${here.err.trim()}\n`);
} else {
  const why = (bench.err.trim().split('\n').filter((l) => l.startsWith('ridgeline:')).pop() ?? bench.err.trim()).replace(/^ridgeline: /, '');
  process.stdout.write(`measured roofline skipped: ${why}\n`);
  measuredSection = `## This machine\n\nNo measured roofline: ${why}\n`;
}

writeFileSync(join(root, 'ridgeline-report.md'), `${markdown.trimEnd()}\n\n${measuredSection}`);
writeFileSync(join(root, 'ridgeline-report.json'), JSON.stringify(json, null, 2) + '\n');
process.stdout.write('wrote ridgeline-report.md and ridgeline-report.json\n');
