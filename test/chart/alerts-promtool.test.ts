/**
 * The chart's alerts and dashboard queries through a real promtool (Debian's `prometheus` package,
 * found or installed by scripts/ensure-promtool.sh): the PrometheusRule helm renders passes
 * `promtool check rules`, every dashboard query parses, and the alert unit tests in
 * alerts.promtool.yaml pass on recorded series — and fail when an alert is broken.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Json } from './helm.js';
import { dashboardQueries, ruleGroups } from './monitoring-queries.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'gg-promtool-'));
let promtool: string;
/** The rendered PrometheusRule's spec, a Prometheus rules file. */
let rules: Json;

beforeAll(() => {
  // Installs Debian's prometheus package on the first run only (apt-get, under a lock).
  promtool = execFileSync(join(ROOT, 'scripts/ensure-promtool.sh'), { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  rules = ruleGroups();
  writeFileSync(
    join(dir, 'alerts.test.yaml'),
    readFileSync(join(import.meta.dirname, 'alerts.promtool.yaml')),
  );
});

function runPromtool(args: string[]): { code: number; out: string } {
  const r = spawnSync(promtool, args, { encoding: 'utf8', cwd: dir });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function writeYaml(name: string, doc: unknown): string {
  writeFileSync(join(dir, name), stringify(doc));
  return name;
}

/** Runs the alert unit tests against the given rules file content (written as rules.yaml, which they name). */
function testRules(groups: Json): { code: number; out: string } {
  writeYaml('rules.yaml', groups);
  return runPromtool(['test', 'rules', 'alerts.test.yaml']);
}

/** The rules with one alert's expression changed. */
function withExpr(alert: string, change: (expr: string) => string): Json {
  const copy = structuredClone(rules);
  const rule = (copy.groups as Json[])
    .flatMap((g: Json) => g.rules as Json[])
    .find((r: Json) => r.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in the rendered PrometheusRule`);
  const before = rule.expr as string;
  rule.expr = change(before);
  expect(rule.expr, `the mutation of ${alert} changed nothing`).not.toBe(before);
  return copy;
}

describe('promtool on the chart’s alerts and dashboard', () => {
  it('when promtool checks the rendered PrometheusRule, then every alert parses and is well-formed', () => {
    const alerts = (rules.groups as Json[]).flatMap((g: Json) => g.rules as Json[]);
    const r = runPromtool(['check', 'rules', writeYaml('rules.yaml', rules)]);
    expect(r.out).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.code, r.out).toBe(0);
  });

  it('when every dashboard query is checked as a recording rule, then each parses (and a broken one is refused)', () => {
    const queries = dashboardQueries();
    const file = writeYaml('dashboard.yaml', {
      groups: [
        {
          name: 'dashboard',
          rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr })),
        },
      ],
    });
    const r = runPromtool(['check', 'rules', file]);
    expect(r.out).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(r.code, r.out).toBe(0);
    const broken = writeYaml('broken.yaml', {
      groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (a (up)' }] }],
    });
    const b = runPromtool(['check', 'rules', broken]);
    expect(b.code).not.toBe(0);
    expect(b.out).toMatch(/parse error/);
  });

  it('when promtool runs the alert unit tests on recorded series, then each alert fires when it should and only then', () => {
    const r = testRules(rules);
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it.each([
    ['GlooGuardCertificateExpiringSoon', (e: string) => e.replace('14 * 86400', '7 * 86400')],
    ['GlooGuardWebhookErrors', (e: string) => e.replace('> 0', '> 5')],
    ['GlooGuardPolicyErrors', (e: string) => e.replace('> 0', '> 3')],
    ['GlooGuardInputErrors', (e: string) => e.replace('[10m]', '[1m]')],
    ['GlooGuardAuditStale', (e: string) => e.replace(/\b3 \*/, '4 *')],
    ['GlooGuardSlowAnswers', (e: string) => e.replace('0.99', '0.5')],
  ])('when %s is broken, then its unit test fails', (alert, change) => {
    const r = testRules(withExpr(alert, change));
    expect(r.code, r.out).not.toBe(0);
    // The broken alert's own test fails, not some other one.
    expect(r.out).toMatch(new RegExp(`FAILED:[\\s\\S]*alertname: ${alert},`));
  });
});
