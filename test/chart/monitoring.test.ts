/**
 * The chart's Grafana dashboard and PrometheusRule, checked against what the server really exports:
 * a real `gloo-guard serve` answers reviews, its /metrics is scraped, and every query of the dashboard
 * and every alert may only name metrics and labels found there. alerts-promtool.test.ts checks their
 * syntax with a real promtool and runs the alert unit tests on recorded series.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/server/metrics.js';
import {
  PRODUCTION_VALUES,
  rawReleaseSecret,
  objectReview,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import { one, render, type Json } from './helm.js';
import { alertQueries, dashboardQueries, type Query } from './monitoring-queries.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Labels Prometheus adds to every scraped series (the target's), not the server. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'job', 'instance', 'service', 'container', 'endpoint']);

let server: ChildProcess | undefined;
let exposition: string;

function post(port: number, path: string, body?: unknown): Promise<string> {
  return new Promise((res, rej) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body === undefined ? 'GET' : 'POST',
        rejectUnauthorized: false,
      },
      (r) => {
        let text = '';
        r.on('data', (d: Buffer) => (text += d.toString()));
        r.on('end', () => res(text));
      },
    );
    req.on('error', rej);
    if (body !== undefined) req.setHeader('content-type', 'application/json');
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Starts the real server, sends an allowed, a denied and an unreadable release, and scrapes /metrics. */
async function scrapeRealServer(): Promise<string> {
  server = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--host', '127.0.0.1'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((res, rej) => {
    server!.on('exit', (c) => rej(new Error(`serve exited with ${String(c)}`)));
    createInterface({ input: server!.stdout! }).on('line', (line) => {
      const m = /https:\/\/127\.0\.0\.1:(\d+)\/validate/.exec(line);
      if (m) res(Number(m[1]));
    });
  });
  await post(port, '/validate', releaseReview({ values: PRODUCTION_VALUES }));
  await post(port, '/validate', releaseReview({ values: {} }));
  await post(port, '/validate', objectReview(rawReleaseSecret('not gzip at all')));
  await post(port, '/validate', { not: 'a review' });
  return post(port, '/metrics');
}

beforeAll(async () => {
  exposition = await scrapeRealServer();
}, 300_000);

afterAll(() => {
  server?.kill('SIGTERM');
});

/** Metric families in the exposition (every registered one has HELP and TYPE, even without series). */
function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Label names per family: from the series scraped, and those the server declares for its own metrics. */
function labelsByFamily(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (name: string, label: string): void => {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    out.set(base, (out.get(base) ?? new Set()).add(label));
  };
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)\{([^}]*)\}/gm))
    for (const l of m[2]!.matchAll(/(\w+)="/g)) add(m[1]!, l[1]!);
  for (const metric of createMetrics().registry.getMetricsAsArray())
    for (const l of (metric as unknown as { labelNames: string[] }).labelNames) add(metric.name, l);
  return out;
}

/** Functions, keywords and modifiers of PromQL, which are not metric names. */
const PROMQL_WORDS = new Set(
  'sum min max avg count by without on ignoring group_left group_right and or unless bool offset rate increase irate histogram_quantile time vector label_replace label_values abs clamp_min clamp_max'.split(
    ' ',
  ),
);

/** Metric names a query selects (each selector carries a label matcher, so the scope cannot be lost). */
function analyse(expr: string): { metrics: string[]; labels: string[]; stray: string[] } {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const metrics = [...noStrings.matchAll(/([a-zA-Z_:][\w:]*)\{/g)].map((m) => m[1]!);
  const matchers = [...noStrings.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...m[1]!.matchAll(/(\w+)\s*(?:=~|!=|!~|=)/g)].map((l) => l[1]!),
  );
  const grouping = [...noStrings.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const rest = noStrings
    .replace(/([a-zA-Z_:][\w:]*)\{[^}]*\}/g, ' ')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const stray = [...rest.matchAll(/\b[a-zA-Z_:][\w:]*\b/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w));
  return { metrics, labels: [...matchers, ...grouping], stray };
}

function checkAgainstExposition(queries: Query[]): string[] {
  const fams = families(exposition);
  const labels = labelsByFamily(exposition);
  const problems: string[] = [];
  for (const q of queries) {
    const a = analyse(q.expr);
    if (a.metrics.length === 0) problems.push(`${q.where}: selects no metric`);
    for (const w of a.stray)
      problems.push(`${q.where}: "${w}" is neither a selector with a label matcher nor PromQL`);
    const known = new Set<string>(TARGET_LABELS);
    for (const m of a.metrics) {
      const base = m.replace(/_(bucket|sum|count)$/, '');
      if (!fams.has(m) && !fams.has(base)) problems.push(`${q.where}: metric ${m} is not exported`);
      for (const l of labels.get(base) ?? []) {
        known.add(l);
        // A metric label that clashes with a target label is kept by Prometheus as exported_<name>.
        if (TARGET_LABELS.has(l)) known.add(`exported_${l}`);
      }
      if (m.endsWith('_bucket')) known.add('le');
    }
    for (const l of a.labels)
      if (!known.has(l)) problems.push(`${q.where}: label ${l} is on none of its metrics`);
  }
  return problems;
}

describe('the dashboard and alerts against the metrics the server exports', () => {
  it('when the dashboard is enabled, then Grafana’s sidecar finds it and it has the panels operators need', () => {
    const cm = one(
      render('v3', { set: ['grafanaDashboard.enabled=true'] }),
      'ConfigMap',
      'gg-gloo-guard-dashboard',
    );
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    const titles = JSON.parse(cm.data['gloo-guard.json'] as string).panels.map((p: Json) => p.title);
    for (const t of [
      'Decisions by kind and result',
      'Answer latency',
      'Denials and warnings by policy',
      'Input and policy errors',
      'Certificate expires in',
      'Audit violations by policy and namespace',
      'Last audit',
    ])
      expect(titles).toContain(t);
    expect(
      render('v3').filter((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard')),
    ).toEqual([]);
    expect(render('v3').filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
  });

  it('when a real server has answered reviews, then every dashboard query names only metrics and labels it exports', () => {
    expect(families(exposition).get('gloo_guard_admission_requests_total')).toBe('counter');
    expect(exposition).toMatch(/^gloo_guard_admission_requests_total\{[^}]*\} [1-9]/m);
    expect(exposition).toMatch(/gloo_guard_input_errors_total\{kind="Secret"\} 1/);
    expect(checkAgainstExposition(dashboardQueries())).toEqual([]);
  });

  it('when the alerts are rendered, then they too name only exported metrics and labels', () => {
    expect(checkAgainstExposition(alertQueries())).toEqual([]);
  });

  it('when a query names a metric the server does not export, then the check says so (it can fail)', () => {
    const problems = checkAgainstExposition([
      { where: 'probe', expr: 'sum by (policy) (rate(gloo_guard_denials_total{namespace="x"}[5m]))' },
      { where: 'probe2', expr: 'sum by (cluster) (gloo_guard_audit_violations{namespace="x"}) + up' },
    ]);
    expect(problems).toEqual([
      'probe: metric gloo_guard_denials_total is not exported',
      'probe: label policy is on none of its metrics',
      'probe2: "up" is neither a selector with a label matcher nor PromQL',
      'probe2: label cluster is on none of its metrics',
    ]);
  });
});
