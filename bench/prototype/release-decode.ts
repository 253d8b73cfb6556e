/**
 * A prototype of the release decoding proposed in docs/performance.md, to measure what it would gain
 * before src/helm/release.ts changes: base64 checked by length instead of by regex, and only the fields
 * gloo-guard reads parsed (chart.metadata, chart.values, config and the small top-level fields), the
 * rest (templates, files, schema, manifest, hooks) skipped as bytes without becoming strings.
 * Not used by gloo-guard; bench code only.
 */
import { gunzipSync } from 'node:zlib';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The decoded length of unpadded-or-padded base64 text without whitespace. */
function expectedLength(text: string): number {
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - pad;
}

/**
 * Strict base64 in O(1) extra work for well-formed input: Node's decoder skips characters it does not
 * know, so a decoded length that matches the text's length proves every character was valid. Anything
 * else (whitespace, junk, URL-safe alphabet) takes the careful path.
 */
export function fastStrictBase64(text: string): Buffer {
  if (text.length % 4 === 0 && text.indexOf('-') < 0 && text.indexOf('_') < 0) {
    const buf = Buffer.from(text, 'base64');
    if (buf.length === expectedLength(text)) return buf;
  }
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new Error('not valid base64');
  return Buffer.from(clean, 'base64');
}

/** The index just after the string that starts at `i` (a quote). */
function skipString(b: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) throw new Error('unterminated string');
    let slashes = 0;
    for (let k = q - 1; k >= 0 && b[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** The index just after the JSON value that starts at `i`, without parsing it. */
export function skipValue(b: Buffer, i: number): number {
  i = skipSpace(b, i);
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c !== 0x7b && c !== 0x5b) {
    while (i < b.length && b[i] !== 0x2c && b[i] !== 0x7d && b[i] !== 0x5d && !isSpace(b[i])) i++;
    return i;
  }
  let depth = 0;
  for (; i < b.length; i++) {
    const ch = b[i];
    if (ch === QUOTE) {
      i = skipString(b, i) - 1;
    } else if (ch === 0x7b || ch === 0x5b) {
      depth++;
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error('unterminated value');
}

/** Calls `onKey(key, valueStart)` for each member of the object at `i`; it returns where the value ends. */
function members(b: Buffer, i: number, onKey: (key: string, at: number) => number): number {
  i = skipSpace(b, i);
  if (b[i] !== 0x7b) throw new Error('not an object');
  i = skipSpace(b, i + 1);
  if (b[i] === 0x7d) return i + 1;
  for (;;) {
    const keyEnd = skipString(b, i);
    const key = JSON.parse(b.toString('utf8', i, keyEnd)) as string;
    i = skipSpace(b, keyEnd);
    if (b[i] !== 0x3a) throw new Error('expected a colon');
    i = skipSpace(b, onKey(key, skipSpace(b, i + 1)));
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) throw new Error('expected a comma');
    i = skipSpace(b, i + 1);
  }
}

/** The fields of a release gloo-guard reads. */
export interface SelectedRelease {
  name?: unknown;
  info?: unknown;
  version?: unknown;
  namespace?: unknown;
  config?: unknown;
  chart: { metadata?: unknown; values?: unknown };
}

const TOP = new Set(['name', 'info', 'version', 'namespace', 'config']);
const CHART = new Set(['metadata', 'values']);

/** Parses only the fields gloo-guard reads from release JSON; everything else is skipped as bytes. */
export function selectRelease(json: Buffer): SelectedRelease {
  const out: SelectedRelease = { chart: {} };
  const parseAt = (at: number): [unknown, number] => {
    const end = skipValue(json, at);
    return [JSON.parse(json.toString('utf8', at, end)), end];
  };
  members(json, 0, (key, at) => {
    if (key === 'chart') {
      return members(json, at, (ck, cat) => {
        if (!CHART.has(ck)) return skipValue(json, cat);
        const [v, end] = parseAt(cat);
        out.chart[ck as 'metadata' | 'values'] = v;
        return end;
      });
    }
    if (!TOP.has(key)) return skipValue(json, at);
    const [v, end] = parseAt(at);
    (out as unknown as Record<string, unknown>)[key] = v;
    return end;
  });
  return out;
}

/** The whole proposed path: two checked base64 decodes, a bounded gunzip, the selective parse. */
export function decodeReleaseSelective(dataRelease: string, maxBytes: number): SelectedRelease {
  const helmBase64 = fastStrictBase64(dataRelease).toString('latin1');
  const raw = fastStrictBase64(helmBase64);
  return selectRelease(gunzipSync(raw, { maxOutputLength: maxBytes }));
}

/** Where the value of `config` ends in release JSON: inflating stops here when decoding stops early. */
export function configEnd(json: Buffer): number {
  let end = -1;
  members(json, 0, (key, at) => {
    const e = skipValue(json, at);
    if (key === 'config') end = e;
    return e;
  });
  return end;
}
