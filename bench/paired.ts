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
import { median, round } from './stats.js';
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

/** The rounds' ratios and their median, from each round's two throughputs. */
export function pairedReview(
  connections: number,
  sec: number,
  rps: ReadonlyArray<{ limitRps: number; glooGuardRps: number }>,
): PairedReview {
  const rounds = rps.map((r) => ({ ...r, ratio: round(r.glooGuardRps / r.limitRps, 3) }));
  return { connections, sec, rounds, medianRatio: round(median(rounds.map((r) => r.ratio)), 3) };
}

/** Runs the rounds; `say` reports each one. */
export async function pairedRounds(
  opts: { tls: TlsFiles; logDir: string; reviews: ReviewSet; plan: Plan; only?: ReviewName[] },
  limit: ServerDef,
  glooGuard: ServerDef,
  say: (line: string) => void,
): Promise<Paired> {
  const servers: RunningServer[] = [];
  const start = async (def: ServerDef): Promise<RunningServer> => {
    const s = await startServer(def, opts.tls, opts.logDir, opts.reviews.namespace.body);
    servers.push(s);
    return s;
  };
  const out: Paired = {};
  try {
    // Started one by one inside the try: a server that fails to start leaves none running.
    const limitServer = await start(limit);
    const glooGuardServer = await start(glooGuard);
    const reviews = limit.reviews.filter(
      (r) => glooGuard.reviews.includes(r) && (opts.only?.includes(r) ?? true),
    );
    for (const review of reviews) {
      const connections = opts.plan.paired.connections[review];
      const sec = opts.plan.paired.sec[review];
      const body = opts.reviews[review].body;
      const load = async (s: RunningServer): Promise<number> =>
        (await runLoad({ url: s.target.url, body, connections, durationSec: sec })).rps;
      // Each server warmed on this review before the rounds, so no round pays for the JIT.
      await load(limitServer);
      await load(glooGuardServer);
      const rps: Array<{ limitRps: number; glooGuardRps: number }> = [];
      for (let round = 0; round < opts.plan.paired.rounds; round++) {
        let limitRps: number;
        let glooGuardRps: number;
        if (round % 2 === 0) {
          limitRps = await load(limitServer);
          glooGuardRps = await load(glooGuardServer);
        } else {
          glooGuardRps = await load(glooGuardServer);
          limitRps = await load(limitServer);
        }
        rps.push({ limitRps, glooGuardRps });
        say(`  paired ${review} round ${round}: limit ${limitRps} rps, gloo-guard ${glooGuardRps} rps`);
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
