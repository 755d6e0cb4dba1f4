// `npm test`: type-check, build, then every suite: unit (Node), gpu (WebGPU on this machine's adapter or
// SwiftShader), integration (real VS Code host via code-server), e2e (headless Chromium in code-server).
//   node scripts/test-all.mjs [suite ...]     suites: lint unit gpu integration e2e
// Ends with one line "tests: N passed, N failed" and exits non-zero when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });
const all = ['lint', 'unit', 'gpu', 'integration', 'e2e'];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;
let passed = 0;
let failed = 0;
const summary = [];

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function testFiles(dir) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.test.ts')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Runs node's test runner on a folder; counts come from the spec reporter's closing lines. */
async function nodeSuite(name, env = {}) {
  const files = testFiles(join(root, 'test', name));
  if (files.length === 0) {
    summary.push(`${name}: no tests`);
    return;
  }
  const args = ['--import', 'tsx', '--import', './scripts/register-text.mjs', '--test', '--test-concurrency=1',
    '--test-reporter=spec', ...files];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let text = '';
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    text += d.toString();
    if (text.length > 1 << 20) text = text.slice(-(1 << 16));
  });
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const p = Number(/^\u2139 pass (\d+)/m.exec(text)?.[1] ?? 0);
  let f = Number(/^\u2139 fail (\d+)/m.exec(text)?.[1] ?? 0);
  if (code !== 0 && f === 0) f = 1; // crashed before reporting
  passed += p;
  failed += f;
  summary.push(`${name}: ${p} passed, ${f} failed`);
}

/** Runs a harness that writes test-output/<name>-results.json: { passed, failed }. */
function harnessSuite(name, script) {
  const path = join(root, script);
  if (!existsSync(path)) {
    summary.push(`${name}: no harness`);
    return;
  }
  const results = join(outDir, `${name}-results.json`);
  rmSync(results, { force: true });
  const code = run(process.execPath, [path]);
  let p = 0;
  let f = 0;
  if (existsSync(results)) {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    p = r.passed ?? 0;
    f = r.failed ?? 0;
  }
  if (code !== 0 && f === 0) f = 1;
  passed += p;
  failed += f;
  summary.push(`${name}: ${p} passed, ${f} failed`);
}

if (wanted.includes('lint')) {
  const code = run('npm', ['run', '--silent', 'lint']);
  if (code === 0) passed += 1;
  else failed += 1;
  summary.push(`lint: ${code === 0 ? 'ok' : 'FAILED'}`);
}
if (run('npm', ['run', '--silent', 'build']) !== 0) {
  console.error('test-all: build failed');
  process.exit(1);
}
for (const s of wanted) {
  if (s === 'unit') await nodeSuite('unit');
  else if (s === 'gpu') await nodeSuite('gpu');
  else if (s === 'integration') harnessSuite('integration', 'test/integration/run.mjs');
  else if (s === 'e2e') harnessSuite('e2e', 'test/e2e/run.mjs');
  else if (s !== 'lint') {
    console.error(`test-all: unknown suite ${s}; expected ${all.join(', ')}`);
    process.exit(2);
  }
}
console.log('\n' + summary.join('\n'));
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
