/**
 * Prototypes of the serving changes proposed in docs/performance.md, built from gloo-guard's own
 * modules so their gain can be measured before src/server changes (bench code only):
 *   --variant express-async-log   createApp() as it is, with pino writing asynchronously
 *   --variant raw                 POST /validate answered by a plain https handler (no express, no
 *                                 body-parser), same engine, same logs (async) and metrics
 *   --variant raw-worker          raw, and releases decoded in a worker thread, one at a time
 *   --variant offload             raw; bodies over 64 KiB go whole to a worker (parse, decode, judge),
 *                                 and at most 4 of them are read or queued at once (the rest wait
 *                                 unread: TCP backpressure), which bounds memory
 *   --variant offload-fast-decode offload, and the worker decodes releases with prototype/release-decode.ts
 * Run: node --import tsx bench/prototype/fast-server.ts --variant V --port P --cert F --key F
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { releaseFromHelm } from '../../src/engine/subjects.js';
import type { HelmRelease } from '../../src/helm/release.js';
import {
  admissionResponse,
  parseAdmissionReview,
  type AdmissionRequest,
} from '../../src/server/admission.js';
import { createApp } from '../../src/server/app.js';
import { logDecision, type Logger } from '../../src/server/log.js';
import { createMetrics, recordReview } from '../../src/server/metrics.js';
import { decide, reviewRequest, type Decision } from '../../src/server/review.js';

const MAX_BODY = 6 * 1024 * 1024;
const config = defaultConfig();
const metrics = createMetrics();

function asyncLogger(): Logger {
  // The same fields and redaction as createLogger(), written by a buffered, asynchronous destination.
  return pino(
    {
      name: 'gloo-guard',
      level: 'info',
      formatters: { level: (label: string) => ({ level: label }) },
      redact: {
        paths: ['object', 'oldObject', 'data', 'stringData', '*.data', '*.stringData', 'body'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
}

function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code }),
  );
}

function readBody(req: IncomingMessage, res: ServerResponse, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) {
      fail(res, 413, 'the body is larger than 6mb');
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => then(Buffer.concat(chunks, size)));
}

type Decider = (request: AdmissionRequest) => Promise<Decision> | Decision;

/** Decodes releases in a worker (one at a time, in order), so the event loop keeps answering small reviews. */
function workerDecider(): Decider {
  // The worker is TypeScript too: register tsx in it before loading it.
  const file = new URL('./decode-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(file)}); });`;
  const worker = new Worker(boot, { eval: true });
  let next = 0;
  const waiting = new Map<number, (r: { release?: HelmRelease; error?: string }) => void>();
  worker.on('message', (m: { id: number; release?: HelmRelease; error?: string }) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return async (request) => {
    const obj = request.object as { kind?: string; type?: string; data?: { release?: string } } | undefined;
    if (request.operation !== 'CREATE' || obj?.kind !== 'Secret' || obj.type !== 'helm.sh/release.v1') {
      return reviewRequest(request, config);
    }
    const id = next++;
    const r = await new Promise<{ release?: HelmRelease; error?: string }>((resolve) => {
      waiting.set(id, resolve);
      worker.postMessage({ id, data: obj.data?.release ?? '', max: config.limits.maxReleaseBytes });
    });
    if (r.release === undefined)
      return {
        allowed: false,
        message: r.error ?? 'unreadable',
        warnings: [],
        auditAnnotations: {},
        findings: [],
        policyErrors: [],
      };
    const subject = releaseFromHelm(r.release, { location: 'admission' });
    if (subject === undefined)
      return { allowed: true, warnings: [], auditAnnotations: {}, findings: [], policyErrors: [] };
    return decide(evaluate(subject, config), config);
  };
}

function rawHandler(logger: Logger, decideFor: Decider): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== '/validate') return fail(res, 404, 'not found');
    readBody(req, res, (body) => {
      const start = process.hrtime.bigint();
      let request: AdmissionRequest;
      try {
        request = parseAdmissionReview(JSON.parse(body.toString('utf8')));
      } catch {
        return fail(res, 400, 'not an AdmissionReview');
      }
      void Promise.resolve(decideFor(request)).then((decision) => {
        const out = JSON.stringify(admissionResponse(request.uid, decision));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        recordReview(metrics, request, decision, seconds);
        logDecision(logger, request, decision, seconds * 1000);
      });
    });
  };
}

const LARGE_BODY = 64 * 1024;
const MAX_LARGE = 4;

/** Large reviews are judged whole in a worker; small ones inline. At most MAX_LARGE large bodies are held at once. */
function offloadHandler(
  logger: Logger,
  fastDecode: boolean,
): (req: IncomingMessage, res: ServerResponse) => void {
  const file = new URL('./review-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(file)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { fastDecode } });
  type Reply = {
    id: number;
    answer?: string;
    request?: AdmissionRequest;
    decision?: Decision;
    error?: string;
  };
  const waiting = new Map<number, (r: Reply) => void>();
  worker.on('message', (m: Reply) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  let next = 0;
  let held = 0;
  const queue: Array<() => void> = [];
  const release = (): void => {
    held -= 1;
    queue.shift()?.();
  };
  const inline = rawHandler(logger, (r) => reviewRequest(r, config));
  const large = (req: IncomingMessage, res: ServerResponse): void => {
    held += 1;
    req.resume();
    readBody(req, res, (body) => {
      const start = process.hrtime.bigint();
      const id = next++;
      waiting.set(id, (m) => {
        release();
        if (m.answer === undefined || m.request === undefined || m.decision === undefined) {
          return fail(res, 400, m.error ?? 'not an AdmissionReview');
        }
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(m.answer),
        });
        res.end(m.answer);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        recordReview(metrics, m.request, m.decision, seconds);
        logDecision(logger, m.request, m.decision, seconds * 1000);
      });
      const copy = new Uint8Array(body).buffer;
      worker.postMessage({ id, body: copy }, [copy]);
    });
  };
  return (req, res) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (req.method !== 'POST' || req.url !== '/validate' || length <= LARGE_BODY) return inline(req, res);
    req.pause();
    if (held < MAX_LARGE) large(req, res);
    else queue.push(() => large(req, res));
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'raw' },
      port: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
    },
  });
  const tls = {
    cert: readFileSync(values.cert ?? '', 'utf8'),
    key: readFileSync(values.key ?? '', 'utf8'),
    minVersion: 'TLSv1.2' as const,
  };
  const logger = asyncLogger();
  let server: Server;
  if (values.variant === 'express-async-log') {
    server = createServer(
      { ...tls, keepAliveTimeout: 120_000 },
      createApp({ config: () => config, logger, metrics }),
    );
  } else if (values.variant === 'offload' || values.variant === 'offload-fast-decode') {
    const fast = values.variant === 'offload-fast-decode';
    server = createServer({ ...tls, keepAliveTimeout: 120_000 }, offloadHandler(logger, fast));
  } else {
    const decider: Decider =
      values.variant === 'raw-worker' ? workerDecider() : (r) => reviewRequest(r, config);
    server = createServer({ ...tls, keepAliveTimeout: 120_000 }, rawHandler(logger, decider));
  }
  server.listen(Number(values.port), '127.0.0.1');
  const stop = (): void => {
    logger.flush();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
