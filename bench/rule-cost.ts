/**
 * `npx tsx bench/rule-cost.ts`: what user rules (CEL) add to one review, on the server core. The
 * bench's Deployment and small-release AdmissionReviews go through the server's own path
 * (prepareBody, then finishReview: the built-in policies and the config's rules) with 0, 1 and 10
 * rules taken from examples/rules, and with one rule that spends about 95 % of its cost budget.
 * Writes bench/results/rule-cost.md and rule-cost.json (latency summaries in ms, as the load bench).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { programFor } from '../src/rules/policy.js';
import { DEFAULT_COST_BUDGET } from '../src/rules/cel.js';
import type { RuleSpec } from '../src/rules/types.js';
import { prepareBody } from '../src/server/prepare.js';
import { finishReview } from '../src/server/review.js';
import { ROOT } from './build.js';
import { pinSelf, SERVER_CORE } from './processes.js';
import { loadReviews } from './review-cache.js';
import { round, summarize, type LatencySummary } from './stats.js';

const EXAMPLES = 'examples/rules/config.yaml';

/** One measured case: a review judged under one set of rules. */
export interface RuleCostRow {
  review: 'deployment' | 'release-small';
  rules: string;
  allowed: boolean;
  latency: LatencySummary;
}

/**
 * Release rules for the bench's small release (gloo-mesh-enterprise; the examples judge
 * gloo-platform): the same shapes as the examples, a floor, a naming rule, a cross-field quantity.
 */
const ENTERPRISE_RULES = [
  "!('glooMeshMgmtServer' in values) || !('serviceType' in values.glooMeshMgmtServer) || values.glooMeshMgmtServer.serviceType != 'NodePort'",
  "semver(chart.version).compareTo(semver('2.0.0')) >= 0 && release.namespace.endsWith('mesh')",
  "!('glooMeshMgmtServer' in values) || !('resources' in values.glooMeshMgmtServer) || !('limits' in values.glooMeshMgmtServer.resources) || !('memory' in values.glooMeshMgmtServer.resources.limits) || quantity(string(values.glooMeshMgmtServer.resources.limits.memory)).isGreaterThan(quantity('64Mi'))",
  "['glooMeshMgmtServer', 'glooMeshUi', 'glooMeshRedis'].all(k, !(k in values) || type(values[k]) == map)",
];

/** `n` rules for a kind, cycled from a pool, each with its own id and source (its own compiled program). */
function rulesFor(kind: 'deployment' | 'release', n: number, examples: readonly RuleSpec[]): RuleSpec[] {
  const template = examples.find((r) => r.appliesTo.includes('deployment'))!;
  const pool = kind === 'deployment' ? [template.expression.trim()] : ENTERPRISE_RULES;
  return Array.from({ length: n }, (_, i) => ({
    ...template,
    id: `bench-rule-${i}`,
    appliesTo: [kind],
    match: undefined,
    expression: `(${pool[i % pool.length]!}) || ${i} < 0`,
    messageExpression: kind === 'deployment' ? template.messageExpression : undefined,
  }));
}

/** A rule whose nested loop spends about `share` of the default budget, sized by measuring it. */
function expensiveRule(kind: 'deployment' | 'release', share: number): RuleSpec {
  const source = (n: number): string => {
    const list = `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
    return `${list}.all(x, ${list}.all(y, x + y >= 0))`;
  };
  let n = 1;
  const cost = (k: number): number => programFor(source(k)).run({}, Number.MAX_SAFE_INTEGER).cost;
  while (cost(n + 1) <= DEFAULT_COST_BUDGET * share) n++;
  return {
    id: 'near-budget',
    title: 'A rule that spends most of its budget',
    severity: 'low',
    action: 'deny',
    appliesTo: [kind],
    expression: source(n),
    message: 'never fails',
    remediation: 'none',
  };
}

function configWith(base: Config, rules: RuleSpec[]): Config {
  return { ...base, rules };
}

/** Times one review under a config: `runs` samples after a warm-up, in ms. */
function measure(body: Buffer, config: Config, runs: number): { allowed: boolean; latency: LatencySummary } {
  const judge = (): boolean => {
    const outcome = prepareBody(body, config);
    if (outcome.type !== 'prepared') throw new Error(`the review was not prepared: ${outcome.type}`);
    const decision = finishReview(outcome.prepared, config);
    if (decision.policyErrors.length) throw new Error(`a rule failed: ${decision.policyErrors.join(', ')}`);
    return decision.allowed;
  };
  for (let i = 0; i < 50; i++) judge();
  const samples: number[] = [];
  let allowed = true;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    allowed = judge();
    samples.push(performance.now() - t0);
  }
  return { allowed, latency: summarize(samples) };
}

function markdown(rows: RuleCostRow[], load: number[], budgetNote: string): string {
  const lines = [
    '# The cost of user rules (CEL), per review',
    '',
    `One process on core ${SERVER_CORE}, Node ${process.versions.node}; load average ${load.map((x) => round(x, 1)).join(' ')} when it started.`,
    'Each review goes through the server path (prepareBody, finishReview) with the built-in policies and the rules named.',
    `Written by \`npx tsx bench/rule-cost.ts\`. ${budgetNote}`,
    '',
    '| review | rules | allowed | p50 ms | p90 ms | p99 ms | samples |',
    '|---|---|---|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.review} | ${r.rules} | ${r.allowed ? 'yes' : 'no'} | ${r.latency.p50} | ${r.latency.p90} | ${r.latency.p99} | ${r.latency.count} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function main(): void {
  pinSelf(SERVER_CORE);
  const load = loadavg();
  const reviews = loadReviews();
  const base = parseConfig(readFileSync(join(ROOT, EXAMPLES), 'utf8'), EXAMPLES);
  const examples = base.rules;
  const rows: RuleCostRow[] = [];
  const cases = [
    { review: 'deployment', kind: 'deployment', runs: 3000 },
    { review: 'release-small', kind: 'release', runs: 1500 },
  ] as const;
  let budgetNote = '';
  for (const c of cases) {
    const body = reviews[c.review].body;
    for (const n of [0, 1, 10]) {
      const { allowed, latency } = measure(body, configWith(base, rulesFor(c.kind, n, examples)), c.runs);
      rows.push({ review: c.review, rules: String(n), allowed, latency });
    }
    const heavy = expensiveRule(c.kind, 0.95);
    const spent = programFor(heavy.expression).run({}).cost;
    budgetNote = `The near-budget rule spends ${spent} of ${DEFAULT_COST_BUDGET} cost units.`;
    const { allowed, latency } = measure(body, configWith(base, [heavy]), Math.ceil(c.runs / 10));
    rows.push({ review: c.review, rules: `1 near its budget (${spent} units)`, allowed, latency });
  }
  const dir = join(ROOT, 'bench', 'results');
  writeFileSync(join(dir, 'rule-cost.md'), markdown(rows, load, budgetNote));
  writeFileSync(
    join(dir, 'rule-cost.json'),
    `${JSON.stringify({ node: process.versions.node, loadavg: load, rows }, null, 2)}\n`,
  );
  process.stdout.write(markdown(rows, load, budgetNote));
}

main();
