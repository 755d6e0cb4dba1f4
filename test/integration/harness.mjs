// Pieces shared by the two ways of running the integration suite: code-server (run.mjs) and desktop
// VS Code through @vscode/test-electron (electron.mjs).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

/** Compiles the tests (standard VS Code shape: out/test/index.js exporting run(), suites beside it). */
export async function buildTests(root) {
  const dir = join(root, 'test/integration');
  const suites = readdirSync(join(dir, 'suite')).filter((f) => f.endsWith('.test.ts'));
  rmSync(join(root, 'out/test'), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [join(dir, 'index.ts'), ...suites.map((f) => join(dir, 'suite', f))],
    outdir: join(root, 'out/test'),
    outbase: dir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha', 'webgpu'],
    loader: { '.wgsl': 'text' },
    logLevel: 'warning',
  });
}

/** A workspace folder `ws` with sample configs, kernels and the test fixtures. */
export function makeWorkspace(root, ws) {
  mkdirSync(join(ws, 'llama-3.1-8b'), { recursive: true });
  mkdirSync(join(ws, 'models'), { recursive: true });
  mkdirSync(join(ws, 'kernels'), { recursive: true });
  cpSync(join(root, 'samples/llama-3.1-8b.json'), join(ws, 'llama-3.1-8b/config.json'));
  for (const f of ['llama-2-7b.json', 'llama-2-70b.json', 'mixtral-8x7b.json', 'mistral-7b-v0.1.json', 'gemma-3-1b.json', 'gemma-3-12b-it.json', 'deepseek-v2-lite.json']) cpSync(join(root, 'samples', f), join(ws, 'models', f));
  cpSync(join(root, 'test/integration/fixtures'), join(ws, 'fixtures'), { recursive: true });
  const sampleKernels = join(root, 'samples/kernels');
  if (existsSync(sampleKernels)) cpSync(sampleKernels, join(ws, 'kernels'), { recursive: true });
  // The workspace asks for kernel execution; only workspace trust may grant it.
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, '.vscode/settings.json'), JSON.stringify({ 'ridgeline.allowKernelExecution': true }, null, 2));
  return ws;
}

/** code-server's entry script under .ci/cache, installed first (scripts/install-code-server.sh) when absent. */
export function codeServerEntry(root) {
  const entry = join(root, '.ci/cache/code-server/node_modules/code-server/out/node/entry.js');
  if (!existsSync(entry)) {
    process.stdout.write('installing code-server (scripts/install-code-server.sh)\n');
    const r = spawnSync('bash', [join(root, 'scripts/install-code-server.sh')], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(entry)) throw new Error('code-server is not installed and scripts/install-code-server.sh failed');
  }
  return entry;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}
