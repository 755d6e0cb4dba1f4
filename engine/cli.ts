#!/usr/bin/env node
/**
 * `ridgeline`: the engine's command line. One line per error, exit 2 for bad input, 3 for no GPU.
 */
import { writeFileSync } from 'node:fs';
import { Args, type Command } from './commands/args';
import { RidgelineError } from './errors';
import { commands } from './commands/index';

function usage(): string {
  const lines = ['ridgeline <command> [options]', '', 'Commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `ridgeline help <command>` for its options.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const which = rest[0] && commands.find((c) => c.name === rest[0]);
    if (rest[0] && !which) {
      process.stderr.write(`ridgeline: help: unknown command "${rest[0]}"; expected one of ${commands.map((c) => c.name).join(', ')}\n`);
      return 2;
    }
    process.stdout.write((which ? which.usage : usage()) + '\n');
    return 0;
  }
  if (name === '--version') {
    process.stdout.write(`${typeof VERSION === 'string' ? VERSION : 'dev'}\n`);
    return 0;
  }
  const cmd: Command | undefined = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`ridgeline: unknown command "${name}"; expected one of ${commands.map((c) => c.name).join(', ')}\n`);
    return 2;
  }
  try {
    const args = new Args(rest, ['--help', ...(cmd.booleanFlags ?? [])]);
    if (args.flag('--help')) {
      process.stdout.write(cmd.usage + '\n');
      return 0;
    }
    const out = args.str('--out');
    const result = await cmd.run(args);
    for (const n of result.notes ?? []) process.stderr.write(`ridgeline: ${n}\n`);
    if (out) {
      try {
        writeFileSync(out, result.text.endsWith('\n') ? result.text : result.text + '\n');
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
        throw new RidgelineError(`--out: cannot write ${out} (${why}); expected a writable file path`, { field: '--out' });
      }
      process.stderr.write(`ridgeline: wrote ${out}\n`);
    } else {
      process.stdout.write(result.text.endsWith('\n') ? result.text : result.text + '\n');
    }
    return result.exitCode ?? 0;
  } catch (e) {
    if (e instanceof RidgelineError) {
      process.stderr.write(`ridgeline: ${e.message}\n`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ridgeline: internal error: ${msg.split('\n')[0]}\n`);
    if (process.env.RIDGELINE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

declare const VERSION: string;

// A reader that stops early (`ridgeline validate | head -1`) closes the pipe: the rest of the output is not
// wanted, which is no error (no stack trace; the exit status of what ran so far, 0 when nothing failed).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`ridgeline: cannot write the output (${e.code ?? e.message})\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`ridgeline: internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
