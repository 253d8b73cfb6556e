/**
 * Reads a JSON request body with Node's own streams: a byte limit, no inflation, UTF-8 only. Every
 * failure is an HttpProblem with a fixed one-line message that never quotes the body.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Fits the largest legal object: a CREATE of a 1 MiB Secret arrives as about 1.4 MB and an UPDATE,
 * which carries oldObject too, as about twice that.
 */
export const BODY_LIMIT_BYTES = 6 * 1024 * 1024;
/** The limit as messages name it. */
export const BODY_LIMIT = '6mb';

/** An HTTP answer other than 200, as a metav1.Status gives it. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export const NOT_JSON = new HttpProblem(400, 'BadRequest', 'the body is not valid JSON');
const TOO_LARGE = new HttpProblem(413, 'RequestEntityTooLarge', `the body is larger than ${BODY_LIMIT}`);
const ENCODED = new HttpProblem(
  415,
  'UnsupportedMediaType',
  'Content-Encoding is not supported; send the body uncompressed',
);
const NOT_UTF8 = new HttpProblem(415, 'UnsupportedMediaType', 'the body must be UTF-8 JSON');
const NO_BODY = new HttpProblem(400, 'BadRequest', 'the request has no body; send an AdmissionReview');
const NOT_JSON_TYPE = new HttpProblem(400, 'BadRequest', 'Content-Type must be application/json');
const ABORTED = new HttpProblem(400, 'BadRequest', 'the request was aborted');
const SIZE_MISMATCH = new HttpProblem(400, 'BadRequest', 'the body does not match its Content-Length');
/** Bodies from this size on are read into one buffer; smaller ones usually arrive in one chunk anyway. */
const PREALLOCATE_FROM = 64 * 1024;

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/** The declared body length, or undefined when the body is chunked. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const length = req.headers['content-length'];
  return length === undefined ? undefined : Number(length);
}

function checkMediaType(req: IncomingMessage): void {
  const [type = '', ...params] = (req.headers['content-type'] ?? '').split(';').map((p) => p.trim());
  if (type.toLowerCase() !== 'application/json') throw NOT_JSON_TYPE;
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') throw ENCODED;
  const charset = params.find((p) => /^charset=/i.test(p))?.slice('charset='.length);
  if (charset !== undefined && !/^"?utf-8"?$/i.test(charset)) throw NOT_UTF8;
}

/**
 * Checks the headers before anything is read: a body, JSON, UTF-8, not compressed, not too large.
 * Gives the declared length (undefined for a chunked body).
 */
export function checkBodyHeaders(req: IncomingMessage): number | undefined {
  if (!hasBody(req)) throw NO_BODY;
  // What the API server sends needs no splitting or matching.
  if (req.headers['content-type'] !== 'application/json' || req.headers['content-encoding'] !== undefined)
    checkMediaType(req);
  const length = declaredLength(req);
  if ((length ?? 0) > BODY_LIMIT_BYTES) throw TOO_LARGE;
  return length;
}

/**
 * Reads the whole body, refusing it once it passes the limit, and hands it to `onBody` (or the problem
 * to `onProblem`, exactly one of them once). With a Content-Length (the API server always sends one)
 * the bytes land in one buffer of that size as they arrive, instead of in chunks that are copied again
 * at the end: a 1.3 MB review is held once, not twice. Callbacks, not a promise: a small review is
 * read and answered without a turn of the microtask queue.
 */
export function readBodyThen(
  req: IncomingMessage,
  onBody: (body: Buffer) => void,
  onProblem: (problem: HttpProblem) => void,
): void {
  // A request may have waited for its turn (large bodies are read a few at a time) and been
  // abandoned meanwhile: its 'aborted' and 'close' are gone, and waiting for them would hold the turn.
  if (req.destroyed) {
    onProblem(ABORTED);
    return;
  }
  const declared = declaredLength(req);
  const into =
    declared !== undefined && declared >= PREALLOCATE_FROM ? Buffer.allocUnsafeSlow(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  // Every way out removes the listeners first, so no event can call back a second time.
  const onData = (chunk: Buffer): void => {
    if (size + chunk.length > (into?.length ?? BODY_LIMIT_BYTES)) {
      cleanup();
      chunks.length = 0;
      onProblem(into ? SIZE_MISMATCH : TOO_LARGE);
      return;
    }
    if (into) chunk.copy(into, size);
    else chunks.push(chunk);
    size += chunk.length;
  };
  const onEnd = (): void => {
    cleanup();
    if (into && size !== into.length) onProblem(SIZE_MISMATCH);
    else if (into) onBody(into);
    else onBody(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
  };
  const onAbort = (): void => {
    cleanup();
    onProblem(ABORTED);
  };
  // 'close' before 'end': the connection went away mid-body.
  const onClose = (): void => {
    if (!req.complete) onAbort();
  };
  const cleanup = (): void => {
    req
      .off('data', onData)
      .off('end', onEnd)
      .off('error', onAbort)
      .off('aborted', onAbort)
      .off('close', onClose);
  };
  req.on('data', onData).on('end', onEnd).on('error', onAbort).on('aborted', onAbort).on('close', onClose);
}

/** readBodyThen as a promise, for callers that wait for other things too. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => readBodyThen(req, resolve, reject));
}

/** Parses a body as JSON the way a strict JSON body parser does: an object or array, nothing else. */
export function parseJsonBody(body: Buffer): unknown {
  let i = 0;
  while (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09) i++;
  if (body[i] !== 0x7b && body[i] !== 0x5b) throw NOT_JSON;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw NOT_JSON;
  }
}
