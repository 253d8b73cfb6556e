/**
 * Reads the fields gloo-guard needs from a release's JSON exactly as Helm's Go code does
 * (`json.Unmarshal` into `release.Release`), without turning the rest (templates, files, manifest,
 * hooks: most of the bytes) into strings or objects.
 *
 * Go's rules, each checked against Helm itself by test/helm-diff:
 * - The whole document is validated first, and nesting deeper than 10,000 levels is an error
 *   anywhere, read or skipped (encoding/json's scanner). The check keeps one byte per level, so a
 *   body nested millions deep costs nothing more than its first 10,001 brackets.
 * - Object keys match struct fields case-insensitively with Unicode simple folding (`ſ` is `s`,
 *   the Kelvin sign is `k`), and a repeated field decodes again into what is there: structs and
 *   maps keep what the later object does not set, slices are overwritten element by element, and
 *   `null` clears pointers, maps and slices but leaves strings, numbers and booleans alone.
 * - A value of the wrong type for its field (`"version": "3"`, `"config": []`) makes the release
 *   unreadable, as does a number too large for float64. That holds for fields gloo-guard never reads
 *   (templates, files, lock, schema, hooks, times, maintainers...): they are type-checked in place
 *   while skipped, including the base64 of []byte fields and the RFC 3339 text of times.
 * - Strings: invalid UTF-8 becomes U+FFFD byte by byte and lone surrogate escapes become U+FFFD.
 * - Helm 4 reads `info` through its own UnmarshalJSON (a map, re-marshalled with sorted keys),
 *   which can give another status than Helm 3 for a hand-written record; such a release is refused.
 */
import { isUtf8 } from 'node:buffer';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The deepest nesting Go's encoding/json accepts (its scanner's maxNestingDepth). */
export const GO_MAX_DEPTH = 10_000;

/** Release JSON that Helm cannot read; the caller words the message for the user. */
export class ReleaseJsonError extends Error {
  override name = 'ReleaseJsonError';
}

/** Valid JSON whose values do not fit Helm's types (`"version": "3"`): Go's UnmarshalTypeError. */
export class ReleaseTypeError extends ReleaseJsonError {
  override name = 'ReleaseTypeError';
}

/** Valid JSON, but not an object: an array, a string, a number. */
export class ReleaseNotObjectError extends ReleaseJsonError {
  override name = 'ReleaseNotObjectError';
}

/** A chart dependency as Helm decodes it. */
export interface GoDependency {
  name: string;
  version: string;
  repository: string;
  condition: string;
  tags: string[] | null;
  enabled: boolean;
  alias: string;
}

/** `chart.metadata` as far as gloo-guard reads it. */
export interface GoMetadata {
  name: string;
  version: string;
  appVersion: string;
  dependencies: Array<GoDependency | null> | null;
}

/** The fields of a release gloo-guard reads, as Helm's Go structs hold them (null: a nil pointer or map). */
export interface ReleaseFields {
  name: string;
  namespace: string;
  version: number;
  info: { status: string } | null;
  chart: { metadata: GoMetadata | null; values: Record<string, unknown> | null } | null;
  config: Record<string, unknown> | null;
}

/** JSON's white space (Go's isSpace in encoding/json). */
export function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

function syntax(what: string, at: number): ReleaseJsonError {
  return new ReleaseJsonError(`${what} at byte ${at}`);
}

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
const ESCAPES = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPES[c.charCodeAt(0)] = 1;

/** A run of string bytes that need no look: not a quote, a backslash or a control character. */
// eslint-disable-next-line no-control-regex -- the control characters are what Go refuses in a string
const PLAIN_RUN = /[^"\\\x00-\x1f]*/y;

/**
 * Validates the string whose quote is at `i` as Go's scanner does; returns the index after it.
 * `text` is the document as latin1 (one char per byte), so the runs between escapes are skipped by
 * the regex engine instead of a byte loop: most of a release's bytes are in long plain strings.
 */
function scanString(b: Buffer, text: string, i: number): number {
  const n = b.length;
  for (i++; i < n; i++) {
    PLAIN_RUN.lastIndex = i;
    PLAIN_RUN.test(text);
    i = PLAIN_RUN.lastIndex;
    const c = b[i];
    if (c === undefined) break;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) throw syntax('a control character in a string', i);
    const e = b[++i] as number;
    if (e === 0x75) {
      if (!(HEX[b[i + 1] ?? 0] && HEX[b[i + 2] ?? 0] && HEX[b[i + 3] ?? 0] && HEX[b[i + 4] ?? 0]))
        throw syntax('a bad \\u escape', i);
      i += 4;
    } else if (!ESCAPES[e]) throw syntax('a bad escape', i);
  }
  throw new ReleaseJsonError('a string is not terminated');
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** Validates a number, true, false or null at `i`; returns the index after it. */
function scanLiteral(b: Buffer, i: number): number {
  const c = b[i];
  for (const word of ['true', 'false', 'null']) {
    if (c === word.charCodeAt(0)) {
      if (b.toString('latin1', i, i + word.length) !== word) throw syntax('an invalid literal', i);
      return i + word.length;
    }
  }
  const start = i;
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i]) && b[i] !== 0x30) while (isDigit(b[i])) i++;
  else throw syntax('an unexpected character', start);
  if (b[i] === 0x2e) {
    if (!isDigit(b[++i])) throw syntax('a number without digits after the point', i);
    while (isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!isDigit(b[i])) throw syntax('a number without digits in its exponent', i);
    while (isDigit(b[i])) i++;
  }
  return i;
}

/** Reads `"key" :` at `i` inside an object; returns the index of the value. */
function scanKey(b: Buffer, text: string, i: number): number {
  if (b[i] !== QUOTE) throw syntax('expected a key', i);
  i = skipSpace(b, scanString(b, text, i));
  if (b[i] !== COLON) throw syntax('expected a colon', i);
  return skipSpace(b, i + 1);
}

/**
 * Validates a whole document as encoding/json does before it decodes anything: the grammar, the
 * strings, and at most GO_MAX_DEPTH levels. Iterative, one byte of state per level.
 */
export function checkValid(b: Buffer): void {
  const open = new Uint8Array(GO_MAX_DEPTH + 1);
  const text = b.toString('latin1');
  let depth = 0;
  let i = skipSpace(b, 0);
  for (;;) {
    // A value starts at i.
    const c = b[i];
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > GO_MAX_DEPTH) throw new ReleaseJsonError(`nested more than ${GO_MAX_DEPTH} levels deep`);
      open[depth] = c;
      i = skipSpace(b, i + 1);
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      if (b[i] !== close) {
        if (c === OPEN_OBJECT) i = scanKey(b, text, i);
        continue;
      }
      depth--;
      i++;
    } else if (c === QUOTE) i = scanString(b, text, i);
    else if (c === undefined) throw new ReleaseJsonError('the JSON ends where a value was expected');
    else i = scanLiteral(b, i);
    // A value ended: close containers until a comma asks for the next value.
    for (;;) {
      i = skipSpace(b, i);
      if (depth === 0) {
        if (i !== b.length) throw syntax('unexpected bytes after the JSON', i);
        return;
      }
      const inObject = open[depth] === OPEN_OBJECT;
      if (b[i] === COMMA) {
        i = skipSpace(b, i + 1);
        if (inObject) i = scanKey(b, text, i);
        break;
      }
      if (b[i] !== (inObject ? CLOSE_OBJECT : CLOSE_ARRAY))
        throw syntax('expected a comma or a closing bracket', i);
      depth--;
      i++;
    }
  }
}

// ---- Reading valid JSON: skipping is bracket counting, reading is JSON.parse plus Go's fixes. ----

/** The index just after the string whose opening quote is at `i` (the JSON is known valid). */
function stringEnd(b: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    let slashes = 0;
    for (let k = q - 1; k > i && b[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** The index just after the valid JSON value at `i`. */
export function valueEnd(b: Buffer, i: number): number {
  i = skipSpace(b, i);
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) {
    while (i < b.length && !isSpace(b[i]) && b[i] !== COMMA && b[i] !== CLOSE_OBJECT && b[i] !== CLOSE_ARRAY)
      i++;
    return i;
  }
  let depth = 0;
  for (; i < b.length; i++) {
    const d = b[i];
    if (d === QUOTE) i = stringEnd(b, i) - 1;
    else if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
    else if ((d === CLOSE_OBJECT || d === CLOSE_ARRAY) && --depth === 0) return i + 1;
  }
  return i;
}

/** Go's reading of bytes as UTF-8: each byte of an invalid sequence becomes U+FFFD on its own. */
function goUtf8(slice: Buffer): Buffer {
  if (isUtf8(slice)) return slice;
  const out: number[] = [];
  for (let i = 0; i < slice.length;) {
    const n = validSequenceLength(slice, i);
    if (n === 0) {
      out.push(0xef, 0xbf, 0xbd);
      i++;
    } else {
      for (let k = 0; k < n; k++) out.push(slice[i + k] as number);
      i += n;
    }
  }
  return Buffer.from(out);
}

/** The length of the valid UTF-8 sequence at `i`, or 0 (the ranges of Go's utf8.DecodeRune). */
function validSequenceLength(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const [lo, hi] = c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const [lo, hi] = c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const HUGE_NUMBER = /[0-9][eE]\+?0*[1-9][0-9]{2}|[0-9]{309}/;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string with each lone surrogate replaced by U+FFFD, as Go decodes `\ud800`. */
function wellFormedString(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/** Replaces lone surrogates in every string and key, as Go's decoder does; iterative. */
function wellFormed(root: unknown): unknown {
  const fix = (v: unknown): unknown => (typeof v === 'string' ? wellFormedString(v) : v);
  const top = { v: fix(root) };
  const stack: unknown[] = [top.v];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) stack.push((v[k] = fix(v[k])));
      continue;
    }
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      const value = fix(o[key]);
      const good = wellFormedString(key);
      if (good !== key) delete o[key];
      setOwn(o, good, value);
      stack.push(value);
    }
  }
  return top.v;
}

/** True when a number overflowed float64 (Go refuses it; JSON.parse gives Infinity); iterative. */
function hasInfinity(root: unknown): boolean {
  const stack: unknown[] = [root];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (typeof v === 'number' && !Number.isFinite(v)) return true;
    if (typeof v === 'object' && v !== null) for (const child of Object.values(v)) stack.push(child);
  }
  return false;
}

/** A JSON string token (the text is known valid JSON). */
const JSON_STRING = /"[^"\\]*(?:\\.[^"\\]*)*"/g;

/**
 * Whether a number literal in valid JSON text may overflow float64: HUGE_NUMBER outside strings.
 * The strings are taken out first, since random text in them (base64 values) matches HUGE_NUMBER
 * often, and walking a large tree for an Infinity that cannot be there cost more than parsing it.
 */
function mayOverflow(text: string): boolean {
  return HUGE_NUMBER.test(text) && HUGE_NUMBER.test(text.replace(JSON_STRING, '""'));
}

/** Decodes the valid JSON value in `b[start, end)` into plain data as Go decodes into `any`. */
function goValue(b: Buffer, start: number, end: number): unknown {
  const text = goUtf8(b.subarray(start, end)).toString('utf8');
  let v = JSON.parse(text) as unknown;
  if (SURROGATE_ESCAPE.test(text)) v = wellFormed(v);
  if (mayOverflow(text) && hasInfinity(v)) throw new ReleaseTypeError('a number does not fit in a float64');
  return v;
}

/** True when the bytes in `[from, to)` are ASCII and hold no backslash: their text is the bytes. */
function plainAscii(b: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = b[k] as number;
    if (c >= 0x80 || c === BACKSLASH) return false;
  }
  return true;
}

/** A key as Go reads it (for matching only: U+FFFD and lone surrogates never match a field). */
function keyAt(b: Buffer, i: number, end: number): string {
  if (plainAscii(b, i + 1, end - 1)) return b.toString('latin1', i + 1, end - 1);
  return JSON.parse(goUtf8(b.subarray(i, end)).toString('utf8')) as string;
}

/**
 * The non-ASCII runes encoding/json folds onto an ASCII name (it folds each rune to the smallest of
 * its unicode.SimpleFold orbit): the long s and the Kelvin sign. The harness scans every rune
 * (test/helm-diff, mode fold) and a test holds this table to it.
 */
export const GO_FOLDS_TO_ASCII: ReadonlyMap<number, string> = new Map([
  [0x17f, 'S'],
  [0x212a, 'K'],
]);

const NON_ASCII = /[\u0080-\uffff]/;

/** A key folded as encoding/json folds it for matching struct fields. */
export function goFold(key: string): string {
  // On ASCII, Go's folding is upper-casing; only other runes need the table.
  if (!NON_ASCII.test(key)) return key.toUpperCase();
  let out = '';
  for (const ch of key) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) out += cp >= 0x61 && cp <= 0x7a ? String.fromCharCode(cp - 0x20) : ch;
    else out += GO_FOLDS_TO_ASCII.get(cp) ?? ch;
  }
  return out;
}

/** Sets a property without ever touching the prototype (`__proto__` is just a key in Go). */
export function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Calls `onMember(field, valueStart, keyStart)` for each member of the valid object at `i`. */
function eachMember(b: Buffer, i: number, onMember: (key: string, at: number) => void): void {
  i = skipSpace(b, i) + 1;
  for (;;) {
    i = skipSpace(b, i);
    if (b[i] === CLOSE_OBJECT) return;
    const keyEnd = stringEnd(b, i);
    const key = keyAt(b, i, keyEnd);
    const at = skipSpace(b, skipSpace(b, keyEnd) + 1);
    onMember(key, at);
    i = skipSpace(b, valueEnd(b, at));
    if (b[i] === COMMA) i++;
  }
}

function typeError(field: string, b: Buffer, at: number): ReleaseJsonError {
  const kind = { 0x7b: 'an object', 0x5b: 'an array', 0x22: 'a string', 0x74: 'a bool', 0x66: 'a bool' }[
    b[at] ?? 0
  ];
  return new ReleaseTypeError(`${field} cannot hold ${kind ?? 'a number'}`);
}

function isNull(b: Buffer, at: number): boolean {
  return b[at] === 0x6e;
}

/** A Go string field: a string sets it, null leaves it, anything else is a type error. */
function goString(b: Buffer, at: number, current: string, field: string): string {
  if (isNull(b, at)) return current;
  if (b[at] !== QUOTE) throw typeError(field, b, at);
  return goValue(b, at, stringEnd(b, at)) as string;
}

/** A Go int field (int64): only an integer literal that fits. */
function goInt(b: Buffer, at: number, current: number, field: string): number {
  if (isNull(b, at)) return current;
  const text = b.toString('latin1', at, valueEnd(b, at));
  if (!/^-?[0-9]+$/.test(text)) throw typeError(field, b, at);
  const n = BigInt(text);
  if (n > 9223372036854775807n || n < -9223372036854775808n)
    throw new ReleaseTypeError(`${field} overflows int64`);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
    throw new ReleaseTypeError(`${field} is too large to read exactly`);
  return Number(n);
}

function goBool(b: Buffer, at: number, current: boolean, field: string): boolean {
  if (isNull(b, at)) return current;
  if (b[at] === 0x74) return true;
  if (b[at] === 0x66) return false;
  throw typeError(field, b, at);
}

/** A Go map[string]any field: an object adds to the map there (keys replace), null clears it. */
function goMap(
  b: Buffer,
  at: number,
  current: Record<string, unknown> | null,
  field: string,
): Record<string, unknown> | null {
  if (isNull(b, at)) return null;
  if (b[at] !== OPEN_OBJECT) throw typeError(field, b, at);
  const parsed = goValue(b, at, valueEnd(b, at)) as Record<string, unknown>;
  if (current === null) return parsed;
  for (const key of Object.keys(parsed)) setOwn(current, key, parsed[key]);
  return current;
}

/** A Go slice: its backing array (elements past `len` are kept, as Go keeps them) and capacity. */
interface GoSlice<T> {
  items: T[];
  len: number;
  /** Undefined once Go's growth rule leaves doubling (past 256 elements) and we no longer track it. */
  cap: number | undefined;
}

/** The longest slice whose capacity we follow: Go doubles capacity below 256 elements. */
const DOUBLING_LIMIT = 256;

/**
 * A Go slice field: an array is decoded over the slice there element by element (reflect reuses
 * the backing array, so an element between an earlier array's length and its capacity comes back
 * and is decoded into), then the slice is cut to the array's length; `[]` makes a fresh slice.
 */
function goSlice<T>(
  b: Buffer,
  at: number,
  current: GoSlice<T> | null,
  field: string,
  element: (at: number, old: T | undefined) => T,
): GoSlice<T> | null {
  if (isNull(b, at)) return null;
  if (b[at] !== OPEN_ARRAY) throw typeError(field, b, at);
  if (current !== null && current.cap === undefined)
    throw new ReleaseTypeError(`${field} is repeated after more than ${DOUBLING_LIMIT} elements`);
  const s: GoSlice<T> = current ?? { items: [], len: 0, cap: 0 };
  let len = 0;
  let i = skipSpace(b, at + 1);
  while (b[i] !== CLOSE_ARRAY) {
    if (s.cap !== undefined && len >= s.cap) {
      // Grow copies only the elements in use: nothing stale survives past the old capacity.
      s.items.length = len;
      s.cap = s.cap === 0 ? 1 : s.cap < DOUBLING_LIMIT ? s.cap * 2 : undefined;
    }
    s.items[len] = element(i, s.items[len]);
    len++;
    i = skipSpace(b, valueEnd(b, i));
    if (b[i] === COMMA) i = skipSpace(b, i + 1);
  }
  return len === 0 ? { items: [], len: 0, cap: 0 } : { ...s, len };
}

/** Field names folded once: they are constants, and a struct is walked many times. */
const FOLDED_NAMES = new Map<string, string>();

function foldedName(name: string): string {
  let folded = FOLDED_NAMES.get(name);
  if (folded === undefined) FOLDED_NAMES.set(name, (folded = goFold(name)));
  return folded;
}

/** The fields of a struct that are only type-checked, by folded name; built once per field list. */
const CHECK_TABLES = new WeakMap<Record<string, GoType>, Map<string, [string, GoType]>>();

function checkTable(fields: Record<string, GoType>): Map<string, [string, GoType]> {
  let table = CHECK_TABLES.get(fields);
  if (table === undefined) {
    table = new Map(Object.entries(fields).map(([name, t]) => [foldedName(name), [name, t]]));
    CHECK_TABLES.set(fields, table);
  }
  return table;
}

const NO_CHECKS: Record<string, GoType> = {};

/**
 * Walks the members of a Go struct: each key is matched to a field by Go's folding. `read` fields
 * are decoded by their handler; `checks` fields are only type-checked (named `prefix.name`).
 */
function goStruct(
  b: Buffer,
  at: number,
  field: string,
  read: Record<string, (at: number) => void>,
  checks: Record<string, GoType> = NO_CHECKS,
  prefix = field,
): void {
  if (b[at] !== OPEN_OBJECT) throw typeError(field, b, at);
  const byFold = new Map<string, (at: number) => void>();
  for (const name of Object.keys(read)) byFold.set(foldedName(name), read[name] as (at: number) => void);
  const checked = checkTable(checks);
  eachMember(b, at, (key, valueAt) => {
    const folded = goFold(key);
    const handler = byFold.get(folded);
    if (handler !== undefined) return handler(valueAt);
    const check = checked.get(folded);
    if (check !== undefined)
      checkType(b, valueAt, check[1], prefix === '' ? check[0] : `${prefix}.${check[0]}`);
  });
}

/**
 * The Go type of a field gloo-guard does not read but Helm decodes: a wrong type there makes Helm
 * refuse the whole release, so it is checked in place (no value is built). `null` fits every type.
 */
type GoType =
  | 'string'
  | 'int'
  | 'uint8'
  | 'bool'
  | 'any'
  | 'bytes'
  | 'time'
  | 'helmTime'
  | 'interface'
  | { list: GoType }
  | { map: GoType }
  | { struct: Record<string, GoType> };

const MAINTAINER: GoType = { struct: { name: 'string', email: 'string', url: 'string' } };
const DEPENDENCY: GoType = {
  struct: {
    name: 'string',
    version: 'string',
    repository: 'string',
    condition: 'string',
    tags: { list: 'string' },
    enabled: 'bool',
    'import-values': { list: 'any' },
    alias: 'string',
  },
};
const FILE: GoType = { struct: { name: 'string', data: 'bytes' } };
const HOOK: GoType = {
  struct: {
    name: 'string',
    kind: 'string',
    path: 'string',
    manifest: 'string',
    events: { list: 'string' },
    last_run: { struct: { started_at: 'helmTime', completed_at: 'helmTime', phase: 'string' } },
    weight: 'int',
    delete_policies: { list: 'string' },
    output_log_policies: { list: 'string' },
  },
};
const LOCK: GoType = { struct: { generated: 'time', digest: 'string', dependencies: { list: DEPENDENCY } } };

// Fields not judged, but a wrong type in them makes Helm refuse the whole release.
const METADATA_CHECKED: Record<string, GoType> = {
  description: 'string',
  home: 'string',
  sources: { list: 'string' },
  keywords: { list: 'string' },
  maintainers: { list: MAINTAINER },
  icon: 'string',
  apiVersion: 'string',
  condition: 'string',
  tags: 'string',
  deprecated: 'bool',
  annotations: { map: 'string' },
  kubeVersion: 'string',
  type: 'string',
};
const CHART_CHECKED: Record<string, GoType> = {
  lock: LOCK,
  templates: { list: FILE },
  schema: 'bytes',
  files: { list: FILE },
};
const INFO_CHECKED: Record<string, GoType> = {
  description: 'string',
  notes: 'string',
  first_deployed: 'helmTime',
  last_deployed: 'helmTime',
  deleted: 'helmTime',
  resources: { map: { list: 'interface' } },
};
/** apply_method is Helm 4's only. */
const RELEASE_CHECKED: Record<string, GoType> = {
  manifest: 'string',
  apply_method: 'string',
  hooks: { list: HOOK },
};

/** Go's time.Time text (RFC 3339, as time.Time.UnmarshalJSON parses it). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function isGoTime(s: string): boolean {
  const m = RFC3339.exec(s);
  if (m === null) return false;
  const [year = 0, month = 0, day = 0, hour = 0, min = 0, sec = 0] = m.slice(1, 7).map(Number);
  const days = month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  const zoneOk = m[9] === undefined || (Number(m[9]) < 24 && Number(m[10]) < 60);
  return month >= 1 && month <= 12 && day >= 1 && day <= days && hour < 24 && min < 60 && sec < 60 && zoneOk;
}

/** Base64 as encoding/json decodes a []byte (StdEncoding: padded, CR and LF ignored). */
function isGoBase64(s: string): boolean {
  const t = s.replace(/[\r\n]/g, '');
  return t.length % 4 === 0 && /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t);
}

const BASE64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64[c.charCodeAt(0)] = 1;

/**
 * Checks the base64 string at `at` in place, with a table (a regex class was 10 times slower):
 * templates and files are most of a release's bytes. A string with escapes (`\n`, which Go's
 * decoder ignores) takes the decoding path.
 */
function checkBase64(b: Buffer, at: number, field: string): void {
  let end = at + 1;
  while (BASE64[b[end] as number] === 1) end++;
  const run = end - at - 1;
  let pad = 0;
  while (b[end] === 0x3d && pad < 2) {
    end++;
    pad++;
  }
  if (b[end] === QUOTE && (run + pad) % 4 === 0) return;
  if (b[end] !== BACKSLASH || !isGoBase64(stringText(b, at)))
    throw new ReleaseTypeError(`${field} is not base64`);
}

/** A JSON string's text: the raw bytes when it has no escape (the common, large case), else decoded. */
function stringText(b: Buffer, at: number): string {
  const end = stringEnd(b, at);
  const raw = b.toString('latin1', at + 1, end - 1);
  return raw.includes('\\') ? (goValue(b, at, end) as string) : raw;
}

/** Checks the value at `at` against a Go type without building it; throws Helm's refusal. */
function checkType(b: Buffer, at: number, type: GoType, field: string): void {
  if (isNull(b, at) || type === 'any') return;
  if (typeof type === 'object') return checkComposite(b, at, type, field);
  if (type === 'bool') return void goBool(b, at, false, field);
  if (type === 'int') return void goInt(b, at, 0, field);
  if (type === 'uint8') {
    const n = goInt(b, at, 0, field);
    if (n < 0 || n > 255) throw new ReleaseTypeError(`${field} does not fit a byte`);
    return;
  }
  if (type === 'bytes' && b[at] === OPEN_ARRAY) return checkComposite(b, at, { list: 'uint8' }, field);
  // An interface with methods (runtime.Object): only null decodes into it.
  if (type === 'interface' || b[at] !== QUOTE) throw typeError(field, b, at);
  checkStringText(b, at, type, field);
}

/** The text of a string that Helm decodes further: a time, or base64 bytes. */
function checkStringText(b: Buffer, at: number, type: GoType, field: string): void {
  if (type === 'string') return;
  if (type === 'bytes') return checkBase64(b, at, field);
  const text = stringText(b, at);
  if (!(type === 'helmTime' && text === '') && !isGoTime(text))
    throw new ReleaseTypeError(`${field} is not an RFC 3339 time`);
}

function checkComposite(
  b: Buffer,
  at: number,
  type: { list: GoType } | { map: GoType } | { struct: Record<string, GoType> },
  field: string,
): void {
  if ('list' in type) {
    if (b[at] !== OPEN_ARRAY) throw typeError(field, b, at);
    let i = skipSpace(b, at + 1);
    while (b[i] !== CLOSE_ARRAY) {
      checkType(b, i, type.list, `${field}[]`);
      i = skipSpace(b, valueEnd(b, i));
      if (b[i] === COMMA) i = skipSpace(b, i + 1);
    }
    return;
  }
  if (b[at] !== OPEN_OBJECT) throw typeError(field, b, at);
  if ('map' in type) return eachMember(b, at, (_key, v) => checkType(b, v, type.map, `${field}{}`));
  goStruct(b, at, field, {}, type.struct);
}

interface DependencyState extends Omit<GoDependency, 'tags'> {
  tags: GoSlice<string> | null;
}

function readDependency(
  b: Buffer,
  at: number,
  old: DependencyState | null | undefined,
): DependencyState | null {
  if (isNull(b, at)) return null;
  const d: DependencyState = old ?? {
    name: '',
    version: '',
    repository: '',
    condition: '',
    tags: null,
    enabled: false,
    alias: '',
  };
  const str = (k: 'name' | 'version' | 'repository' | 'condition' | 'alias') => (v: number) => {
    d[k] = goString(b, v, d[k], `chart.metadata.dependencies[].${k}`);
  };
  goStruct(b, at, 'a chart dependency', {
    name: str('name'),
    version: str('version'),
    repository: str('repository'),
    condition: str('condition'),
    alias: str('alias'),
    enabled: (v) => (d.enabled = goBool(b, v, d.enabled, 'chart.metadata.dependencies[].enabled')),
    'import-values': (v) => checkType(b, v, { list: 'any' }, 'chart.metadata.dependencies[].import-values'),
    tags: (v) =>
      (d.tags = goSlice(b, v, d.tags, 'chart.metadata.dependencies[].tags', (e, old) =>
        goString(b, e, old ?? '', 'chart.metadata.dependencies[].tags[]'),
      )),
  });
  return d;
}

interface MetadataState extends Omit<GoMetadata, 'dependencies'> {
  dependencies: GoSlice<DependencyState | null> | null;
}

function readMetadata(b: Buffer, at: number, old: MetadataState | null): MetadataState | null {
  if (isNull(b, at)) return null;
  const m: MetadataState = old ?? { name: '', version: '', appVersion: '', dependencies: null };
  goStruct(
    b,
    at,
    'chart.metadata',
    {
      name: (v) => (m.name = goString(b, v, m.name, 'chart.metadata.name')),
      version: (v) => (m.version = goString(b, v, m.version, 'chart.metadata.version')),
      appVersion: (v) => (m.appVersion = goString(b, v, m.appVersion, 'chart.metadata.appVersion')),
      dependencies: (v) =>
        (m.dependencies = goSlice(b, v, m.dependencies, 'chart.metadata.dependencies', (e, o) =>
          readDependency(b, e, o),
        )),
    },
    METADATA_CHECKED,
  );
  return m;
}

interface ChartState {
  metadata: MetadataState | null;
  values: Record<string, unknown> | null;
}

function readChart(b: Buffer, at: number, old: ChartState | null): ChartState | null {
  if (isNull(b, at)) return null;
  const c: ChartState = old ?? { metadata: null, values: null };
  goStruct(
    b,
    at,
    'chart',
    {
      metadata: (v) => (c.metadata = readMetadata(b, v, c.metadata)),
      values: (v) => (c.values = goMap(b, v, c.values, 'chart.values')),
    },
    CHART_CHECKED,
  );
  return c;
}

/** Helm 3: `info` is a plain struct; a repeated status replaces, null leaves it. */
function infoStatusV3(b: Buffer, at: number, current: string): string {
  let status = current;
  goStruct(
    b,
    at,
    'info',
    {
      status: (v) => (status = goString(b, v, status, 'info.status')),
    },
    INFO_CHECKED,
  );
  return status;
}

/**
 * Helm 4: Info.UnmarshalJSON reads `info` into a map (exact keys, the last one wins), marshals it
 * again (keys sorted by their bytes), decodes that into a struct (folded keys, the last wins) and
 * assigns the status even when none was given.
 */
function infoStatusV4(b: Buffer, at: number): string {
  const members = new Map<string, number>();
  eachMember(b, at, (key, valueAt) => members.set(wellFormedString(key), valueAt));
  const sorted = [...members.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  let status = '';
  for (const key of sorted) {
    if (goFold(key) === 'STATUS') status = goString(b, members.get(key) as number, status, 'info.status');
  }
  return status;
}

function finishSlice<T, U>(s: GoSlice<T> | null, map: (t: T) => U): U[] | null {
  return s === null ? null : s.items.slice(0, s.len).map(map);
}

function finishChart(c: ChartState | null): ReleaseFields['chart'] {
  if (c === null) return null;
  const m = c.metadata;
  const metadata =
    m === null
      ? null
      : {
          name: m.name,
          version: m.version,
          appVersion: m.appVersion,
          dependencies: finishSlice(m.dependencies, (d) =>
            d === null ? null : { ...d, tags: finishSlice(d.tags, (t) => t) },
          ),
        };
  return { metadata, values: c.values };
}

/**
 * The opening brackets in `b`, in strings or not, counted natively and only up to `max + 1`: a
 * document with at most `max` of them cannot nest deeper than `max`.
 */
export function openBrackets(b: Buffer, max: number): number {
  let count = 0;
  for (const bracket of [OPEN_OBJECT, OPEN_ARRAY]) {
    for (let i = b.indexOf(bracket); i >= 0; i = b.indexOf(bracket, i + 1)) if (++count > max) return count;
  }
  return count;
}

/**
 * Validates the document as encoding/json does before it decodes. On one-byte text (latin1: bytes
 * past 0x7f are letters only inside strings, where Go accepts any byte), the native JSON.parse has
 * Go's grammar, strings and numbers exactly, but no depth limit: a document with no more brackets
 * than Go's limit cannot nest past it and takes that path. The rest, and every error (for its
 * message), go through the exact scan.
 */
function validate(b: Buffer): void {
  if (openBrackets(b, GO_MAX_DEPTH) <= GO_MAX_DEPTH) {
    try {
      JSON.parse(b.toString('latin1'));
      return;
    } catch {
      // checkValid names the problem and where it is.
    }
  }
  checkValid(b);
}

/** Reads the fields gloo-guard uses from release JSON as Helm 3 and 4 read them; throws when Helm cannot. */
export function readReleaseFields(json: Buffer): ReleaseFields {
  validate(json);
  const start = skipSpace(json, 0);
  if (json[start] !== OPEN_OBJECT) throw new ReleaseNotObjectError('the release is not a JSON object');
  let name = '';
  let namespace = '';
  let version = 0;
  let info: { v3: string; v4: string } | null = null;
  let chart: ChartState | null = null;
  let config: Record<string, unknown> | null = null;
  goStruct(
    json,
    start,
    'the release',
    {
      name: (v) => (name = goString(json, v, name, 'name')),
      namespace: (v) => (namespace = goString(json, v, namespace, 'namespace')),
      version: (v) => (version = goInt(json, v, version, 'version')),
      info: (v) => {
        if (isNull(json, v)) info = null;
        else {
          if (json[v] !== OPEN_OBJECT) throw typeError('info', json, v);
          info = { v3: infoStatusV3(json, v, info?.v3 ?? ''), v4: infoStatusV4(json, v) };
        }
      },
      chart: (v) => (chart = readChart(json, v, chart)),
      config: (v) => (config = goMap(json, v, config, 'config')),
    },
    RELEASE_CHECKED,
    '',
  );
  const read = info as { v3: string; v4: string } | null;
  if (read !== null && read.v3 !== read.v4)
    throw new ReleaseTypeError(
      'info.status reads differently in Helm 3 and Helm 4 (a repeated, null or differently cased status key)',
    );
  return {
    name,
    namespace,
    version,
    info: read === null ? null : { status: read.v3 },
    chart: finishChart(chart),
    config,
  };
}
