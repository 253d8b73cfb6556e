import { describe, expect, it } from 'vitest';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  eventLoopTicks,
  gcPauses,
  latencyOf,
  quantile,
  serverBuckets,
  subtract,
  subtractSums,
  webhookBuckets,
  webhookSeconds,
} from '../../bench/apiserver-metrics.js';
import { createMetrics } from '../../src/server/metrics.js';

const M = 'apiserver_admission_webhook_admission_duration_seconds_bucket';
const BOUNDS = ['0.005', '0.025', '0.1', '0.5', '1', '2.5', '10', '25', '+Inf'];

/** The API server's text format: cumulative buckets per label set. */
function text(name: string, operation: string, counts: number[], rejected = 'false'): string {
  return BOUNDS.map(
    (le, i) =>
      `${M}{name="${name}",operation="${operation}",rejected="${rejected}",type="validating",le="${le}"} ${counts[i] ?? counts.at(-1)}`,
  ).join('\n');
}

describe("the webhook's own review histogram", () => {
  it('when the server has timed reviews, then the bench reads them back per kind from its real /metrics text', async () => {
    const m = createMetrics();
    for (const s of [0.0004, 0.0004, 0.003, 0.02]) m.duration.observe({ kind: 'Deployment' }, s);
    m.duration.observe({ kind: 'Namespace' }, 0.0004);
    const before = serverBuckets(await m.registry.metrics());
    m.duration.observe({ kind: 'Deployment' }, 0.0004);
    const after = serverBuckets(await m.registry.metrics());
    expect(latencyOf(after.get('Deployment'))).toMatchObject({
      calls: 5,
      atOrUnder: { '0.5': 0.6, '5': 0.8, '25': 1 },
    });
    expect(latencyOf(after.get('Namespace')).calls).toBe(1);
    expect(latencyOf(subtract(after, before).get('Deployment')).calls).toBe(1);
  });
});

describe('the API server webhook histogram', () => {
  it('when two scrapes are subtracted, then each webhook gets its own calls, summed over rejected and (unless asked) operations', () => {
    const before = [text('deployments.x', 'CREATE', [1, 1, 1]), text('releases.x', 'CREATE', [0])].join('\n');
    const after = [
      text('deployments.x', 'CREATE', [91, 100, 100]),
      text('deployments.x', 'UPDATE', [10, 10]),
      text('deployments.x', 'CREATE', [0, 1, 1], 'true'),
      text('releases.x', 'CREATE', [0, 0, 3, 4]),
      '# HELP apiserver_admission_webhook_admission_duration_seconds ...',
    ].join('\n');
    const diff = subtract(webhookBuckets(after), webhookBuckets(before));
    expect(latencyOf(diff.get('deployments.x'))).toMatchObject({
      calls: 110,
      atOrUnder: { '5': 0.909, '25': 1 },
    });
    expect(latencyOf(diff.get('releases.x')).calls).toBe(4);
    const byOp = subtract(webhookBuckets(after, true), webhookBuckets(before, true));
    expect([...byOp.keys()].sort()).toEqual([
      'deployments.x CREATE',
      'deployments.x UPDATE',
      'releases.x CREATE',
    ]);
  });

  it("when the API server's _sum lines are read, then each webhook's time is summed over rejected and (unless asked) operations", () => {
    const S = 'apiserver_admission_webhook_admission_duration_seconds_sum';
    const line = (name: string, op: string, rejected: string, v: number, type = 'validating'): string =>
      `${S}{name="${name}",operation="${op}",rejected="${rejected}",type="${type}"} ${v}`;
    const metrics = [
      line('releases.x', 'CREATE', 'false', 0.75),
      line('releases.x', 'CREATE', 'true', 0.25),
      line('releases.x', 'UPDATE', 'false', 0.5),
      line('deployments.x', 'CREATE', 'false', 0.125),
      line('mutator.y', 'CREATE', 'false', 9, 'admit'),
      // The buckets of the same histogram are not its sum.
      text('releases.x', 'CREATE', [1, 2]),
    ].join('\n');
    expect(Object.fromEntries(webhookSeconds(metrics))).toEqual({
      'releases.x': 1.5,
      'deployments.x': 0.125,
    });
    expect(webhookSeconds(metrics, true).get('releases.x CREATE')).toBe(1);
    expect(webhookSeconds('').size).toBe(0);
    // Between two scrapes: a webhook first seen in the later one counts from zero.
    const before = line('releases.x', 'CREATE', 'false', 0.5);
    expect(Object.fromEntries(subtractSums(webhookSeconds(metrics), webhookSeconds(before)))).toEqual({
      'releases.x': 1,
      'deployments.x': 0.125,
    });
  });

  it('when a quantile falls in a bucket, then it is interpolated linearly within it, as histogram_quantile does', () => {
    const b = webhookBuckets(text('w', 'CREATE', [50, 100]));
    const only = b.get('w')!;
    expect(quantile(only, 0.5)).toBeCloseTo(0.005);
    // 99 of 100: the 49th of the 50 calls between 5 and 25 ms.
    expect(quantile(only, 0.99)).toBeCloseTo(0.005 + 0.02 * (49 / 50));
    expect(latencyOf(only).p99Ms).toBeCloseTo(24.6, 1);
  });

  it('when nothing was called or everything lies past the last bound, then no number is invented', () => {
    expect(latencyOf(undefined)).toMatchObject({ calls: 0, p50Ms: Number.NaN });
    const past = webhookBuckets(text('w', 'CREATE', [0, 0, 0, 0, 0, 0, 0, 0, 5])).get('w')!;
    expect(quantile(past, 0.99)).toBe(25);
  });
});

describe("the webhook's garbage collection between two scrapes", () => {
  it("when the process collects garbage, then the bench reads the pauses per kind from prom-client's real default metrics", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const before = await registry.metrics();
    let after = before;
    let kept = 0;
    // Young-generation garbage until prom-client has seen a scavenge (its GC observer reports asynchronously).
    for (let round = 0; round < 200 && gcPauses(before, after).minor === undefined; round++) {
      for (let i = 0; i < 20_000; i++) kept += { i, s: `x${i}` }.s.length;
      await new Promise((r) => setImmediate(r));
      after = await registry.metrics();
    }
    const minor = gcPauses(before, after).minor;
    expect(kept).toBeGreaterThan(0);
    expect(minor?.count).toBeGreaterThan(0);
    expect(minor?.totalMs).toBeGreaterThan(0);
    expect(minor?.over10Ms).toBeLessThanOrEqual(minor?.over1Ms ?? 0);
    expect(gcPauses(after, after)).toEqual({});
  });
});

describe("the webhook's event loop between two scrapes", () => {
  it("when the loop is held between two scrapes, then the longest tick says so, and the next scrape starts afresh (prom-client's real default metrics)", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    await registry.metrics();
    // Held for 300 ms of wall time by a busy loop, after the monitor's timer has run at least once.
    await new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now();
    while (Date.now() - t0 < 300);
    await new Promise((r) => setTimeout(r, 30));
    const held = eventLoopTicks(await registry.metrics());
    expect(held?.longestMs).toBeGreaterThanOrEqual(300);
    expect(held?.p99Ms).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    const next = eventLoopTicks(await registry.metrics());
    expect(next?.longestMs).toBeLessThan(300);
  });

  it('when the gauges are missing, then there is no reading rather than a zero', () => {
    expect(eventLoopTicks('')).toBeUndefined();
    expect(eventLoopTicks('nodejs_eventloop_lag_max_seconds 0.05\n')).toBeUndefined();
    expect(
      eventLoopTicks('nodejs_eventloop_lag_max_seconds 0.0496\nnodejs_eventloop_lag_p99_seconds 0.0102\n'),
    ).toEqual({ longestMs: 49.6, p99Ms: 10.2 });
    // Labels, and a timestamp after the value, as the text format allows.
    expect(
      eventLoopTicks(
        'nodejs_eventloop_lag_max_seconds{pod="a"} 0.0496 1764559000000\nnodejs_eventloop_lag_p99_seconds 0.0102 1764559000000\n',
      ),
    ).toEqual({ longestMs: 49.6, p99Ms: 10.2 });
  });
});
