/**
 * `npx tsx bench/paced-cost.ts [--rate 100] [--sec 5] [--rounds 4]`: the CPU a review costs a server
 * that is idle between reviews, as a webhook in most clusters is. `npm run bench` measures servers
 * kept busy, where each loop iteration answers many reviews and every cache is warm; through the API
 * server (`npm run bench:e2e`) a call came to about 0.6 ms of CPU, ten times that. Here each server
 * answers the bench's Deployment and Namespace reviews paced at --rate a second from the driver core
 * for --sec seconds, round after round, the servers taking turns (order swapped every round); its CPU
 * (all its threads, /proc/PID/task/*\/schedstat) is divided by the reviews it answered. The same
 * seconds with no reviews give each server's CPU when idle (timers, metrics), shown apart and left
 * in the per-review figure: that is what a review costs the process. Servers: gloo-guard as the
 * bench builds it (with the chart's nodeOptions), gloo-guard with every policy off, the bare limit.
 * Each paced run opens its connections first (bench/client.ts probe: 4 TLS handshakes for the
 * run's reviews, 500 at the defaults); they are counted in, alike for every server.
 * Writes bench/results/paced-cost.json and .md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildGlooGuard, buildLimitServer, ROOT, sourceCommit } from './build.js';
import { probe } from './client.js';
import { schedBetween, schedTimes } from './memory.js';
import { renderPacedCost, type PacedCostResults } from './perf-tables.js';
import { installCleanup, pinSelf, stop, stopAll } from './processes.js';
import { loadReviews } from './review-cache.js';
import {
  glooGuardDef,
  limitDef,
  startServer,
  writeAllOffConfig,
  writeTls,
  type RunningServer,
} from './servers.js';
import { median, round, roundRatios } from './stats.js';

const REVIEWS = ['deployment', 'namespace'] as const;

/** One round's reading: a server's CPU µs per review answered at the paced rate. */
export interface PacedSample {
  review: string;
  server: string;
  usPerReview: number;
}

/**
 * Per review and server, the rounds' figures and their median, and (for every server but the limit)
 * the median of the rounds' ratios to the limit's figure in the same round.
 */
export function pacedRows(samples: readonly PacedSample[], limit = 'limit'): PacedCostResults['rows'] {
  const by = (review: string, server: string): number[] =>
    samples.filter((s) => s.review === review && s.server === server).map((s) => s.usPerReview);
  const keys = [...new Map(samples.map((s) => [`${s.review}\0${s.server}`, s])).values()];
  return keys.map(({ review, server }) => {
    const mine = by(review, server);
    const theirs = by(review, limit);
    const ratios = server === limit ? undefined : roundRatios(mine, theirs);
    return {
      review,
      server,
      usPerReview: mine,
      medianUs: round(median(mine), 0),
      ...(ratios !== undefined && ratios.n > 0 ? { vsLimit: round(ratios.median, 2) } : {}),
    };
  });
}

/** CPU ms of a process over `work`, and how many reviews it answered then. */
async function cpuOver(
  pid: number,
  work: () => Promise<number>,
): Promise<{ cpuMs: number; answered: number }> {
  const a = schedTimes(pid);
  const answered = await work();
  const b = schedTimes(pid);
  if (!a || !b) throw new Error(`server ${pid} is gone`);
  return { cpuMs: schedBetween(a, b).cpuMs, answered };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '100' },
      sec: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '4' },
    },
  });
  const rate = Number(values.rate);
  const sec = Number(values.sec);
  const rounds = Number(values.rounds);
  if (![rate, sec, rounds].every((n) => Number.isInteger(n) && n > 0))
    throw new Error('--rate, --sec and --rounds are positive integers');
  installCleanup();
  pinSelf();
  const generatedAt = new Date().toISOString();
  const load = loadavg();
  const reviews = loadReviews();
  const work = mkdtempSync(join(tmpdir(), 'gloo-guard-paced-'));
  const tls = writeTls(work);
  const allOff = writeAllOffConfig(work);
  const gg = buildGlooGuard().path;
  const defs = [
    limitDef(buildLimitServer().path),
    glooGuardDef(gg),
    { ...glooGuardDef(gg, [], allOff), label: 'gloo-guard, every policy off' },
  ];
  const servers: RunningServer[] = [];
  const samples: PacedSample[] = [];
  const idle = new Map<string, number[]>();
  try {
    for (const def of defs) servers.push(await startServer(def, tls, work, reviews.namespace.body));
    for (const s of servers)
      // Warm each server on both reviews at full speed first, so no round pays for the JIT.
      for (const review of REVIEWS)
        await probe(s.target, [reviews[review].body], { ratePerSec: 1000, durationMs: 2000 });
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
        const quiet = await cpuOver(s.process.pid, async () => {
          await new Promise((res) => setTimeout(res, sec * 1000));
          return 0;
        });
        idle.set(s.def.label, [...(idle.get(s.def.label) ?? []), (quiet.cpuMs * 1000) / sec]);
        for (const review of REVIEWS) {
          const { cpuMs, answered } = await cpuOver(s.process.pid, async () => {
            const p = await probe(s.target, [reviews[review].body], {
              ratePerSec: rate,
              durationMs: sec * 1000,
            });
            if (p.failed > 0)
              throw new Error(`${s.def.label}: ${p.failed} of ${p.sent} ${review} reviews failed`);
            return p.ok;
          });
          const usPerReview = round((cpuMs * 1000) / answered, 0);
          samples.push({ review, server: s.def.label, usPerReview });
          process.stdout.write(`round ${r} ${review} ${s.def.label}: ${usPerReview} µs of CPU a review\n`);
        }
      }
    }
  } finally {
    for (const s of servers) await stop(s.process, 30_000);
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  }
  const limitLabel = defs[0]?.label ?? 'limit';
  const results: PacedCostResults = {
    generatedAt,
    commit: sourceCommit(),
    node: process.versions.node,
    loadAverage: load.map((x) => x.toFixed(2)).join(' '),
    ratePerSec: rate,
    sec,
    rounds,
    idleUsPerSec: Object.fromEntries([...idle].map(([k, v]) => [k, round(median(v), 0)])),
    rows: pacedRows(samples, limitLabel),
  };
  const dir = join(ROOT, 'bench', 'results');
  writeFileSync(join(dir, 'paced-cost.json'), `${JSON.stringify(results, null, 2)}\n`);
  const md = `# CPU per review, paced\n\n${renderPacedCost(results)}\n`;
  writeFileSync(join(dir, 'paced-cost.md'), md);
  process.stdout.write(md);
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1])
  main().catch((err: unknown) => {
    process.stderr.write(`paced-cost: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
