import { describe, expect, it } from 'vitest';
import { pacedRows } from '../../bench/paced-cost.js';
import { renderPacedCost, type PacedCostResults } from '../../bench/perf-tables.js';

const LIMIT = 'limit (bare Node)';

describe('CPU per review at a paced rate (bench/paced-cost.ts)', () => {
  it('when rounds are recorded, then each server gets the median of its rounds and of its ratios to the limit in the same round', () => {
    const rows = pacedRows(
      [
        { review: 'deployment', server: LIMIT, usPerReview: 500 },
        { review: 'deployment', server: 'gloo-guard', usPerReview: 800 },
        { review: 'deployment', server: LIMIT, usPerReview: 400 },
        { review: 'deployment', server: 'gloo-guard', usPerReview: 700 },
        { review: 'deployment', server: LIMIT, usPerReview: 550 },
        { review: 'deployment', server: 'gloo-guard', usPerReview: 1100 },
      ],
      LIMIT,
    );
    expect(rows).toEqual([
      { review: 'deployment', server: LIMIT, usPerReview: [500, 400, 550], medianUs: 500 },
      // Round by round: 1.6, 1.75, 2; the median of the ratios, not the ratio of the medians (1.6).
      {
        review: 'deployment',
        server: 'gloo-guard',
        usPerReview: [800, 700, 1100],
        medianUs: 800,
        vsLimit: 1.75,
      },
    ]);
  });

  it('when the results are rendered, then each row, the rate, the rounds and the idle CPU are on the page', () => {
    const r: PacedCostResults = {
      generatedAt: '2026-12-01T03:54:00.000Z',
      commit: 'fe56b5d',
      node: '26.12.1',
      loadAverage: '0.47 0.91 1.36',
      ratePerSec: 100,
      sec: 5,
      rounds: 2,
      idleUsPerSec: { [LIMIT]: 0, 'gloo-guard': 6703 },
      rows: [
        { review: 'namespace', server: LIMIT, usPerReview: [420, 475], medianUs: 448 },
        { review: 'namespace', server: 'gloo-guard', usPerReview: [559, 603], medianUs: 581, vsLimit: 1.3 },
      ],
    };
    const md = renderPacedCost(r);
    expect(md).toContain('2026-12-01 03:54 UTC on commit fe56b5d');
    expect(md).toContain('100 reviews a second for 5 s, 2 rounds');
    expect(md).toContain('| namespace | gloo-guard | 581 | 1.3 | 559, 603 |');
    expect(md).toContain(`| namespace | ${LIMIT} | 448 | – | 420, 475 |`);
    expect(md).toContain('gloo-guard 6703 µs');
  });
});
