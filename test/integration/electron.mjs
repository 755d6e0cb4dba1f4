// The integration suite in desktop VS Code through @vscode/test-electron, for machines that can download
// VS Code (it fetches a VS Code build from Microsoft's update server on first use, into .vscode-test/).
// Same tests, same index (out/test/index.js), same results format as test/integration/run.mjs; the
// extension loads from the source tree (extensionDevelopmentPath = the repository) instead of the .vsix.
// Two runs: trusted (--disable-workspace-trust) and untrusted (workspace trust on, never prompted). On Linux
// without a display, run it under `xvfb-run -a npm run test:electron`.
// Writes test-output/electron-results.json { passed, failed, tests[] }.
//   npm run test:electron        (not part of `npm test`: the machines it runs on here cannot download VS Code)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTests, makeWorkspace } from './harness.mjs';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'ridgeline-electron-'));



const all = { passed: 0, failed: 0, tests: [] };
try {
  const { downloadAndUnzipVSCode, runTests } = await import('@vscode/test-electron');
  await buildTests(root);
  const vscodeExecutablePath = await downloadAndUnzipVSCode();
  for (const mode of ['trusted', 'untrusted']) {
    const ws = makeWorkspace(root, join(tmp, `ws-${mode}`));
    const userData = join(tmp, `user-data-${mode}`);
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(
      join(userData, 'User/settings.json'),
      JSON.stringify({ 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'workbench.startupEditor': 'none' }),
    );
    const results = join(tmp, `results-${mode}.json`);
    const env = { RIDGELINE_TEST_MODE: mode, RIDGELINE_TEST_RESULTS: results, RIDGELINE_TEST_HOST: 'electron' };
    let why = '';
    try {
      if (mode === 'trusted') {
        await runTests({
          vscodeExecutablePath,
          extensionDevelopmentPath: root,
          extensionTestsPath: join(root, 'out/test/index.js'),
          launchArgs: [ws, '--disable-extensions', `--user-data-dir=${userData}`],
          extensionTestsEnv: env,
        });
      } else {
        // runTests always adds --disable-workspace-trust: launch VS Code directly for the untrusted run.
        const r = spawnSync(
          vscodeExecutablePath,
          [
            ws, '--no-sandbox', '--disable-gpu-sandbox', '--disable-updates', '--skip-welcome', '--skip-release-notes',
            '--disable-extensions', `--user-data-dir=${userData}`, `--extensions-dir=${join(tmp, 'extensions')}`,
            `--extensionDevelopmentPath=${root}`, `--extensionTestsPath=${join(root, 'out/test/index.js')}`,
          ],
          { env: { ...process.env, ...env }, stdio: 'inherit', timeout: 300_000 },
        );
        if (r.error) throw r.error;
      }
    } catch (e) {
      why = String(e.message ?? e);
      console.log(`electron [${mode}]: ${why}`);
    }
    if (!existsSync(results)) {
      all.failed++;
      all.tests.push({ title: `${mode} run`, state: 'failed', error: `no results file: VS Code did not start or the tests did not load${why ? ` (${why})` : ''}` });
      continue;
    }
    const r = JSON.parse(readFileSync(results, 'utf8'));
    for (const t of r.tests) {
      all.tests.push({ ...t, mode });
      if (t.state === 'passed') all.passed++;
      else all.failed++;
      console.log(`${t.state === 'passed' ? 'ok  ' : 'FAIL'} [${mode}] ${t.title}${t.error ? ` — ${t.error}` : ''}`);
    }
  }
} catch (e) {
  all.failed++;
  all.tests.push({ title: 'setup', state: 'failed', error: String(e.message ?? e) });
  console.log(`FAIL setup: ${String(e.message ?? e)}`);
} finally {
  writeFileSync(join(outDir, 'electron-results.json'), JSON.stringify(all, null, 2));
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`electron: ${all.passed} passed, ${all.failed} failed`);
process.exit(all.failed > 0 ? 1 : 0);
