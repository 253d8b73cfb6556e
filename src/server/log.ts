/**
 * Structured JSON logs (pino): one line per decision. What a line may hold is decided here, field by
 * field: never Secret data, values, release content, or the message of an error that might quote them.
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import type { AdmissionRequest } from './admission.js';
import type { Decision } from './review.js';

/** The logger type callers pass around (pino's). */
export type { Logger } from 'pino';

/** Creates the server's logger, writing JSON lines to `dest` (stdout by default). */
export function createLogger(dest?: DestinationStream, level = 'info'): Logger {
  const options = {
    name: 'gloo-guard',
    level,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // A second fence: these never reach a log call, and would be censored if one ever did.
    redact: {
      paths: ['object', 'oldObject', 'data', 'stringData', '*.data', '*.stringData', 'body'],
      censor: '[redacted]',
    },
  };
  // Stdout is written asynchronously (a line leaves at once, but the event loop does not wait for
  // the write); pino flushes what is pending when the process exits.
  return pino(options, dest ?? pino.destination({ dest: 1, sync: false }));
}

/** A silent logger, for tests and callers that do not log. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function policyIds(decision: Decision): string[] {
  return [...new Set(decision.findings.map((f) => f.policy))];
}

/** Logs one decision: who asked what, what was decided and why, and how long it took. */
export function logDecision(
  logger: Logger,
  req: AdmissionRequest,
  decision: Decision,
  durationMs: number,
): void {
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
  logger.info(line, 'admission decision');
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
