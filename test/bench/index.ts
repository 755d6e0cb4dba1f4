/**
 * `npm run bench`: runs every test/bench/*.bench.ts and prints one JSON object keyed by bench name.
 * Each bench module exports `async function bench(): Promise<Record<string, unknown>>`, reporting
 * ratios against a baseline measured in the same process, plus absolute figures for reference.
 *   npm run bench -- NAME...   runs only the named benches (file names without .bench.ts)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  const out: Record<string, unknown> = { node: process.version, dateIso: new Date().toISOString() };
  for (const f of files) {
    const name = f.replace(/\.bench\.ts$/, '');
    if (only.length && !only.includes(name)) continue;
    const mod = (await import(join(__dirname, f))) as { bench: () => Promise<Record<string, unknown>> };
    try {
      out[name] = await mod.bench();
    } catch (e) {
      out[name] = { error: e instanceof Error ? e.message : String(e) };
    }
    process.stderr.write(`bench: ${name} done\n`);
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

void main();
