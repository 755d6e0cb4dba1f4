import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { RidgelineError } from './errors';

/** The largest JSON input read whole (a model config, a device file): configs are kilobytes. */
export const MAX_JSON_INPUT_BYTES = 16 * 1024 * 1024;

/**
 * Reads a small text input (a config or device file) whole, or says in a few words why it cannot: missing, a
 * folder, not a regular file (a device such as /dev/zero or a named pipe, which would never end or never
 * start), larger than `maxBytes`, or binary. Never blocks on a pipe: the kind of file is checked before it is
 * opened.
 */
export function readTextInput(path: string, maxBytes = MAX_JSON_INPUT_BYTES): { text: string } | { why: string } {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { why: 'is a directory' };
    if (!st.isFile()) return { why: `${kindOf(st)}, not a regular file` };
    size = st.size;
  } catch (e) {
    return { why: errnoWhy(e) };
  }
  if (size > maxBytes) return { why: `${(size / 1024 / 1024).toFixed(1)} MB, more than the ${maxBytes / 1024 / 1024} MB a JSON input may have` };
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    // The file may have grown since the stat: read no more than the limit and one byte.
    const cap = Math.min(fstatSync(fd).size, maxBytes + 1);
    const buf = Buffer.alloc(cap);
    let n = 0;
    while (n < cap) {
      const got = readSync(fd, buf, n, cap - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > maxBytes) return { why: `more than the ${maxBytes / 1024 / 1024} MB a JSON input may have` };
    const bytes = buf.subarray(0, n);
    if (bytes.includes(0)) return { why: 'binary content (a NUL byte), not text' };
    return { text: bytes.toString('utf8') };
  } catch (e) {
    return { why: errnoWhy(e) };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
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
