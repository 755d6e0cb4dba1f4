// End-to-end suite: the packaged extension in a real VS Code host (code-server) driven by headless Chromium
// (playwright-core with Debian's chromium). Opens a sample config, each panel and the sidebar, changes
// controls and checks the numbers shown against the engine run in this process, exports the chart, takes
// screenshots in dark and light themes (test-output/screenshots/), and measures the roofline re-render.
// Writes test-output/e2e-results.json { passed, failed, tests[], renderMs }.
//   node test/e2e/run.mjs            (after `npm run build`; scripts/test-all.mjs e2e runs both)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { codeServerEntry, freePort } from '../integration/harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'test-output');
const shots = join(out, 'screenshots');
mkdirSync(shots, { recursive: true });
const resultsFile = join(out, 'e2e-results.json');
const started = Date.now();
const SUITE_LIMIT_MS = 280_000;

const results = [];
const metrics = {};
let passed = 0;
let failed = 0;
function record(name, ok, detail = '') {
  results.push({ name, ok, detail });
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}
async function test(name, fn) {
  try {
    const detail = await fn();
    record(name, true, typeof detail === 'string' ? detail : '');
  } catch (e) {
    await page?.screenshot({ path: join(out, `e2e-failure-${results.length}.png`) }).catch(() => {});
    record(name, false, (e && e.message ? e.message : String(e)).split('\n').slice(0, 3).join(' | '));
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function close(a, b, rel, what) {
  const ok = Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-300);
  assert(ok, `${what}: shown ${a}, engine ${b} (tolerance ${rel})`);
}
function writeResults(extra = {}) {
  writeFileSync(resultsFile, JSON.stringify({ passed, failed, tests: results, metrics, ...extra }, null, 2));
}

// ---------------------------------------------------------------------------------------------------
// Setup: code-server, the .vsix, a workspace with sample configs.

const tmp = mkdtempSync(join(tmpdir(), 'ridgeline-e2e-'));
const home = join(tmp, 'home');
const userData = join(tmp, 'user-data');
const extDir = join(tmp, 'extensions');
const ws = join(tmp, 'ws');
const browserData = join(tmp, 'chromium');
for (const d of [home, join(userData, 'User'), extDir, ws, browserData]) mkdirSync(d, { recursive: true });
const CONFIG_70B = join(ws, 'llama-2-70b.json');
cpSync(join(root, 'samples/llama-2-70b.json'), CONFIG_70B);
cpSync(join(root, 'samples/llama-3.1-8b.json'), join(ws, 'llama-3.1-8b.json'));
// A small WGSL kernel to profile (one entry point, 64k elements: quick even on a software adapter).
writeFileSync(
  join(ws, 'axpy.wgsl'),
  `// y = 2 x + y over N floats, one invocation per element.
// ridgeline: N=65536
// ridgeline: dispatch=N/256,1,1 buffers=0:N,1:N flops=2*N bytes=12*N
struct Params {
  N: u32,
  a: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i < params.N) {
    y[i] = 2.0 * x[i] + y[i];
  }
}
`,
);

/**
 * A small safetensors file (F32): Gaussian weights from a seeded generator, one tensor with a few large
 * outliers (which hurt group-wise formats) so the sensitivity ranking has a known first entry.
 */
const WEIGHTS = join(ws, 'tiny-model.safetensors');
function writeSafetensors(path) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  const tensors = [
    ['model.layers.0.self_attn.q_proj.weight', [64, 256], 0],
    ['model.layers.0.mlp.down_proj.weight', [64, 256], 8],
    ['model.layers.0.mlp.up_proj.weight', [128, 256], 0],
  ];
  const header = {};
  const chunks = [];
  let offset = 0;
  for (const [name, shape, outliers] of tensors) {
    const n = shape[0] * shape[1];
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = 0.02 * gauss();
    for (let i = 0; i < outliers; i++) a[Math.floor(rand() * n)] = 2.5;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + a.byteLength] };
    chunks.push(Buffer.from(a.buffer));
    offset += a.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...chunks]));
}
writeSafetensors(WEIGHTS);

const SETTINGS = {
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'files.simpleDialog.enable': true,
  'window.dialogStyle': 'custom',
  'ridgeline.hardware': 'h100-sxm',
  'ridgeline.batch': 1,
  'ridgeline.promptTokens': 1024,
  'ridgeline.generateTokens': 256,
  'ridgeline.tensorParallel': 1,
};
function writeSettings(over = {}) {
  writeFileSync(join(userData, 'User/settings.json'), JSON.stringify({ ...SETTINGS, ...over }, null, 2));
}
writeSettings();

let server = null;
let browser = null;
let page = null;
function cleanup() {
  try {
    browser?.close().catch(() => {});
  } catch {}
  if (server && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {}
  }
}
process.on('exit', cleanup);
const watchdog = setTimeout(() => {
  record('suite finished within its time limit', false, `stopped after ${SUITE_LIMIT_MS / 1000} s`);
  writeResults();
  cleanup();
  process.exit(1);
}, SUITE_LIMIT_MS);

function expected(controls, extra = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/register-text.mjs', 'test/e2e/expected.ts', JSON.stringify({ config: CONFIG_70B, controls, ...extra })], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`expected.ts failed: ${r.stderr.split('\n').slice(0, 3).join(' ')}`);
  return JSON.parse(r.stdout);
}

// ---------------------------------------------------------------------------------------------------
// Browser helpers

/** The frame whose document body says data-view=<view> (webviews are nested iframes). */
async function viewFrame(page, view, timeoutMs = 30_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    for (const f of page.frames()) {
      try {
        if (await f.evaluate((v) => document.body?.dataset.view === v, view)) return f;
      } catch {}
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no webview frame for ${view} after ${timeoutMs} ms`);
}

/**
 * A panel's frame, brought to the front with its command where it is not shown: another editor tab may have
 * taken the front, and a hidden webview has no frame (the panels do not retain their context when hidden; the
 * extension host re-renders them from its state when they come back).
 */
async function panelFrame(page, view, command, timeoutMs = 30_000) {
  try {
    return await viewFrame(page, view, 5_000);
  } catch {
    await runCommand(page, command);
    return viewFrame(page, view, timeoutMs);
  }
}

async function runCommand(page, title) {
  // The palette filters asynchronously, and extension commands appear once the extension is registered:
  // retry a few times before giving up.
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 5_000 });
      await row.click();
      return;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (attempt >= 3) throw e;
      await page.waitForTimeout(1000);
    }
  }
}

/**
 * Shows the Ridgeline view container. A command, not the activity-bar icon: clicking the icon of the
 * container already shown hides the side bar.
 */
async function showRidgelineSidebar(page) {
  await runCommand(page, 'View: Show Ridgeline');
}

/**
 * Opens a workspace file through Quick Open (the palette without '>'), which does not depend on the
 * explorer's state: its tree may be scrolled, collapsed or hidden by an earlier step. Retried like
 * runCommand, since the file index fills asynchronously.
 */
async function openFile(page, name) {
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(name);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
    try {
      await row.waitFor({ timeout: 10_000 });
      await row.click();
      await page.locator(`.tab[aria-label*="${name}"]`).first().waitFor({ timeout: 10_000 });
      return;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (attempt >= 3) throw e;
      await page.waitForTimeout(1000);
    }
  }
}

/** Waits until the roofline frame reports a render newer than `after`; returns { requestId, renderMs }. */
async function waitRender(frame, after) {
  const h = await frame.waitForFunction(
    (a) => {
      const el = document.querySelector('#render-ms');
      const id = Number(el?.dataset.requestId ?? -1);
      return el && el.dataset.renderMs !== '' && id > a ? { id, ms: Number(el.dataset.renderMs) } : null;
    },
    after,
    { timeout: 15_000 },
  );
  return h.jsonValue();
}

async function setNumber(frame, control, value) {
  const input = frame.locator(`[data-control="${control}"] input`);
  await input.fill(String(value));
}

/** Screenshot of one webview (the iframe element that hosts it), or of the whole window. */
async function shot(page, name, frame = null) {
  await page.mouse.move(1, 1); // no hover tooltip in the picture
  await page.waitForTimeout(600);
  const el = frame ? await frame.frameElement() : null;
  if (el) await el.screenshot({ path: join(shots, `${name}.png`) });
  else await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** The view's frame after it has rendered (moving a webview reloads it: find it again). */
async function renderedFrame(page, view) {
  const f = await viewFrame(page, view);
  await f.waitForFunction(() => (document.querySelector('#render-ms')?.dataset.renderMs ?? '') !== '', null, { timeout: 15_000 });
  return f;
}

async function shootBothThemes(page, name, view) {
  await runCommand(page, 'View: Single Column Editor Layout');
  await page.waitForTimeout(800);
  await shot(page, `${name}-dark`, await renderedFrame(page, view));
  await setTheme(page, 'Default Light Modern');
  await shot(page, `${name}-light`, await renderedFrame(page, view));
  await setTheme(page, 'Default Dark Modern');
}

async function setTheme(page, theme) {
  // The theme picker opens after the palette closes; on a busy machine the click on the command is sometimes
  // lost and no picker follows: open it again.
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; ; attempt++) {
    await runCommand(page, 'Preferences: Color Theme');
    try {
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      break;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (attempt >= 2) throw e;
    }
  }
  await input.fill(theme);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
  const cls = theme.includes('High Contrast Light') ? 'hc-light' : theme.includes('High Contrast') ? 'hc-black' : theme.includes('Light') ? 'vs' : 'vs-dark';
  await page.waitForFunction((c) => document.querySelector('.monaco-workbench')?.classList.contains(c) ?? false, cls, { timeout: 15_000 });
  await page.waitForTimeout(800);
}

async function closeAllEditors(page) {
  await runCommand(page, 'View: Close All Editors');
  await page.waitForTimeout(500);
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  const entry = codeServerEntry(root);
  // Package the built extension (dist/ must be fresh: `npm run build` / test-all builds first).
  const vsix = join(tmp, 'ridgeline.vsix');
  execFileSync(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share') };
  execFileSync(process.execPath, [entry, '--extensions-dir', extDir, '--user-data-dir', userData, '--install-extension', vsix], { env, stdio: ['ignore', 'ignore', 'inherit'] });

  const port = await freePort();
  server = spawn(
    process.execPath,
    [entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--extensions-dir', extDir, '--user-data-dir', userData, ws],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let serverLog = '';
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {}
    if (i > 100) throw new Error(`code-server did not start: ${serverLog.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // A fresh profile each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(browserData, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to|dropped a malformed/i.test(m.text())) consoleErrors.push(m.text());
  });
  await page.goto(`${base}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);

  const ctl = {
    hardware: 'h100-sxm',
    engine: 'none',
    batch: 1,
    promptTokens: 1024,
    cachedPromptTokens: 0,
    generateTokens: 256,
    weights: 'fp16',
    activations: 'fp16',
    kv: 'fp16',
    tp: 1,
    contextTokens: 1280,
    windowTokens: 0,
    evictionTokens: 0,
    blockTokens: 16,
  };

  // ---- Roofline on the 70B config ----
  await openFile(page, 'llama-2-70b.json');
  let roof;
  await test('roofline panel opens on the active config and shows the engine figures', async () => {
    await runCommand(page, 'Ridgeline: Show Roofline');
    roof = await viewFrame(page, 'roofline');
    await waitRender(roof, -1);
    const title = await roof.locator('#title').textContent();
    const e = expected(ctl);
    assert(title.includes(e.modelName), `title "${title}" lacks ${e.modelName}`);
    const ds = await roof.locator('#cards').evaluate((el) => ({ ...el.dataset }));
    close(Number(ds.decodeTimeS), e.decodeTimeS, 1e-12, 'decode step');
    close(Number(ds.prefillTimeS), e.prefillTimeS, 1e-12, 'prefill');
    const points = await roof.locator('#chart .point').count();
    assert(points > 0 && points <= e.ops, `points ${points} for ${e.ops} ops`);
    const roofs = await roof.locator('#chart [data-roof]').count();
    assert(roofs >= 3, `expected a roof per dtype, got ${roofs}`);
    // The published measurements behind the figures, as the engine counts them for this device and engine.
    const ev = await roof.locator('#evidence').evaluate((el) => ({ ...el.dataset, text: el.textContent }));
    const h = e.evidence.hardware;
    assert(h && h.rows > 0 && Number(ev.rows) === h.rows && Number(ev.within15) === h.within15, `evidence ${JSON.stringify(ev)} against ${JSON.stringify(h)}`);
    assert(ev.text.includes(`${h.within15} of ${h.rows} published measurements`), `evidence text "${ev.text}"`);
    return `decode ${(e.decodeTimeS * 1e3).toFixed(2)} ms, ${points} op points, ${roofs} roofs; evidence ${h.within15} of ${h.rows}`;
  });

  await test('roofline recomputes live when batch, hardware, formats, the serving engine and a prefix-cache hit change', async () => {
    let last = await waitRender(roof, -1);
    await setNumber(roof, 'batch', 8);
    last = await waitRender(roof, last.id);
    let e = expected({ ...ctl, batch: 8 });
    let ds = await roof.locator('#cards').evaluate((el) => ({ ...el.dataset }));
    close(Number(ds.decodeTimeS), e.decodeTimeS, 1e-12, 'decode step at batch 8');
    // Hardware through the select (keyboard: focus, open, pick by typing is not supported; click the option).
    await roof.locator('[data-control="hardware"]').click();
    await roof.locator('[data-control="hardware"]').locator('li, .option', { hasText: 'A100' }).first().click();
    last = await waitRender(roof, last.id);
    const hw = await roof.locator('[data-control="hardware"]').evaluate((el) => el.value);
    e = expected({ ...ctl, batch: 8, hardware: hw });
    ds = await roof.locator('#cards').evaluate((el) => ({ ...el.dataset }));
    close(Number(ds.decodeTimeS), e.decodeTimeS, 1e-12, `decode step on ${hw}`);
    await roof.locator('[data-control="weights"]').click();
    await roof.locator('[data-control="weights"]').locator('li, .option', { hasText: 'INT4 g128' }).first().click();
    last = await waitRender(roof, last.id);
    const w = await roof.locator('[data-control="weights"]').evaluate((el) => el.value);
    e = expected({ ...ctl, batch: 8, hardware: hw, weights: w });
    ds = await roof.locator('#cards').evaluate((el) => ({ ...el.dataset }));
    close(Number(ds.decodeTimeS), e.decodeTimeS, 1e-12, `decode step with ${w} weights`);
    const before = e.decodeTimeS;
    await roof.locator('[data-control="engine"]').click();
    await roof.locator('[data-control="engine"]').locator('li, .option', { hasText: 'vLLM' }).first().click();
    last = await waitRender(roof, last.id);
    const engine = await roof.locator('[data-control="engine"]').evaluate((el) => el.value);
    assert(engine === 'vllm', `engine control ${engine}`);
    e = expected({ ...ctl, batch: 8, hardware: hw, weights: w, engine });
    ds = await roof.locator('#cards').evaluate((el) => ({ ...el.dataset }));
    close(Number(ds.decodeTimeS), e.decodeTimeS, 1e-12, 'decode step with the vLLM profile');
    // The profile's 1 ms of host work per step against the defaults' 0.7 ms.
    close(e.decodeTimeS - before, 3e-4, 1e-9, 'vLLM host work per step beyond the defaults');
    // A prefix-cache hit of 768 of the 1024 prompt tokens: a shorter prefill, the same decode step.
    await setNumber(roof, 'cachedPromptTokens', 768);
    last = await waitRender(roof, last.id);
    const hit = expected({ ...ctl, batch: 8, hardware: hw, weights: w, engine, cachedPromptTokens: 768 });
    ds = await roof.locator('#cards').evaluate((el) => ({ ...el.dataset }));
    close(Number(ds.prefillTimeS), hit.prefillTimeS, 1e-12, 'prefill after 768 cached prompt tokens');
    close(Number(ds.decodeTimeS), e.decodeTimeS, 1e-12, 'decode step with a prefix-cache hit');
    const sub = await roof.locator('#subtitle').textContent();
    assert(sub.includes('prompt 1024 (768 from the prefix cache)'), `subtitle "${sub}"`);
    assert(hit.prefillTimeS < e.prefillTimeS / 2, `prefill ${hit.prefillTimeS} against ${e.prefillTimeS}`);
    await setNumber(roof, 'cachedPromptTokens', 0);
    last = await waitRender(roof, last.id);
    ctl.batch = 8;
    ctl.hardware = hw;
    ctl.weights = w;
    ctl.engine = engine;
    return `${hw}, batch 8, weights ${w}: decode ${(before * 1e3).toFixed(2)} ms, ${(e.decodeTimeS * 1e3).toFixed(2)} ms with vLLM`;
  });

  await test('roofline re-render for a 70B model stays under 16 ms of script time', async () => {
    const times = [];
    let last = await waitRender(roof, -1);
    for (let i = 0; i < 20; i++) {
      await setNumber(roof, 'promptTokens', 256 + 64 * i);
      last = await waitRender(roof, last.id);
      times.push(last.ms);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    const p90 = times[Math.floor(times.length * 0.9)];
    metrics.rooflineRenderMs = { model: 'llama-2-70b', samples: times.length, median, p90, max: times[times.length - 1] };
    await setNumber(roof, 'promptTokens', 1024);
    await waitRender(roof, last.id);
    assert(median < 16, `median ${median.toFixed(2)} ms`);
    return `median ${median.toFixed(2)} ms, p90 ${p90.toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms over ${times.length} changes`;
  });

  await test('hover and keyboard focus on an op show its details', async () => {
    await roof.locator('#chart .point').first().focus();
    const tip = await roof.locator('#tooltip').textContent();
    assert(!(await roof.locator('#tooltip').isHidden()) && /FLOP\/byte/.test(tip), `tooltip "${tip}"`);
    await roof.locator('#chart .point').first().press('ArrowRight');
    const focused = await roof.evaluate(() => document.activeElement?.getAttribute('data-op'));
    const second = await roof.locator('#chart .point').nth(1).getAttribute('data-op');
    assert(focused === second, `arrow key moved focus to ${focused}, expected ${second}`);
    await roof.locator('#chart .point').nth(2).hover({ force: true });
    assert(!(await roof.locator('#tooltip').isHidden()), 'tooltip hidden on hover');
  });

  await test('export CSV, SVG and PNG through the save dialog', async () => {
    const done = [];
    for (const f of ['csv', 'svg', 'png']) {
      await roof.locator(`#export-${f}`).click();
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      const path = await input.inputValue();
      await page.keyboard.press('Enter');
      await roof.waitForFunction((fmt) => (document.querySelector('#export-status')?.dataset.exported ?? '').endsWith(`.${fmt}`), f, { timeout: 10_000 });
      const saved = await roof.locator('#export-status').evaluate((el) => el.dataset.exported);
      assert(existsSync(saved), `${f}: ${saved} missing (dialog had ${path})`);
      const bytes = readFileSync(saved);
      if (f === 'csv') {
        const lines = bytes.toString('utf8').trim().split('\n');
        const e = expected(ctl);
        assert(lines[0].startsWith('phase,name') && lines.length === e.ops + 1, `csv has ${lines.length} lines for ${e.ops} ops`);
      } else if (f === 'svg') assert(bytes.toString('utf8').startsWith('<svg') && bytes.includes('data-roof'), 'svg content');
      else assert(bytes.subarray(1, 4).toString() === 'PNG' && bytes.length > 5000, `png of ${bytes.length} bytes`);
      cpSync(saved, join(out, `e2e-export.${f}`));
      done.push(`${f} ${bytes.length} B`);
    }
    return done.join(', ');
  });

  await test('roofline screenshots in dark, light and high-contrast themes', async () => {
    await shootBothThemes(page, 'roofline', 'roofline');
    await setTheme(page, 'Default High Contrast');
    await shot(page, 'roofline-high-contrast', await renderedFrame(page, 'roofline'));
    await setTheme(page, 'Default Dark Modern');
    roof = await renderedFrame(page, 'roofline');
    await shot(page, 'workbench-roofline');
  });

  // ---- KV cache planner ----
  let kv;
  await test('KV planner shows the engine memory plan and reacts to context and format', async () => {
    await runCommand(page, 'Ridgeline: Show KV Cache Planner');
    kv = await viewFrame(page, 'kv');
    await kv.locator('#verdict[data-fits]').waitFor({ timeout: 15_000 });
    const title = await kv.locator('#title').textContent();
    assert(/Llama-2-70b/i.test(title), `KV panel shows "${title}", expected the 70B config the roofline showed`);
    const kctl = { ...ctl, weights: 'fp16', hardware: 'h100-sxm', batch: 1, contextTokens: 1280 };
    let e = expected(kctl);
    const readKv = async () => ({
      fits: await kv.locator('#verdict').getAttribute('data-fits'),
      kvBytes: Number(await kv.locator('[data-value="kvCacheBytes"]').getAttribute('data-bytes')),
      fp16: Number(await kv.locator('[data-format="fp16"] [data-bytes-per-token]').getAttribute('data-bytes-per-token')),
    });
    let got = await readKv();
    assert(got.fits === String(e.kv.fits), `fits ${got.fits}, engine ${e.kv.fits}`);
    close(got.kvBytes, e.kv.kvCacheBytes, 1e-12, 'KV bytes');
    close(got.fp16, e.kv.bytesPerTokenFp16, 0, 'fp16 bytes/token');
    const before = got.kvBytes;
    await setNumber(kv, 'contextTokens', 32768);
    await kv.waitForFunction((b) => Number(document.querySelector('[data-value="kvCacheBytes"]')?.dataset.bytes) !== b, before, { timeout: 10_000 });
    e = expected({ ...kctl, contextTokens: 32768 });
    got = await readKv();
    close(got.kvBytes, e.kv.kvCacheBytes, 1e-12, 'KV bytes at 32k');
    assert(got.fits === String(e.kv.fits), `fits at 32k ${got.fits}, engine ${e.kv.fits}`);
    const fp16Fits = e.kv.fits;
    // INT4 g128 weights: the 70B model now fits one H100 at 32k context; the max batch is the engine's.
    await kv.locator('[data-control="weights"]').click();
    await kv.locator('[data-control="weights"]').locator('li, .option', { hasText: 'INT4 g128' }).first().click();
    await kv.waitForFunction(() => document.querySelector('#verdict')?.getAttribute('data-fits') === 'true', null, { timeout: 10_000 }).catch(() => {});
    const w4 = await kv.locator('[data-control="weights"]').evaluate((el) => el.value);
    e = expected({ ...kctl, contextTokens: 32768, weights: w4 });
    got = await readKv();
    assert(got.fits === String(e.kv.fits) && e.kv.fits, `fits with ${w4}: shown ${got.fits}, engine ${e.kv.fits}`);
    const mb = Number(await kv.locator('[data-context="32768"] [data-max-batch]').getAttribute('data-max-batch'));
    assert(mb === e.kv.maxBatch && mb > 0, `max batch at 32k: shown ${mb}, engine ${e.kv.maxBatch}`);
    return `llama-2-70b on H100 at 32k: fp16 fits=${fp16Fits}, KV ${(e.kv.kvCacheBytes / 2 ** 30).toFixed(2)} GiB, ${e.kv.bytesPerTokenFp16} B/token; ${w4} fits with max batch ${mb}`;
  });
  await test('KV planner screenshots in dark and light themes', async () => {
    await shootBothThemes(page, 'kv', 'kv');
  });

  // ---- Quantization advisor ----
  await test('quantization advisor shows options and a recommendation', async () => {
    await runCommand(page, 'Ridgeline: Show Quantization Advisor');
    const q = await viewFrame(page, 'quant');
    await q.waitForFunction(() => document.querySelectorAll('#options tbody tr').length > 0 || (document.querySelector('#error')?.textContent ?? '') !== '', null, { timeout: 15_000 });
    const err = await q.locator('#error').textContent();
    assert(!err, `panel error: ${err}`);
    const rows = await q.locator('#options tbody tr').count();
    const rec = await q.locator('#recommendation').getAttribute('data-weights');
    assert(rows >= 4, `${rows} option rows`);
    return `${rows} options, recommended weights ${rec}`;
  });

  await test('quantization advisor measures per-layer error on a .safetensors file', async () => {
    const SHOW_QUANT = 'Ridgeline: Show Quantization Advisor';
    let q = await panelFrame(page, 'quant', SHOW_QUANT);
    await q.locator('#pick-safetensors').click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    // The simple file dialog lists the folder first (and resets the input when it does): wait for it.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'tiny-model.safetensors' }).first().waitFor({ timeout: 10_000 });
    for (let i = 0; i < 3 && (await input.inputValue()) !== WEIGHTS; i++) {
      await input.fill(WEIGHTS);
      await page.waitForTimeout(400);
    }
    await page.keyboard.press('Enter');
    // The measurement stays with the panel's host: if the panel lost the front meanwhile, it shows it again.
    for (let attempt = 0; ; attempt++) {
      q = await panelFrame(page, 'quant', SHOW_QUANT);
      try {
        await q.locator('#layers tbody tr').first().waitFor({ timeout: 30_000 });
        break;
      } catch (e) {
        if (attempt >= 1) throw e;
      }
    }
    const e = expected(ctl, { safetensors: WEIGHTS }).layers;
    const shown = await q.locator('#layers tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-tensor')));
    assert(JSON.stringify(shown) === JSON.stringify(e.ranking), `order ${shown.join(', ')} vs engine ${e.ranking.join(', ')}`);
    assert(shown[0] === 'model.layers.0.mlp.down_proj.weight', `most sensitive ${shown[0]}`);
    const cell = q.locator('[data-tensor="model.layers.0.mlp.down_proj.weight"] [data-format="int4-g128"]');
    const sqnr = Number(await cell.getAttribute('data-sqnr-db'));
    const want = e.tensors.find((t) => t.name === 'model.layers.0.mlp.down_proj.weight').errors['int4-g128'].sqnrDb;
    close(sqnr, want, 1e-12, 'int4-g128 SQNR of down_proj');
    await shootBothThemes(page, 'quant', 'quant');
    return `ranking ${shown.length} tensors; down_proj int4-g128 SQNR ${want.toFixed(1)} dB`;
  });

  // ---- Sidebar profiler ----
  await test('sidebar profiler lists the recent analysis and opens it on click', async () => {
    await closeAllEditors(page);
    await showRidgelineSidebar(page);
    const sb = await viewFrame(page, 'sidebar');
    await sb.locator('[data-recent]').first().waitFor({ timeout: 15_000 });
    const label = await sb.locator('[data-recent]').first().getAttribute('data-recent');
    assert(/Llama-2-70b/i.test(label), `recent "${label}"`);
    // The benchmark button runs the real microbenchmarks (WebGPU through Dawn on this machine's adapter,
    // SwiftShader here) and the sidebar then shows the measured roofs.
    await sb.locator('#bench').click();
    await sb.locator('#bench-progress:not([hidden])').waitFor({ timeout: 10_000 });
    await sb.locator('[data-roof="bandwidth"]').waitFor({ timeout: 150_000 });
    const bw = await sb.locator('[data-roof="bandwidth"]').textContent();
    metrics.benchmarkSidebar = { bandwidth: bw, adapter: await sb.locator('#adapter').textContent() };
    await shot(page, 'sidebar-dark', sb);
    await setTheme(page, 'Default Light Modern');
    await shot(page, 'sidebar-light', sb);
    await setTheme(page, 'Default Dark Modern');
    await sb.locator('[data-recent]').first().click();
    await page.locator('.tab[aria-label*="llama-2-70b.json"]').first().waitFor({ timeout: 10_000 });
    return `recent: ${label}; measured bandwidth ${bw}`;
  });

  await test('a profiled WGSL kernel appears in the sidebar and opens its source line', async () => {
    await openFile(page, 'axpy.wgsl');
    await runCommand(page, 'Ridgeline: Profile Kernel');
    await showRidgelineSidebar(page);
    const sb = await viewFrame(page, 'sidebar');
    const row = sb.locator('[data-kernel="axpy"]');
    await row.waitFor({ timeout: 60_000 });
    const info = await row.textContent();
    await runCommand(page, 'View: Close All Editors');
    await row.click();
    await page.locator('.tab[aria-label*="axpy.wgsl"]').first().waitFor({ timeout: 10_000 });
    // The cursor lands on the kernel's entry point: the @compute attribute or its fn line.
    const src = readFileSync(join(ws, 'axpy.wgsl'), 'utf8').split('\n');
    const want = [src.findIndex((l) => l.includes('@compute')) + 1, src.findIndex((l) => l.includes('fn axpy')) + 1];
    const status = await page.locator('.statusbar-item[id*="selection"], .statusbar-item:has-text("Ln ")').first().textContent();
    const ln = Number(/Ln (\d+)/.exec(status ?? '')?.[1]);
    assert(want.includes(ln), `cursor on line ${ln}, expected ${want.join(' or ')}`);
    return `${info.replace(/\s+/g, ' ').trim()}; opened at line ${ln}`;
  });

  // ---- State across reloads ----
  await test('roofline panel comes back after a reload with its controls', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'llama-2-70b.json' }).first().waitFor({ timeout: 1 }).catch(() => {});
    await runCommand(page, 'Ridgeline: Show Roofline');
    roof = await viewFrame(page, 'roofline');
    let last = await waitRender(roof, -1);
    await setNumber(roof, 'batch', 4);
    last = await waitRender(roof, last.id);
    const title = await roof.locator('#title').textContent();
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForTimeout(2000);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    roof = await viewFrame(page, 'roofline', 40_000);
    await waitRender(roof, -1);
    const batch = await roof.locator('[data-control="batch"]').evaluate((el) => el.value);
    assert(batch === '4', `batch after reload ${batch}`);
    const measuredRoofs = await roof.locator('#chart path[data-roof][stroke-dasharray]').count();
    assert(measuredRoofs > 0, 'no measured (dashed) roof after the benchmark');
    const title2 = await roof.locator('#title').textContent();
    assert(title2 === title, `title after reload "${title2}", before "${title}"`);
    return `restored "${title2}" at batch ${batch}, ${measuredRoofs} measured roofs drawn`;
  });

  await test('no CSP violations or dropped messages in the webviews', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 3).join(' | '));
  });
}

try {
  await main();
} catch (e) {
  await page?.screenshot({ path: join(out, 'e2e-failure-setup.png') }).catch(() => {});
  record('suite setup', false, e && e.message ? e.message.split('\n')[0] : String(e));
} finally {
  clearTimeout(watchdog);
  metrics.suiteS = (Date.now() - started) / 1000;
  writeResults();
  await browser?.close().catch(() => {});
  cleanup();
  rmSync(tmp, { recursive: true, force: true });
  console.log(`e2e: ${passed} passed, ${failed} failed in ${metrics.suiteS.toFixed(0)} s; screenshots in test-output/screenshots/`);
  process.exit(failed > 0 ? 1 : 0);
}
