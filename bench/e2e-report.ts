/** The Markdown of a `npm run bench:e2e` run (bench/results/e2e.md), with the issue's targets. */
import type { WebhookLatency } from './apiserver-metrics.js';
import type { LatencySummary } from './stats.js';

/** What bench/e2e.ts writes to bench/results/e2e.json (the parts the report reads). */
export interface E2eResults {
  generatedAt: string;
  durationSec: number;
  commit: string;
  objects: {
    loadAverage: { start: string; end: string };
    writes: { deployments: number; namespaces: number; concurrency: number };
    clientMs: Record<string, LatencySummary>;
    apiServer: Record<string, WebhookLatency>;
    /** The same reviews as the webhook timed them (its own histogram, by kind); absent in runs before it was read. */
    server?: Record<string, WebhookLatency>;
  };
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
    apiServer: Record<string, WebhookLatency>;
  }>;
}

const under = (l: WebhookLatency, ms: number): string => {
  const share = l.atOrUnder[String(ms)];
  return share === undefined ? '–' : `${(share * 100).toFixed(1)}%`;
};

function webhookRows(what: string, latencies: Record<string, WebhookLatency>): string[] {
  return Object.entries(latencies)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([key, l]) =>
        `| ${what} | ${key} | ${l.calls} | ${l.p50Ms} | ${l.p99Ms} | ${under(l, 5)} | ${under(l, 25)} | ${under(l, 100)} |`,
    );
}

/** The webhook's own timing of the same reviews: what of the API server's time was gloo-guard's. */
function serverRows(server: Record<string, WebhookLatency> | undefined): string[] {
  if (!server) return [];
  const cell = (l: WebhookLatency, ms: number): string =>
    `${((l.atOrUnder[String(ms)] ?? 0) * 100).toFixed(1)}%`;
  return [
    'The same object reviews as the webhook timed them (its own `gloo_guard_admission_duration_seconds`, arrival to answer, buckets 0.5, 1, 2.5, 5, 10, 25 ms ...):',
    '',
    '| kind | calls | p50 ms | p99 ms | ≤ 1 ms | ≤ 5 ms | ≤ 10 ms |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...Object.entries(server)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([k, l]) =>
          `| ${k} | ${l.calls} | ${l.p50Ms} | ${l.p99Ms} | ${cell(l, 1)} | ${cell(l, 5)} | ${cell(l, 10)} |`,
      ),
    '',
  ];
}

/** Whether every call of the matching webhooks was at or under `ms` (the histogram can tell no finer). */
function target(label: string, latencies: Array<[string, WebhookLatency]>, ms: number): string {
  if (latencies.length === 0) return `| ${label} | no calls | not measured |`;
  const p99 = Math.max(...latencies.map(([, l]) => l.p99Ms));
  return `| ${label} | p99 ${p99} ms (interpolated) | ${p99 < ms ? 'pass' : '**miss**'} |`;
}

/** Renders the run as Markdown. */
export function renderE2e(r: E2eResults): string {
  const o = r.objects;
  const objectHooks = Object.entries(o.apiServer).filter(([k]) => /^(deployments|namespaces)\./.test(k));
  const largeCreates = r.releases
    .filter((x) => x.size === 'large')
    .flatMap((x) => Object.entries(x.apiServer).filter(([k]) => k.startsWith('releases.')));
  const worstSlowdown = Math.max(...r.releases.map((x) => x.slowdown));
  const lines = [
    `# gloo-guard through the real API server and Helm (${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${r.commit})`,
    '',
    `\`npm run bench:e2e\`, ${r.durationSec} s. Load average (1, 5, 15 min) at the start of the object writes: ${o.loadAverage.start}.`,
    "Latency is the API server's own `apiserver_admission_webhook_admission_duration_seconds`; p50/p99 are",
    'interpolated within its buckets (5, 25, 100, 500 ms ...), so the shares at or under each bound are the facts.',
    '',
    '## Webhook calls as the API server timed them',
    '',
    '| phase | webhook and operation | calls | p50 ms | p99 ms | ≤ 5 ms | ≤ 25 ms | ≤ 100 ms |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    ...webhookRows(`${o.writes.deployments} Deployments, ${o.writes.namespaces} Namespaces`, o.apiServer),
    ...r.releases.flatMap((x) =>
      webhookRows(`helm ${x.helm} ${x.size} release (${(x.secretBytes / 1024).toFixed(1)} KiB)`, x.apiServer),
    ),
    '',
    ...serverRows(o.server),
    `Client-side write times (ms, concurrency ${o.writes.concurrency}; only Deployments and Namespaces in gloo-mesh and gloo-mesh-addons reach the webhook, the chart's matchConditions keep the rest away):`,
    '',
    '| write | n | p50 | p99 | max |',
    '|---|--:|--:|--:|--:|',
    ...Object.entries(o.clientMs).map(([k, s]) => `| ${k} | ${s.count} | ${s.p50} | ${s.p99} | ${s.max} |`),
    '',
    '## helm upgrade, with the webhook and without it',
    '',
    '| helm | release | Secret KiB | with: n, median ms | without: n, median ms | slower by | load at end |',
    '|---|---|--:|--:|--:|--:|---|',
    ...r.releases.map(
      (x) =>
        `| ${x.helm} | ${x.size} | ${(x.secretBytes / 1024).toFixed(1)} | ${x.withWebhookMs.count}, ${x.withWebhookMs.p50} | ` +
        `${x.withoutWebhookMs.count}, ${x.withoutWebhookMs.p50} | ${(x.slowdown * 100).toFixed(1)}% | ${x.loadAverage.end} |`,
    ),
    '',
    '## Targets (issue 17 item 2)',
    '',
    '| target | measured | result |',
    '|---|---|---|',
    target('Deployment and Namespace webhooks p99 < 10 ms', objectHooks, 10),
    target('~1 MiB release p99 < 100 ms', largeCreates, 100),
    `| helm upgrade ≤ 5 % slower with the webhook | worst ${(worstSlowdown * 100).toFixed(1)}% | ${worstSlowdown <= 0.05 ? 'pass' : '**miss**'} |`,
    '',
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
  return `${s.p50Ms} / ${s.p99Ms}${within10 === undefined ? '' : ` (${(within10 * 100).toFixed(1)}% ≤ 10 ms)`}`;
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
  ];
}
