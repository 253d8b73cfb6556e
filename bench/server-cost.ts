/**
 * `npx tsx bench/server-cost.ts [--base path/to/cli/main.js] [--rounds 4] [--sec 3] [--limit]`: what a
 * small review costs the server process, in CPU µs per review, under closed-loop HTTPS load. Each build
 * (the current source, built into .cache/bench-dist, and with --base another build of gloo-guard, say
 * main's, copied aside) runs twice: with the default config, and with every policy off (the server's
 * own cost: HTTP, TLS, parsing, the answer, metrics and the log). With --limit the bare Node server
 * runs too. They take turns in rounds; the figures are medians over rounds. The engine's cost in this
 * process (judging a freshly parsed review) is printed beside them. With --limit each server's CPU per
 * review is also given as a ratio to the limit's in the same round, median and quartiles over the
 * rounds: many short rounds (`--rounds 16 --sec 1`) pair each figure with the limit's of the same
 * seconds, which cancels most of the machine's drift. On a shared machine the rounds still spread
 * widely: bench/app-cost.ts, in process, resolves smaller differences.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/types.js';
import { prepareBody } from '../src/server/prepare.js';
import { finishReview, type PreparedReview } from '../src/server/review.js';
import { buildGlooGuard, buildLimitServer } from './build.js';
import { runLoad } from './load.js';
import { installCleanup, pinSelf, stop, stopAll } from './processes.js';
import { loadReviews } from './review-cache.js';
import { median, roundRatios } from './stats.js';
import type { ReviewName } from './reviews.js';
import {
  glooGuardDef,
  limitDef,
  startServer,
  writeAllOffConfig,
  writeTls,
  type RunningServer,
  type ServerDef,
} from './servers.js';

const SMALL: ReviewName[] = ['deployment', 'namespace'];

function cpuMicros(perRound: number, work: () => void): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < perRound; i++) work();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / perRound;
}

/**
 * The engine's CPU µs for one review in this process: parse and judge minus parse alone, each review
 * parsed afresh (the engine caches per subject, so judging one parsed review again would flatter it).
 */
function engineMicros(body: Buffer, rounds = 15, perRound = 300): number {
  const config = defaultConfig();
  const parse = (): PreparedReview => {
    const outcome = prepareBody(body, config);
    if (outcome.type !== 'prepared') throw new Error(`the bench review did not parse: ${outcome.type}`);
    return outcome.prepared;
  };
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const both = cpuMicros(perRound, () => finishReview(parse(), config));
    samples.push(both - cpuMicros(perRound, parse));
  }
  return median(samples.slice(Math.floor(rounds / 3)));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      rounds: { type: 'string', default: '4' },
      sec: { type: 'string', default: '3' },
      connections: { type: 'string', default: '16' },
      limit: { type: 'boolean', default: false },
    },
  });
  installCleanup();
  pinSelf();
  const reviews = loadReviews();
  const work = mkdtempSync(join(tmpdir(), 'gloo-guard-cost-'));
  const tls = writeTls(work);
  const allOff = writeAllOffConfig(work);
  const builds: [string, string][] = [['current', buildGlooGuard().path]];
  if (values.base !== undefined) builds.push(['base', values.base]);
  const defs: ServerDef[] = [];
  for (const [label, mainJs] of builds) {
    defs.push({ ...glooGuardDef(mainJs), label });
    defs.push({ ...glooGuardDef(mainJs, [], allOff), label: `${label}, every policy off` });
  }
  if (values.limit) defs.push(limitDef(buildLimitServer().path));
  const servers: RunningServer[] = [];
  for (const def of defs) servers.push(await startServer(def, tls, work, reviews.namespace.body));
  const cost = new Map<string, number[]>();
  process.stdout.write(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const review of SMALL) {
        for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
          const r = await runLoad({
            url: s.target.url,
            body: reviews[review].body,
            connections: Number(values.connections),
            durationSec: Number(values.sec),
            serverPid: s.process.pid,
          });
          const key = `${review} ${s.def.label}`;
          cost.set(key, [...(cost.get(key) ?? []), r.cpuUsPerReview]);
          process.stdout.write(`round ${round} ${key}: ${r.cpuUsPerReview} µs, ${r.rps} rps\n`);
        }
      }
    }
  } finally {
    for (const s of servers) await stop(s.process, 30_000);
  }
  process.stdout.write(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  for (const review of SMALL) {
    const engine = engineMicros(reviews[review].body);
    process.stdout.write(`${review}: engine (in process) ${engine.toFixed(1)} µs\n`);
    const limitServer = servers.find((s) => s.def.name === 'limit');
    const limitCost = limitServer ? cost.get(`${review} ${limitServer.def.label}`) : undefined;
    for (const s of servers) {
      const mine = cost.get(`${review} ${s.def.label}`) ?? [];
      const vsLimit = limitCost && s !== limitServer ? roundRatios(mine, limitCost) : undefined;
      const paired = vsLimit
        ? `; × the limit's, round by round: median ${vsLimit.median} (quartiles ${vsLimit.q1}-${vsLimit.q3}, ${vsLimit.n} rounds)`
        : '';
      process.stdout.write(`  ${s.def.label}: ${median(mine).toFixed(1)} µs per review${paired}\n`);
    }
  }
  rmSync(work, { recursive: true, force: true });
}

main().then(
  () => undefined,
  (err: unknown) => {
    process.stderr.write(
      `server-cost failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    void stopAll().finally(() => {
      process.exitCode = 1;
    });
  },
);
