// One build for every bundle: the extension host, the CLI, and the webviews.
//   node scripts/build.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  loader: { '.wgsl': 'text' },
  define: { VERSION: JSON.stringify(pkg.version) },
};

// Node bundles: `vscode` is provided by the host; `webgpu` loads a native module and stays a runtime require
// (dist/node_modules/webgpu is copied below so the bundle finds it without the project's node_modules).
const nodeExternal = ['vscode', 'webgpu'];

/** Webview entry points: every webview/<name>/main.ts becomes dist/webview/<name>.js. */
function webviewEntries() {
  const dir = join(root, 'webview');
  if (!existsSync(dir)) return {};
  const out = {};
  for (const name of readdirSync(dir)) {
    const main = join(dir, name, 'main.ts');
    if (statSync(join(dir, name)).isDirectory() && existsSync(main)) out[name] = main;
  }
  return out;
}

const builds = [
  {
    ...common,
    entryPoints: { extension: join(root, 'src/extension.ts') },
    outdir: join(root, 'dist'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternal,
  },
  {
    ...common,
    // quant-worker: the measured-error worker thread, loaded from next to the bundle (engine/quant/measure.ts).
    entryPoints: { cli: join(root, 'engine/cli.ts'), 'quant-worker': join(root, 'engine/quant/worker.ts') },
    outdir: join(root, 'dist'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternal,
  },
];
const views = webviewEntries();
if (Object.keys(views).length > 0) {
  builds.push({
    ...common,
    entryPoints: views,
    outdir: join(root, 'dist/webview'),
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { ...common.loader, '.css': 'text', '.ttf': 'file' },
  });
}

/** Runtime files that are not JavaScript: tree-sitter wasm, Dawn's native module, codicons. */
function copyAssets() {
  const wasmDir = join(root, 'dist/wasm');
  mkdirSync(wasmDir, { recursive: true });
  const wasm = [
    'web-tree-sitter/tree-sitter.wasm',
    'tree-sitter-cuda/tree-sitter-cuda.wasm',
    'tree-sitter-cpp/tree-sitter-cpp.wasm',
    'tree-sitter-c/tree-sitter-c.wasm',
    'tree-sitter-python/tree-sitter-python.wasm',
    'tree-sitter-wgsl/tree-sitter-wgsl.wasm',
  ];
  for (const w of wasm) {
    const src = join(root, 'node_modules', w);
    if (existsSync(src)) cpSync(src, join(wasmDir, w.split('/').pop()));
  }
  const webgpu = join(root, 'node_modules/webgpu');
  if (existsSync(webgpu)) {
    const dst = join(root, 'dist/node_modules/webgpu');
    for (const f of ['index.js', 'package.json', 'types.d.ts', 'LICENSE.md']) {
      if (existsSync(join(webgpu, f))) cpSync(join(webgpu, f), join(dst, f));
    }
    const plat = process.platform === 'darwin' ? 'darwin-universal' : `${process.platform}-${process.arch}`;
    if (existsSync(join(webgpu, 'dist', plat))) cpSync(join(webgpu, 'dist', plat), join(dst, 'dist', plat), { recursive: true });
  }
  const codicons = join(root, 'node_modules/@vscode/codicons/dist');
  if (existsSync(codicons)) {
    mkdirSync(join(root, 'dist/media'), { recursive: true });
    for (const f of ['codicon.css', 'codicon.ttf']) cpSync(join(codicons, f), join(root, 'dist/media', f));
  }
}

copyAssets();
if (watch) {
  const ctxs = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(ctxs.map((c) => c.watch()));
  console.log('ridgeline: watching for changes');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
