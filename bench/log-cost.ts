/**
 * `npx tsx bench/log-cost.ts [--rounds 20] [--per-round 4000]`: what the decision log line costs a
 * Deployment and a Namespace review, in CPU time, in this process. Each review goes the server's own
 * way (prepareBody, finishReview, the JSON answer, recordReview, logDecision) with the logger at
 * `info` (such a review is a debug line now, so nothing is written) and at `debug` (the line is written
 * as every decision was before: the old cost). The two alternate in rounds, so other work on a shared
 * machine slows both alike; the figure is the median over rounds of the CPU µs per review.
 */
import { pino } from 'pino';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { defaultConfig } from '../src/config/types.js';
import { admissionResponse } from '../src/server/admission.js';
import { createLogger, logDecision, type Logger } from '../src/server/log.js';
import { createMetrics, recordReview } from '../src/server/metrics.js';
import { prepareBody } from '../src/server/prepare.js';
import { finishReview } from '../src/server/review.js';
import { loadReviews } from './review-cache.js';
import { median } from './stats.js';

/** The server's own logger, writing to /dev/null in the server's batches. */
function devNullLogger(level: string): Logger {
  return createLogger(pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }), level);
}

/** One review on the server's path, from the body to the log line; returns the bytes answered. */
function review(body: Buffer, logger: Logger, metrics: ReturnType<typeof createMetrics>): number {
  const config = defaultConfig();
  const start = process.hrtime.bigint();
  const outcome = prepareBody(body, config);
  if (outcome.type !== 'prepared') throw new Error(`the bench review did not parse: ${outcome.type}`);
  const decision = finishReview(outcome.prepared, config);
  const text = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: admissionResponse(outcome.request.uid, decision),
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  recordReview(metrics, outcome.request, decision, seconds);
  logDecision(logger, outcome.request, decision, seconds * 1000);
  return text.length;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function main(): void {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '20' }, 'per-round': { type: 'string', default: '4000' } },
  });
  const rounds = Number(values.rounds);
  const perRound = Number(values['per-round']);
  const reviews = loadReviews();
  const loggers = { info: devNullLogger('info'), debug: devNullLogger('debug') };
  const metrics = createMetrics();
  const load0 = loadavg()[0] ?? Number.NaN;
  for (const name of ['deployment', 'namespace'] as const) {
    const body = reviews[name].body;
    const samples: Record<'info' | 'debug', number[]> = { info: [], debug: [] };
    // Warm-up for the JIT, both ways.
    for (let i = 0; i < perRound; i++) review(body, loggers[i % 2 === 0 ? 'info' : 'debug'], metrics);
    for (let r = 0; r < rounds; r++) {
      for (const level of r % 2 === 0 ? (['info', 'debug'] as const) : (['debug', 'info'] as const)) {
        const c0 = cpuUs();
        for (let i = 0; i < perRound; i++) review(body, loggers[level], metrics);
        samples[level].push((cpuUs() - c0) / perRound);
      }
    }
    const [now, old] = [median(samples.info), median(samples.debug)];
    process.stdout.write(
      `${name}: ${old.toFixed(1)} µs CPU per review with the line written (before), ` +
        `${now.toFixed(1)} µs at info now (a debug line): ${(old - now).toFixed(1)} µs saved, ` +
        `${(((old - now) / old) * 100).toFixed(0)}% of the in-process review\n`,
    );
  }
  process.stdout.write(
    `load average ${load0.toFixed(2)} at the start, ${loadavg()[0]?.toFixed(2)} at the end\n`,
  );
}

main();
