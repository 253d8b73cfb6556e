/**
 * The webhook's HTTP app, built without listening: routes only translate between HTTP and the engine.
 * POST /validate, GET /healthz, GET /readyz, GET /metrics; anything else is 404 or 405, and every
 * error is a one-line metav1.Status, never a stack trace.
 */
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Config } from '../config/types.js';
import type { EvaluateOptions } from '../engine/evaluate.js';
import {
  admissionResponse,
  failureStatus,
  MalformedReviewError,
  parseAdmissionReview,
  type AdmissionRequest,
} from './admission.js';
import { errorForLog, logDecision, silentLogger, type Logger } from './log.js';
import { createMetrics, recordReview, type Metrics } from './metrics.js';
import { reviewRequest } from './review.js';

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
  evaluateOptions?: () => EvaluateOptions;
}

/**
 * Fits the largest legal object: a CREATE of a 1 MiB Secret arrives as about 1.4 MB and an UPDATE,
 * which carries oldObject too, as about twice that.
 */
export const BODY_LIMIT = '6mb';

const HTTP_ERRORS: Readonly<Record<string, { code: number; reason: string; message: string }>> = {
  'entity.parse.failed': { code: 400, reason: 'BadRequest', message: 'the body is not valid JSON' },
  'entity.too.large': {
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: `the body is larger than ${BODY_LIMIT}`,
  },
  'encoding.unsupported': {
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'Content-Encoding is not supported; send the body uncompressed',
  },
  'charset.unsupported': {
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'the body must be UTF-8 JSON',
  },
  'request.aborted': { code: 400, reason: 'BadRequest', message: 'the request was aborted' },
  'request.size.invalid': {
    code: 400,
    reason: 'BadRequest',
    message: 'the body does not match its Content-Length',
  },
};

function sendStatus(res: express.Response, code: number, reason: string, message: string): void {
  res.status(code).json(failureStatus(code, reason, message));
}

function hasBody(req: express.Request): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

function requireJson(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const problem = !hasBody(req)
      ? 'the request has no body; send an AdmissionReview'
      : req.is('application/json') !== 'application/json'
        ? 'Content-Type must be application/json'
        : undefined;
    if (problem === undefined) return next();
    metrics.invalidReviews.inc();
    sendStatus(res, 400, 'BadRequest', problem);
  };
}

function validate(deps: Required<AppDeps>): RequestHandler {
  return (req, res) => {
    const start = process.hrtime.bigint();
    let request: AdmissionRequest;
    try {
      request = parseAdmissionReview(req.body);
    } catch (err: unknown) {
      if (!(err instanceof MalformedReviewError)) throw err;
      deps.metrics.invalidReviews.inc();
      deps.logger.warn({ reason: err.message, remote: req.ip }, 'malformed admission review');
      sendStatus(res, 400, 'BadRequest', err.message);
      return;
    }
    const decision = reviewRequest(request, deps.config(), deps.evaluateOptions());
    res.status(200).json(admissionResponse(request.uid, decision));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    recordReview(deps.metrics, request, decision, seconds);
    logDecision(deps.logger, request, decision, seconds * 1000);
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

function errorHandler(logger: Logger, metrics: Metrics): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const type = typeof err === 'object' && err !== null && 'type' in err ? String(err.type) : '';
    const known = HTTP_ERRORS[type];
    if (known) {
      metrics.invalidReviews.inc();
      // Only our fixed text is logged: body-parser's own message can quote the body.
      logger.warn({ reason: known.message, remote: req.ip }, 'unusable request body');
      sendStatus(res, known.code, known.reason, known.message);
      return;
    }
    logger.error({ err: errorForLog(err), path: req.path }, 'internal error');
    if (res.headersSent) return;
    sendStatus(res, 500, 'InternalError', 'internal error; see the gloo-guard logs');
  };
}

/** Builds the webhook's express app, ready for `https.createServer(..., app)` or supertest. */
export function createApp(deps: AppDeps): Express {
  const d: Required<AppDeps> = {
    config: deps.config,
    logger: deps.logger ?? silentLogger(),
    metrics: deps.metrics ?? createMetrics(),
    readiness: deps.readiness ?? (() => ({ ready: true, reasons: [] })),
    evaluateOptions: deps.evaluateOptions ?? (() => ({})),
  };
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  // Exactly the four paths: not /VALIDATE or /validate/ (express matches both by default).
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  const json = express.json({ limit: BODY_LIMIT, inflate: false, strict: true });
  app.post('/validate', requireJson(d.metrics), json, validate(d));
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
  app.use(errorHandler(d.logger, d.metrics));
  return app;
}
