/**
 * Structured JSON logs (pino): one line per decision. What a line may hold is decided here, field by
 * field: never Secret data, values, release content, or the message of an error that might quote them.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { AdmissionRequest } from './admission.js';
import type { Decision } from './review.js';

/** The logger type callers pass around (pino's). */
export type { Logger } from 'pino';

let lastMs = 0;
let lastTime = '';

/**
 * pino's ISO timestamp, formatted once per millisecond: a busy webhook writes several lines in the
 * same millisecond, and formatting the date was a tenth of each line's cost.
 */
function isoTimeCached(): string {
  const now = Date.now();
  if (now !== lastMs) [lastMs, lastTime] = [now, `,"time":"${new Date(now).toISOString()}"`];
  return lastTime;
}

/** How long a log line may wait in the buffer before it is written. */
const LOG_FLUSH_MS = 200;

/**
 * Stdout, written asynchronously in batches of about 4 KiB, and at least every 200 ms: one write per
 * line cost a busy webhook a tenth of its time. pino writes what is pending when the process exits.
 */
function bufferedStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => {
    try {
      stream.flush();
    } catch {
      // Not ready or already closed: the next tick or the exit handler writes it.
    }
  }, LOG_FLUSH_MS).unref();
  return stream;
}

/** Creates the server's logger, writing JSON lines to `dest` (stdout by default). */
export function createLogger(dest?: DestinationStream, level = 'info'): Logger {
  const options = {
    name: 'gloo-guard',
    level,
    timestamp: isoTimeCached,
    formatters: { level: (label: string) => ({ level: label }) },
    // A second fence: these never reach a log call, and would be censored if one ever did.
    redact: {
      paths: ['object', 'oldObject', 'data', 'stringData', '*.data', '*.stringData', 'body'],
      censor: '[redacted]',
    },
  };
  return pino(options, dest ?? bufferedStdout());
}

/** A silent logger, for tests and callers that do not log. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function policyIds(decision: Decision): string[] {
  return [...new Set(decision.findings.map((f) => f.policy))];
}

/** The levels `serve --log-level` accepts; decisions that say something are logged at info. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** True for a request about a Helm release record or a Gloo Mesh resource (an API group under solo.io). */
function aboutGlooMesh(req: AdmissionRequest): boolean {
  const group = req.kind.group;
  return req.release === true || group === 'solo.io' || group.endsWith('.solo.io');
}

/**
 * Info for a decision that says something (a denial, a warning, a finding, an error, anything about a
 * release or a Gloo Mesh resource); debug for an allowed review that found nothing in an ordinary
 * object. The webhook sees every Deployment and Namespace of the cluster: one info line for each was
 * the largest single cost of a review, and said nothing (Gatekeeper logs only its denials the same way).
 */
export function decisionLevel(req: AdmissionRequest, decision: Decision): 'info' | 'debug' {
  const quiet =
    decision.allowed &&
    decision.findings.length === 0 &&
    decision.warnings.length === 0 &&
    decision.policyErrors.length === 0 &&
    decision.inputError === undefined;
  return quiet && !aboutGlooMesh(req) ? 'debug' : 'info';
}

/** Logs one decision (at the level decisionLevel gives): who asked what, what was decided and why, and how long. */
export function logDecision(
  logger: Logger,
  req: AdmissionRequest,
  decision: Decision,
  durationMs: number,
): void {
  if (!logger.isLevelEnabled('info')) return;
  const level = decisionLevel(req, decision);
  if (!logger.isLevelEnabled(level)) return;
  const line = {
    uid: req.uid,
    kind: req.kind.kind,
    namespace: req.namespace,
    name: req.name,
    operation: req.operation,
    user: req.username,
    dryRun: req.dryRun,
    decision: decision.allowed ? 'allow' : 'deny',
    subject: decision.subject,
    policies: policyIds(decision),
    denied: decision.findings.filter((f) => f.action === 'deny').length,
    warned: decision.findings.filter((f) => f.action === 'warn').length,
    policyErrors: decision.policyErrors.length > 0 ? decision.policyErrors : undefined,
    inputError: decision.inputError,
    skipped: decision.skipped,
    durationMs: Math.round(durationMs * 1000) / 1000,
  };
  logger[level](line, 'admission decision');
}

/** The type and stack frames of an unexpected error, without its message (which might quote input). */
export function errorForLog(err: unknown): { type: string; frames?: string[] } {
  if (!(err instanceof Error)) return { type: typeof err };
  const frames = (err.stack ?? '')
    .split('\n')
    .filter((l) => l.trimStart().startsWith('at '))
    .slice(0, 10)
    .map((l) => l.trim());
  return { type: err.name, frames };
}
