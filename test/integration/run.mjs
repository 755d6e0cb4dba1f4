// Integration suite in a real VS Code host: packages the extension (.vsix), installs it into code-server,
// opens a temporary workspace of sample configs and kernels in headless Chromium with the test payload
// (extensionDevelopmentPath = the installed copy, extensionTestsPath = out/test/index.js), and reads the
// mocha results the tests write from the extension host. Two runs: a trusted workspace (everything) and an
// untrusted one (analysis works, kernels are refused). Writes test-output/integration-results.json
// { passed, failed, tests[], activationTimeMs }.
//   node test/integration/run.mjs        (after `npm run build`; `npm run test:integration` builds first)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTests, codeServerEntry, freePort, makeWorkspace } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });
const resultsFile = join(outDir, 'integration-results.json');
const RUN_LIMIT_MS = Number(process.env.RIDGELINE_IT_RUN_LIMIT_MS ?? 200_000);
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

const children = new Set();
let browser = null;
const tmp = mkdtempSync(join(tmpdir(), 'ridgeline-it-'));

function log(msg) {
  console.log(`integration: ${msg}`);
}

async function cleanup() {
  try {
    if (browser) await browser.close();
  } catch {
    /* already gone */
  }
  browser = null;
  for (const c of children) killTree(c);
  children.clear();
}

function killTree(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // its own process group: code-server and its extension host
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}


function packageVsix() {
  const vsix = join(tmp, 'ridgeline.vsix');
  const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', vsix], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0 || !existsSync(vsix)) throw new Error(`vsce package failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return vsix;
}


async function waitHealthy(port, child, logFile) {
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${logFile}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer /healthz in 30 s; see ${logFile}`);
}

async function runMode(mode, env) {
  const { chromium } = await import('playwright-core');
  const ws = makeWorkspace(root, join(tmp, `ws-${mode}`));
  const userData = join(tmp, `user-data-${mode}`);
  mkdirSync(join(userData, 'User'), { recursive: true });
  const trusted = mode === 'trusted';
  writeFileSync(
    join(userData, 'User/settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': true,
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.emptyWindow': false,
        'extensions.autoCheckUpdates': false,
        'telemetry.telemetryLevel': 'off',
      },
      null,
      2,
    ),
  );
  const resultFile = join(tmp, `results-${mode}.json`);
  const port = await freePort();
  const logFile = join(outDir, `integration-code-server-${mode}.log`);
  const args = [
    env.entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--extensions-dir', env.extDir, '--user-data-dir', userData, ...(trusted ? ['--disable-workspace-trust'] : []), ws,
  ];
  const { openSync } = await import('node:fs');
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      HOME: env.home,
      RIDGELINE_TEST_MODE: mode,
      RIDGELINE_TEST_HOST: 'code-server',
      RIDGELINE_TEST_RESULTS: resultFile,
      RIDGELINE_TEST_WORKSPACE: ws,
      RIDGELINE_REPO_ROOT: root,
    },
  });
  children.add(child);
  try {
    await waitHealthy(port, child, logFile);
    const base = `vscode-remote://127.0.0.1:${port}`;
    const payload = [
      ['extensionDevelopmentPath', `${base}${env.installed}`],
      ['extensionTestsPath', `${base}${join(root, 'out/test/index.js')}`],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => log(`[${mode}] page error: ${String(e.message).split('\n')[0]}`));
    await page.goto(url);
    const t0 = Date.now();
    // While the suite runs, the workbench itself must show the extension's status bar items.
    let statusText = '';
    let statusSeen = false;
    while (!existsSync(resultFile)) {
      if (Date.now() - t0 > RUN_LIMIT_MS) throw new Error(`no results from the extension host after ${RUN_LIMIT_MS / 1000} s; see ${logFile}`);
      if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${logFile}`);
      if (!statusSeen) {
        statusText = await page
          .locator('.part.statusbar')
          .innerText({ timeout: 1000 })
          .catch(() => statusText);
        statusSeen = /GPU: /.test(statusText) && /(NVIDIA|AMD|Apple|H100|A100)/.test(statusText);
        if (statusSeen && mode === 'trusted') await page.screenshot({ path: join(outDir, 'integration-workbench-running.png') }).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 200)); // the file is written in one call; let it land
    const res = JSON.parse(readFileSync(resultFile, 'utf8'));
    res.tests = [
      ...(res.tests ?? []),
      {
        title: 'workbench: the status bar shows the selected hardware and the GPU adapter state',
        state: statusSeen ? 'passed' : 'failed',
        durationMs: 0,
        ...(statusSeen ? {} : { error: `status bar text: ${JSON.stringify(statusText.replace(/\s+/g, ' ').slice(0, 300))}` }),
      },
    ];
    if (mode === 'trusted') await page.screenshot({ path: join(outDir, 'integration-workbench.png') }).catch(() => {});
    return res;
  } finally {
    await cleanup();
    copyExtensionLogs(userData, mode);
  }
}

/** The extension's output channels (written by the host under the user-data dir) next to the results. */
function copyExtensionLogs(userData, mode) {
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (/ridgeline/i.test(n.name) && n.name.endsWith('.log')) cpSync(p, join(outDir, `integration-${mode}-${n.name.replace(/^\d+-/, '').replace(/\s+/g, '-')}`));
    }
  };
  try {
    walk(join(userData, 'logs'));
  } catch {
    /* logs are a convenience */
  }
}

const all = { passed: 0, failed: 0, tests: [], activationTimeMs: null, runs: {} };
function add(mode, res) {
  for (const t of res.tests ?? []) {
    all.tests.push({ ...t, mode });
    if (t.state === 'passed') all.passed++;
    else all.failed++;
    console.log(`${t.state === 'passed' ? 'ok  ' : 'FAIL'} [${mode}] ${t.title}${t.error ? ` — ${t.error}` : ''}`);
  }
  if (typeof res.activationTimeMs === 'number' && mode === 'trusted') all.activationTimeMs = res.activationTimeMs;
  all.runs[mode] = { passed: res.passed, failed: res.failed, durationMs: res.durationMs };
}

const started = Date.now();
try {
  log('building tests');
  await buildTests(root);
  const entry = codeServerEntry(root);
  log('packaging the .vsix');
  const vsix = packageVsix();
  const home = join(tmp, 'home');
  const extDir = join(tmp, 'extensions');
  mkdirSync(home, { recursive: true });
  const inst = spawnSync(process.execPath, [entry, '--install-extension', vsix, '--extensions-dir', extDir], {
    env: { ...process.env, HOME: home },
    encoding: 'utf8',
  });
  const installedName = existsSync(extDir) ? readdirSync(extDir).find((d) => d.startsWith('ridgeline.ridgeline-')) : undefined;
  if (inst.status !== 0 || !installedName) throw new Error(`installing the .vsix into code-server failed: ${(inst.stderr || inst.stdout).trim()}`);
  const installed = join(extDir, installedName);
  log(`installed ${installedName}`);
  const env = { entry, extDir, home, installed };
  for (const mode of ['trusted', 'untrusted']) {
    log(`running the ${mode}-workspace suite`);
    try {
      add(mode, await runMode(mode, env));
    } catch (e) {
      all.failed++;
      all.tests.push({ title: `${mode} run`, state: 'failed', error: String(e.message ?? e), mode });
      console.log(`FAIL [${mode}] ${String(e.message ?? e)}`);
    }
  }
} catch (e) {
  all.failed++;
  all.tests.push({ title: 'setup', state: 'failed', error: String(e.message ?? e) });
  console.log(`FAIL setup: ${String(e.message ?? e)}`);
} finally {
  await cleanup();
  all.durationMs = Date.now() - started;
  writeFileSync(resultsFile, JSON.stringify(all, null, 2));
  if (!process.env.RIDGELINE_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
}
log(`${all.passed} passed, ${all.failed} failed in ${(all.durationMs / 1000).toFixed(1)} s; activation ${all.activationTimeMs?.toFixed?.(2) ?? '?'} ms`);
process.exit(all.failed > 0 ? 1 : 0);
