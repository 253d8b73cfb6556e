import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedParts, regenerate } from '../../bench/docs.js';
import { renderE2e, type E2eResults } from '../../bench/e2e-report.js';
import { renderComparison, renderLatestNotes, renderSummary } from '../../bench/perf-tables.js';
import type { Results } from '../../bench/report.js';

const results = (name: string): Results =>
  JSON.parse(readFileSync(resolve(import.meta.dirname, '../../bench/results', name), 'utf8')) as Results;

describe('generated performance docs', () => {
  it('when bench/results changes, then docs/performance.md must be regenerated (npm run docs:perf)', () => {
    const page = readFileSync(resolve(import.meta.dirname, '../../docs/performance.md'), 'utf8');
    expect(regenerate(page, generatedParts()), 'docs/performance.md drifted: run `npm run docs:perf`').toBe(
      page,
    );
  });

  it('when a generated block is missing from the page, then regenerating says which', () => {
    expect(() => regenerate('# page\n', { e2e: 'x' })).toThrow(
      /no <!-- generated:e2e --> … <!-- \/generated:e2e --> block/,
    );
  });

  it('when the page is generated, then the current run, the one before it, the rule costs, the paced costs, Kyverno and the image are all in it', () => {
    expect(Object.keys(generatedParts()).sort()).toEqual([
      'compare',
      'e2e',
      'image',
      'kyverno',
      'latest',
      'latest-notes',
      'paced-cost',
      'rule-cost',
      'summary',
    ]);
  });

  it('when the results change, then the summary sentences and the notes under the table say the new figures', () => {
    const r = results('latest.json');
    const changed = structuredClone(r);
    const dep = changed.summary.find((x) => x.review === 'deployment' && x.server === 'gloo-guard');
    if (dep === undefined || changed.memory['gloo-guard']?.inFlight === undefined) throw new Error('no run');
    dep.rpsVsOpa = 7.25;
    changed.memory['gloo-guard'].inFlight.peakRssMiB = 321;
    const kyverno = {
      loadAverage: '0.5',
      speed: [
        { engine: 'gloo-guard', review: 'release-small', p50Ms: 0.2 },
        { engine: 'kyverno', review: 'release-small', p50Ms: 0.9 },
        { engine: 'gloo-guard', review: 'release-large', p50Ms: 10 },
        { engine: 'kyverno', review: 'release-large', p50Ms: 60 },
      ],
    };
    const summary = renderSummary(changed, kyverno);
    expect(summary).toContain('Deployment reviews 7.3× ');
    expect(summary).toContain('in flight peak at 321 MiB');
    expect(summary).toContain("4.5× gloo-guard's time on a small release and 6× on a large one");
    expect(renderSummary(r)).not.toContain('Kyverno');
    expect(renderLatestNotes(changed)).toContain('gloo-guard peaks at **321 MiB**');
  });

  it('when two runs are set side by side, then each row pairs the same review and server, and each target its own id', () => {
    const now = results('latest.json');
    const before = results('previous.json');
    const table = renderComparison(now, before);
    const nsLimitBefore = before.summary.find((x) => x.review === 'namespace' && x.server === 'limit');
    const nsLimitNow = now.summary.find((x) => x.review === 'namespace' && x.server === 'limit');
    expect(table).toContain(
      `| namespace | limit | ${Math.round(nsLimitBefore?.rps ?? 0)} | ${Math.round(nsLimitNow?.rps ?? 0)} |`,
    );
    const bombBefore = before.targets.find((t) => t.id === now.targets[9]?.id);
    expect(table).toContain(
      `| ${now.targets[9]?.target} | ${bombBefore?.measured} | ${now.targets[9]?.measured} |`,
    );
    expect(table).toContain(`commit ${before.method.glooGuardSource?.replace('commit ', '')}`);
  });

  it('when --scale runs at several sizes are recorded, then each is one row, smallest first', () => {
    const e2e = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '../../bench/results/e2e.json'), 'utf8'),
    ) as E2eResults;
    const run = (deployments: number, firstSyncMs: number) => ({
      deployments,
      minutes: 1,
      firstSyncMs,
      rssAtReadyMb: 100 + deployments / 100,
      rssMb: { min: 1, max: 2 },
      deploymentLists: 1,
      reviewMs: { n: 10, p50: 1, p99: 2 },
    });
    const md = renderE2e({ ...e2e, scale: { '20000': run(20000, 5000), '1000': run(1000, 1500) } });
    const rows = md.split('\n').filter((l) => /^\| (1000|20000) \|/.test(l));
    expect(
      rows.map((l) =>
        l
          .split('|')
          .slice(1, 4)
          .map((c) => c.trim()),
      ),
    ).toEqual([
      ['1000', '1500', '110'],
      ['20000', '5000', '300'],
    ]);
  });
});
