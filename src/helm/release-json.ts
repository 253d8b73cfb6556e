/**
 * Reads only the fields gloo-guard needs from a release's JSON, as Helm's Go decoder would see them,
 * without turning the rest (templates, files, schema, manifest, hooks: most of the bytes) into strings
 * or objects. Skipped values are still checked for balanced brackets and terminated strings, so a
 * truncated or garbled release is an error, not a half-read one.
 *
 * Go's encoding/json matches object keys to struct fields case-insensitively, and decodes a repeated
 * key into the same map or struct (adding to it); JSON.parse keeps only the last exact key. A release
 * that hid `"Config": {...}` or a second `"config"` from a JavaScript reader would be judged on values
 * Helm does not install, so both are read the way Go reads them.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Release JSON that cannot be read; the caller words the message for the user. */
export class ReleaseJsonError extends Error {
  override name = 'ReleaseJsonError';
}

/** Valid JSON, but not an object: an array, a string, a number. */
export class ReleaseNotObjectError extends ReleaseJsonError {
  override name = 'ReleaseNotObjectError';
}

/** The fields of a release gloo-guard reads, as JSON.parse gives them (unchecked shapes). */
export interface ReleaseFields {
  name?: unknown;
  namespace?: unknown;
  version?: unknown;
  info?: unknown;
  config?: unknown;
  chart?: { metadata?: unknown; values?: unknown };
}

const TOP_LEVEL = new Set(['name', 'namespace', 'version', 'info', 'config']);
const CHART_LEVEL = new Set(['metadata', 'values']);

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** The index just after the string whose opening quote is at `i`. */
function stringEnd(b: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) throw new ReleaseJsonError('a string is not terminated');
    let slashes = 0;
    for (let k = q - 1; k > i && b[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** The index just after a number, true, false or null starting at `i`. */
function literalEnd(b: Buffer, i: number): number {
  const start = i;
  while (i < b.length && !isSpace(b[i]) && b[i] !== COMMA && b[i] !== CLOSE_OBJECT && b[i] !== CLOSE_ARRAY) {
    if (b[i] === QUOTE || b[i] === OPEN_OBJECT || b[i] === OPEN_ARRAY || b[i] === COLON) break;
    i++;
  }
  if (i === start) throw new ReleaseJsonError(`unexpected byte at ${start}`);
  return i;
}

/** The index just after the object or array opening at `i`; brackets must pair up. Iterative: any depth. */
function containerEnd(b: Buffer, i: number): number {
  const closers: number[] = [];
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) i = stringEnd(b, i) - 1;
    else if (c === OPEN_OBJECT) closers.push(CLOSE_OBJECT);
    else if (c === OPEN_ARRAY) closers.push(CLOSE_ARRAY);
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (closers.pop() !== c) throw new ReleaseJsonError(`unbalanced brackets at ${i}`);
      if (closers.length === 0) return i + 1;
    }
  }
  throw new ReleaseJsonError('the JSON ends inside an object or array');
}

/** The index just after the JSON value starting at `i` (after any whitespace), without parsing it. */
export function valueEnd(b: Buffer, i: number): number {
  i = skipSpace(b, i);
  const c = b[i];
  if (c === undefined) throw new ReleaseJsonError('the JSON ends where a value was expected');
  if (c === QUOTE) return stringEnd(b, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return containerEnd(b, i);
  return literalEnd(b, i);
}

function parseSlice(b: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(b.toString('utf8', start, end)) as unknown;
  } catch {
    throw new ReleaseJsonError(`a value at ${start} is not valid JSON`);
  }
}

/**
 * Walks the members of the object at `i`, calling `onMember(key, valueStart)`, which returns where
 * the value ends. Returns the index just after the object.
 */
function eachMember(b: Buffer, i: number, onMember: (key: string, at: number) => number): number {
  i = skipSpace(b, i);
  if (b[i] !== OPEN_OBJECT) throw new ReleaseJsonError(`expected an object at ${i}`);
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_OBJECT) return i + 1;
  for (;;) {
    if (b[i] !== QUOTE) throw new ReleaseJsonError(`expected a key at ${i}`);
    const keyEnd = stringEnd(b, i);
    const key = parseSlice(b, i, keyEnd) as string;
    i = skipSpace(b, keyEnd);
    if (b[i] !== COLON) throw new ReleaseJsonError(`expected a colon at ${i}`);
    i = skipSpace(b, onMember(key, skipSpace(b, i + 1)));
    if (b[i] === CLOSE_OBJECT) return i + 1;
    if (b[i] !== COMMA) throw new ReleaseJsonError(`expected a comma at ${i}`);
    i = skipSpace(b, i + 1);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A repeated key as Go decodes it: into the map or struct already there, else replacing it. */
function goAssign(target: Record<string, unknown>, field: string, value: unknown): void {
  const current = target[field];
  target[field] = isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value;
}

/** Reads the members named in `wanted` (matched case-insensitively) into `into`; skips the rest. */
function readMembers(
  b: Buffer,
  at: number,
  wanted: ReadonlySet<string>,
  into: Record<string, unknown>,
  nested?: (field: string, at: number) => number | undefined,
): number {
  return eachMember(b, at, (key, valueAt) => {
    const field = key.toLowerCase();
    const handled = nested?.(field, valueAt);
    if (handled !== undefined) return handled;
    const end = valueEnd(b, valueAt);
    if (wanted.has(field)) goAssign(into, field, parseSlice(b, valueAt, end));
    return end;
  });
}

/** Parses the fields gloo-guard reads from release JSON; everything else is checked and skipped as bytes. */
export function readReleaseFields(json: Buffer): ReleaseFields {
  const out: Record<string, unknown> = {};
  let chart: Record<string, unknown> | undefined;
  const start = skipSpace(json, 0);
  if (json[start] !== OPEN_OBJECT) {
    if (skipSpace(json, valueEnd(json, start)) === json.length && json[start] !== undefined)
      throw new ReleaseNotObjectError('the release is not a JSON object');
    throw new ReleaseJsonError('the release is not JSON');
  }
  const end = readMembers(json, start, TOP_LEVEL, out, (field, at) => {
    if (field !== 'chart') return undefined;
    if (json[skipSpace(json, at)] !== OPEN_OBJECT) {
      const valueAt = valueEnd(json, at);
      chart = undefined;
      return valueAt;
    }
    chart ??= {};
    return readMembers(json, at, CHART_LEVEL, chart);
  });
  if (skipSpace(json, end) !== json.length)
    throw new ReleaseJsonError(`unexpected bytes after the release at ${end}`);
  return chart === undefined ? out : { ...out, chart };
}
