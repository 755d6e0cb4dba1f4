import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { fileKind } from '../textfile';
import { basename, dirname, join, resolve } from 'node:path';
import { RidgelineError, inputError } from '../errors';

/**
 * Safetensors reader. Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * (`{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }`), then the data
 * section; offsets are relative to the start of the data section. The reader parses the header and
 * validates every entry against the file, then reads tensor data only on request, by positional reads
 * into caller-sized chunks: a file is never loaded whole.
 */

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2' | 'U16' | 'U32' | 'U64';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1, U16: 2, U32: 4, U64: 8,
};

/** Dtypes whose values the error measurement decodes. Others are listed and skipped with a note. */
export const DECODED_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Elements (product of shape; 1 for a scalar). */
  elements: number;
  /** Absolute byte offset of the tensor's first byte in its file. */
  offset: number;
  byteLength: number;
  /** File the tensor lives in (matters for sharded models). */
  file: string;
}

export interface SafetensorsFile {
  path: string;
  sizeBytes: number;
  headerBytes: number;
  /** Absolute offset of the data section. */
  dataOffset: number;
  metadata: Record<string, string>;
  /** Tensors in data order (ascending offset). */
  tensors: TensorInfo[];
}

/** Largest header accepted: the format's reference implementation caps it at 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;

function bad(file: string, what: string): RidgelineError {
  return new RidgelineError(`${file}: ${what}`, { exitCode: 2, file });
}

/** Reads exactly `length` bytes at `position` into `buf` (at `bufOffset`); a short read is an error. */
export function readExact(fd: number, buf: Uint8Array, bufOffset: number, length: number, position: number, file: string): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, bufOffset + done, length - done, position + done);
    if (n === 0) throw bad(file, `unexpected end of file at byte ${position + done} (wanted ${length - done} more bytes)`);
    done += n;
  }
}

/**
 * Checked before opening: opening a FIFO blocks until a writer appears, and a device reads as an
 * endless or empty stream whose size says nothing. A path that cannot be stat'ed is left to the open,
 * which names the reason.
 */
function requireRegularFile(path: string, expected: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (!st.isFile()) throw inputError({ file: path, field: 'path', expected: `${expected}, not ${fileKind(st)}` });
}

/** Parses and validates a safetensors header. Errors name the file and the entry. */
export function readSafetensorsHeader(path: string): SafetensorsFile {
  const file = path;
  requireRegularFile(path, 'a regular .safetensors file');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError({ file, expected: `a readable .safetensors file (${code === 'ENOENT' ? 'no such file' : code ?? 'unreadable'})` });
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw bad(file, `truncated: ${size} bytes, expected at least the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    readExact(fd, lenBuf, 0, 8, 0, file);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(size - 8)) {
      throw bad(file, `header length ${n} runs past the end of the file (${size - 8} bytes after the length field); truncated or not a safetensors file`);
    }
    const headerBytes = Number(n);
    if (headerBytes > MAX_HEADER_BYTES) throw bad(file, `header length ${headerBytes} exceeds ${MAX_HEADER_BYTES} bytes`);
    if (headerBytes < 2) throw bad(file, `header length ${headerBytes} is too short for a JSON object`);
    const hb = Buffer.alloc(headerBytes);
    readExact(fd, hb, 0, headerBytes, 8, file);
    let header: unknown;
    try {
      header = JSON.parse(hb.toString('utf8'));
    } catch (e) {
      throw bad(file, `header is not valid JSON (${(e as Error).message.split('\n')[0]})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw bad(file, 'header: expected a JSON object of tensor entries');
    }
    const dataOffset = 8 + headerBytes;
    const dataBytes = size - dataOffset;
    const tensors: TensorInfo[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (raw && typeof raw === 'object' && !Array.isArray(raw)) metadata = raw as Record<string, string>;
        else throw bad(file, '__metadata__: expected an object of strings');
        continue;
      }
      tensors.push(parseEntry(file, name, raw, dataOffset, dataBytes));
    }
    tensors.sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
    // Entries must tile the data section: no overlaps and no holes (the format requires a contiguous,
    // fully covered buffer), so a corrupted offset table cannot silently read another tensor's bytes.
    let expect = dataOffset;
    for (const t of tensors) {
      if (t.offset < expect) {
        const prev = tensors.find((u) => u !== t && u.offset <= t.offset && u.offset + u.byteLength > t.offset);
        throw bad(file, `${t.name}: data_offsets [${t.offset - dataOffset}, ${t.offset - dataOffset + t.byteLength}] overlap ${prev ? prev.name : 'another tensor'}`);
      }
      if (t.offset > expect) {
        throw bad(file, `${t.name}: data_offsets begin at ${t.offset - dataOffset}, expected ${expect - dataOffset} (offsets are not contiguous: a ${t.offset - expect}-byte hole before it)`);
      }
      expect = t.offset + t.byteLength;
    }
    if (expect !== size) {
      throw bad(file, `data section is ${dataBytes} bytes but the tensors cover ${expect - dataOffset}; expected them to end at the end of the file`);
    }
    return { path, sizeBytes: size, headerBytes, dataOffset, metadata, tensors };
  } finally {
    closeSync(fd);
  }
}

/** The value found for a header field, for an error message: `the field is missing` when absent. */
function gotText(v: unknown): string {
  if (v === undefined) return 'the field is missing';
  const t = JSON.stringify(v);
  return `got ${t.length > 60 ? t.slice(0, 57) + '...' : t}`;
}

function parseEntry(file: string, name: string, raw: unknown, dataOffset: number, dataBytes: number): TensorInfo {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(file, `${name}: expected an object with dtype, shape and data_offsets`);
  const e = raw as Record<string, unknown>;
  const dtype = e.dtype;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw bad(file, `${name}.dtype: expected one of ${Object.keys(DTYPE_BYTES).join(', ')} (${gotText(dtype)})`);
  }
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(file, `${name}.shape: expected an array of non-negative integers (${gotText(shape)})`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(file, `${name}.data_offsets: expected [begin, end] non-negative integers (${gotText(offs)})`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) throw bad(file, `${name}.data_offsets: end ${end} is before begin ${begin}`);
  if (end > dataBytes) {
    throw bad(file, `${name}.data_offsets: end ${end} is past the end of the data section (${dataBytes} bytes); file truncated?`);
  }
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const byteLength = end - begin;
  const want = elements * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (byteLength !== want) {
    throw bad(file, `${name}: data_offsets span ${byteLength} bytes, expected ${want} for ${dtype} ${JSON.stringify(shape)}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], elements, offset: dataOffset + begin, byteLength, file };
}

export interface SafetensorsModel {
  /** The path the user gave (a .safetensors file, an index json, or a folder). */
  path: string;
  files: SafetensorsFile[];
  /** All tensors across shards, in file then data order. */
  tensors: TensorInfo[];
  totalBytes: number;
}

/**
 * Opens a model: one `.safetensors` file, a `model.safetensors.index.json` (sharded: `weight_map`
 * names each tensor's shard), or a folder holding either. Every shard's header is validated, and the
 * index must agree with the shards (each mapped tensor present in the shard it names).
 */
export function openSafetensors(path: string): SafetensorsModel {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw inputError({ file: path, expected: 'an existing .safetensors file, model.safetensors.index.json, or a folder with one' });
  }
  if (!st.isFile() && !st.isDirectory()) {
    throw inputError({ file: path, field: 'path', expected: `a regular file (.safetensors or model.safetensors.index.json) or a folder, not ${fileKind(st)}` });
  }
  if (st.isDirectory()) {
    const idx = join(path, 'model.safetensors.index.json');
    const single = join(path, 'model.safetensors');
    // Only the existence checks are guarded: an error inside the index or a shard is reported as is.
    const exists = (p: string) => {
      try {
        statSync(p);
        return true;
      } catch {
        return false;
      }
    };
    if (exists(idx)) return openIndex(idx, path);
    if (exists(single)) return fromFiles(path, [readSafetensorsHeader(single)]);
    throw inputError({ file: path, expected: 'a folder with model.safetensors or model.safetensors.index.json' });
  }
  if (path.endsWith('.json')) return openIndex(path, path);
  return fromFiles(path, [readSafetensorsHeader(path)]);
}

function fromFiles(path: string, files: SafetensorsFile[]): SafetensorsModel {
  const tensors = files.flatMap((f) => f.tensors);
  return { path, files, tensors, totalBytes: files.reduce((a, f) => a + f.sizeBytes, 0) };
}

function openIndex(indexPath: string, userPath: string): SafetensorsModel {
  let index: unknown;
  requireRegularFile(indexPath, 'a regular model.safetensors.index.json file');
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    const msg = e instanceof SyntaxError ? `valid JSON (${e.message.split('\n')[0]})` : 'a readable file';
    throw inputError({ file: indexPath, expected: msg });
  }
  const map = (index as { weight_map?: unknown })?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) {
    throw inputError({ file: indexPath, field: 'weight_map', expected: 'an object mapping tensor names to shard file names' });
  }
  const dir = dirname(resolve(indexPath));
  const shardNames: string[] = [];
  for (const [t, f] of Object.entries(map as Record<string, unknown>)) {
    if (typeof f !== 'string' || f.includes('..') || basename(f) !== f) {
      throw inputError({ file: indexPath, field: `weight_map.${t}`, expected: 'a shard file name in the same folder', got: f });
    }
    if (!shardNames.includes(f)) shardNames.push(f);
  }
  shardNames.sort();
  const files = shardNames.map((n) => readSafetensorsHeader(join(dir, n)));
  const byFile = new Map(files.map((f, i) => [shardNames[i]!, new Set(f.tensors.map((t) => t.name))]));
  for (const [t, f] of Object.entries(map as Record<string, string>)) {
    if (!byFile.get(f)!.has(t)) {
      throw inputError({ file: indexPath, field: `weight_map.${t}`, expected: `a tensor present in ${f}` });
    }
  }
  return fromFiles(userPath, files);
}

/**
 * Streams a tensor's raw bytes in chunks of whole rows (the last dimension): `onChunk(bytes, firstRow, rows)`.
 * The chunk buffer is reused between calls; copy what must outlive the callback.
 * `rowBytes` x rows per chunk is at most `chunkBytes` (at least one row).
 */
export function streamTensorRows(
  t: TensorInfo,
  chunkBytes: number,
  onChunk: (bytes: Uint8Array, firstRow: number, rows: number) => void,
  scratch?: Uint8Array,
): void {
  const cols = t.shape.length === 0 ? 1 : t.shape[t.shape.length - 1]!;
  const rowBytes = cols * DTYPE_BYTES[t.dtype];
  const rowsTotal = rowBytes === 0 ? 0 : t.byteLength / rowBytes;
  if (rowsTotal === 0) return;
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / rowBytes));
  const need = rowsPerChunk * rowBytes;
  const buf = scratch && scratch.byteLength >= need ? scratch : new Uint8Array(need);
  const fd = openSync(t.file, 'r');
  try {
    for (let r = 0; r < rowsTotal; r += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, rowsTotal - r);
      const len = rows * rowBytes;
      readExact(fd, buf, 0, len, t.offset + r * rowBytes, t.file);
      onChunk(buf.subarray(0, len), r, rows);
    }
  } finally {
    closeSync(fd);
  }
}

export function dtypeBytes(d: SafetensorsDtype): number {
  return DTYPE_BYTES[d];
}

/**
 * Decodes F32/F16/BF16 little-endian bytes into `out` (float32). BF16 is the top half of a float32;
 * F16 goes through a 65536-entry table built once.
 */
export function decodeToF32(dtype: SafetensorsDtype, bytes: Uint8Array, out: Float32Array): number {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  if (dtype === 'F32') {
    if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
    else out.set(new Float32Array(bytes.slice().buffer));
    return n;
  }
  const u16 = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice().buffer);
  if (dtype === 'BF16') {
    const o32 = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) o32[i] = u16[i]! << 16;
    return n;
  }
  if (dtype === 'F16') {
    const lut = f16Table();
    for (let i = 0; i < n; i++) out[i] = lut[u16[i]!]!;
    return n;
  }
  throw new RidgelineError(`cannot decode dtype ${dtype}`, { exitCode: 2 });
}

let F16_LUT: Float32Array | null = null;
export function f16Table(): Float32Array {
  if (F16_LUT) return F16_LUT;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfToFloat(h);
  F16_LUT = t;
  return t;
}

/** IEEE binary16 bits to a number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Writes a safetensors file from named float arrays (used by tests and the benchmark to make fixtures). */
export function encodeSafetensorsHeader(entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[] }>, metadata?: Record<string, string>): { header: Buffer; offsets: number[]; dataBytes: number } {
  const obj: Record<string, unknown> = {};
  if (metadata) obj.__metadata__ = metadata;
  let off = 0;
  const offsets: number[] = [];
  for (const e of entries) {
    const len = e.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype];
    obj[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + len] };
    offsets.push(off);
    off += len;
  }
  let json = JSON.stringify(obj);
  // Pad the header with spaces to a multiple of 8 so the data section is 8-byte aligned.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const jb = Buffer.from(json, 'utf8');
  const header = Buffer.alloc(8 + jb.length);
  header.writeBigUInt64LE(BigInt(jb.length), 0);
  jb.copy(header, 8);
  return { header, offsets, dataBytes: off };
}
