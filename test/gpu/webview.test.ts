/**
 * The same runner and kernels in a browser (the webview path): bundled for the browser with esbuild,
 * loaded in headless Chromium with WebGPU (SwiftShader there), checked against the CPU references.
 * Skipped where Chromium is not installed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

test('runner and kernels run on navigator.gpu in Chromium and match their CPU references', { skip: !existsSync(CHROMIUM) && 'no chromium' }, async () => {
  const built = await esbuild.build({
    entryPoints: [join(__dirname, 'fixtures', 'browser-entry.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    loader: { '.wgsl': 'text' },
  });
  const js = built.outputFiles[0]!.text;
  const server: Server = createServer((req, res) => {
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><script src="/bundle.js"></script>');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const profile = mkdtempSync(join(tmpdir(), 'ridgeline-chromium-'));
  let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = (await page.evaluate(
      (names) => (globalThis as unknown as { runAll: (n: string[]) => Promise<unknown> }).runAll(names),
      ['gemm-f32', 'gemv-splitk-f32', 'softmax-f32', 'attention-f32'],
    )) as { error?: string; adapter: { vendor: string }; kernels: Array<{ name: string; verified: boolean; maxAbsError: number }> };
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.kernels.length, 4);
    for (const k of result.kernels) assert.ok(k.verified, `${k.name} in the browser: max error ${k.maxAbsError}`);
  } finally {
    await browser?.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
