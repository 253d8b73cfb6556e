/**
 * The scenarios of a run, each against one running server: a correctness check, the latency/load
 * sweep, small reviews under a load of large releases, and the memory tests.
 */
import { admissionResponse, post, probe } from './client.js';
import { runLoad, type LoadResult } from './load.js';
import { readRss, RssSampler, waitForQuiet } from './memory.js';
import type { ParityCase, VerdictKey } from './parity.js';
import { verdictKey } from './parity.js';
import type { Plan } from './plan.js';
import type { ReviewName, ReviewSet } from './reviews.js';
import type { RunningServer } from './servers.js';
import { round, summarize, type LatencySummary } from './stats.js';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function uidOf(body: Buffer): string {
  return (JSON.parse(body.toString('utf8')) as { request: { uid: string } }).request.uid;
}

/** What the server answered to one review before the load. */
export interface PreflightResult {
  allowed: boolean;
  ms: number;
}

/** Sends each review once and checks the answer: 200, an AdmissionReview, our uid, allowed. */
export async function preflight(
  s: RunningServer,
  reviews: ReviewSet,
): Promise<Record<string, PreflightResult>> {
  const out: Record<string, PreflightResult> = {};
  for (const name of s.def.reviews) {
    const body = reviews[name].body;
    const t0 = performance.now();
    const reply = await post(s.target, body);
    const ms = round(performance.now() - t0, 2);
    const r = admissionResponse(reply);
    if (r === undefined)
      throw new Error(`${s.def.label} answered ${name} with ${reply.status}: ${reply.body.slice(0, 300)}`);
    if (r.uid !== uidOf(body)) throw new Error(`${s.def.label} answered ${name} with the wrong uid ${r.uid}`);
    if (r.allowed !== true) {
      throw new Error(
        `${s.def.label} refused ${name}, which every server should allow: ${r.status?.message ?? ''}`,
      );
    }
    out[name] = { allowed: r.allowed, ms };
  }
  return out;
}

/** The verdict of each parity case. */
export async function parity(s: RunningServer, cases: readonly ParityCase[]): Promise<VerdictKey[]> {
  const out: VerdictKey[] = [];
  for (const c of cases) out.push(verdictKey(admissionResponse(await post(s.target, c.body))));
  return out;
}

/** One point of a sweep: the load result and the server's peak memory during it. */
export interface Point extends LoadResult {
  peakRssMiB: number;
  /** How many times the point was measured (again when other processes were busy). */
  attempts: number;
}

/** Above this much CPU (in cores) used by other processes, a point is measured again. */
export const OTHER_CPU_LIMIT = 0.1;

/** Measures one point; again (at most twice) when other processes took CPU meanwhile, keeping the cleanest. */
async function loadPoint(
  s: RunningServer,
  body: Buffer,
  connections: number,
  sec: number,
  plan: Plan,
): Promise<Point> {
  let best: Point | undefined;
  for (let attempt = 0; attempt <= plan.retries; attempt++) {
    if (attempt > 0) {
      say(`    other processes used ${best?.otherCpu} cores during the point: measuring it again`);
      await waitForQuiet(plan.retryWaitSec, OTHER_CPU_LIMIT);
    }
    const sampler = new RssSampler(s.process.pid);
    const r = await runLoad({
      url: s.target.url,
      body,
      connections,
      durationSec: sec,
      serverPid: s.process.pid,
    });
    const p: Point = { ...r, peakRssMiB: round(sampler.stop(), 1), attempts: attempt + 1 };
    if (best === undefined || p.otherCpu < best.otherCpu) best = p;
    if (p.otherCpu <= OTHER_CPU_LIMIT) break;
  }
  if (best === undefined) throw new Error('no load point measured');
  return best;
}

/** Warms the server up, then measures every connection count of the plan for one review. */
export async function sweep(
  s: RunningServer,
  reviews: ReviewSet,
  review: ReviewName,
  plan: Plan,
): Promise<Point[]> {
  const body = reviews[review].body;
  await runLoad({
    url: s.target.url,
    body,
    connections: plan.warmupConnections,
    durationSec: plan.warmupSec,
  });
  const points: Point[] = [];
  for (const c of plan.connections[review]) {
    const p = await loadPoint(s, body, c, plan.pointSec[review], plan);
    say(
      `  ${s.def.name.padEnd(10)} ${review.padEnd(13)} c=${String(c).padStart(2)}  ${String(p.rps).padStart(8)} rps  ` +
        `p50 ${p.latency.p50} ms  p99 ${p.latency.p99} ms  max ${p.latency.max} ms  ` +
        `cpu ${p.cpuUsPerReview} µs/review  cores: server ${p.serverCoreBusy} driver ${p.driverCoreBusy} other ${p.otherCpu}  rss ${p.peakRssMiB} MiB` +
        (p.errors + p.non2xx + p.timeouts > 0
          ? `  errors ${p.errors} non2xx ${p.non2xx} timeouts ${p.timeouts}`
          : ''),
    );
    points.push(p);
  }
  return points;
}

/** Small reviews probed alone and while large releases keep the server saturated. */
export interface MixedResult {
  probeRate: number;
  heavyConnections: number;
  baseline: LatencySummary;
  underLoad: LatencySummary;
  probeFailed: number;
  heavy: LoadResult;
}

/** Measures Deployment and Namespace latency alone, then under a saturating load of large releases. */
export async function mixed(s: RunningServer, reviews: ReviewSet, plan: Plan): Promise<MixedResult> {
  const small = [reviews.deployment.body, reviews.namespace.body];
  const m = plan.mixed;
  const baseline = await probe(s.target, small, {
    ratePerSec: m.probeRate,
    durationMs: m.baselineSec * 1000,
  });
  const heavyRun = runLoad({
    url: s.target.url,
    body: reviews['release-large'].body,
    connections: m.heavyConnections,
    durationSec: m.sec,
    serverPid: s.process.pid,
  });
  // Start probing once the large releases have filled the server, stop before they end.
  await sleep(500);
  const loaded = await probe(s.target, small, { ratePerSec: m.probeRate, durationMs: (m.sec - 1.5) * 1000 });
  const heavy = await heavyRun;
  const result: MixedResult = {
    probeRate: m.probeRate,
    heavyConnections: m.heavyConnections,
    baseline: summarize(baseline.samples),
    underLoad: summarize(loaded.samples),
    probeFailed: baseline.failed + loaded.failed,
    heavy,
  };
  say(
    `  ${s.def.name.padEnd(10)} mixed: small p99 ${result.baseline.p99} ms alone, ${result.underLoad.p99} ms ` +
      `(max ${result.underLoad.max}) under ${heavy.rps} large/s`,
  );
  return result;
}

/** Large releases kept in flight at once, and the memory it took. */
export interface InFlightResult {
  inFlight: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  answered: number;
  rps: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  p99: number;
}

/** Keeps `plan.memory.inFlight` large releases in flight for a while and records the peak RSS. */
export async function inFlight(s: RunningServer, reviews: ReviewSet, plan: Plan): Promise<InFlightResult> {
  const before = readRss(s.process.pid)?.rssMiB ?? Number.NaN;
  const sampler = new RssSampler(s.process.pid, 10);
  const r = await runLoad({
    url: s.target.url,
    body: reviews['release-large'].body,
    connections: plan.memory.inFlight,
    durationSec: plan.memory.sec,
    timeoutSec: 60,
    serverPid: s.process.pid,
  });
  const result: InFlightResult = {
    inFlight: plan.memory.inFlight,
    rssBeforeMiB: round(before, 1),
    peakRssMiB: round(sampler.stop(), 1),
    answered: r.requests,
    rps: r.rps,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    p99: r.latency.p99,
  };
  say(
    `  ${s.def.name.padEnd(10)} ${result.inFlight} large releases in flight: peak RSS ${result.peakRssMiB} MiB ` +
      `(from ${result.rssBeforeMiB}), ${result.answered} answered, p99 ${result.p99} ms`,
  );
  return result;
}

/** What gzip bombs did to the server. */
export interface BombResult {
  expandsToMiB: number;
  secretBytes: number;
  sent: number;
  refused: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  rssAfterMiB: number;
  /** Peak minus before: how far the bombs moved the resident set. */
  movedMiB: number;
  /** Peak RSS while ordinary large releases of the bombs' size came at the same concurrency, just before. */
  ordinaryPeakMiB: number;
  /** How far the bombs' peak went past that: what being a bomb adds over being a 1.3 MB review. */
  beyondOrdinaryMiB: number;
  /** The refusal, as the API server would show it (first line). */
  message: string;
  sequentialMs: LatencySummary;
}

/** Warms the server with ordinary traffic, then sends gzip bombs and records how far RSS moves. */
export async function gzipBombs(
  s: RunningServer,
  reviews: ReviewSet,
  plan: Plan,
  expandsTo: number,
): Promise<BombResult> {
  // Ordinary traffic first, so the baseline is a server that has already served real large releases
  // at the bombs' concurrency: what remains is what the bombs themselves add.
  await runLoad({ url: s.target.url, body: reviews.deployment.body, connections: 4, durationSec: 1 });
  const ordinarySampler = new RssSampler(s.process.pid, 5);
  await runLoad({
    url: s.target.url,
    body: reviews['release-large'].body,
    connections: plan.memory.bombConnections,
    durationSec: plan.memory.bombSec,
    timeoutSec: 60,
  });
  const ordinaryPeak = ordinarySampler.stop();
  await sleep(1000);
  const before = readRss(s.process.pid)?.rssMiB ?? Number.NaN;
  const sampler = new RssSampler(s.process.pid, 5);
  const bomb = reviews['gzip-bomb'].body;
  let refused = 0;
  let message = '';
  const times: number[] = [];
  for (let i = 0; i < plan.memory.bombsSequential; i++) {
    const t0 = performance.now();
    const r = admissionResponse(await post(s.target, bomb));
    times.push(performance.now() - t0);
    if (r?.allowed === false) refused += 1;
    message = r?.status?.message?.split('\n').slice(0, 2).join(' ') ?? message;
  }
  const burst = await runLoad({
    url: s.target.url,
    body: bomb,
    connections: plan.memory.bombConnections,
    durationSec: plan.memory.bombSec,
    timeoutSec: 60,
  });
  const peak = sampler.stop();
  await sleep(1000);
  const after = readRss(s.process.pid)?.rssMiB ?? Number.NaN;
  const result: BombResult = {
    expandsToMiB: Math.round(expandsTo / 1024 / 1024),
    secretBytes: reviews['gzip-bomb'].secretBytes ?? 0,
    sent: plan.memory.bombsSequential + burst.requests,
    refused,
    rssBeforeMiB: round(before, 1),
    peakRssMiB: round(peak, 1),
    rssAfterMiB: round(after, 1),
    movedMiB: round(peak - before, 1),
    ordinaryPeakMiB: round(ordinaryPeak, 1),
    beyondOrdinaryMiB: round(peak - Math.max(before, ordinaryPeak), 1),
    message,
    sequentialMs: summarize(times),
  };
  say(
    `  ${s.def.name.padEnd(10)} gzip bombs: RSS ${result.rssBeforeMiB} -> peak ${result.peakRssMiB} -> ${result.rssAfterMiB} MiB ` +
      `(moved ${result.movedMiB} MiB; ordinary large releases peaked at ${result.ordinaryPeakMiB} MiB, ` +
      `bombs went ${result.beyondOrdinaryMiB} MiB past that), ${refused}/${plan.memory.bombsSequential} refused, ${result.sequentialMs.p50} ms each`,
  );
  return result;
}
