import { describe, expect, it } from 'vitest';
import { pairedReview } from '../../bench/paired.js';
import { emptyResults } from '../fixtures/bench/results.js';
import { evaluateTargets, renderMarkdown, vsLimit, type SummaryRow } from '../../bench/report.js';

function summaryRow(review: SummaryRow['review'], rpsVsLimit: number): SummaryRow {
  return {
    review,
    server: 'gloo-guard',
    connections: 16,
    rps: 10_000,
    p50: 1,
    p99: 3,
    max: 20,
    singleP50: 0.1,
    singleP99: 0.5,
    peakRssMiB: 200,
    serverCoreBusy: 1,
    driverCoreBusy: 0.6,
    rpsVsLimit,
    rpsVsOpa: 8,
  };
}

describe('gloo-guard and the limit taking turns', () => {
  it('when the rounds are measured, then each round gives a ratio and the run the median of them', () => {
    const p = pairedReview(16, 3, [
      { limitRps: 16_000, glooGuardRps: 11_200 },
      { limitRps: 12_000, glooGuardRps: 9_000 },
      { limitRps: 18_000, glooGuardRps: 11_700 },
    ]);
    expect(p.rounds.map((r) => r.ratio)).toEqual([0.7, 0.75, 0.65]);
    expect(p.medianRatio).toBe(0.7);
  });

  it('when a run has paired rounds, then the targets against the limit use their median, not the sweeps drifting apart', () => {
    const sweepsOnly = { summary: [summaryRow('deployment', 1.11)], servers: {}, memory: {} };
    const target = (r: Parameters<typeof evaluateTargets>[0]) =>
      evaluateTargets(r).find((t) => t.id === 'deployment-vs-limit');
    expect(target(sweepsOnly)).toMatchObject({ measured: '1.11', pass: true });
    const paired = {
      ...sweepsOnly,
      paired: { deployment: pairedReview(16, 3, [{ limitRps: 16_000, glooGuardRps: 10_400 }]) },
    };
    expect(vsLimit(paired, 'deployment')).toBe(0.65);
    expect(target(paired)).toMatchObject({ measured: '0.65', pass: false });
    // A review without rounds keeps the sweeps' ratio.
    expect(
      vsLimit({ ...paired, summary: [...paired.summary, summaryRow('namespace', 0.9)] }, 'namespace'),
    ).toBe(0.9);
  });

  it('when the report is written, then it shows every round and the median beside the sweeps', () => {
    const r = emptyResults({
      summary: [summaryRow('deployment', 1.11)],
      paired: {
        deployment: pairedReview(16, 3, [
          { limitRps: 16_000, glooGuardRps: 11_200 },
          { limitRps: 12_000, glooGuardRps: 9_000 },
        ]),
      },
    });
    const md = renderMarkdown(r);
    expect(md).toContain('| deployment | 16 × 3 | 0.7, 0.75 | 0.725 |');
  });
});
