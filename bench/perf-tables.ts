/**
 * The figure tables of docs/performance.md, rendered from the recorded results (pure: no I/O), so the
 * page cannot drift from bench/results: the current full run, the run before it side by side, and the
 * cost of user rules.
 */
import { fmt, renderMarkdown, type Results, type SummaryRow } from './report.js';

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
