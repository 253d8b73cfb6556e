/**
 * Issue 15 point 1: values nested up to 10,000 levels. Helm itself (test/helm-diff, v3 and v4) says
 * which depths it reads; gloo-guard must judge exactly those, through `check` and through the
 * webhook (createApp with the real offload worker), and refuse the rest saying why.
 *
 * Depth counts containers as Go's decoder does: a values file's top map is level 1; inside a
 * release, `config` sits one level and `chart.values` two levels below the release object.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';
import { Offload } from '../../src/server/offload.js';
import { helmRelease, objectReview } from '../fixtures/admission/reviews.js';
import { cli } from '../helpers/cli.js';
import { MAJORS, readReleases, renderValues } from './helm.js';

const LEVELS = [300, 1000, 9999, 10_000, 10_001];
const REFUSED = 'nested more than 10000 levels deep';
const dir = mkdtempSync(join(tmpdir(), 'gg-depth-'));

/** Helm's verdict, the same for both majors (a test fails if they differ). */
function helmAgrees(verdicts: boolean[]): boolean {
  expect(new Set(verdicts).size).toBe(1);
  return verdicts[0] as boolean;
}

// ---------------------------------------------------------------- values files, through check

/** A values file `levels` deep: an insecure relay (a denial when judged) and `x` nested below. */
const SHAPES: Record<string, (levels: number) => string> = {
  flow: (n) => `common: {insecure: true}\nx: ${'{a: '.repeat(n - 1)}1${'}'.repeat(n - 1)}\n`,
  block: (n) =>
    `common:\n  insecure: true\n${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}x:${i === n - 1 ? ' 1' : ''}`).join('\n')}\n`,
  sequence: (n) => `common: {insecure: true}\nx: ${'['.repeat(n - 1)}1${']'.repeat(n - 1)}\n`,
};
const CHART = {
  'Chart.yaml': 'apiVersion: v2\nname: gloo-platform\nversion: 2.5.4\n',
  'values.yaml': '{}\n',
};
const FILE_CASES: Array<[string, number]> = [
  ...LEVELS.map((n): [string, number] => ['flow', n]),
  ['block', 10_000],
  ['block', 10_001],
  ['sequence', 10_000],
  ['sequence', 10_001],
];

describe('values files nested up to and past Helm’s limit, through gloo-guard check', () => {
  const texts = FILE_CASES.map(([shape, n]) => (SHAPES[shape] as (n: number) => string)(n));
  const readable = MAJORS.map((m) =>
    renderValues(
      m,
      texts.map((t) => ({ files: CHART, valueFiles: [t] })),
    ).map((r) => r.error === undefined),
  );

  it.each(FILE_CASES.map((c, i) => [...c, i] as const))(
    'when a %s values file is %i levels deep, then check judges it exactly when Helm reads it',
    (shape, levels, i) => {
      const helmReads = helmAgrees(readable.map((r) => r[i] as boolean));
      expect(helmReads).toBe(levels <= 10_000);
      const file = join(dir, `${shape}-${levels}.yaml`);
      writeFileSync(file, texts[i] as string);
      const r = cli(['check', '--chart', 'gloo-platform', file]);
      if (helmReads) {
        expect(r.stdout).toContain('DENY [no-insecure-relay]');
        expect(r.code).toBe(1);
      } else {
        expect(r.stderr.trim()).toBe(`gloo-guard: ${file}:1: not usable YAML: ${REFUSED}`);
        expect(r.code).toBe(2);
      }
    },
  );
});

// ---------------------------------------------------------------- releases, through the webhook and check

/** JSON text of `{"a":{"a":...{"leaf":true}}}`, `levels` objects deep; built as text, since it is deep. */
function deepJson(levels: number): string {
  return `${'{"a":'.repeat(levels - 1)}{"leaf":true}${'}'.repeat(levels - 1)}`;
}

/**
 * A gloo-platform release Secret with an insecure relay in its user values and a key `x` nested so
 * that `config` is `levels` deep; with `both`, the chart's values hold the same key as deep, so the
 * coalescing merge walks all of it.
 */
function deepRelease(levels: number, both: boolean): Record<string, unknown> {
  const config = { glooMgmtServer: { enabled: true }, common: { insecure: true }, x: '__DEEP__' };
  const rel = helmRelease({
    name: `deep-${levels}`,
    chart: 'gloo-platform',
    chartVersion: '2.5.4',
    chartValues: both ? { x: '__DEEP__' } : {},
    values: config,
  });
  const json = JSON.stringify(rel).replaceAll('"__DEEP__"', deepJson(levels - 1));
  const helm = gzipSync(json).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'helm.sh/release.v1',
    metadata: { name: `sh.helm.release.v1.deep-${levels}.v1`, namespace: 'gloo-mesh' },
    data: { release: Buffer.from(helm).toString('base64') },
  };
}

const RELEASE_CASES = [false, true].flatMap((both) => LEVELS.map((n) => [both, n] as const));

describe('releases nested up to and past Helm’s limit', () => {
  const secrets = RELEASE_CASES.map(([both, n]) => deepRelease(n, both));
  const readable = MAJORS.map((m) => readReleases(m, secrets).map((r) => r.error === undefined));
  const verdict = (i: number): boolean => helmAgrees(readable.map((r) => r[i] as boolean));
  const config = defaultConfig();
  // The worker the server uses, run from the sources: values cross from it to the event loop.
  const offload = new Offload(4, new URL('../fixtures/offload/source-worker.mjs', import.meta.url));
  const app = createApp({ config: () => config, offload });
  afterAll(() => offload.close());

  it.each(RELEASE_CASES.map((c, i) => [c[0] ? 'chart values and config' : 'config', c[1], i] as const))(
    'when %s nest %i levels, then the webhook judges the release exactly when Helm reads it',
    async (_where, levels, i) => {
      const res = await request(app)
        .post('/validate')
        .send(objectReview(secrets[i] as Record<string, unknown>));
      expect(res.status).toBe(200);
      const message = String(res.body.response.status?.message ?? '');
      expect(res.body.response.allowed).toBe(false);
      if (verdict(i)) {
        expect(message).toContain('[no-insecure-relay]');
      } else {
        expect(message).toContain(REFUSED);
        expect(message).toContain('onError: deny');
      }
      // Helm's own limits, as the harness found them: config is one level below the release object.
      expect(verdict(i)).toBe(levels + (RELEASE_CASES[i]?.[0] ? 2 : 1) <= 10_000);
    },
  );

  it.each(LEVELS.map((n) => [n, RELEASE_CASES.findIndex(([b, m]) => b && m === n)] as const))(
    'when a release Secret file nests %i levels, then check judges it exactly when Helm reads it',
    (levels, i) => {
      const file = join(dir, `release-${levels}.json`);
      writeFileSync(file, JSON.stringify(secrets[i]));
      const r = cli(['check', file]);
      if (verdict(i)) {
        expect(r.stdout).toContain('DENY [no-insecure-relay]');
        expect(r.code).toBe(1);
      } else {
        expect(r.stdout + r.stderr).toContain(REFUSED);
        expect(r.code).not.toBe(0);
      }
    },
  );
});
