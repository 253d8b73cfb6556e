import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compact, logRange, niceCeil, renderLatencyChart, xmlEscape } from '../../bench/chart.js';
import { moduleOf, summarizeProfile, type CpuProfile } from '../../bench/cpuprofile.js';
import { parityCases, policyIds, sameVerdict, verdictKey } from '../../bench/parity.js';
import { evaluateTargets, pointAt, renderMarkdown, summarizeRuns, type Results } from '../../bench/report.js';
import {
  admissionReview,
  deploymentObject,
  gzipBombReview,
  largeReleaseReview,
  MAX_SECRET_BYTES,
  namespaceObject,
  smallReleaseReview,
} from '../../bench/reviews.js';
import { percentile, ratio, roundRatios, SampleReservoir, summarize } from '../../bench/stats.js';
import { defaultConfig } from '../../src/config/types.js';
import { emptyResults } from '../fixtures/bench/results.js';
import { decodeReleaseSecretData } from '../../src/helm/release.js';
import { parseAdmissionReview } from '../../src/server/admission.js';
import { reviewRequest } from '../../src/server/review.js';
import type { Point } from '../../bench/scenarios.js';

describe('bench stats', () => {
  it('when asked for a percentile, then it gives the nearest-rank value', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 90)).toBe(9);
    expect(percentile(xs, 99)).toBe(10);
    expect(percentile(xs, 100)).toBe(10);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });

  it('when two servers are measured in the same rounds, then the ratio is taken round by round, so a drift that moves both cancels', () => {
    // The machine halves its speed from round 3 on: both sides double, the ratio stays 1.5.
    const limit = [40, 42, 41, 80, 84, 82];
    const mine = [60, 63, 61.5, 120, 126, 123];
    expect(roundRatios(mine, limit)).toEqual({ median: 1.5, q1: 1.5, q3: 1.5, n: 6 });
    // Medians of each side, compared, would give 70 / 80 = 0.875 here; round by round it is 1.5.
    expect(roundRatios([60, 130, 70], [40, 80, 100])).toMatchObject({
      median: 1.5,
      q1: 0.7,
      q3: 1.625,
      n: 3,
    });
    // Missing or zero rounds are skipped, not counted as 0 or Infinity.
    expect(roundRatios([10, 20, 30], [5, 0])).toEqual({ median: 2, q1: 2, q3: 2, n: 1 });
  });

  it('when samples are summarised, then the input order does not matter and max is the largest', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ count: 5, mean: 3, p50: 3, max: 5 });
  });

  it('when a ratio has no denominator, then it is null', () => {
    expect(ratio(8, 10)).toBe(0.8);
    expect(ratio(8, 0)).toBeNull();
    expect(ratio(undefined, 10)).toBeNull();
  });

  it('when more samples arrive than the reservoir holds, then it keeps a bounded, uniform sample', () => {
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const r = new SampleReservoir(1000, random);
    for (let i = 0; i < 100_000; i++) r.add(i);
    expect(r.samples).toHaveLength(1000);
    expect(r.total).toBe(100_000);
    const mean = r.samples.reduce((a, b) => a + b, 0) / r.samples.length;
    expect(mean).toBeGreaterThan(40_000);
    expect(mean).toBeLessThan(60_000);
  });
});

describe('bench chart', () => {
  it('when axes are sized, then bounds are round numbers', () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(7300)).toBe(10_000);
    expect(niceCeil(2100)).toBe(2500);
    expect(logRange(0.3, 40)).toEqual([-1, 2]);
    expect(compact(12_345)).toBe('12k');
    expect(compact(1500)).toBe('1.5k');
    expect(compact(0.5)).toBe('0.5');
  });

  it('when rendered, then the SVG has one line per series and percentile, and escapes text', () => {
    const svg = renderLatencyChart('a <b>', 'c & d', [
      {
        title: 'Deployment',
        series: [
          {
            name: 'gloo-guard',
            color: '#111',
            points: [
              { rps: 100, p50: 1, p99: 3, label: '1' },
              { rps: 900, p50: 4, p99: 20 },
            ],
          },
          { name: 'limit', color: '#222', points: [{ rps: 200, p50: 0.5, p99: 2 }] },
        ],
      },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(4);
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg).toContain('c &amp; d');
    expect(svg).not.toContain('NaN');
    expect(xmlEscape('"x"')).toBe('&quot;x&quot;');
  });
});

describe('bench report', () => {
  const point = (connections: number, rps: number, p99 = 1): Point =>
    ({
      connections,
      rps,
      latency: { count: 10, mean: 1, p50: 1, p90: 1, p99, max: 2 },
      peakRssMiB: 100,
      serverCoreBusy: 1,
      driverCoreBusy: 0.5,
    }) as Point;

  it('when runs are summarised, then ratios compare the saturation points', () => {
    const servers = {
      'gloo-guard': {
        curves: {
          deployment: [point(1, 100), point(16, 800)],
          'release-large': [point(1, 30, 60), point(16, 45)],
        },
      },
      limit: { curves: { deployment: [point(1, 200), point(16, 1000)], 'release-large': [point(16, 50)] } },
      opa: { curves: { deployment: [point(16, 400)] } },
    } as unknown as Results['servers'];
    const rows = summarizeRuns(servers, 16);
    const gg = rows.find((r) => r.server === 'gloo-guard' && r.review === 'deployment');
    expect(gg).toMatchObject({ rps: 800, rpsVsLimit: 0.8, rpsVsOpa: 2, singleP99: 1 });
    expect(pointAt([point(1, 1), point(4, 2)], 16)?.connections).toBe(4);
    const targets = evaluateTargets({ summary: rows, servers, memory: {} });
    expect(targets.find((t) => t.id === 'deployment-vs-limit')?.pass).toBe(true);
    expect(targets.find((t) => t.id === 'large-vs-limit')?.pass).toBe(true);
    expect(targets.find((t) => t.id === 'large-single-p99')?.pass).toBe(true);
    expect(targets.find((t) => t.id === 'memory-in-flight')?.pass).toBeNull();
  });
});

describe('bench parity helpers', () => {
  it('when a message names policies, then their ids are read from the brackets', () => {
    expect(
      policyIds('gloo-guard: 2 violations:\n[no-bundled-redis] x\n[fips-images] y\n[no-bundled-redis] z'),
    ).toEqual(['fips-images', 'no-bundled-redis']);
    const a = verdictKey({ allowed: false, status: { message: '[a-b] x' }, warnings: ['[c] y'] });
    expect(a).toEqual({ allowed: false, denied: ['a-b'], warned: ['c'] });
    expect(
      sameVerdict(
        a,
        verdictKey({ allowed: false, status: { message: 'h\n[a-b] other words' }, warnings: ['[c] z'] }),
      ),
    ).toBe(true);
  });

  it('when the parity cases are built, then each is a distinct AdmissionReview', () => {
    const cases = parityCases();
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) expect(JSON.parse(c.body.toString()).kind).toBe('AdmissionReview');
  });
});

describe('bench cpu profile summary', () => {
  it('when a profile is summarised, then self time is grouped by module and idle is left out', () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 4000,
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4] },
        {
          id: 2,
          callFrame: {
            functionName: 'parse',
            url: 'file:///x/node_modules/body-parser/lib/types/json.js',
            lineNumber: 75,
          },
        },
        {
          id: 3,
          callFrame: {
            functionName: 'evaluate',
            url: 'file:///x/.cache/bench-dist/engine/evaluate.js',
            lineNumber: 1,
          },
        },
        { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      ],
      samples: [2, 2, 3, 4],
      timeDeltas: [0, 1000, 1000, 1000],
    };
    const s = summarizeProfile(profile, ['evaluate']);
    expect(s.idleMs).toBe(0);
    expect(s.byModule.map((m) => m.name)).toEqual([
      'npm: body-parser',
      'gloo-guard: src/engine',
      'native: (root)',
    ]);
    expect(moduleOf('node:internal/streams/readable', 'x')).toBe('node: streams');
    expect(moduleOf('', '(garbage collector)')).toBe('V8 garbage collector');
  });
});

describe('bench reviews', () => {
  const allowed = (body: Buffer): boolean =>
    reviewRequest(parseAdmissionReview(JSON.parse(body.toString())), defaultConfig()).allowed;

  it('when the Deployment and Namespace reviews are built, then gloo-guard allows them', () => {
    const set = {
      d: admissionReview(deploymentObject(), 'Deployment', 'd'),
      n: admissionReview(namespaceObject(), 'Namespace', 'n'),
    };
    expect(allowed(Buffer.from(JSON.stringify(set.d)))).toBe(true);
    expect(allowed(Buffer.from(JSON.stringify(set.n)))).toBe(true);
  });

  it('when the small release is built, then its Secret is about 10 KB and gloo-guard allows it', () => {
    const r = smallReleaseReview();
    expect(r.secretBytes).toBeGreaterThan(6_000);
    expect(r.secretBytes).toBeLessThan(14_000);
    expect(allowed(r.body)).toBe(true);
  });

  it('when a release is fitted to a size, then its Secret is just under it and decodes', () => {
    const r = largeReleaseReview(60_000);
    expect(r.secretBytes).toBeLessThanOrEqual(60_000);
    expect(r.secretBytes).toBeGreaterThan(50_000);
    expect(r.releaseJsonBytes).toBeGreaterThan(3 * (r.secretBytes ?? 0));
    expect(allowed(r.body)).toBe(true);
  });

  it('when a gzip bomb is built, then it fits a Secret and gloo-guard refuses to inflate it', () => {
    const r = gzipBombReview(8 * 1024 * 1024);
    expect(r.secretBytes).toBeLessThan(MAX_SECRET_BYTES);
    const data = (JSON.parse(r.body.toString()) as { request: { object: { data: { release: string } } } })
      .request.object.data.release;
    expect(() => decodeReleaseSecretData(data, 1024 * 1024)).toThrow(/expands past the limit/);
  });
});

describe('Kyverno in npm run bench', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  /** `npm run bench -- --check` as a process: what a run would do, without starting anything. */
  const benchCheck = (args: string[], path = process.env.PATH ?? ''): string => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--check', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: path },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  };

  it('when Go is on the PATH, then a run times Kyverno beside gloo-guard on the releases, with the harness built or how long building takes', () => {
    const out = benchCheck([]);
    expect(out).toMatch(
      /^Kyverno harness: (built: \S+\/gg-bench|buildable: go\S+; a cold build takes about 7 min)/m,
    );
    expect(out).toContain('Kyverno timing: release-small, 400 runs per engine, the engines taking turns');
    expect(out).toContain('Kyverno timing: gzip-bomb');
  });

  it('when Go is missing, or Kyverno is skipped, then the run says so in one line instead of leaving it out', () => {
    // The PATH keeps node (tsx) and the shell's tools, but no go.
    const noGo = [dirname(process.execPath), '/usr/bin', '/bin'].join(':');
    expect(benchCheck([], noGo)).toContain(
      "Kyverno: not run (not buildable: no 'go' on PATH (Kyverno v1.19.1 needs Go >= 1.26))",
    );
    expect(benchCheck(['--skip-kyverno'])).toContain('Kyverno: not run (--skip-kyverno)');
  });

  it('when the report is written, then Kyverno sits beside gloo-guard with the ratio, or one line says why not', () => {
    const base = emptyResults();
    const ran = renderMarkdown({
      ...base,
      kyverno: {
        ran: true,
        version: 'v1.19.1',
        rows: [{ review: 'release-small', glooGuardP50Ms: 0.25, kyvernoP50Ms: 0.9 }],
        parityCases: 11,
        parityDiffer: 0,
      },
    });
    expect(ran).toContain('parity 11 of 11');
    expect(ran).toContain('| release-small | 0.25 | 0.9 | 3.6 |');
    expect(renderMarkdown({ ...base, kyverno: { ran: false, reason: '--skip-kyverno' } })).toContain(
      'Kyverno: not run (--skip-kyverno).',
    );
  });
});
