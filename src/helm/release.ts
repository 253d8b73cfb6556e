/** Decodes and encodes Helm release Secrets exactly as Helm's storage driver does. */
import { createGunzip, gunzipSync, gzipSync, constants as zc } from 'node:zlib';
import {
  GO_MAX_DEPTH,
  isSpace,
  openBrackets,
  readReleaseFields,
  ReleaseJsonError,
  ReleaseNotObjectError,
  ReleaseTypeError,
  type GoDependency,
  type ReleaseFields,
} from './release-json.js';

/** The Secret type Helm 3 and 4 give release Secrets. */
export const RELEASE_SECRET_TYPE = 'helm.sh/release.v1';

/** The fields of a Helm release that gloo-guard reads. */
export interface HelmRelease {
  name: string;
  namespace: string;
  version: number;
  info: { status: string };
  chart: {
    /** `dependencies` as Helm decodes them from Chart.yaml, when there are any: umbrella charts are judged through them. */
    metadata: { name: string; version: string; appVersion?: string; dependencies?: GoDependency[] };
    values: Record<string, unknown>;
  };
  config: Record<string, unknown>;
}

/** A release that cannot be decoded: the message says which step failed and why. */
export class ReleaseDecodeError extends Error {
  override name = 'ReleaseDecodeError';
}

const GZIP_MAGIC = [0x1f, 0x8b, 0x08];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Go's base64 decoder skips carriage returns and newlines, and nothing else. */
const GO_BASE64_SKIPS = /[\r\n]+/g;

/** The length base64 text without whitespace decodes to. */
function decodedLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/**
 * Strict base64 as Go's base64.StdEncoding reads it (standard alphabet, padded; newlines between
 * are skipped). Node's decoder skips characters it does not know and stops at padding, so when the
 * decoded length is exactly what the text's length promises, every character was valid: a megabyte
 * is checked without a regex over it. Anything else takes the careful path, which names the problem.
 */
function strictBase64(text: string, what: string): Buffer {
  if (text.length % 4 === 0 && !text.includes('-') && !text.includes('_')) {
    const fast = Buffer.from(text, 'base64');
    if (fast.length === decodedLength(text)) return fast;
  }
  const clean = text.replace(GO_BASE64_SKIPS, '');
  if (clean.length % 4 !== 0 || !BASE64.test(clean)) {
    throw new ReleaseDecodeError(`${what} is not valid base64`);
  }
  return Buffer.from(clean, 'base64');
}

function hasGzipMagic(b: Buffer): boolean {
  return b.length > 3 && GZIP_MAGIC.every((byte, i) => b[i] === byte);
}

function tooLarge(maxBytes: number): ReleaseDecodeError {
  return new ReleaseDecodeError(
    `release expands past the limit of ${maxBytes} bytes (limits.maxReleaseBytes); refusing to decompress further`,
  );
}

/** Deflate never expands data more than about 1032 times; a larger claim is not a real trailer. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * A gzip stream ends with the size of its last member modulo 2^32, and the whole stream is at least
 * that large. A plausible declared size past the limit is refused before anything is inflated, so an
 * honest bomb costs nothing; a forged trailer only gets as far as the limit below.
 */
function declaresTooMuch(gz: Buffer, maxBytes: number): boolean {
  return gz.length >= 18 && implausiblyLarge(gz.readUInt32LE(gz.length - 4), gz.length, maxBytes);
}

function implausiblyLarge(declared: number, gzipLength: number, maxBytes: number): boolean {
  return declared > maxBytes && declared <= gzipLength * MAX_DEFLATE_RATIO;
}

/**
 * The same check on Helm's base64 text, before it is decoded: only its first and last 8 characters
 * are read. A bomb is then refused without the megabyte-sized string and buffer decoding would make.
 */
function helmTextDeclaresTooMuch(helmBase64: Buffer, maxBytes: number): boolean {
  const n = helmBase64.length;
  if (n < 24 || n % 4 !== 0) return false;
  const head = Buffer.from(helmBase64.subarray(0, 8).toString('latin1'), 'base64');
  const tail = Buffer.from(helmBase64.subarray(n - 8).toString('latin1'), 'base64');
  if (!hasGzipMagic(head) || tail.length < 4) return false;
  const padding = helmBase64[n - 2] === 0x3d ? 2 : helmBase64[n - 1] === 0x3d ? 1 : 0;
  return implausiblyLarge(tail.readUInt32LE(tail.length - 4), (n / 4) * 3 - padding, maxBytes);
}

/**
 * A release whose gzip is at most this long is inflated by zlib in one call after a 1 KiB probe: it
 * cannot inflate past about 16.5 MiB (deflate expands at most ~1032 times). Node's zlib has no
 * synchronous step-by-step inflate (gunzipSync closes its stream), but a prefix inflates with
 * Z_SYNC_FLUSH to a prefix of the output.
 */
const SMALL_GZIP = 16 * 1024;
const PROBE_PREFIX = 1024;

/**
 * Larger ones are inflated a piece of at most this much output at a time, each piece watched before
 * the next is made, so that a bomb anywhere in the release is refused as soon as its text proves
 * unreadable, and the inflated bytes never pass the limit.
 */
const STEP_OUTPUT = 1024 * 1024;

/** Skips what needs no look outside a string, and inside one. */
const OUTSIDE_RUN = /[^"{}[\]]*/y;
const INSIDE_RUN = /[^"\\]*/y;

/**
 * Follows the nesting of JSON text piece by piece, telling brackets in strings apart, and throws
 * as soon as it passes Go's 10,000 levels. Exact on valid JSON; the full check runs afterwards.
 */
class NestingScan {
  private depth = 0;
  private inString = false;
  private escaped = false;

  scan(piece: Buffer): void {
    const text = piece.toString('latin1');
    for (let i = 0; i < text.length;) {
      if (this.escaped) {
        this.escaped = false;
        i++;
        continue;
      }
      const run = this.inString ? INSIDE_RUN : OUTSIDE_RUN;
      run.lastIndex = i;
      run.test(text);
      i = run.lastIndex;
      if (i < text.length) this.structural(text.charCodeAt(i++));
    }
  }

  private structural(c: number): void {
    if (this.inString) {
      if (c === 0x5c) this.escaped = true;
      else this.inString = false;
    } else if (c === 0x22) this.inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++this.depth > GO_MAX_DEPTH) throw notJson(`nested more than ${GO_MAX_DEPTH} levels deep`);
    } else if (this.depth > 0) this.depth--;
  }
}

/**
 * What a release's JSON may not do, checked on each inflated piece as it comes, so that a bomb is
 * refused before the rest is inflated: start with anything but an object, or nest past Go's 10,000
 * levels. Nesting that deep takes more than 10,000 opening brackets, so until there are that many
 * they are only counted (natively); from then on the exact scan reads every piece from the first.
 * A real release has a few thousand brackets, and the scan cost as much as inflating it.
 */
class StructureWatch {
  private started = false;
  private brackets = 0;
  /** The pieces so far, kept (as views: they are never written again) until the exact scan may need them. */
  private readonly counted: Buffer[] = [];
  private exact: NestingScan | undefined;
  /** Bytes in the pieces before this one. */
  private before = 0;

  /** Throws ReleaseDecodeError as soon as the JSON so far cannot be a release Helm reads. */
  inspect(piece: Buffer): void {
    if (!this.started) this.start(piece);
    if (this.exact) this.exact.scan(piece);
    else {
      this.counted.push(piece);
      this.brackets += openBrackets(piece, GO_MAX_DEPTH - this.brackets);
      if (this.brackets > GO_MAX_DEPTH) {
        const exact = (this.exact = new NestingScan());
        for (const p of this.counted.splice(0)) exact.scan(p);
      }
    }
    this.before += piece.length;
  }

  /** The first byte that is not white space must open an object. */
  private start(piece: Buffer): void {
    let i = 0;
    while (i < piece.length && isSpace(piece[i])) i++;
    if (i === piece.length) return;
    this.started = true;
    const c = String.fromCharCode(piece[i] ?? 0);
    if (c === '{') return;
    if (/[[\]"tfn0-9-]/.test(c)) throw new ReleaseDecodeError('release JSON is not an object');
    throw notJson(`an unexpected character at byte ${this.before + i}`);
  }
}

function notJson(why: string): ReleaseDecodeError {
  return new ReleaseDecodeError(`release is not valid JSON after gunzip (${why})`);
}

function gunzipError(err: unknown, maxBytes: number): ReleaseDecodeError {
  if (err instanceof ReleaseDecodeError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) return tooLarge(maxBytes);
  return new ReleaseDecodeError(`release is not valid gzip (${code ?? 'corrupt data'})`);
}

/** The native zlib handle under a Gunzip stream: what `gunzipSync` drives (zlib.js processChunkSync). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void;
  onerror: (message: string, errno: number, code: string) => void;
}

/**
 * The size of the first output buffer: what the gzip trailer declares, plus one byte so that a
 * stream that fills it is seen to end, when that is believable; else one step. A trailer that lies
 * costs only more pieces (and one copy at the end), never more than the limit allows.
 */
function firstOutputSize(gz: Buffer, maxBytes: number): number {
  const declared = gz.readUInt32LE(gz.length - 4);
  return declared > 0 && declared <= maxBytes && declared <= gz.length * MAX_DEFLATE_RATIO
    ? declared + 1
    : STEP_OUTPUT;
}

/**
 * Inflates `gz` a piece at a time, as `gunzipSync` does inside (the same native calls, so the same
 * reading of members, trailers and junk), but handing each piece to `onPiece` before making the
 * next. Node has no public synchronous step-by-step inflate (gunzipSync closes its stream after one
 * call); this drives the stream's own handle, and returns undefined when this Node has none to drive.
 * Pieces are written in place into a buffer of the declared size, so an honest release is inflated
 * with no copy; each piece handed out is a view that is never written again.
 */
function inflateInPieces(
  gz: Buffer,
  firstSize: number,
  onPiece: (piece: Buffer) => void,
): Buffer | undefined {
  const engine = createGunzip() as unknown as { _handle?: ZlibHandle; _writeState?: unknown; close(): void };
  const handle = engine._handle;
  const state = engine._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array)) return undefined;
  let failed: { message: string; code: string } | undefined;
  // Replaces the stream's handler, which would destroy the stream and emit 'error' on a later tick.
  handle.onerror = (message, _errno, code) => {
    failed = { message, code };
  };
  const full: Buffer[] = [];
  let out = Buffer.allocUnsafe(firstSize);
  let used = 0;
  try {
    for (let inOff = 0; ;) {
      if (used === out.length) {
        full.push(out);
        out = Buffer.allocUnsafe(STEP_OUTPUT);
        used = 0;
      }
      const room = Math.min(STEP_OUTPUT, out.length - used);
      handle.writeSync(zc.Z_FINISH, gz, inOff, gz.length - inOff, out, used, room);
      if (failed) throw Object.assign(new Error(failed.message), { code: failed.code });
      const [availOut = 0, availIn = 0] = state;
      if (availOut < room) onPiece(out.subarray(used, used + room - availOut));
      used += room - availOut;
      inOff = gz.length - availIn;
      if (availOut !== 0) return full.length === 0 ? out.subarray(0, used) : concatUsed(full, out, used);
    }
  } finally {
    engine.close();
  }
}

/** The full buffers, then the used part of the last one, as one buffer. */
function concatUsed(full: Buffer[], last: Buffer, used: number): Buffer {
  return Buffer.concat([...full, last.subarray(0, used)]);
}

/** Inflates all of `gz` a piece at a time, watching every piece and the total, or undefined when it cannot step. */
function inflateWatched(gz: Buffer, maxBytes: number): Buffer | undefined {
  const watch = new StructureWatch();
  let total = 0;
  return inflateInPieces(gz, firstOutputSize(gz, maxBytes), (piece) => {
    total += piece.length;
    if (total > maxBytes) throw tooLarge(maxBytes);
    watch.inspect(piece);
  });
}

/**
 * Inflates a release with a byte cap, watching its structure first, so that a bomb is refused
 * after inflating a little of it rather than all of it and then checking.
 */
function gunzipBounded(gz: Buffer, maxBytes: number): Buffer {
  if (declaresTooMuch(gz, maxBytes)) throw tooLarge(maxBytes);
  try {
    if (gz.length > SMALL_GZIP) {
      const whole = inflateWatched(gz, maxBytes);
      if (whole !== undefined) return whole;
    } else if (gz.length > PROBE_PREFIX) {
      const prefix = gunzipSync(gz.subarray(0, PROBE_PREFIX), { finishFlush: zc.Z_SYNC_FLUSH });
      new StructureWatch().inspect(prefix);
    }
    return gunzipSync(gz, { maxOutputLength: maxBytes });
  } catch (err: unknown) {
    throw gunzipError(err, maxBytes);
  }
}

/**
 * Turns the payload Helm stored (base64 of gzip of JSON; plain JSON for old releases) into bytes
 * of JSON, never expanding past `maxBytes`.
 */
export function releaseJsonBytes(helmBase64: string, maxBytes: number): Buffer {
  const raw = strictBase64(helmBase64, 'release payload');
  if (!hasGzipMagic(raw)) {
    if (raw.length > maxBytes)
      throw new ReleaseDecodeError(`release is larger than the limit of ${maxBytes} bytes`);
    return raw;
  }
  return gunzipBounded(raw, maxBytes);
}

/** True when `value` nests objects or arrays more than `max` levels deep; iterative, so any depth is safe. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Turns what Helm's structs hold into what gloo-guard judges; a release without a chart name is unreadable. */
export function toHelmRelease(fields: ReleaseFields): HelmRelease {
  const md = fields.chart?.metadata;
  if (!fields.chart || !md || md.name === '')
    throw new ReleaseDecodeError('release has no chart.metadata.name');
  const values = fields.chart.values ?? {};
  const config = fields.config ?? {};
  // A nil entry in the dependency list is skipped by Helm's dependency processing too.
  const dependencies = (md.dependencies ?? []).filter((d): d is GoDependency => d !== null);
  return {
    name: fields.name,
    namespace: fields.namespace,
    version: fields.version,
    info: { status: fields.info?.status ?? '' },
    chart: {
      metadata: {
        name: md.name,
        version: md.version,
        appVersion: md.appVersion,
        ...(dependencies.length > 0 ? { dependencies } : {}),
      },
      values,
    },
    config,
  };
}

/**
 * Reads `data.release` of a release Secret as it arrives from the API (base64 of Helm's base64) into
 * the fields Helm's structs hold, exactly as Helm 3 and 4 read them; throws where Helm cannot.
 */
export function readReleaseSecretFields(dataRelease: string, maxBytes: number): ReleaseFields {
  return readHelmText(strictBase64(dataRelease, 'data.release'), maxBytes);
}

/** Reads Helm's base64 text (gzip or plain JSON inside) into the fields Helm's structs hold. */
function readHelmText(helmText: Buffer, maxBytes: number): ReleaseFields {
  if (helmTextDeclaresTooMuch(helmText, maxBytes)) throw tooLarge(maxBytes);
  const json = releaseJsonBytes(helmText.toString('latin1'), maxBytes);
  try {
    return readReleaseFields(json);
  } catch (err: unknown) {
    if (err instanceof ReleaseNotObjectError) throw new ReleaseDecodeError('release JSON is not an object');
    if (err instanceof ReleaseTypeError)
      throw new ReleaseDecodeError(`release cannot be read as Helm reads it: ${err.message}`);
    if (!(err instanceof ReleaseJsonError)) throw err;
    // "H4sI" is the base64 of gzip's magic bytes: say gunzip only when there was gzip.
    const gzipped = helmText.subarray(0, 4).toString('latin1') === 'H4sI';
    throw new ReleaseDecodeError(
      gzipped
        ? `release is not valid JSON after gunzip (${err.message})`
        : `release is neither gzip nor valid JSON (not valid JSON: ${err.message})`,
    );
  }
}

/** Decodes `data.release` of a release Secret as it arrives from the API (base64 of Helm's base64). */
export function decodeReleaseSecretData(dataRelease: string, maxBytes: number): HelmRelease {
  return toHelmRelease(readReleaseSecretFields(dataRelease, maxBytes));
}

/**
 * Decodes `data.release` of a release ConfigMap (HELM_DRIVER=configmap): Helm's base64 text as is,
 * since ConfigMap data is not base64-encoded again by the API.
 */
export function decodeReleaseConfigMapData(dataRelease: string, maxBytes: number): HelmRelease {
  return toHelmRelease(readReleaseConfigMapFields(dataRelease, maxBytes));
}

/** Reads `data.release` of a release ConfigMap into the fields Helm's structs hold; throws where Helm cannot. */
export function readReleaseConfigMapFields(dataRelease: string, maxBytes: number): ReleaseFields {
  return readHelmText(Buffer.from(dataRelease, 'latin1'), maxBytes);
}

/** Encodes a release object the way Helm does: JSON, gzip (best compression), base64. */
export function encodeReleasePayload(release: unknown): string {
  const gz = gzipSync(Buffer.from(JSON.stringify(release)), { level: zc.Z_BEST_COMPRESSION });
  return gz.toString('base64');
}

/** Builds the Secret Helm would create for a release (as the API shows it: data base64-encoded). */
export function releaseSecret(release: {
  name: string;
  namespace: string;
  version: number;
  info: { status: string };
}): Record<string, unknown> & { data: { release: string } } {
  const payload = encodeReleasePayload(release);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: RELEASE_SECRET_TYPE,
    metadata: {
      name: `sh.helm.release.v1.${release.name}.v${release.version}`,
      namespace: release.namespace,
      labels: {
        name: release.name,
        owner: 'helm',
        status: release.info.status,
        version: String(release.version),
      },
    },
    data: { release: Buffer.from(payload).toString('base64') },
  };
}
