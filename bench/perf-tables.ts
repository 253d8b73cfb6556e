/**
 * The figure tables of docs/performance.md, rendered from the recorded results (pure: no I/O), so the
 * page cannot drift from bench/results: the current full run, the run before it side by side, and the
 * cost of user rules.
 */
import { fmt, renderMarkdown, vsLimit, type Results, type SummaryRow } from './report.js';

/** bench/results/rule-cost.json as bench/rule-cost.ts writes it (commit since it is recorded). */
export interface RuleCostResults {
  node: string;
  loadavg: number[];
  commit?: string;
  generatedAt?: string;
  rows: Array<{
    review: string;
    rules: string;
    allowed: boolean;
    latency: { count: number; p50: number; p90: number; p99: number };
  }>;
}

/** Where a run came from: when, which code, under what load (when the run recorded it). */
export function runStamp(r: Pick<Results, 'generatedAt' | 'method' | 'machine'>, file: string): string {
  const at = r.machine.loadAverageAtStart;
  const load = at === undefined ? ', load not recorded' : `, load average ${String(at)} at the start`;
  return `${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC on ${r.method.glooGuardSource ?? 'an unrecorded commit'}${load} (${file})`;
}

/** The current run's tables: the latest.md report without its title and chart, headings made page-level. */
export function renderLatest(r: Results): string {
  const [, ...body] = renderMarkdown(r).split('\n');
  const kept = body.filter((l) => !l.startsWith('![latency against load]'));
  return [
    `Measured ${runStamp(r, 'bench/results/latest.json')}.`,
    ...kept.map((l) => l.replace(/^## /, '#### ')),
  ]
    .join('\n')
    .trim();
}

const key = (x: Pick<SummaryRow, 'review' | 'server'>): string => `${x.review}/${x.server}`;

/** A change between two figures, as a ratio now / before ("–" when either is absent). */
function ratio(now: number | null | undefined, before: number | null | undefined): string {
  if (now == null || before == null || before === 0) return '–';
  return `×${fmt(now / before)}`;
}

/** The current run next to the one before it: throughput, latency, memory and each target. */
export function renderComparison(now: Results, before: Results): string {
  const prev = new Map(before.summary.map((x) => [key(x), x]));
  const lines = [
    `Before: ${runStamp(before, 'bench/results/previous.json')}.`,
    `Now: ${runStamp(now, 'bench/results/latest.json')}.`,
    '',
    '| review | server | RPS before | RPS now | change | p99 ms before | p99 ms now | peak RSS MiB before | peak RSS MiB now |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const x of now.summary) {
    const b = prev.get(key(x));
    lines.push(
      `| ${x.review} | ${x.server} | ${fmt(b?.rps)} | ${fmt(x.rps)} | ${ratio(x.rps, b?.rps)} | ` +
        `${fmt(b?.p99)} | ${fmt(x.p99)} | ${fmt(b?.peakRssMiB, 0)} | ${fmt(x.peakRssMiB, 0)} |`,
    );
  }
  const prevTargets = new Map(before.targets.map((t) => [t.id, t]));
  const verdict = (pass: boolean | null | undefined): string =>
    pass == null ? 'not measured' : pass ? 'pass' : '**miss**';
  lines.push('', '| target (issue 7) | before | now | result now |', '|---|--:|--:|---|');
  for (const t of now.targets) {
    const b = prevTargets.get(t.id);
    lines.push(`| ${t.target} | ${b?.measured ?? '–'} | ${t.measured} | ${verdict(t.pass)} |`);
  }
  return lines.join('\n');
}

/** The cost of user rules (bench/results/rule-cost.json). */
export function renderRuleCost(r: RuleCostResults): string {
  const when = r.generatedAt ? `${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC ` : '';
  const on = r.commit ? `on commit ${r.commit}` : 'on a commit the file does not record';
  return [
    `Measured ${when}${on}, Node ${r.node}, load average ${r.loadavg.map((x) => x.toFixed(1)).join(' ')} at the start ` +
      '(bench/results/rule-cost.json, `npx tsx bench/rule-cost.ts`).',
    '',
    '| review | rules | allowed | p50 ms | p90 ms | p99 ms | samples |',
    '|---|---|---|--:|--:|--:|--:|',
    ...r.rows.map(
      (x) =>
        `| ${x.review} | ${x.rules} | ${x.allowed ? 'yes' : 'no'} | ${x.latency.p50} | ${x.latency.p90} | ${x.latency.p99} | ${x.latency.count} |`,
    ),
  ].join('\n');
}

/** bench/results/paced-cost.json as bench/paced-cost.ts writes it. */
export interface PacedCostResults {
  generatedAt: string;
  commit: string;
  node: string;
  loadAverage: string;
  ratePerSec: number;
  sec: number;
  rounds: number;
  /** Each server's CPU µs per second with no reviews (median over the rounds). */
  idleUsPerSec: Record<string, number>;
  rows: Array<{
    review: string;
    server: string;
    /** CPU µs per review answered, one figure a round. */
    usPerReview: number[];
    medianUs: number;
    /** The median over the rounds of this server's figure over the limit's in the same round. */
    vsLimit?: number;
  }>;
}

/** The CPU a review costs a server idle between reviews (bench/results/paced-cost.json). */
export function renderPacedCost(r: PacedCostResults): string {
  return [
    `Measured ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC on commit ${r.commit}, Node ${r.node}, load average ` +
      `${r.loadAverage} at the start (bench/results/paced-cost.json, \`npx tsx bench/paced-cost.ts\`): ` +
      `${r.ratePerSec} reviews a second for ${r.sec} s, ${r.rounds} rounds, the servers taking turns.`,
    '',
    '| review | server | CPU µs per review (median) | × the limit (median of rounds) | rounds |',
    '|---|---|--:|--:|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.review} | ${x.server} | ${x.medianUs} | ${x.vsLimit ?? '–'} | ${x.usPerReview.join(', ')} |`,
    ),
    '',
    `CPU when idle, per second: ${Object.entries(r.idleUsPerSec)
      .map(([server, us]) => `${server} ${us} µs`)
      .join(', ')} (included in the figures above).`,
  ].join('\n');
}

/** The speed of Kyverno's engine and gloo-guard's on one review, as bench/results/kyverno.json holds it. */
export interface KyvernoSpeed {
  speed: Array<{ engine: string; review: string; p50Ms: number }>;
  loadAverage: string;
}

function row(r: Results, review: string, server = 'gloo-guard'): SummaryRow | undefined {
  return r.summary.find((x) => x.review === review && x.server === server);
}

/** Kyverno's p50 over gloo-guard's on a review: how many times faster gloo-guard judged it. */
function kyvernoRatio(k: KyvernoSpeed, review: string): number | undefined {
  const p50 = (engine: string): number | undefined =>
    k.speed.find((s) => s.engine === engine && s.review === review)?.p50Ms;
  const gg = p50('gloo-guard');
  const ky = p50('kyverno');
  return gg === undefined || ky === undefined || gg === 0 ? undefined : ky / gg;
}

/** The page's summary paragraph, every figure from the recorded results. */
export function renderSummary(r: Results, kyverno?: KyvernoSpeed): string {
  const dep = row(r, 'deployment');
  const ns = row(r, 'namespace');
  const mixed = r.servers['gloo-guard']?.mixed;
  const inFlight = r.memory['gloo-guard']?.inFlight;
  const bomb = r.memory['gloo-guard']?.gzipBomb;
  const small = [vsLimit(r, 'deployment'), vsLimit(r, 'namespace')].filter(
    (x): x is number => typeof x === 'number',
  );
  const sentences = [
    `gloo-guard answers Deployment reviews ${fmt(dep?.rpsVsOpa, 1)}× and Namespace reviews ${fmt(ns?.rpsVsOpa, 1)}× as fast as OPA, ` +
      `and large Helm releases ${fmt(vsLimit(r, 'release-large'))}× as fast as the bare limit, because it decodes only what its policies read.`,
  ];
  if (mixed)
    sentences.push(
      `Small reviews keep a p99 of ${fmt(mixed.underLoad.p99, 0)} ms while large releases saturate the server.`,
    );
  if (inFlight && bomb)
    sentences.push(
      `${inFlight.inFlight} large releases in flight peak at ${fmt(inFlight.peakRssMiB, 0)} MiB, and ${bomb.refused} of ${r.plan.memory.bombsSequential} gzip bombs sent one at a time were refused without being inflated past the limit (${fmt(bomb.sequentialMs.p50)} ms each).`,
    );
  if (small.length > 0)
    sentences.push(
      `Small reviews reach ${fmt(Math.min(...small))}–${fmt(Math.max(...small))}× of the bare limit${r.paired ? ' (paired rounds)' : ''}, ` +
        (Math.min(...small) >= 0.8
          ? 'meeting the 0.8× target.'
          : 'short of the 0.8× target: the rest of this page says where those microseconds go.'),
    );
  const smallK = kyverno && kyvernoRatio(kyverno, 'release-small');
  const largeK = kyverno && kyvernoRatio(kyverno, 'release-large');
  if (smallK !== undefined && largeK !== undefined)
    sentences.push(
      `On release Secrets, which OPA cannot read, Kyverno's engine takes ${fmt(smallK, 1)}× gloo-guard's time on a small release and ${fmt(largeK, 1)}× on a large one (in process, taking turns on one core, load average ${kyverno?.loadAverage ?? 'not recorded'}).`,
    );
  return `**Summary.** ${sentences.join(' ')}\n\nMeasured ${runStamp(r, 'bench/results/latest.json')}${kyverno ? '; Kyverno: bench/results/kyverno.json' : ''}.`;
}

/** The figures under the current run's table: mixed load, memory, gzip bombs and start-up, from the results. */
export function renderLatestNotes(r: Results): string {
  const lines: string[] = [];
  const gg = r.servers['gloo-guard'];
  const limitMixed = r.servers.limit?.mixed;
  if (gg?.mixed) {
    const m = gg.mixed;
    lines.push(
      `- **Mixed.** Deployment and Namespace reviews at ${m.probeRate}/s have p99 ${fmt(m.baseline.p99, 1)} ms on an otherwise idle server. ` +
        `While ${m.heavyConnections} connections keep large releases coming (${fmt(m.heavy.rps, 1)}/s), they have p99 **${fmt(m.underLoad.p99, 1)}** / max ${fmt(m.underLoad.max, 1)} ms.` +
        (limitMixed
          ? ` For the limit, which decodes on its event loop, the same test gives p99 ${fmt(limitMixed.underLoad.p99, 0)} ms (max ${fmt(limitMixed.underLoad.max, 0)} ms).`
          : ''),
    );
  }
  const f = r.memory['gloo-guard']?.inFlight;
  const lf = r.memory.limit?.inFlight;
  if (f)
    lines.push(
      `- **Memory.** With ${f.inFlight} large releases in flight, gloo-guard peaks at **${fmt(f.peakRssMiB, 0)} MiB** (${fmt(f.rssBeforeMiB, 0)} MiB before)` +
        (lf
          ? ` and the limit at ${fmt(lf.peakRssMiB, 0)} MiB. gloo-guard answered ${f.answered}, the limit ${lf.answered}.`
          : '.'),
    );
  const b = r.memory['gloo-guard']?.gzipBomb;
  if (b)
    lines.push(
      `- **Gzip bombs.** ${b.sent} bombs were sent (Secrets of ${fmt(b.secretBytes / 1024, 0)} KiB that expand to ${b.expandsToMiB} MiB); ${b.refused} of the ${r.plan.memory.bombsSequential} sent one at a time were refused, ${fmt(b.sequentialMs.p50, 1)} ms each. ` +
        `RSS went ${fmt(b.rssBeforeMiB, 0)} → ${fmt(b.peakRssMiB, 0)} → ${fmt(b.rssAfterMiB, 0)} MiB. Ordinary large releases at the same concurrency had peaked at ${fmt(b.ordinaryPeakMiB, 0)} MiB just before.`,
    );
  const idle = (name: 'gloo-guard' | 'limit' | 'opa'): string | undefined => {
    const s = r.servers[name];
    return s ? `${fmt(s.idleRssMiB, 0)} MiB` : undefined;
  };
  if (gg)
    lines.push(
      `- **Idle.** gloo-guard starts in ${fmt(gg.startupMs / 1000, 1)} s with ${idle('gloo-guard')} resident (limit: ${idle('limit') ?? '–'}, OPA: ${idle('opa') ?? '–'}).`,
    );
  return lines.join('\n');
}
