/** Turns a run's measurements into bench/results: the JSON record, a Markdown table and the SVG chart. */
import { renderLatencyChart, type ChartPanel } from './chart.js';
import type { Paired } from './paired.js';
import type { VerdictKey } from './parity.js';
import type { Plan, ServerName } from './plan.js';
import type { ReviewName } from './reviews.js';
import type { BombResult, InFlightResult, MixedResult, Point, PreflightResult } from './scenarios.js';
import { ratio } from './stats.js';

/** Everything measured about one server. */
export interface ServerRun {
  name: ServerName;
  label: string;
  color: string;
  command: string;
  startupMs: number;
  idleRssMiB: number;
  /** VmHWM when the server stopped: its peak over the whole run. */
  lifetimePeakRssMiB: number;
  preflight: Record<string, PreflightResult>;
  curves: Partial<Record<ReviewName, Point[]>>;
  mixed?: MixedResult;
}

/** One row of the summary table. */
export interface SummaryRow {
  review: ReviewName;
  server: ServerName;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  singleP50: number | null;
  singleP99: number | null;
  peakRssMiB: number;
  /** The server's CPU µs per review at the headline point (absent in runs before it was recorded). */
  cpuUsPerReview?: number;
  serverCoreBusy: number;
  driverCoreBusy: number;
  rpsVsLimit: number | null;
  rpsVsOpa: number | null;
}

/** A target of issue 7 and whether this run met it. */
export interface TargetResult {
  id: string;
  target: string;
  measured: string;
  pass: boolean | null;
}

/** The whole record of a run (bench/results/latest.json). */
export interface Results {
  schema: 1;
  mode: Plan['mode'];
  generatedAt: string;
  durationSec: number;
  machine: Record<string, string | number>;
  method: Record<string, string>;
  plan: Plan;
  reviews: Record<string, { bodyBytes: number; secretBytes?: number; releaseJsonBytes?: number }>;
  servers: Partial<Record<ServerName, ServerRun>>;
  parity: { cases: number; mismatches: Array<{ case: string; glooGuard: VerdictKey; opa: VerdictKey }> };
  memory: Partial<Record<ServerName, { inFlight?: InFlightResult; gzipBomb?: BombResult }>>;
  summary: SummaryRow[];
  targets: TargetResult[];
  notes: string[];
  /** Kyverno beside gloo-guard on the releases OPA cannot judge (absent in runs before it was added). */
  kyverno?: KyvernoSummary;
  /** gloo-guard and the limit taking turns, round after round (absent in runs before it was added). */
  paired?: Paired;
}

/** Kyverno's and gloo-guard's in-process p50 on the release reviews (bench/results/kyverno.md has the rest), or why Kyverno did not run. */
export type KyvernoSummary =
  | {
      ran: true;
      version: string;
      rows: Array<{ review: string; glooGuardP50Ms: number; kyvernoP50Ms: number }>;
      parityCases: number;
      parityDiffer: number;
    }
  | { ran: false; reason: string };

function kyvernoLines(k: KyvernoSummary | undefined): string[] {
  if (k === undefined) return [];
  if (!k.ran) return [`Kyverno: not run (${k.reason}).`, ''];
  return [
    `Kyverno ${k.version} judges releases (a CEL ValidatingPolicy that decodes them), in process on core 1, same Secrets; ` +
      `parity ${k.parityCases - k.parityDiffer} of ${k.parityCases} (bench/results/kyverno.md):`,
    '',
    '| review | gloo-guard p50 ms | Kyverno p50 ms | Kyverno / gloo-guard |',
    '|---|--:|--:|--:|',
    ...k.rows.map(
      (x) =>
        `| ${x.review} | ${fmt(x.glooGuardP50Ms, 3)} | ${fmt(x.kyvernoP50Ms, 3)} | ${fmt(x.kyvernoP50Ms / x.glooGuardP50Ms)} |`,
    ),
    '',
  ];
}

const REVIEWS: ReviewName[] = ['deployment', 'namespace', 'release-small', 'release-large'];
const SERVERS: ServerName[] = ['gloo-guard', 'limit', 'opa'];

/** The point of a curve at `connections`, or the last one when it was not measured. */
export function pointAt(points: readonly Point[] | undefined, connections: number): Point | undefined {
  if (points === undefined || points.length === 0) return undefined;
  return points.find((p) => p.connections === connections) ?? points[points.length - 1];
}

/** A point counts as saturated when the server's core was this busy. */
export const SATURATED_CORE = 0.95;

/**
 * Saturation throughput of a curve: the median RPS of its saturated points (one point alone is noisy
 * on a shared VM), or the RPS at the headline connection count when none was saturated.
 */
export function saturationRps(points: readonly Point[] | undefined, headline: number): number | undefined {
  if (points === undefined || points.length === 0) return undefined;
  const sat = points
    .filter((p) => p.serverCoreBusy >= SATURATED_CORE && p.connections > 1)
    .map((p) => p.rps)
    .sort((a, b) => a - b);
  if (sat.length === 0) return pointAt(points, headline)?.rps;
  const mid = Math.floor(sat.length / 2);
  return sat.length % 2 === 1 ? sat[mid] : ((sat[mid - 1] ?? 0) + (sat[mid] ?? 0)) / 2;
}

/** One summary row per server and review, with throughput ratios against the limit and OPA at saturation. */
export function summarizeRuns(servers: Results['servers'], saturation: number): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const review of REVIEWS) {
    const limitRps = saturationRps(servers.limit?.curves[review], saturation);
    const opaRps = saturationRps(servers.opa?.curves[review], saturation);
    for (const name of SERVERS) {
      const curve = servers[name]?.curves[review];
      const sat = pointAt(curve, saturation);
      const rps = saturationRps(curve, saturation);
      if (sat === undefined || rps === undefined) continue;
      const single = curve?.find((p) => p.connections === 1);
      rows.push({
        review,
        server: name,
        connections: sat.connections,
        rps: Math.round(rps * 10) / 10,
        p50: sat.latency.p50,
        p99: sat.latency.p99,
        max: sat.latency.max,
        singleP50: single?.latency.p50 ?? null,
        singleP99: single?.latency.p99 ?? null,
        peakRssMiB: Math.max(...(curve ?? []).map((p) => p.peakRssMiB)),
        ...(Number.isFinite(sat.cpuUsPerReview) ? { cpuUsPerReview: sat.cpuUsPerReview } : {}),
        serverCoreBusy: sat.serverCoreBusy,
        driverCoreBusy: sat.driverCoreBusy,
        rpsVsLimit: name === 'limit' ? null : ratio(rps, limitRps),
        rpsVsOpa: name === 'opa' ? null : ratio(rps, opaRps),
      });
    }
  }
  return rows;
}

function row(rows: readonly SummaryRow[], review: ReviewName, server: ServerName): SummaryRow | undefined {
  return rows.find((r) => r.review === review && r.server === server);
}

/**
 * gloo-guard's throughput over the limit's on a review: the median of the paired rounds when the run
 * has them (the sweeps run minutes apart, and the machine's speed drifts), else the sweeps' ratio.
 */
export function vsLimit(
  r: Pick<Results, 'summary' | 'paired'>,
  review: ReviewName,
): number | null | undefined {
  return r.paired?.[review]?.medianRatio ?? row(r.summary, review, 'gloo-guard')?.rpsVsLimit;
}

function atLeast(id: string, target: string, value: number | null | undefined, min: number): TargetResult {
  return {
    id,
    target,
    measured: value === null || value === undefined ? 'not measured' : String(value),
    pass: value === null || value === undefined ? null : value >= min,
  };
}

function below(
  id: string,
  target: string,
  value: number | null | undefined,
  max: number,
  unit: string,
): TargetResult {
  return {
    id,
    target,
    measured:
      value === null || value === undefined || !Number.isFinite(value) ? 'not measured' : `${value} ${unit}`,
    pass: value === null || value === undefined || !Number.isFinite(value) ? null : value < max,
  };
}

/** Bomb tolerance: the bomb's own body and its parse; anything from inflating it is far above this. */
export const BOMB_TOLERANCE_MIB = 16;
/** Issue 7's memory bound with 50 large releases in flight. */
export const IN_FLIGHT_LIMIT_MIB = 300;

/** Checks the run against the targets of issue 7. */
export function evaluateTargets(
  r: Pick<Results, 'summary' | 'servers' | 'memory' | 'paired'>,
): TargetResult[] {
  const s = r.summary;
  const gg = r.servers['gloo-guard'];
  return [
    atLeast('deployment-vs-limit', 'Deployment RPS >= 0.8 x limit', vsLimit(r, 'deployment'), 0.8),
    atLeast(
      'deployment-vs-opa',
      'Deployment RPS >= 1.0 x OPA',
      row(s, 'deployment', 'gloo-guard')?.rpsVsOpa,
      1,
    ),
    atLeast('namespace-vs-limit', 'Namespace RPS >= 0.8 x limit', vsLimit(r, 'namespace'), 0.8),
    atLeast('namespace-vs-opa', 'Namespace RPS >= 1.0 x OPA', row(s, 'namespace', 'gloo-guard')?.rpsVsOpa, 1),
    atLeast('large-vs-limit', 'large release RPS >= 0.9 x limit', vsLimit(r, 'release-large'), 0.9),
    atLeast(
      'large-beats-limit',
      'large release RPS > 1.0 x limit (stretch: decode less)',
      vsLimit(r, 'release-large'),
      1.0001,
    ),
    below(
      'large-single-p99',
      'large release p99 at 1 connection < 100 ms',
      row(s, 'release-large', 'gloo-guard')?.singleP99,
      100,
      'ms',
    ),
    below(
      'mixed-small-p99',
      'Deployment/Namespace p99 under saturating large releases < 20 ms',
      gg?.mixed?.underLoad.p99,
      20,
      'ms',
    ),
    below(
      'memory-in-flight',
      `peak RSS with 50 large releases in flight < ${IN_FLIGHT_LIMIT_MIB} MiB`,
      r.memory['gloo-guard']?.inFlight?.peakRssMiB,
      IN_FLIGHT_LIMIT_MIB,
      'MiB',
    ),
    below(
      'gzip-bomb',
      `gzip bombs move RSS past ordinary large releases by < ${BOMB_TOLERANCE_MIB} MiB`,
      r.memory['gloo-guard']?.gzipBomb?.beyondOrdinaryMiB,
      BOMB_TOLERANCE_MIB,
      'MiB',
    ),
  ];
}

/** A figure as the tables print it: 3 significant-ish digits, "–" when absent. */
export function fmt(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n >= 100 ? String(Math.round(n)) : String(Number(n.toFixed(digits)));
}

function kb(n: number | undefined): string {
  if (n === undefined) return '';
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

/** The paired rounds as a table; the targets against the limit are judged by their medians. */
function pairedLines(p: Paired | undefined): string[] {
  const rows = Object.entries(p ?? {});
  if (rows.length === 0) return [];
  return [
    'gloo-guard and the limit taking turns (both running, one load run each per round, the order swapped every round). ' +
      "The sweeps above measure one server after the other, minutes apart, and the machine's speed drifts in between; " +
      'the targets against the limit are judged by these medians:',
    '',
    '| review | connections × s | rounds: gloo-guard / limit | median |',
    '|---|--:|---|--:|',
    ...rows.map(
      ([review, x]) =>
        `| ${review} | ${x.connections} × ${x.sec} | ${x.rounds.map((r) => fmt(r.ratio, 3)).join(', ')} | ${fmt(x.medianRatio, 3)} |`,
    ),
    '',
  ];
}

/** The short Markdown report (bench/results/latest.md). */
export function renderMarkdown(r: Results): string {
  const lines = [
    `# gloo-guard benchmark (${r.mode} run, ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `${r.machine.cpu}, ${r.machine.cores} cores; Node ${r.machine.node}; OPA ${r.machine.opa}. ` +
      `Server on core 1, load (autocannon, HTTPS keep-alive) on core 0. ` +
      `RPS: median over the points where the server's core was saturated; latency at ${r.plan.saturationConnections} connections; ` +
      `"1 conn": one request at a time.`,
    '',
    '| review | server | RPS | p50 ms | p99 ms | max ms | p50 / p99 ms at 1 conn | peak RSS MiB | CPU µs / review | vs limit | vs OPA |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const x of r.summary) {
    lines.push(
      `| ${x.review} | ${x.server} | ${fmt(x.rps)} | ${fmt(x.p50)} | ${fmt(x.p99)} | ${fmt(x.max)} | ` +
        `${fmt(x.singleP50)} / ${fmt(x.singleP99)} | ${fmt(x.peakRssMiB, 0)} | ${fmt(x.cpuUsPerReview ?? null, 0)} | ${fmt(x.rpsVsLimit)} | ${fmt(x.rpsVsOpa)} |`,
    );
  }
  lines.push('', 'OPA cannot gunzip (no gzip built-in in Rego), so it has no release case.', '');
  lines.push(...pairedLines(r.paired));
  lines.push(...kyvernoLines(r.kyverno));
  const rev = r.reviews;
  lines.push(
    `Reviews: Deployment ${kb(rev.deployment?.bodyBytes)}, Namespace ${kb(rev.namespace?.bodyBytes)}, ` +
      `small release ${kb(rev['release-small']?.bodyBytes)} (Secret ${kb(rev['release-small']?.secretBytes)}), ` +
      `large release ${kb(rev['release-large']?.bodyBytes)} (Secret ${kb(rev['release-large']?.secretBytes)} of the 1 MiB limit, ` +
      `${kb(rev['release-large']?.releaseJsonBytes)} of JSON).`,
    '',
    '## Targets (issue 7)',
    '',
    '| target | measured | result |',
    '|---|--:|---|',
    ...r.targets.map(
      (t) =>
        `| ${t.target} | ${t.measured} | ${t.pass === null ? 'not measured' : t.pass ? 'pass' : '**miss**'} |`,
    ),
    '',
  );
  for (const name of ['gloo-guard', 'limit'] as const) {
    const m = r.servers[name]?.mixed;
    if (m) {
      lines.push(
        `Mixed (${name}): Deployment/Namespace at ${m.probeRate}/s: p50 ${fmt(m.baseline.p50)} / p99 ${fmt(m.baseline.p99)} ms alone, ` +
          `p50 ${fmt(m.underLoad.p50)} / p99 ${fmt(m.underLoad.p99)} / max ${fmt(m.underLoad.max)} ms while ${m.heavyConnections} connections ` +
          `send large releases (${fmt(m.heavy.rps)}/s).`,
      );
    }
    const mem = r.memory[name];
    if (mem?.inFlight) {
      const f = mem.inFlight;
      lines.push(
        `Memory (${name}): ${f.inFlight} large releases in flight: peak RSS ${fmt(f.peakRssMiB, 0)} MiB (${fmt(f.rssBeforeMiB, 0)} before), ` +
          `${f.answered} answered, ${f.errors + f.timeouts + f.non2xx} failed.`,
      );
    }
    if (mem?.gzipBomb) {
      const b = mem.gzipBomb;
      lines.push(
        `Gzip bomb (${name}): ${b.sent} bombs (Secret ${kb(b.secretBytes)}, expands to ${b.expandsToMiB} MiB): RSS ${fmt(b.rssBeforeMiB, 0)} -> ` +
          `peak ${fmt(b.peakRssMiB, 0)} -> ${fmt(b.rssAfterMiB, 0)} MiB, ${fmt(b.sequentialMs.p50)} ms each; ` +
          `ordinary large releases at the same concurrency peaked at ${fmt(b.ordinaryPeakMiB, 0)} MiB just before.`,
      );
    }
  }
  if (r.parity.cases > 0) {
    lines.push(
      '',
      `Rego parity: ${r.parity.cases} Namespace/Deployment cases, ${r.parity.mismatches.length} verdicts differ from gloo-guard's.`,
    );
  }
  for (const n of r.notes) lines.push('', n);
  lines.push('', '![latency against load](latest.svg)', '');
  return lines.join('\n');
}

const TITLES: Record<ReviewName, string> = {
  deployment: 'Deployment review',
  namespace: 'Namespace review',
  'release-small': 'small Helm release (~10 KB Secret)',
  'release-large': 'large Helm release (~1 MiB Secret)',
};

/** The latency-against-load chart of a run. */
export function renderChart(r: Results): string {
  const panels: ChartPanel[] = REVIEWS.map((review) => ({
    title: TITLES[review],
    ...(review.startsWith('release') ? { note: 'OPA: no release case (Rego cannot gunzip)' } : {}),
    series: SERVERS.flatMap((name) => {
      const s = r.servers[name];
      const curve = s?.curves[review];
      if (!s || !curve) return [];
      return [
        {
          name: s.label,
          color: s.color,
          points: curve.map((p) => ({
            rps: p.rps,
            p50: p.latency.p50,
            p99: p.latency.p99,
            label: String(p.connections),
          })),
        },
      ];
    }),
  }));
  return renderLatencyChart(
    'gloo-guard: latency against load',
    `${r.mode} run ${r.generatedAt.slice(0, 10)}, 1 server core, HTTPS keep-alive`,
    panels,
  );
}
