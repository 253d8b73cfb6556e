/**
 * gloo-guard and the bare limit server taking turns: both started, then for each review, round after
 * round, one load run on each (the order swapped every round). The sweeps measure one server after
 * the other, minutes apart, and on this shared VM the machine's speed drifts in between: three full
 * runs on one day (2026-11-30) gave the Deployment ratio as 0.42, 0.61 and 1.11, the last with the
 * limit's CPU per review at twice its usual. The targets against the limit are judged by the median
 * of the rounds' ratios.
 */
import { runLoad } from './load.js';
import type { Plan } from './plan.js';
import { stop } from './processes.js';
import type { ReviewName, ReviewSet } from './reviews.js';
import { startServer, type RunningServer, type ServerDef, type TlsFiles } from './servers.js';

/** One review's rounds: each server's answers per second, and gloo-guard's over the limit's. */
export interface PairedReview {
  connections: number;
  sec: number;
  rounds: Array<{ limitRps: number; glooGuardRps: number; ratio: number }>;
  /** The median of the rounds' ratios. */
  medianRatio: number;
}

export type Paired = Partial<Record<ReviewName, PairedReview>>;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The rounds' ratios and their median, from each round's two throughputs. */
export function pairedReview(
  connections: number,
  sec: number,
  rps: ReadonlyArray<{ limitRps: number; glooGuardRps: number }>,
): PairedReview {
  const rounds = rps.map((r) => ({ ...r, ratio: round3(r.glooGuardRps / r.limitRps) }));
  return { connections, sec, rounds, medianRatio: round3(median(rounds.map((r) => r.ratio))) };
}

/** Runs the rounds; `say` reports each one. */
export async function pairedRounds(
  opts: { tls: TlsFiles; logDir: string; reviews: ReviewSet; plan: Plan; only?: ReviewName[] },
  limit: ServerDef,
  glooGuard: ServerDef,
  say: (line: string) => void,
): Promise<Paired> {
  const servers: RunningServer[] = [];
  const out: Paired = {};
  try {
    // Started one by one inside the try: a server that fails to start leaves none running.
    for (const def of [limit, glooGuard])
      servers.push(await startServer(def, opts.tls, opts.logDir, opts.reviews.namespace.body));
    const reviews = limit.reviews.filter(
      (r) => glooGuard.reviews.includes(r) && (opts.only?.includes(r) ?? true),
    );
    for (const review of reviews) {
      const connections = opts.plan.paired.connections[review];
      const sec = opts.plan.paired.sec[review];
      const body = opts.reviews[review].body;
      // Each server warmed on this review before the rounds, so no round pays for the JIT.
      for (const s of servers) await runLoad({ url: s.target.url, body, connections, durationSec: sec });
      const rps: Array<{ limitRps: number; glooGuardRps: number }> = [];
      for (let round = 0; round < opts.plan.paired.rounds; round++) {
        const measured: number[] = [0, 0];
        for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
          const s = servers[i];
          if (s === undefined) continue;
          measured[i] = (await runLoad({ url: s.target.url, body, connections, durationSec: sec })).rps;
        }
        rps.push({ limitRps: measured[0] ?? 0, glooGuardRps: measured[1] ?? 0 });
        say(`  paired ${review} round ${round}: limit ${measured[0]} rps, gloo-guard ${measured[1]} rps`);
      }
      out[review] = pairedReview(connections, sec, rps);
      say(
        `  paired ${review}: gloo-guard / limit, median of ${rps.length} rounds ${out[review]?.medianRatio}`,
      );
    }
  } finally {
    for (const s of servers) await stop(s.process);
  }
  return out;
}
