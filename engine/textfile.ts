import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { RidgelineError } from './errors';

/** The largest JSON input read whole (a model config, a device file): configs are kilobytes. */
export const MAX_JSON_INPUT_BYTES = 16 * 1024 * 1024;

/** How long a pipe may stay silent before its reader gives up. */
const PIPE_IDLE_LIMIT_MS = 30_000;

/**
 * Reads a small text input (a config or device file) whole, or says in a few words why it cannot: missing, a
 * folder, a device such as /dev/zero (an endless or empty stream), larger than `maxBytes`, or binary. A pipe
 * (`/dev/stdin` fed by `cat`, a shell's `<(...)`) is read until its writer closes it; one with no writer, or
 * one silent for 30 s, is an error, never a hang: it is opened without waiting for a writer.
 */
export function readTextInput(path: string, maxBytes = MAX_JSON_INPUT_BYTES): { text: string } | { why: string } {
  let pipe = false;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { why: 'is a directory' };
    pipe = st.isFIFO();
    if (!st.isFile() && !pipe) return { why: `${fileKind(st)}, not a regular file` };
    if (st.size > maxBytes) return { why: tooLarge(maxBytes, st.size) };
  } catch (e) {
    return { why: errnoWhy(e) };
  }
  let fd: number | null = null;
  try {
    fd = openSync(path, pipe ? constants.O_RDONLY | constants.O_NONBLOCK : 'r');
    // Read no more than the limit and one byte: a file may grow after the stat, a pipe has no size.
    const buf = Buffer.alloc(pipe ? 64 * 1024 : Math.min(fstatSync(fd).size, maxBytes) + 1);
    const chunks: Buffer[] = [];
    let n = 0;
    let idleMs = 0;
    const waitCell = pipe ? new Int32Array(new SharedArrayBuffer(4)) : null;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || idleMs >= PIPE_IDLE_LIMIT_MS) throw e;
        Atomics.wait(waitCell!, 0, 0, 10); // the writer has not written yet
        idleMs += 10;
        continue;
      }
      if (got === 0) break;
      idleMs = 0;
      chunks.push(Buffer.from(buf.subarray(0, got)));
      n += got;
      if (n > maxBytes) return { why: tooLarge(maxBytes) };
    }
    if (pipe && n === 0) return { why: 'a pipe that gave no data: nothing writes to it' };
    const bytes = Buffer.concat(chunks, n);
    if (bytes.includes(0)) return { why: 'binary content (a NUL byte), not text' };
    return { text: bytes.toString('utf8') };
  } catch (e) {
    return { why: (e as NodeJS.ErrnoException).code === 'EAGAIN' ? `a pipe silent for ${PIPE_IDLE_LIMIT_MS / 1000} s` : errnoWhy(e) };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function tooLarge(maxBytes: number, size?: number): string {
  const limit = `the ${maxBytes / 1024 / 1024} MB a JSON input may have`;
  return size === undefined ? `more than ${limit}` : `${(size / 1024 / 1024).toFixed(1)} MB, more than ${limit}`;
}

/** What a path is when it is not a regular file (for errors): "a character device", "a named pipe", ... */
export function fileKind(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a file';
}

function errnoWhy(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code ?? 'unreadable';
}

/**
 * Parses JSON text; binary data or a syntax error becomes one line naming the file (and the line and column),
 * with `expected` saying what the input should be ("a Hugging Face config.json").
 */
export function parseJsonInput(text: string, file: string, expected: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark (editors on Windows)
  // NUL, control bytes or undecodable UTF-8 near the start: not a text file at all.
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text.slice(0, 4096))) {
    throw new RidgelineError(`${file}: binary data, not JSON text; expected ${expected}`, { exitCode: 2, file });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    const m = /position (\d+)/.exec(msg);
    let where = '';
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const col = pos - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col}`;
    } else if (/end of (JSON )?input/i.test(msg)) {
      const lines = text.split('\n');
      where = ` at line ${lines.length}, column ${lines[lines.length - 1]!.length + 1} (unexpected end of input)`;
    }
    // V8 quotes the text around the error: drop the quote and anything unprintable from the one line.
    const detail = msg
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/^JSON\.parse: /, '')
      .replace(/, ".*is not valid JSON$/, '')
      .replace(/[^\x20-\x7e]/g, '?');
    throw new RidgelineError(`${file}: malformed JSON${where}: expected ${expected} (${detail})`, {
      exitCode: 2,
      file,
    });
  }
}
