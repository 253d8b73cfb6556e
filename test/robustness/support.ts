/**
 * What the robustness suites share: the real `gloo-guard serve` process (always stopped, even when a
 * test fails), an in-process HTTPS server around createApp(), a keep-alive HTTPS client and a
 * concurrent load runner, memory readings from /proc, and the detectors for leaked internals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { RequestListener } from 'node:http';
import { expect } from 'vitest';
import { MalformedReviewError, parseAdmissionReview } from '../../src/server/admission.js';
import { generateServingBundle } from '../../src/certs/generate.js';
import { tlsOptions } from '../../src/server/tls.js';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** fast-check seed: fixed so a CI failure replays; ROBUSTNESS_SEED explores other inputs. */
export const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20_260_814);

/** Prints one figure line; docs/reliability.md is written from these. */
export function figure(what: string, values: Record<string, unknown>): void {
  console.log(`[robustness] ${what} ${JSON.stringify(values)}`);
}

/**
 * Polls `probe` until it gives a value: waits for an event. `ms` is only a safety net that names what
 * never came; the machine may be loaded (a serve process can take over 20 s to start beside other
 * suites), so the default leaves the test's own timeout to end a wait that never ends.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 600_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * until() for what this process does itself (a local server, no child to start): each awaited event
 * comes within milliseconds, so 30 s says it is missing, even on a loaded machine.
 */
export function untilLocal<T>(what: string, probe: () => T | undefined): Promise<T> {
  return until(what, probe, 30_000);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- the serve process

/** A running `gloo-guard serve`. */
export interface ServeProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** The CA that signs the serving certificate (the generated one, or the one passed in). */
  ca: string;
  logs: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
// Last resort if the worker itself goes away: no serve process outlives the test run.
process.once('exit', killAll);

/**
 * Stops every process these suites started that is still running (for afterEach/afterAll): SIGTERM,
 * so serve removes its generated CA bundle, then SIGKILL after 5 s.
 */
export async function stopAllProcesses(): Promise<void> {
  const waits = [...children].map(
    (c) =>
      new Promise<void>((r) => {
        if (c.exitCode !== null || c.signalCode !== null) return r();
        const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
        c.once('close', () => {
          clearTimeout(kill);
          r();
        });
        c.kill('SIGTERM');
      }),
  );
  await Promise.all(waits);
  children.clear();
}

/** Spawns `gloo-guard <args>` from source and collects its JSON log lines. */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): Omit<ServeProcess, 'port' | 'ca'> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  children.add(child);
  const logs: Array<Record<string, unknown>> = [];
  let out = '';
  let partial = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line, unparsed: true });
      }
    }
  });
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, pid: child.pid ?? -1, logs, stdout: () => out, stderr: () => err, exited };
}

/** The first log line whose message starts with `msg`. */
export function logLine(
  p: { logs: Array<Record<string, unknown>> },
  msg: string,
): Record<string, unknown> | undefined {
  return p.logs.find((l) => String(l.msg).startsWith(msg));
}

/** Starts `gloo-guard serve` on a free loopback port; `ca` is needed when certificate files are passed. */
export async function startServe(
  args: string[] = [],
  ca?: string,
  opts: { gcOnSignal?: boolean } = {},
): Promise<ServeProcess> {
  const nodeArgs = opts.gcOnSignal ? ['--expose-gc', '--import', './test/robustness/gc-on-signal.mjs'] : [];
  const p = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1', ...args], {}, nodeArgs);
  const port = await until('the listening line', () => {
    if (p.child.exitCode !== null) throw new Error(`serve exited: ${p.stderr()}`);
    const line = logLine(p, 'gloo-guard serving admission reviews');
    return line ? Number(line.port) : undefined;
  });
  const caPem = ca ?? readFileSync(String(logLine(p, 'no --tls-cert/--tls-key')?.caBundle), 'utf8');
  return { ...p, port, ca: caPem };
}

/** Sends SIGTERM and waits for the exit code (SIGKILL after `ms`). */
export async function stopServe(
  p: { child: ChildProcess; exited: Promise<number | null> },
  ms = 30_000,
): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

/** The resident set of a process in bytes (VmRSS of /proc/<pid>/status). */
export function vmRss(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** MiB, one decimal. */
export function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

// ---------------------------------------------------------------- an in-process HTTPS server

/** createApp() behind a real TLS listener on 127.0.0.1. */
export interface AppServer {
  server: Server;
  port: number;
  ca: string;
  close(): Promise<void>;
}

/** Serves `app` over HTTPS on a free loopback port, with the serve process's TLS settings. */
export async function serveApp(app: RequestListener): Promise<AppServer> {
  const bundle = generateServingBundle({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 2 });
  const server = createServer(tlsOptions(bundle.serving), app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    ca: bundle.ca.certPem,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------- an HTTPS client

/** An HTTP answer as received. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
}

/** Where to send, and how to trust it. */
export interface Target {
  port: number;
  ca: string;
  agent?: Agent;
}

/** Transport errors of a socket the server closed after answering: the answer already read stands. */
const CLOSED_AFTER_ANSWER = new Set(['EPIPE', 'ECONNRESET']);

/**
 * One HTTPS request to 127.0.0.1 (SNI localhost); rejects on a transport error or after `timeoutMs`.
 * A body over the server's limit is offered with `Expect: 100-continue` and never sent: the server
 * refuses it from its headers and closes the connection, and a client still writing would get EPIPE
 * and could lose the 413 it was sent (RFC 9110, section 10.1.1).
 */
export function send(
  t: Target,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const offer = data !== undefined && data.length > BODY_LIMIT_BYTES;
    let answered = false;
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: t.port,
        method,
        path,
        ca: t.ca,
        agent: t.agent ?? false,
        timeout: timeoutMs,
        headers: {
          ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}),
          ...(offer ? { Expect: '100-continue' } : {}),
          ...headers,
        },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!(answered && CLOSED_AFTER_ANSWER.has(err.code ?? ''))) reject(err);
    });
    if (!offer) return void req.end(data);
    // The server refuses a body over its limit from the headers alone (Node may still say "100 Continue"
    // first, in a separate write): never send it, wait for the final answer, then drop the request.
    req.flushHeaders();
    req.once('response', (res) => res.once('end', () => req.destroy()));
  });
}

/** POSTs a JSON body to /validate. */
export function validate(t: Target, body: string | Buffer | object, timeoutMs?: number): Promise<Answer> {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return send(t, 'POST', '/validate', data, {}, timeoutMs);
}

/** The `response` of an AdmissionReview answer. */
export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** Parses an answer as an AdmissionReview and returns its response. */
export function reviewResponse(a: Answer): ReviewResponse {
  const body = JSON.parse(a.text) as { apiVersion: string; kind: string; response: ReviewResponse };
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') {
    throw new Error(`not an AdmissionReview: ${a.text.slice(0, 200)}`);
  }
  return body.response;
}

// ---------------------------------------------------------------- load

/** One request of a load run: its uid, body, and the decision expected for it. */
export interface LoadRequest {
  uid: string;
  template: string;
  body: Buffer;
  expectAllowed: boolean;
}

/** What happened to one request. */
export interface Outcome {
  uid: string;
  template: string;
  expectAllowed: boolean;
  /** When the body was handed to the socket (performance.now()). */
  sentAt?: number;
  answeredAt?: number;
  /** When it ended, answered or failed. */
  endedAt?: number;
  status?: number;
  responseUid?: string;
  allowed?: boolean;
  error?: string;
}

function sendTracked(t: Target, r: LoadRequest, timeoutMs: number): Promise<Outcome> {
  const o: Outcome = { uid: r.uid, template: r.template, expectAllowed: r.expectAllowed };
  return new Promise((resolvePromise) => {
    const done = (x: Outcome): void => resolvePromise({ ...x, endedAt: performance.now() });
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: t.port,
        method: 'POST',
        path: '/validate?timeout=10s',
        ca: t.ca,
        agent: t.agent ?? false,
        timeout: timeoutMs,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(r.body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => done({ ...o, error: err.message }));
        res.on('end', () => {
          o.answeredAt = performance.now();
          o.status = res.statusCode ?? 0;
          try {
            const response = (
              JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response: ReviewResponse }
            ).response;
            o.responseUid = response.uid;
            o.allowed = response.allowed;
          } catch {
            o.error = `unparsable answer (HTTP ${o.status})`;
          }
          done(o);
        });
      },
    );
    req.on('finish', () => (o.sentAt = performance.now()));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => done({ ...o, error: err.code ?? err.message }));
    req.end(r.body);
  });
}

/** Sends `count` requests from `concurrency` workers; `stop` ends the run early (checked before each send). */
export async function runLoad(opts: {
  target: Target;
  count: number;
  concurrency: number;
  make: (i: number) => LoadRequest;
  stop?: () => boolean;
  timeoutMs?: number;
  onOutcome?: (o: Outcome, done: number) => void;
}): Promise<{ outcomes: Outcome[]; ms: number }> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      if (opts.stop?.()) return;
      const i = next++;
      if (i >= opts.count) return;
      const o = await sendTracked(opts.target, opts.make(i), opts.timeoutMs ?? 300_000);
      outcomes.push(o);
      opts.onOutcome?.(o, outcomes.length);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { outcomes, ms: performance.now() - started };
}

/** Turns a review into a body template whose uid can be swapped in without serializing again. */
export function template(
  name: string,
  review: Record<string, unknown>,
  expectAllowed: boolean,
): (uid: string) => LoadRequest {
  const marker = `uid-${randomUUID()}`;
  const req = review.request as Record<string, unknown>;
  const text = JSON.stringify({ ...review, request: { ...req, uid: marker } });
  const [before, after] = text.split(`"${marker}"`) as [string, string];
  return (uid) => ({
    uid,
    template: name,
    expectAllowed,
    body: Buffer.from(`${before}${JSON.stringify(uid)}${after}`),
  });
}

// ---------------------------------------------------------------- leak detectors

/** Signs that code internals reached a user: stack frames, source paths, Node error class names. */
export const INTERNALS: readonly RegExp[] = [
  /\n\s+at /,
  /\bat [\w.<>]+ \(/,
  /\.(ts|js|mjs|cjs):\d+/,
  /node_modules/,
  /file:\/\//,
  new RegExp(ROOT.replace(/[/.]/g, '\\$&')),
  /\/(src|dist)\/(server|engine|helm|cli)\//,
];

/** The first internal detail found in `text`, or undefined. */
export function internalsIn(text: string): string | undefined {
  for (const re of INTERNALS) {
    const m = re.exec(text);
    if (m)
      return `${re.source} matched ${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 80))}`;
  }
  return undefined;
}

// ---------------------------------------------------------------- what every answer must be

const runes = (s: string): number => Array.from(s).length;

/** BODY_LIMIT ('6mb') of src/server/app.ts in bytes, as body-parser counts it. */
const BODY_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * The answer is one the API server can use: 200 with the request's uid when parseAdmissionReview
 * accepts the body, else 400 with a one-line Status; never a 5xx or a stack trace.
 * Returns the review response for a 200.
 */
export function expectUsableAnswer(a: Answer, body: string | Buffer): ReviewResponse | undefined {
  expect(internalsIn(a.text)).toBeUndefined();
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  if (Buffer.byteLength(body) > BODY_LIMIT_BYTES) {
    expect(a.status).toBe(413);
    expect(JSON.parse(a.text)).toMatchObject({ kind: 'Status', code: 413 });
    return undefined;
  }
  let uid: string | undefined;
  try {
    uid = parseAdmissionReview(JSON.parse(body.toString())).uid;
  } catch (err: unknown) {
    if (!(err instanceof MalformedReviewError) && !(err instanceof SyntaxError)) throw err;
  }
  if (uid === undefined) {
    expect(a.status).toBe(400);
    const status = JSON.parse(a.text) as { kind: string; code: number; message: string };
    expect(status).toMatchObject({ kind: 'Status', code: 400 });
    expect(status.message).not.toMatch(/\n/);
    return undefined;
  }
  expect(a.status).toBe(200);
  const r = reviewResponse(a);
  expect(r.uid).toBe(uid);
  expectSaneResponse(r);
  return r;
}

/** A response the API server and Helm can show: a reason when refused, warnings within its limits. */
function expectSaneResponse(r: ReviewResponse): void {
  expect(typeof r.allowed).toBe('boolean');
  if (!r.allowed) {
    expect(r.status?.code).toBe(403);
    expect(r.status?.message.length).toBeGreaterThan(0);
  }
  for (const w of r.warnings ?? []) {
    expect(runes(w)).toBeLessThanOrEqual(256);
    expect(w).not.toMatch(/[\n\r]/);
  }
  expect((r.warnings ?? []).reduce((n, w) => n + runes(w), 0)).toBeLessThanOrEqual(4096);
  for (const v of Object.values(r.auditAnnotations ?? {})) expect(typeof v).toBe('string');
  if (r.auditAnnotations?.error === 'input') {
    const said = r.allowed ? (r.warnings ?? []).join(' ') : (r.status?.message ?? '');
    expect(said).toContain('could not read');
  }
}

/** The server answers /healthz, and no log line so far is an error (nothing reached the error handler). */
export async function expectServing(t: Target, logs: string): Promise<void> {
  expect((await send(t, 'GET', '/healthz')).status).toBe(200);
  expect(logs.split('\n').filter((l) => l.includes('"level":"error"'))).toEqual([]);
}
