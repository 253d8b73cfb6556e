/**
 * The webhook's HTTP app, built without listening: routes only translate between HTTP and the engine.
 * POST /validate, GET /healthz, GET /readyz, GET /metrics; anything else is 404 or 405, and every
 * error is a one-line metav1.Status, never a stack trace.
 */
import type { DataReader } from '../engine/carriers/context.js';
import { admissionCarrierContext, valuesFromCarrier } from './carrier-lookup.js';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Config } from '../config/types.js';
import type { JudgeOptions } from '../engine/evaluate.js';
import { admissionResponseText, failureStatus, type AdmissionRequest } from './admission.js';
import { checkBodyHeaders, HttpProblem, readBody, readBodyThen } from './body.js';
import { InFlight } from './lifecycle.js';
import { errorForLog, logDecision, silentLogger, type Logger } from './log.js';
import { createMetrics, recordReview, type Metrics } from './metrics.js';
import { Offload, OffloadError, OFFLOAD_MIN_BYTES } from './offload.js';
import { parseBody, prepareBody, prepareRequest, type BodyOutcome } from './prepare.js';
import { finishReview } from './review.js';

/** Whether the server should receive reviews, and if not, why. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

/** What the app needs; everything but the config has a default, so a test can pass only that. */
export interface AppDeps {
  /** The config in force now (it may be reloaded between requests). */
  config: () => Config;
  logger?: Logger;
  metrics?: Metrics;
  readiness?: () => Readiness;
  /** Extra engine inputs, e.g. a cluster view once caches are synced. */
  evaluateOptions?: () => JudgeOptions;
  /** Where large bodies are read; one is made (and its worker started on first use) when absent. */
  offload?: Offload;
  /** Reads the ConfigMaps and Secrets of a HelmRelease's valuesFrom; absent without cluster access. */
  readData?: () => DataReader | undefined;
  /** The reviews in flight, counted here, and whether the server is stopping (then answers close the connection). */
  inFlight?: InFlight;
}

function sendStatus(res: express.Response, code: number, reason: string, message: string): void {
  res.status(code).json(failureStatus(code, reason, message));
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers a review: JSON text in one piece (headers and body leave in one TLS record when they fit).
 * Every review is answered here, once, so this is where it stops being in flight.
 */
function sendText(d: AppParts, res: ServerResponse, code: number, text: string, close = false): void {
  d.inFlight.reviews -= 1;
  const length = Buffer.byteLength(text);
  if (close || d.inFlight.closing)
    res.writeHead(code, ['content-type', JSON_TYPE, 'content-length', length, 'connection', 'close']);
  else res.writeHead(code, ['content-type', JSON_TYPE, 'content-length', length]);
  res.end(text);
}

/** Answers a review with a JSON value. */
function sendJson(d: AppParts, res: ServerResponse, code: number, body: unknown, close = false): void {
  sendText(d, res, code, JSON.stringify(body), close);
}

function remoteOf(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress;
}

/** A refused body: counted, logged with our own fixed text only (never the body), answered as a Status. */
function refuseBody(d: AppParts, req: IncomingMessage, res: ServerResponse, p: HttpProblem): void {
  d.metrics.invalidReviews.inc();
  d.logger.warn({ reason: p.message, remote: remoteOf(req) }, 'unusable request body');
  // A body left unread (too large, refused from its headers) must not be taken for the next request.
  sendJson(d, res, p.code, failureStatus(p.code, p.reason, p.message), !req.complete);
}

function malformed(d: AppParts, req: IncomingMessage, res: ServerResponse, reason: string): void {
  d.metrics.invalidReviews.inc();
  d.logger.warn({ reason, remote: remoteOf(req) }, 'malformed admission review');
  sendJson(d, res, 400, failureStatus(400, 'BadRequest', reason));
}

/** Prepares a body in the worker, counted in the metrics. */
async function inWorker(d: Required<AppDeps>, body: Buffer): Promise<BodyOutcome> {
  const outcome = await d.offload.prepare(body, d.config()).catch((err: unknown) => {
    d.metrics.offloaded.inc({ result: 'failed' });
    throw err;
  });
  d.metrics.offloaded.inc({ result: 'done' });
  return outcome;
}

/** What the handlers use: the deps with their defaults, and what is built once per app. */
interface AppParts extends Required<AppDeps> {
  /** Logs a policy that threw: the user sees which policy failed, the log the error (type and frames, never its text). */
  onPolicyError: NonNullable<JudgeOptions['onPolicyError']>;
}

function answer(d: AppParts, res: ServerResponse, outcome: BodyOutcome, start: bigint): void {
  if (outcome.type !== 'prepared') throw new OffloadError(`the worker failed (${outcome.type})`);
  const { request, prepared } = outcome;
  const decision = finishReview(prepared, d.config(), {
    ...d.evaluateOptions(),
    onPolicyError: d.onPolicyError,
  });
  sendText(d, res, 200, admissionResponseText(request.uid, decision));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  recordReview(d.metrics, request, decision, seconds);
  logDecision(d.logger, request, decision, seconds * 1000);
}

function internalError(d: AppParts, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  d.logger.error({ err: errorForLog(err), path: '/validate' }, 'internal error');
  if (res.headersSent) return;
  sendJson(
    d,
    res,
    500,
    failureStatus(500, 'InternalError', 'internal error; see the gloo-guard logs'),
    !req.complete,
  );
}

/** A failure before an outcome: a refused body (an HttpProblem) or an error of ours (500). */
function failed(d: AppParts, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (err instanceof HttpProblem) refuseBody(d, req, res, err);
  else internalError(d, req, res, err);
}

/** Answers whatever reading the body gave; never throws (an error of ours is a 500). */
function finish(
  d: AppParts,
  req: IncomingMessage,
  res: ServerResponse,
  outcome: BodyOutcome,
  start: bigint,
): void {
  try {
    if (outcome.type === 'malformed') malformed(d, req, res, outcome.reason);
    else if (outcome.type === 'problem')
      refuseBody(d, req, res, new HttpProblem(outcome.code, outcome.reason, outcome.message));
    else answer(d, res, outcome, start);
  } catch (err: unknown) {
    failed(d, req, res, err);
  }
}

function answerWhenReady(
  d: AppParts,
  req: IncomingMessage,
  res: ServerResponse,
  start: bigint,
  outcome: Promise<BodyOutcome>,
): void {
  outcome.then(
    (o) => finish(d, req, res, o, start),
    (err: unknown) => failed(d, req, res, err),
  );
}

/** A release that is not small, or does not read cleanly: decoded in the worker, a few at a time. */
async function decodeInWorker(d: AppParts, body: Buffer): Promise<BodyOutcome> {
  const done = await d.offload.admit();
  try {
    return await inWorker(d, body);
  } finally {
    done();
  }
}

/** A HelmRelease whose valuesFrom are read before the synchronous judging (HelmReleases are small). */
async function withValuesFrom(
  d: AppParts,
  request: AdmissionRequest,
  hr: Record<string, unknown>,
  body: Buffer,
): Promise<BodyOutcome> {
  const ctx = await admissionCarrierContext(hr, d.readData());
  const outcome = prepareRequest(request, d.config(), d.offload.usesWorker, ctx);
  return outcome.type === 'deferred' ? decodeInWorker(d, body) : outcome;
}

/**
 * A small body (the API server's reviews, small releases included) is parsed, judged and answered
 * right here, in the 'end' event, with no promise in between; it waits only when it must: for a
 * HelmRelease's valuesFrom, or for a release too large to inflate here to be decoded in the worker.
 */
function smallBody(
  d: AppParts,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  start: bigint,
): void {
  try {
    const parsed = parseBody(body);
    if (parsed.type !== 'parsed') return finish(d, req, res, parsed, start);
    const hr = valuesFromCarrier(parsed.request.object);
    if (hr !== undefined)
      return answerWhenReady(d, req, res, start, withValuesFrom(d, parsed.request, hr, body));
    const outcome = prepareRequest(parsed.request, d.config(), d.offload.usesWorker);
    if (outcome.type !== 'deferred') return finish(d, req, res, outcome, start);
    answerWhenReady(d, req, res, start, decodeInWorker(d, body));
  } catch (err: unknown) {
    // Called from the request's 'end' event: nothing may escape to the emitter.
    failed(d, req, res, err);
  }
}

/** A large body (or one without a Content-Length): read only when its turn comes, then prepared in the worker. */
async function largeBody(d: AppParts, req: IncomingMessage): Promise<BodyOutcome> {
  const done = await d.offload.admit();
  try {
    const body = await readBody(req);
    if (body.length <= OFFLOAD_MIN_BYTES || !d.offload.usesWorker) return prepareBody(body, d.config());
    return await inWorker(d, body);
  } finally {
    done();
  }
}

/**
 * POST /validate on Node's own request and response: the hot path has no framework on it. The body
 * is checked from its headers, read, parsed and prepared, then judged by the one engine.
 */
function validate(d: AppParts): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const start = process.hrtime.bigint();
    d.inFlight.reviews += 1;
    let length: number | undefined;
    try {
      length = checkBodyHeaders(req);
    } catch (err: unknown) {
      failed(d, req, res, err);
      return;
    }
    if (length !== undefined && length <= OFFLOAD_MIN_BYTES)
      readBodyThen(
        req,
        (body) => smallBody(d, req, res, body, start),
        (problem) => refuseBody(d, req, res, problem),
      );
    else answerWhenReady(d, req, res, start, largeBody(d, req));
  };
}

function methodNotAllowed(allowed: string): RequestHandler {
  return (_req, res) => {
    res.setHeader('Allow', allowed);
    sendStatus(res, 405, 'MethodNotAllowed', `method not allowed; use ${allowed}`);
  };
}

function readyz(readiness: () => Readiness): RequestHandler {
  return (_req, res) => {
    const r = readiness();
    if (r.ready) res.type('text/plain').send('ok\n');
    else sendStatus(res, 503, 'ServiceUnavailable', `not ready: ${r.reasons.join('; ')}`);
  };
}

function metricsRoute(metrics: Metrics): RequestHandler {
  return (_req, res, next) => {
    metrics.registry.metrics().then((text) => {
      res.type(metrics.registry.contentType).send(text);
    }, next);
  };
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    logger.error({ err: errorForLog(err), path: req.path }, 'internal error');
    if (res.headersSent) return;
    sendStatus(res, 500, 'InternalError', 'internal error; see the gloo-guard logs');
  };
}

/** The path of a request URL, without the query the API server adds (`/validate?timeout=10s`). */
function pathOf(url: string | undefined): string {
  const q = (url ?? '').indexOf('?');
  return q < 0 ? (url ?? '') : (url ?? '').slice(0, q);
}

/** Builds the webhook's request handler, ready for `https.createServer(..., app)` or supertest. */
export function createApp(deps: AppDeps): RequestListener {
  const logger = deps.logger ?? silentLogger();
  const d: AppParts = {
    config: deps.config,
    logger,
    metrics: deps.metrics ?? createMetrics(),
    readiness: deps.readiness ?? (() => ({ ready: true, reasons: [] })),
    evaluateOptions: deps.evaluateOptions ?? (() => ({})),
    offload: deps.offload ?? new Offload(),
    readData: deps.readData ?? (() => undefined),
    inFlight: deps.inFlight ?? new InFlight(),
    onPolicyError: (policy, object, err) =>
      logger.error({ policy, subject: object, err: errorForLog(err) }, 'a policy failed to run'),
  };
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  // Exactly the four paths: not /VALIDATE or /validate/ (express matches both by default).
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  app.all('/validate', methodNotAllowed('POST'));
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.all('/healthz', methodNotAllowed('GET'));
  app.get('/readyz', readyz(d.readiness));
  app.all('/readyz', methodNotAllowed('GET'));
  app.get('/metrics', metricsRoute(d.metrics));
  app.all('/metrics', methodNotAllowed('GET'));
  app.use((_req, res) => {
    sendStatus(res, 404, 'NotFound', 'not found; the webhook serves POST /validate');
  });
  app.use(errorHandler(d.logger));
  const review = validate(d);
  return (req, res) => {
    if (d.inFlight.closing) res.setHeader('Connection', 'close');
    if (req.method === 'POST' && pathOf(req.url) === '/validate') review(req, res);
    else app(req, res);
  };
}
