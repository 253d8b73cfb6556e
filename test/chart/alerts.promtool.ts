/**
 * The chart's alerts and dashboard queries through promtool, built from the Prometheus Go module
 * (github.com/prometheus/prometheus/cmd/promtool) by scripts/promtool.sh into .cache/promtool/:
 * every query parses, and the alert unit tests in alerts.promtool.yaml pass on recorded series.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { dashboardQueries, ruleGroups } from './monitoring-queries.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'gg-promtool-'));
let promtool: string;

beforeAll(() => {
  // The first run builds promtool (minutes); later runs find it in .cache/promtool.
  promtool = execFileSync(join(ROOT, 'scripts/promtool.sh'), { encoding: 'utf8', timeout: 3_000_000 })
    .trim()
    .split('\n')
    .pop()!;
}, 3_100_000);

function runPromtool(args: string[]): { code: number; out: string } {
  const r = spawnSync(promtool, args, { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('promtool on the chart’s alerts and dashboard', () => {
  it('when promtool checks them, then the alerts and every dashboard query parse', () => {
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, stringify(ruleGroups()));
    const dash = join(dir, 'dashboard-queries.yaml');
    writeFileSync(
      dash,
      stringify({
        groups: [
          {
            name: 'dashboard',
            rules: dashboardQueries().map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr })),
          },
        ],
      }),
    );
    const r = runPromtool(['check', 'rules', rules, dash]);
    expect(r.out).toContain('SUCCESS: 6 rules found');
    expect(r.code, r.out).toBe(0);
    expect(runPromtool(['check', 'rules', writeBroken()]).code).not.toBe(0);
  });

  it('when promtool runs the alert unit tests on recorded series, then each alert fires when it should and only then', () => {
    writeFileSync(join(dir, 'rules.yaml'), stringify(ruleGroups()));
    const tests = readFileSync(join(import.meta.dirname, 'alerts.promtool.yaml'), 'utf8');
    writeFileSync(join(dir, 'alerts.test.yaml'), tests);
    const r = runPromtool(['test', 'rules', 'alerts.test.yaml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });
});

/** A rules file promtool must refuse, so the syntax check is known to bite. */
function writeBroken(): string {
  const p = join(dir, 'broken.yaml');
  writeFileSync(
    p,
    stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (a (up)' }] }] }),
  );
  return p;
}
