import schema from '../media/schemas/hf-config.schema.json';

/**
 * Where the keys of a JSON object sit in its text: enough to place code lenses, hovers and diagnostics on
 * config fields without a full JSON AST. Tolerant: stops quietly at malformed text.
 * Offsets are UTF-16 indices into the text (what VS Code's positionAt takes).
 */
export interface KeyLocation {
  /** Dotted path from the root, e.g. `num_key_value_heads` or `text_config.hidden_size`. */
  path: string;
  key: string;
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
  depth: number;
}

export function locateKeys(text: string, maxDepth = 2): KeyLocation[] {
  const out: KeyLocation[] = [];
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else if (text.startsWith('//', i)) {
        const e = text.indexOf('\n', i);
        i = e < 0 ? n : e + 1;
      } else break;
    }
  };
  const str = (): string | null => {
    if (text[i] !== '"') return null;
    let j = i + 1;
    let s = '';
    while (j < n && text[j] !== '"') {
      if (text[j] === '\\') {
        s += text[j + 1] ?? '';
        j += 2;
      } else s += text[j++];
    }
    if (j >= n) return null;
    i = j + 1;
    return s;
  };
  const value = (prefix: string, depth: number): boolean => {
    ws();
    const c = text[i];
    if (c === '{') return object(prefix, depth);
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return true;
      }
      for (;;) {
        if (!value('', depth + 1 + maxDepth)) return false;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return true;
        } else return false;
      }
    }
    if (c === '"') return str() !== null;
    const m = /^-?[0-9.eE+-]+|^true|^false|^null/.exec(text.slice(i, i + 40));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  const object = (prefix: string, depth: number): boolean => {
    i++; // {
    ws();
    if (text[i] === '}') {
      i++;
      return true;
    }
    for (;;) {
      ws();
      const keyStart = i;
      const key = str();
      if (key === null) return false;
      const keyEnd = i;
      ws();
      if (text[i] !== ':') return false;
      i++;
      ws();
      const valueStart = i;
      const path = prefix ? `${prefix}.${key}` : key;
      if (!value(path, depth + 1)) return false;
      if (depth < maxDepth) out.push({ path, key, keyStart, keyEnd, valueStart, valueEnd: i, depth });
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return true;
      } else return false;
    }
  };
  ws();
  if (text[i] === '{') object('', 0);
  return out.sort((a, b) => a.keyStart - b.keyStart);
}

/** Cheap content test: a JSON object with `architectures` or `model_type` near the top level. */
export function looksLikeModelConfig(text: string): boolean {
  if (text.length > 2_000_000) return false;
  const head = text.trimStart();
  if (!head.startsWith('{')) return false;
  return /"(architectures|model_type)"\s*:/.test(text);
}

/** Field names the schema knows (media/schemas/hf-config.schema.json): the basis of "did you mean". */
const KNOWN_FIELDS = Object.keys((schema as { properties: Record<string, unknown> }).properties);

/** Edit distance, capped: enough to tell a typo (`num_key_value_head`) from a different field. */
function distance(a: string, b: string, cap = 3): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]!);
    }
    if (rowMin > cap) return cap + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known field an unknown key is probably a misspelling of, if any. */
export function likelyTypo(key: string): string | undefined {
  if (KNOWN_FIELDS.includes(key) || key.length < 6) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (const f of KNOWN_FIELDS) {
    const d = distance(key, f, 2);
    if (d < bestD) {
      best = f;
      bestD = d;
    }
  }
  return best;
}
