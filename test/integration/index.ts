/**
 * Test entry in the standard VS Code shape: the host loads this file and awaits `run()`. The suites run
 * with mocha inside the extension host; the results go to a JSON file (the host exits 0 whatever happens,
 * so the harness reads pass/fail from the file). RIDGELINE_TEST_MODE picks the suites: `trusted` (all but
 * untrusted.test.js) or `untrusted` (untrusted.test.js only).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

interface TestRecord {
  title: string;
  state: 'passed' | 'failed';
  durationMs: number;
  error?: string;
}

export async function run(): Promise<void> {
  const mode = process.env.RIDGELINE_TEST_MODE ?? 'trusted';
  const resultsPath = process.env.RIDGELINE_TEST_RESULTS ?? join(__dirname, `results-${mode}.json`);
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  const dir = join(__dirname, 'suite');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => (mode === 'untrusted' ? f === 'untrusted.test.js' : f !== 'untrusted.test.js'))
    .sort();
  for (const f of files) mocha.addFile(join(dir, f));
  const tests: TestRecord[] = [];
  const t0 = Date.now();
  let activationTimeMs: number | null = null;
  await new Promise<void>((resolve) => {
    try {
      const runner = mocha.run(() => resolve());
      runner.on('pass', (t) => tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration ?? 0 }));
      runner.on('fail', (t, err: Error) => tests.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration ?? 0, error: String(err?.message ?? err).split('\n').slice(0, 4).join(' | ') }));
    } catch (e) {
      tests.push({ title: 'loading the suites', state: 'failed', durationMs: 0, error: String((e as Error).message ?? e) });
      resolve();
    }
  });
  activationTimeMs = (globalThis as { __ridgelineActivationTimeMs?: number }).__ridgelineActivationTimeMs ?? null;
  const passed = tests.filter((t) => t.state === 'passed').length;
  writeFileSync(resultsPath, JSON.stringify({ mode, passed, failed: tests.length - passed, tests, activationTimeMs, durationMs: Date.now() - t0 }, null, 2));
}
