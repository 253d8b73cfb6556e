/**
 * The per-review metrics are counted in plain numbers (src/server/tally.ts); what /metrics serves
 * must read exactly as prom-client's own Counter and Histogram would give it for the same calls.
 */
import fc from 'fast-check';
import { Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, DURATION_BUCKETS } from '../../src/server/metrics.js';
import { TallyCounter, TallyHistogram } from '../../src/server/tally.js';

const KINDS = ['Deployment', 'Namespace', 'Secret', 'other'] as const;
const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE'] as const;
const DECISIONS = ['allow', 'deny'] as const;

/** A review as the metrics see it: its labels and how long it took (bounds themselves included). */
const review = fc.record({
  kind: fc.constantFrom(...KINDS),
  operation: fc.constantFrom(...OPERATIONS),
  decision: fc.constantFrom(...DECISIONS),
  seconds: fc.oneof(fc.constantFrom(...DURATION_BUCKETS, 0, 31), fc.double({ min: 0, max: 40, noNaN: true })),
});

interface Review {
  kind: (typeof KINDS)[number];
  operation: (typeof OPERATIONS)[number];
  decision: (typeof DECISIONS)[number];
  seconds: number;
}

/** prom-client's own classes and ours on two registries, fed the same reviews. */
function both(reviews: Review[], openMetrics = false): [Registry, Registry] {
  const theirs = new Registry();
  const ours = new Registry();
  if (openMetrics)
    for (const r of [theirs, ours])
      (r as unknown as Registry<RegistryContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const labelNames = ['kind', 'operation', 'decision'] as const;
  const name = 'gloo_guard_admission_requests_total';
  const help = 'Admission reviews answered.';
  const hName = 'gloo_guard_admission_duration_seconds';
  const c1 = new Counter({ name, help, labelNames, registers: [theirs] });
  const h1 = new Histogram({
    name: hName,
    help,
    labelNames: ['kind'],
    buckets: DURATION_BUCKETS,
    registers: [theirs],
  });
  const c2 = new TallyCounter({ name, help, labelNames, registers: [ours] });
  const h2 = new TallyHistogram(
    { name: hName, help, labelNames: ['kind'], registers: [ours] },
    DURATION_BUCKETS,
  );
  for (const { seconds, ...labels } of reviews) {
    c1.inc(labels);
    c2.inc(labels);
    h1.observe({ kind: labels.kind }, seconds);
    h2.observe({ kind: labels.kind }, seconds);
  }
  return [theirs, ours];
}

describe('metrics counted in plain numbers', () => {
  it('when the same reviews are recorded, then /metrics text and JSON are what prom-client gives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(review, { maxLength: 60 }), async (reviews) => {
        const [theirs, ours] = both(reviews);
        expect(await ours.metrics()).toBe(await theirs.metrics());
        expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
      }),
      { numRuns: 200, seed: 29 },
    );
  });

  it('when the registry writes OpenMetrics, then the text is what prom-client gives too', async () => {
    const reviews: Review[] = [{ kind: 'Namespace', operation: 'UPDATE', decision: 'allow', seconds: 0.001 }];
    const [theirs, ours] = both(reviews, true);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('gloo_guard_admission_requests_total{');
  });

  it('when the registry is reset, then every series is forgotten, as with prom-client', async () => {
    const [theirs, ours] = both([{ kind: 'Secret', operation: 'CREATE', decision: 'deny', seconds: 0.2 }]);
    theirs.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toMatch(/Secret/);
  });

  it('when the webhook records reviews, then its registry serves them under the documented names', async () => {
    const m = createMetrics();
    m.requests.inc({ kind: 'Deployment', operation: 'CREATE', decision: 'allow' });
    m.duration.observe({ kind: 'Deployment' }, 0.0007);
    const text = await m.registry.metrics();
    expect(text).toContain(
      'gloo_guard_admission_requests_total{kind="Deployment",operation="CREATE",decision="allow"} 1',
    );
    expect(text).toContain('gloo_guard_admission_duration_seconds_bucket{le="0.0005",kind="Deployment"} 0');
    expect(text).toContain('gloo_guard_admission_duration_seconds_bucket{le="0.001",kind="Deployment"} 1');
    expect(text).toContain('# TYPE gloo_guard_admission_duration_seconds histogram');
  });
});
