/** The Markdown of a `npm run bench:e2e` run (bench/results/e2e.md), with the issue's targets. */
import type { GcPauses, LoopTicks, WebhookLatency } from './apiserver-metrics.js';
import { percentile, round, type LatencySummary } from './stats.js';

/** How much slower `helm upgrade` was with the webhook, from interleaved runs. */
export interface PairedSlowdown {
  n: number;
  median: number;
  q1: number;
  q3: number;
}

/** What bench/e2e.ts writes to bench/results/e2e.json (the parts the report reads). */
export interface E2eResults {
  generatedAt: string;
  durationSec: number;
  commit: string;
  /** How it was measured, in words (bench/e2e.ts); `cgroups` is absent in runs before it was recorded. */
  method?: { cgroups?: string };
  objects: {
    loadAverage: { start: string; end: string };
    writes: { deployments: number; namespaces: number; concurrency: number };
    clientMs: Record<string, LatencySummary>;
    apiServer: Record<string, WebhookLatency>;
    /** The same reviews as the webhook timed them (its own histogram, by kind); absent in runs before it was read. */
    server?: Record<string, WebhookLatency>;
    /** The webhook's garbage collection meanwhile; absent in runs before it was read. */
    gc?: GcPauses;
    /**
     * Per kind of write (namespaceCreate, namespaceUpdate, deploymentCreate, deploymentUpdate), during
     * that write alone: the server's CPU and its wait for a CPU (both servers), and the webhook's event
     * loop and GC (gloo-guard only); absent in runs before they were read.
     */
    steps?: Record<string, { gc?: GcPauses; loop?: LoopTicks; sched?: { cpuMs: number; waitMs: number } }>;
  };
  /** The same writes one at a time (an API server that is not saturated); absent in runs before it was measured. */
  objectsOneAtATime?: E2eResults['objects'];
  /** The cluster view at scale (test/e2e/scale/cache-20k.ts's figures) by number of Deployments, from --scale N runs. */
  scale?: Record<string, unknown>;
  releases: Array<{
    helm: string;
    size: string;
    secretBytes: number;
    loadAverage: { start: string; end: string };
    withWebhookMs: LatencySummary;
    withoutWebhookMs: LatencySummary;
    /** median with / median without - 1. */
    slowdown: number;
    /** The runs without the webhook each against the two with it around them; absent in runs before it. */
    paired?: PairedSlowdown;
    /**
     * The API server's time waiting on gloo-guard's webhooks per upgrade with them, in ms (waitedPerUpgrade);
     * absent in runs before it was read.
     */
    waitedMs?: number;
    apiServer: Record<string, WebhookLatency>;
    /** The release reviews as the webhook timed them; absent in runs before it was read. */
    server?: Record<string, WebhookLatency>;
    gc?: GcPauses;
  }>;
  /**
   * The same writes and upgrades with the bare limit server registered in gloo-guard's place: what
   * the API server's figures are on this machine when the webhook costs the least a Node server can.
   * Absent in runs before it was measured.
   */
  floor?: {
    objects: E2eResults['objects'];
    objectsOneAtATime?: E2eResults['objects'];
    releases: Array<{
      helm: string;
      size: string;
      upgradeMs: LatencySummary;
      /** As the releases' waitedMs, for the floor in gloo-guard's place. */
      waitedMs?: number;
      apiServer: Record<string, WebhookLatency>;
    }>;
  };
}

type Release = E2eResults['releases'][number];

/** A fraction as a percentage with one decimal (0.125 is 12.5%). */
function percent(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** The share of calls at or under `ms` as a percentage, or undefined where the histogram has no such bound. */
const share = (l: WebhookLatency | undefined, ms: number): string | undefined => {
  const s = l?.atOrUnder[String(ms)];
  return s === undefined ? undefined : percent(s);
};

/** The same, a dash where there is no such bound. */
const under = (l: WebhookLatency, ms: number): string => share(l, ms) ?? '–';

/** A captioned table, or nothing when it has no rows. */
function captioned(caption: string, head: string, rows: string[]): string[] {
  if (rows.length === 0) return [];
  const columns = head.split('|').length - 2;
  const align = ['---', '---', ...Array.from({ length: columns - 2 }, () => '--:')];
  return [caption, '', head, `|${align.join('|')}|`, ...rows, ''];
}

function webhookRows(what: string, latencies: Record<string, WebhookLatency>): string[] {
  return Object.entries(latencies)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([key, l]) =>
        `| ${what} | ${key} | ${l.calls} | ${l.p50Ms} | ${l.p99Ms} | ${under(l, 5)} | ${under(l, 25)} | ${under(l, 100)} |`,
    );
}

/** The webhook's own timing of the same reviews: what of the API server's time was gloo-guard's. */
function serverRows(runs: readonly Objects[]): string[] {
  return captioned(
    'The same object reviews as the webhook timed them (its own `gloo_guard_admission_duration_seconds`, arrival to answer, buckets 0.5, 1, 2.5, 5, 10, 25 ms ...):',
    '| phase | kind | calls | p50 ms | p99 ms | ≤ 1 ms | ≤ 5 ms | ≤ 10 ms |',
    runs.flatMap((o) =>
      Object.entries(o.server ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(
          ([k, l]) =>
            `| ${objectsLabel(o)} | ${k} | ${l.calls} | ${l.p50Ms} | ${l.p99Ms} | ${under(l, 1)} | ${under(l, 5)} | ${under(l, 10)} |`,
        ),
    ),
  );
}

/** The worst p99 of the webhooks, or undefined when none was called. */
function worstP99(latencies: Array<[string, WebhookLatency]>): number | undefined {
  return latencies.length === 0 ? undefined : Math.max(...latencies.map(([, l]) => l.p99Ms));
}

/** A latency target: gloo-guard's worst p99 beside the floor's, and whether gloo-guard met it. */
function target(
  label: string,
  latencies: Array<[string, WebhookLatency]>,
  floor: Array<[string, WebhookLatency]> | undefined,
  ms: number,
): string {
  const p99 = worstP99(latencies);
  const floorP99 = floor === undefined ? undefined : worstP99(floor);
  const floorCell =
    floorP99 === undefined ? '–' : `p99 ${floorP99} ms${floorP99 < ms ? '' : ' (misses too)'}`;
  if (p99 === undefined) return `| ${label} | no calls | ${floorCell} | not measured |`;
  return `| ${label} | p99 ${p99} ms (interpolated) | ${floorCell} | ${p99 < ms ? 'pass' : '**miss**'} |`;
}

/**
 * Each run without the webhook against the runs with it just before and just after: the mean of the
 * two over the one, minus 1. A drift in the machine's speed moves all three alike, and the median of
 * these ratios is not pulled by the few runs that land on a busy second.
 */
export function bracketedSlowdowns(withMs: readonly number[], withoutMs: readonly number[]): number[] {
  return withoutMs.flatMap((without, i) => {
    const before = withMs[i];
    const after = withMs[i + 1];
    return before === undefined || after === undefined ? [] : [(before + after) / 2 / without - 1];
  });
}

/**
 * The time the API server spent waiting on the webhooks per upgrade: all their calls' time
 * together (the histogram's `_sum`) over the upgrades. Helm waits on the API server, and the API
 * server on the webhook, so this is what the webhook can add to an upgrade (at most: calls Helm
 * makes in parallel overlap). Undefined when a webhook's sum was not read.
 */
export function waitedPerUpgrade(
  apiServer: Record<string, WebhookLatency>,
  upgrades: number,
): number | undefined {
  const totals = Object.values(apiServer).map((l) => l.totalMs);
  if (upgrades <= 0 || totals.some((t) => t === undefined)) return undefined;
  return round(totals.reduce((a: number, t) => a + (t ?? 0), 0) / upgrades, 2);
}

/** The median and quartiles of the bracketed slowdowns, rounded to 0.1 %. */
export function pairedSummary(slowdowns: readonly number[]): PairedSlowdown {
  const sorted = [...slowdowns].sort((a, b) => a - b);
  const at = (p: number): number => round(percentile(sorted, p), 3);
  return { n: sorted.length, median: at(50), q1: at(25), q3: at(75) };
}

/**
 * The floor's worst median beside the runs without any webhook: a webhook that does nothing costs
 * Helm about nothing, so this says how far the medians move by chance in the same run.
 */
function floorSlowdownCell(r: E2eResults): string {
  const f = r.floor;
  if (!f) return '–';
  const ratios = r.releases.flatMap((x) => {
    const floor = sameRelease(f.releases, x);
    return floor ? [floor.upgradeMs.p50 / x.withoutWebhookMs.p50 - 1] : [];
  });
  if (ratios.length === 0) return '–';
  const worst = Math.max(...ratios);
  return `worst ${percent(worst)} (the floor's medians against the same runs without a webhook)`;
}

/** The object webhooks' latencies (Deployments and Namespaces). */
function objectHooks(latencies: Record<string, WebhookLatency>): Array<[string, WebhookLatency]> {
  return Object.entries(latencies).filter(([k]) => /^(deployments|namespaces)\./.test(k));
}

/** The release webhook's latencies in the large-release runs. */
function largeCreates(runs: ReadonlyArray<{ size: string; apiServer: Record<string, WebhookLatency> }>) {
  return runs
    .filter((x) => x.size === 'large')
    .flatMap((x) => Object.entries(x.apiServer).filter(([k]) => k.startsWith('releases.')));
}

const pair = (a: string | number | undefined, b: string | number | undefined): string =>
  `${a ?? '–'} / ${b ?? '–'}`;

/** One phase's webhook calls, gloo-guard's figures beside another run's (the floor, or the run before). */
function pairedRows(
  what: string,
  mine: Record<string, WebhookLatency>,
  other: Record<string, WebhookLatency> | undefined,
): string[] {
  return Object.entries(mine)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, l]) => {
      const o = other?.[key];
      return (
        `| ${what} | ${key} | ${pair(l.calls, o?.calls)} | ${pair(l.p50Ms, o?.p50Ms)} | ${pair(l.p99Ms, o?.p99Ms)} | ` +
        `${pair(share(l, 5), share(o, 5))} | ${pair(share(l, 25), share(o, 25))} | ${pair(share(l, 100), share(o, 100))} |`
      );
    });
}

const PAIRED_HEAD = [
  '| phase | webhook and operation | calls | p50 ms | p99 ms | ≤ 5 ms | ≤ 25 ms | ≤ 100 ms |',
  '|---|---|--:|--:|--:|--:|--:|--:|',
];

type Objects = E2eResults['objects'];

/** A run's object phases: several writes at a time, then one at a time where it was measured. */
function objectRuns(r: { objects: Objects; objectsOneAtATime?: Objects } | undefined): Objects[] {
  if (!r) return [];
  return r.objectsOneAtATime ? [r.objects, r.objectsOneAtATime] : [r.objects];
}

/** The object phase's label: how many objects, and how many writes at a time. */
const objectsLabel = (o: Objects): string =>
  `${o.writes.deployments} Deployments, ${o.writes.namespaces} Namespaces, ${o.writes.concurrency} at a time`;

/** Each object phase's rows beside the other run's phase with the same concurrency. */
function pairedObjectRows(
  mine: { objects: Objects; objectsOneAtATime?: Objects },
  other: { objects: Objects; objectsOneAtATime?: Objects } | undefined,
): string[] {
  return objectRuns(mine).flatMap((o) => {
    const same = objectRuns(other).find((x) => x.writes.concurrency === o.writes.concurrency);
    return pairedRows(objectsLabel(o), o.apiServer, same?.apiServer);
  });
}

const releaseLabel = (x: { helm: string; size: string }): string => `helm ${x.helm} ${x.size} release`;

/** The matching run of the same Helm and size in another list. */
function sameRelease<T extends { helm: string; size: string }>(
  xs: readonly T[] | undefined,
  x: Release,
): T | undefined {
  return xs?.find((y) => y.helm === x.helm && y.size === x.size);
}

/** Every phase's webhook calls of this run beside another's (the floor, or the run before). */
function pairedTable(
  r: E2eResults,
  other: Pick<E2eResults, 'objects' | 'objectsOneAtATime'> & {
    releases: ReadonlyArray<{ helm: string; size: string; apiServer: Record<string, WebhookLatency> }>;
  },
): string[] {
  return [
    ...PAIRED_HEAD,
    ...pairedObjectRows(r, other),
    ...r.releases.flatMap((x) =>
      pairedRows(releaseLabel(x), x.apiServer, sameRelease(other.releases, x)?.apiServer),
    ),
  ];
}

/** gloo-guard beside the bare limit server registered in its place, the same writes and upgrades. */
function renderFloor(r: E2eResults): string[] {
  const f = r.floor;
  if (!f) return [];
  return [
    '## gloo-guard beside the floor: the bare limit server in its place',
    '',
    "The same writes (new objects) and upgrades, with `bench/limit-server.ts` registered under the chart's",
    'configuration (only the URLs moved): it parses the review and allows it, and decodes a release the',
    'cheapest way, with no policies, limits, metrics or logs. Each cell is gloo-guard / floor.',
    '',
    ...pairedTable(r, f),
    '',
    '| helm | release | upgrade median ms, gloo-guard / floor | waited ms per upgrade, gloo-guard / floor |',
    '|---|---|--:|--:|',
    ...r.releases.map((x) => {
      const fx = sameRelease(f.releases, x);
      return `| ${x.helm} | ${x.size} | ${pair(x.withWebhookMs.p50, fx?.upgradeMs.p50)} | ${pair(x.waitedMs, fx?.waitedMs)} |`;
    }),
    '',
  ];
}

/** This run beside the run before it (bench/results/e2e-previous.json). */
function renderBefore(r: E2eResults, before: E2eResults | undefined): string[] {
  if (!before) return [];
  return [
    '## Now and before',
    '',
    `Before: ${before.generatedAt.slice(0, 16).replace('T', ' ')} UTC on commit ${before.commit}, load average ${before.objects.loadAverage.start} (bench/results/e2e-previous.json). Each cell is now / before.`,
    '',
    ...pairedTable(r, before),
    '',
    '| helm | release | slower with the webhook (paired median where the runs were interleaved), now / before |',
    '|---|---|--:|',
    ...r.releases.map((x) => {
      const b = sameRelease(before.releases, x);
      return `| ${x.helm} | ${x.size} | ${pair(percent(judgedSlowdown(x)), b && percent(judgedSlowdown(b)))} |`;
    }),
    '',
  ];
}

/** The webhook's garbage collection in each phase: pauses on its one thread, in no review's own timing. */
function gcRows(phases: ReadonlyArray<{ label: string; gc: GcPauses | undefined }>): string[] {
  return captioned(
    "The webhook's garbage collection meanwhile (prom-client's `nodejs_gc_duration_seconds`):",
    '| phase | kind | pauses | total ms | over 1 ms | over 10 ms |',
    phases.flatMap(({ label, gc }) =>
      Object.entries(gc ?? {}).map(
        ([kind, g]) => `| ${label} | ${kind} | ${g.count} | ${g.totalMs} | ${g.over1Ms} | ${g.over10Ms} |`,
      ),
    ),
  );
}

/** The GC pauses of all kinds together: how many, how long in all, and how many over 10 ms. */
function gcTotals(gc: GcPauses): { count: number; totalMs: number; over10Ms: number } {
  const all = Object.values(gc);
  const sum = (f: (g: GcPauses[string]) => number): number => all.reduce((n, g) => n + f(g), 0);
  return {
    count: sum((g) => g.count),
    totalMs: Math.round(sum((g) => g.totalMs) * 100) / 100,
    over10Ms: sum((g) => g.over10Ms),
  };
}

type Step = NonNullable<Objects['steps']>[string];

/** One server's row for one kind of write: its CPU and wait for a CPU, then (gloo-guard) its loop and GC. */
function stepRow(label: string, write: string, server: string, st: Step): string {
  const dash = '–';
  const g = st.gc ? gcTotals(st.gc) : undefined;
  const cells = [
    st.sched?.cpuMs ?? dash,
    st.sched?.waitMs ?? dash,
    st.loop?.longestMs ?? dash,
    st.loop?.p99Ms ?? dash,
    g?.count ?? dash,
    g?.totalMs ?? dash,
    g?.over10Ms ?? dash,
  ];
  return `| ${label} | ${write} | ${server} | ${cells.join(' | ')} |`;
}

/**
 * Each kind of write in each object phase, gloo-guard beside the floor of the same concurrency: the
 * server's CPU and its wait for one, and gloo-guard's longest event-loop tick and GC meanwhile.
 */
function stepRows(runs: readonly Objects[], floorRuns: readonly Objects[]): string[] {
  return captioned(
    'Each server during each kind of write: the CPU it used and the time it was ready to run but waited for a CPU ' +
      "(all its threads, from /proc/PID/task/*/schedstat), and gloo-guard's event loop and GC (prom-client's " +
      '`nodejs_eventloop_lag_max_seconds` and `_p99_seconds`, a timer every 10 ms: a 10 ms tick is a loop that never ' +
      "waited; a review that arrives while the loop is held waits in the socket, unseen by the webhook's own histogram):",
    '| phase | write | server | CPU ms | waited for a CPU ms | longest tick ms | p99 tick ms | GC pauses | GC ms in all | GC pauses over 10 ms |',
    runs.flatMap((o) => {
      const floor = floorRuns.find((f) => f.writes.concurrency === o.writes.concurrency);
      return Object.entries(o.steps ?? {}).flatMap(([write, st]) => {
        const f = floor?.steps?.[write];
        return [
          stepRow(objectsLabel(o), write, 'gloo-guard', st),
          ...(f ? [stepRow(objectsLabel(o), write, 'floor', f)] : []),
        ];
      });
    }),
  );
}

/** The release reviews as the webhook itself timed them, per run. */
function releaseServerRows(releases: readonly Release[]): string[] {
  return captioned(
    'The release reviews as the webhook timed them (its own histogram, arrival to answer):',
    '| run | kind | calls | p50 ms | p99 ms | ≤ 10 ms | ≤ 25 ms | ≤ 100 ms |',
    releases.flatMap((x) =>
      Object.entries(x.server ?? {}).map(
        ([k, l]) =>
          `| ${releaseLabel(x)} | ${k} | ${l.calls} | ${l.p50Ms} | ${l.p99Ms} | ${under(l, 10)} | ${under(l, 25)} | ${under(l, 100)} |`,
      ),
    ),
  );
}

/** The slowdown a run is judged by: the paired median when the runs were interleaved, else the medians'. */
function judgedSlowdown(x: Release): number {
  return x.paired?.median ?? x.slowdown;
}

/** The API server's wait on a webhook per upgrade as a share of the median upgrade without any webhook. */
function waitedShare(waitedMs: number | undefined, without: LatencySummary): number | undefined {
  return waitedMs === undefined ? undefined : waitedMs / without.p50;
}

function waitedCell(waitedMs: number | undefined, without: LatencySummary): string {
  const share = waitedShare(waitedMs, without);
  return share === undefined ? '–' : `${waitedMs} (${percent(share)})`;
}

/**
 * The `helm upgrade` target. Where the API server's wait on the webhook was read, that decides: a
 * whole upgrade's wall clock moves by more than 5 % by chance here (the floor's medians say how far).
 * Runs before it was read are judged on the wall clock.
 */
function helmTarget(r: E2eResults): string {
  const wall = Math.max(...r.releases.map(judgedSlowdown));
  const wallText = `worst ${percent(wall)}${r.releases.every((x) => x.paired) ? ' (paired medians)' : ''}`;
  const shares = r.releases.map((x) => waitedShare(x.waitedMs, x.withoutWebhookMs));
  const row = (mine: string, floor: string, value: number): string =>
    `| helm upgrade ≤ 5 % slower with the webhook | ${mine} | ${floor} | ${value <= 0.05 ? 'pass' : '**miss**'} |`;
  if (shares.some((v) => v === undefined)) return row(wallText, floorSlowdownCell(r), wall);
  const floorShares = r.releases.flatMap((x) => {
    const f = r.floor && sameRelease(r.floor.releases, x);
    const v = f && waitedShare(f.waitedMs, x.withoutWebhookMs);
    return v === undefined ? [] : [v];
  });
  const floorWaited = floorShares.length > 0 ? `waited on worst ${percent(Math.max(...floorShares))}; ` : '';
  const worst = Math.max(...shares.map((v) => v ?? 0));
  return row(
    `the API server waited on it worst ${percent(worst)} of an upgrade; wall clock ${wallText}`,
    `${floorWaited}${floorSlowdownCell(r)}`,
    worst,
  );
}

/** The paired slowdown as a cell: median and quartiles, or a dash for a run before interleaving. */
function pairedCell(x: Release): string {
  const p = x.paired;
  return p ? `${percent(p.median)} (${percent(p.q1)} to ${percent(p.q3)}, ${p.n} pairs)` : '–';
}

/** Renders the run as Markdown. */
export function renderE2e(r: E2eResults, before?: E2eResults): string {
  const o = r.objects;
  const lines = [
    `# gloo-guard through the real API server and Helm (${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${r.commit})`,
    '',
    `\`npm run bench:e2e\`, ${r.durationSec} s. Load average (1, 5, 15 min) at the start of the object writes: ${o.loadAverage.start}.`,
    "Latency is the API server's own `apiserver_admission_webhook_admission_duration_seconds`; p50/p99 are",
    'interpolated within its buckets (5, 25, 100, 500 ms ...), so the shares at or under each bound are the facts.',
    ...(r.method?.cgroups ? [`Processes: ${r.method.cgroups}.`] : []),
    '',
    '## Webhook calls as the API server timed them',
    '',
    '| phase | webhook and operation | calls | p50 ms | p99 ms | ≤ 5 ms | ≤ 25 ms | ≤ 100 ms |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    ...objectRuns(r).flatMap((x) => webhookRows(objectsLabel(x), x.apiServer)),
    ...r.releases.flatMap((x) =>
      webhookRows(`helm ${x.helm} ${x.size} release (${(x.secretBytes / 1024).toFixed(1)} KiB)`, x.apiServer),
    ),
    '',
    ...serverRows(objectRuns(r)),
    ...releaseServerRows(r.releases),
    ...gcRows([
      ...objectRuns(r).map((o) => ({ label: objectsLabel(o), gc: o.gc })),
      ...r.releases.map((x) => ({ label: releaseLabel(x), gc: x.gc })),
    ]),
    ...stepRows(objectRuns(r), objectRuns(r.floor)),
    `Client-side write times (ms, concurrency ${o.writes.concurrency}; only Deployments and Namespaces in gloo-mesh and gloo-mesh-addons reach the webhook, the chart's matchConditions keep the rest away):`,
    '',
    '| write | n | p50 | p99 | max |',
    '|---|--:|--:|--:|--:|',
    ...Object.entries(o.clientMs).map(([k, s]) => `| ${k} | ${s.count} | ${s.p50} | ${s.p99} | ${s.max} |`),
    '',
    '## helm upgrade, with the webhook and without it',
    '',
    'Runs with and without the webhook are interleaved: each run without it sits between two with it.',
    '"Paired" is the median, over those runs, of the mean of its two neighbours over it, minus 1 (quartiles in brackets).',
    '',
    '"Waited" is how long the API server waited on the webhook per upgrade, all its calls together (the `_sum` of',
    "its histogram over the upgrades with it), and that time's share of the median upgrade without it: what the",
    'webhook can add to an upgrade, without the noise of timing a whole `helm upgrade` on a shared machine.',
    '',
    '| helm | release | Secret KiB | with: n, median ms | without: n, median ms | slower by (medians) | slower by (paired) | waited ms (share) | load at end |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
    ...r.releases.map(
      (x) =>
        `| ${x.helm} | ${x.size} | ${(x.secretBytes / 1024).toFixed(1)} | ${x.withWebhookMs.count}, ${x.withWebhookMs.p50} | ` +
        `${x.withoutWebhookMs.count}, ${x.withoutWebhookMs.p50} | ${percent(x.slowdown)} | ${pairedCell(x)} | ` +
        `${waitedCell(x.waitedMs, x.withoutWebhookMs)} | ${x.loadAverage.end} |`,
    ),
    '',
    '## Targets (issue 17 item 2)',
    '',
    '| target | gloo-guard | floor (bare limit server) | result |',
    '|---|---|---|---|',
    ...objectRuns(r).map((x) => {
      const floor = objectRuns(r.floor).find((y) => y.writes.concurrency === x.writes.concurrency);
      return target(
        `Deployment and Namespace webhooks p99 < 10 ms, ${x.writes.concurrency} at a time`,
        objectHooks(x.apiServer),
        floor && objectHooks(floor.apiServer),
        10,
      );
    }),
    target(
      '~1 MiB release p99 < 100 ms',
      largeCreates(r.releases),
      r.floor && largeCreates(r.floor.releases),
      100,
    ),
    helmTarget(r),
    '',
    ...renderFloor(r),
    ...renderBefore(r, before),
    ...(r.scale ? renderScale(r.scale) : []),
  ];
  return lines.join('\n');
}

/** One --scale N run, as test/e2e/scale/cache-20k.ts prints it (plus the commit and load bench:e2e adds). */
interface ScaleRun {
  deployments: number;
  minutes: number;
  commit?: string;
  loadAverageAtStart?: number[];
  firstSyncMs: number;
  rssAtReadyMb: number;
  rssMb: { min: number; max: number };
  deploymentLists: number;
  reviewMs: { n: number; p50: number; p99: number };
  /** The same reviews as the webhook's own histogram timed them (runs before this column: absent). */
  serverReviewMs?: { p50Ms: number; p99Ms: number; atOrUnder: Record<string, number> };
}

/** The server's own p50 / p99 and its share of reviews answered within 10 ms, or a dash for older runs. */
function serverCell(x: ScaleRun): string {
  const s = x.serverReviewMs;
  if (!s) return '–';
  const within10 = s.atOrUnder['10'];
  return `${s.p50Ms} / ${s.p99Ms}${within10 === undefined ? '' : ` (${percent(within10)} ≤ 10 ms)`}`;
}

/** The cluster view at scale: one row per number of Deployments, the growth read across the rows. */
function renderScale(scale: Record<string, unknown>): string[] {
  const runs = Object.values(scale as Record<string, ScaleRun>).sort((a, b) => a.deployments - b.deployments);
  return [
    '## The cluster view at scale (`npm run bench:e2e -- --scale N`, test/e2e/scale/cache-20k.ts)',
    '',
    'Review latency is timed twice: by the probing client (TLS round trip on a machine shared with the API server, etcd and the',
    "churn writers) and by the webhook's own `gloo_guard_admission_duration_seconds` histogram (arrival to answer, interpolated",
    'within its buckets 0.5, 1, 2.5, 5, 10, 25 ms ...).',
    '',
    '| Deployments | start to serving, synced ms | RSS at ready MiB | RSS under churn MiB | full lists | client review p50 / p99 ms (n) | server review p50 / p99 ms | commit | load average at start |',
    '|--:|--:|--:|--:|--:|--:|--:|---|---|',
    ...runs.map(
      (x) =>
        `| ${x.deployments} | ${x.firstSyncMs} | ${x.rssAtReadyMb} | ${x.rssMb.min}-${x.rssMb.max} | ${x.deploymentLists} | ` +
        `${x.reviewMs.p50} / ${x.reviewMs.p99} (${x.reviewMs.n}) | ${serverCell(x)} | ${x.commit ?? '–'} | ${x.loadAverageAtStart?.join(' ') ?? '–'} |`,
    ),
    '',
    ...growth(runs),
  ];
}

/** The least-squares line through (x, y): its value at 0 and its slope. */
export function fitLine(points: ReadonlyArray<[number, number]>): { at0: number; slope: number } {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  return { at0: my - slope * mx, slope };
}

/** How start-up and RSS at ready grow per 1,000 Deployments, fitted over the runs (two or more sizes). */
function growth(runs: readonly ScaleRun[]): string[] {
  if (new Set(runs.map((x) => x.deployments)).size < 2) return [];
  const per1000 = (y: (x: ScaleRun) => number): { at0: number; slope: number } =>
    fitLine(runs.map((x) => [x.deployments / 1000, y(x)]));
  const rss = per1000((x) => x.rssAtReadyMb);
  const start = per1000((x) => x.firstSyncMs);
  return [
    `Fitted over these runs (least squares): RSS at ready ${rss.at0.toFixed(0)} MiB + ${rss.slope.toFixed(1)} MiB per 1,000 Deployments; ` +
      `start to serving ${(start.at0 / 1000).toFixed(2)} s + ${(start.slope / 1000).toFixed(3)} s per 1,000 (start-up varies with the load average beside it).`,
    '',
  ];
}
