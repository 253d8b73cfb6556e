import { describe, expect, it } from 'vitest';
import {
  bracketedSlowdowns,
  fitLine,
  pairedSummary,
  renderE2e,
  waitedPerUpgrade,
  type E2eResults,
} from '../../bench/e2e-report.js';
import type { WebhookLatency } from '../../bench/apiserver-metrics.js';
import { summarize } from '../../bench/stats.js';

/** A latency as latencyOf gives it: the p99 and the share of calls within 5, 25 and 100 ms. */
function lat(calls: number, p99Ms: number, within5: number): WebhookLatency {
  return { calls, p50Ms: 3, p99Ms, atOrUnder: { '5': within5, '25': 1, '100': 1 } };
}

function objects(concurrency: number, deployments: WebhookLatency): E2eResults['objects'] {
  return {
    loadAverage: { start: '1.00 1.00 1.00', end: '1.00 1.00 1.00' },
    writes: { deployments: 500, namespaces: 100, concurrency },
    clientMs: { deploymentCreate: summarize([30, 31]) },
    apiServer: { 'deployments.gloo-guard.io CREATE': deployments },
  };
}

function run(commit: string, over: Partial<E2eResults> = {}): E2eResults {
  return {
    generatedAt: '2026-11-30T05:00:00.000Z',
    durationSec: 300,
    commit,
    objects: objects(8, lat(500, 46.4, 0.7)),
    objectsOneAtATime: objects(1, lat(500, 4.9, 1)),
    releases: [
      {
        helm: 'v3',
        size: 'large',
        secretBytes: 963_000,
        loadAverage: { start: '1', end: '1' },
        withWebhookMs: summarize([2000]),
        withoutWebhookMs: summarize([2100]),
        slowdown: -0.048,
        apiServer: { 'releases.gloo-guard.io CREATE': lat(20, 99.3, 0) },
      },
    ],
    ...over,
  };
}

const floor: NonNullable<E2eResults['floor']> = {
  objects: objects(8, lat(500, 41.8, 0.8)),
  objectsOneAtATime: objects(1, lat(500, 4.8, 1)),
  releases: [
    {
      helm: 'v3',
      size: 'large',
      upgradeMs: summarize([1900]),
      apiServer: { 'releases.gloo-guard.io CREATE': lat(20, 420, 0) },
    },
  ],
};

describe('the bench:e2e report', () => {
  it('when the floor was measured, then each target shows the floor beside gloo-guard and says when the floor misses too', () => {
    const md = renderE2e(run('bbbbbbb', { floor }));
    expect(md).toContain(
      '| Deployment and Namespace webhooks p99 < 10 ms, 8 at a time | p99 46.4 ms (interpolated) | p99 41.8 ms (misses too) | **miss** |',
    );
    expect(md).toContain(
      '| Deployment and Namespace webhooks p99 < 10 ms, 1 at a time | p99 4.9 ms (interpolated) | p99 4.8 ms | pass |',
    );
    expect(md).toContain(
      '| ~1 MiB release p99 < 100 ms | p99 99.3 ms (interpolated) | p99 420 ms (misses too) | pass |',
    );
    // Phases are paired by how many writes ran at a time, never across.
    expect(md).toContain(
      '| 500 Deployments, 100 Namespaces, 1 at a time | deployments.gloo-guard.io CREATE | 500 / 500 | 3 / 3 | 4.9 / 4.8 | 100.0% / 100.0% |',
    );
    expect(md).toContain('| v3 | large | 2000 / 1900 |');
    // The floor against the runs without a webhook: how far medians move by chance.
    expect(md).toContain(
      "| helm upgrade ≤ 5 % slower with the webhook | worst -4.8% | worst -9.5% (the floor's medians",
    );
  });

  it('when a run before it is given, then the figures stand now / before, and a phase the old run lacked shows a dash', () => {
    const before = run('aaaaaaa');
    delete before.objectsOneAtATime;
    const md = renderE2e(run('bbbbbbb'), before);
    expect(md).toContain('## Now and before');
    expect(md).toContain('on commit aaaaaaa');
    expect(md).toContain(
      '| 500 Deployments, 100 Namespaces, 8 at a time | deployments.gloo-guard.io CREATE | 500 / 500 | 3 / 3 | 46.4 / 46.4 |',
    );
    expect(md).toContain(
      '| 500 Deployments, 100 Namespaces, 1 at a time | deployments.gloo-guard.io CREATE | 500 / – | 3 / – | 4.9 / – |',
    );
    expect(md).toContain('| v3 | large | -4.8% / -4.8% |');
  });

  it('when each kind of write was measured on both servers, then the report sets gloo-guard beside the floor, with the webhook’s loop and GC, and older runs leave the table out', () => {
    const r = run('bbbbbbb', { floor: structuredClone(floor) });
    r.objects.steps = {
      namespaceCreate: { gc: {}, sched: { cpuMs: 0.5, waitMs: 0 } },
      namespaceUpdate: {
        gc: {
          minor: { count: 2, totalMs: 1.5, over1Ms: 0, over10Ms: 0 },
          major: { count: 1, totalMs: 39.45, over1Ms: 1, over10Ms: 1 },
        },
        loop: { longestMs: 49.6, p99Ms: 10.2 },
        sched: { cpuMs: 120.5, waitMs: 33.1 },
      },
    };
    r.floor!.objects.steps = { namespaceUpdate: { sched: { cpuMs: 80.25, waitMs: 12 } } };
    const md = renderE2e(r);
    expect(md).toContain(
      '| phase | write | server | CPU ms | waited for a CPU ms | longest tick ms | p99 tick ms | GC pauses | GC ms in all | GC pauses over 10 ms |',
    );
    const label = '500 Deployments, 100 Namespaces, 8 at a time';
    expect(md).toContain(
      `| ${label} | namespaceUpdate | gloo-guard | 120.5 | 33.1 | 49.6 | 10.2 | 3 | 40.95 | 1 |`,
    );
    expect(md).toContain(`| ${label} | namespaceUpdate | floor | 80.25 | 12 | – | – | – | – | – |`);
    expect(md).toContain(`| ${label} | namespaceCreate | gloo-guard | 0.5 | 0 | – | – | 0 | 0 | 0 |`);
    expect(md).not.toContain(`| ${label} | namespaceCreate | floor |`);
    expect(renderE2e(run('bbbbbbb'))).not.toContain('waited for a CPU');
  });

  it('when neither a floor nor a run before exists (older results), then the report leaves both sections out', () => {
    const md = renderE2e(run('bbbbbbb', { floor: undefined }));
    expect(md).not.toContain('beside the floor');
    expect(md).not.toContain('## Now and before');
    expect(md).toContain('| p99 46.4 ms (interpolated) | – | **miss** |');
  });
});

describe('helm upgrade timed interleaved with and without the webhook', () => {
  it('when each run without the webhook sits between two with it, then each is measured against its two neighbours', () => {
    // with 1000, without 900, with 1200, without 1000, with 1000: a drift upward in the middle.
    const s = bracketedSlowdowns([1000, 1200, 1000], [900, 1000]);
    expect(s.map((x) => Math.round(x * 1000) / 1000)).toEqual([0.222, 0.1]);
    // A run without neighbours on both sides (a shorter list of runs with it) is left out.
    expect(bracketedSlowdowns([1000], [900])).toEqual([]);
    expect(pairedSummary([0.3, -0.1, 0.02, 0.04, 0.01])).toEqual({ n: 5, median: 0.02, q1: 0.01, q3: 0.04 });
  });

  it('when the runs were interleaved, then the target is judged by the paired median, not the ratio of medians', () => {
    const base = run('bbbbbbb', { floor });
    const interleaved = run('bbbbbbb', {
      floor,
      releases: base.releases.map((x) => ({
        ...x,
        slowdown: 0.12,
        paired: { n: 10, median: 0.031, q1: -0.01, q3: 0.06 },
      })),
    });
    const md = renderE2e(interleaved);
    expect(md).toContain('| helm upgrade ≤ 5 % slower with the webhook | worst 3.1% (paired medians) |');
    expect(md).toContain('| 12.0% | 3.1% (-1.0% to 6.0%, 10 pairs) |');
    // Beside a run that was not interleaved, each side shows what it was judged by.
    expect(renderE2e(interleaved, base)).toContain('| v3 | large | 3.1% / -4.8% |');
  });
});

describe("the API server's wait on the webhook during helm upgrades", () => {
  it('when every webhook called has its total, then the wait per upgrade is their sum over the upgrades', () => {
    const withTotal = (l: WebhookLatency, totalMs: number): WebhookLatency => ({ ...l, totalMs });
    const apiServer = {
      'releases.gloo-guard.io CREATE': withTotal(lat(20, 99, 0), 1200),
      'deployments.gloo-guard.io UPDATE': withTotal(lat(20, 5, 1), 60),
    };
    expect(waitedPerUpgrade(apiServer, 20)).toBe(63);
    // A run whose sums were not read (older results) has no figure rather than a made-up one.
    expect(waitedPerUpgrade({ ...apiServer, 'x CREATE': lat(1, 1, 1) }, 20)).toBeUndefined();
    expect(waitedPerUpgrade(apiServer, 0)).toBeUndefined();
  });

  it('when the wait was read, then it decides the helm target, with the wall clock and the floor beside it', () => {
    const base = run('bbbbbbb');
    const waited = (waitedMs: number, slowdown: number): E2eResults =>
      run('bbbbbbb', {
        floor: { ...floor, releases: floor.releases.map((x) => ({ ...x, waitedMs: 50 })) },
        releases: base.releases.map((x) => ({
          ...x,
          slowdown,
          waitedMs,
          paired: { n: 10, median: slowdown, q1: 0, q3: 0.2 },
        })),
      });
    // 63 ms of a 2100 ms upgrade is 3 %: a pass, though the wall clock moved 12 % by chance.
    const pass = renderE2e(waited(63, 0.12));
    expect(pass).toContain(
      '| helm upgrade ≤ 5 % slower with the webhook | the API server waited on it worst 3.0% of an upgrade; wall clock worst 12.0% (paired medians) | waited on worst 2.4%; worst -9.5%',
    );
    expect(pass).toMatch(/\| helm upgrade ≤ 5 % slower with the webhook \|[^\n]*\| pass \|/);
    expect(pass).toContain('| 63 (3.0%) |');
    expect(pass).toContain('| v3 | large | 2000 / 1900 | 63 / 50 |');
    // 210 ms of it is 10 %: a miss, though the wall clock happened to look fine.
    expect(renderE2e(waited(210, 0.01))).toMatch(
      /\| helm upgrade ≤ 5 % slower with the webhook \| the API server waited on it worst 10\.0%[^\n]*\| \*\*miss\*\* \|/,
    );
  });
});

describe('the growth per 1,000 Deployments', () => {
  it('when runs at several sizes are recorded, then the line through them gives the base and the slope', () => {
    const line = fitLine([
      [0, 155],
      [1, 157],
      [5, 175],
      [20, 229],
    ]);
    expect(line.at0).toBeCloseTo(154.77, 2);
    expect(line.slope).toBeCloseTo(3.728, 3);
    expect(
      fitLine([
        [5, 180],
        [5, 182],
      ]).slope,
    ).toBe(0);
  });
});
