/**
 * Generated bad input against the webhook over real HTTPS (createApp() behind a TLS listener on
 * 127.0.0.1): mutated AdmissionReviews, Kubernetes-shaped objects of any content, and Helm values of
 * any shape at the keys the policies read. Every case must get a clear answer (an AdmissionReview for
 * its uid, or a one-line metav1.Status) in bounded time, nothing may reach the error handler, the
 * webhook must agree with the CLI's engine, and the server must keep serving.
 *
 * Extends test/integration/server-malformed.test.ts (which posts fc.jsonValue() bodies through
 * supertest); release-payload corruption is in fuzz-release.test.ts.
 */
import { Agent } from 'node:https';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/types.js';
import { catalogFor } from '../../src/engine/charts/catalog.js';
import { CHART_DEFAULTS } from '../../src/engine/charts/defaults.js';
import { isDenied } from '../../src/engine/evaluate.js';
import { judge } from '../fixtures/judge.js';
import { releaseFromValues } from '../../src/engine/subjects.js';
import type { ChartFamily } from '../../src/engine/types.js';
import { createApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/log.js';
import { createMetrics } from '../../src/server/metrics.js';
import {
  deploymentObject,
  namespaceObject,
  objectReview,
  PRODUCTION_VALUES,
  rawReleaseSecret,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import {
  expectServing,
  expectUsableAnswer,
  figure,
  reviewResponse,
  SEED,
  serveApp,
  validate,
  type Answer,
  type AppServer,
  type Target,
} from './support.js';

const CONFIGS: Record<string, Config> = {
  enforce: defaultConfig(),
  'onError-allow': { ...defaultConfig(), onError: 'allow' },
  audit: { ...defaultConfig(), mode: 'audit' },
  'small-limit': { ...defaultConfig(), limits: { maxReleaseBytes: 256 * 1024 } },
};
let config: Config = CONFIGS.enforce!;

const logText = { value: '' };
const logger = createLogger({ write: (s: string) => void (logText.value += s) }, 'warn');
const app = createApp({ config: () => config, logger, metrics: createMetrics() });
let server: AppServer;
let target: Target;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
const slowest: Record<string, number> = {};

beforeAll(async () => {
  server = await serveApp(app);
  target = { port: server.port, ca: server.ca, agent: new Agent({ keepAlive: true, maxSockets: 4 }) };
});

afterAll(async () => {
  target.agent?.destroy();
  await server.close();
});

const expectClearAnswer = (a: Answer, body: string, suite: string): void => {
  slowest[suite] = Math.max(slowest[suite] ?? 0, a.ms);
  expectUsableAnswer(a, body);
};

/** The server still answers, nothing reached the error handler, and Object.prototype is untouched. */
async function expectHealthy(): Promise<void> {
  await expectServing(target, logText.value);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
}

// ------------------------------------------------------------------ mutations of valid reviews

type Path = Array<string | number>;

/** Every path in a JSON value (breadth first, at most `limit`). */
function pathsOf(root: unknown, limit = 500): Path[] {
  const out: Path[] = [];
  const queue: Array<[unknown, Path]> = [[root, []]];
  for (let item = queue.shift(); item !== undefined && out.length < limit; item = queue.shift()) {
    const [v, p] = item;
    if (p.length > 0) out.push(p);
    if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v))
        queue.push([child, [...p, Array.isArray(v) ? Number(k) : k]]);
    }
  }
  return out;
}

const MUTATIONS = [
  'delete',
  'null',
  'replace',
  'wrap-array',
  'wrap-object',
  'truncate',
  'flip',
  'grow',
] as const;
type Mutation = { at: number; op: (typeof MUTATIONS)[number]; value: unknown; cut: number; char: string };

function mutate(root: Record<string, unknown>, m: Mutation): void {
  const paths = pathsOf(root);
  const path = paths[m.at % paths.length];
  if (!path) return;
  let parent: unknown = root;
  for (const k of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[k];
  const p = parent as Record<string | number, unknown>;
  const key = path.at(-1)!;
  const old = p[key];
  switch (m.op) {
    case 'delete':
      if (Array.isArray(p)) p.splice(Number(key), 1);
      else delete p[key];
      break;
    case 'null':
      p[key] = null;
      break;
    case 'replace':
      p[key] = m.value;
      break;
    case 'wrap-array':
      p[key] = [old];
      break;
    case 'wrap-object':
      p[key] = { value: old };
      break;
    case 'truncate':
      if (typeof old === 'string') p[key] = old.slice(0, m.cut % (old.length + 1));
      break;
    case 'flip':
      if (typeof old === 'string' && old.length > 0) {
        const i = m.cut % old.length;
        p[key] = old.slice(0, i) + m.char + old.slice(i + 1);
      }
      break;
    case 'grow':
      p[key] = typeof old === 'string' ? old.repeat(1 + (m.cut % 2000)) : m.value;
      break;
  }
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom(...MUTATIONS),
  value: fc.jsonValue({ maxDepth: 3 }),
  cut: fc.nat(),
  char: fc.constantFrom('!', '=', ' ', '\u0000', 'é', '*', '-', '_', 'A', '\n', '\u{1F600}'),
});

const BASES: Array<[string, () => Record<string, unknown>]> = [
  ['release, defaults', () => releaseReview()],
  ['release, production', () => releaseReview({ values: PRODUCTION_VALUES })],
  ['release, gloo-platform', () => releaseReview({ chart: 'gloo-platform', chartVersion: '2.5.0' })],
  ['release UPDATE', () => releaseReview({}, { operation: 'UPDATE' })],
  ['release DELETE', () => releaseReview({}, { operation: 'DELETE' })],
  ['Namespace', () => objectReview(namespaceObject('gloo-mesh', { 'istio-injection': 'enabled' }))],
  [
    'Deployment',
    () => objectReview(deploymentObject('gloo-mesh-mgmt-server', 'gloo-mesh', ['--insecure=true'])),
  ],
  [
    'Service',
    () =>
      objectReview({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'gloo-mesh-mgmt-server', namespace: 'gloo-mesh' },
        spec: { type: 'LoadBalancer' },
      }),
  ],
  ['corrupt release', () => objectReview(rawReleaseSecret('bm90IGd6aXA='))],
];

describe('fuzz: mutations of valid AdmissionReviews', { timeout: 600_000 }, () => {
  it('when a valid review of any kind is mutated anywhere, then every answer is clear and the server lives on', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: BASES.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...Object.keys(CONFIGS)),
        async (base, mutations, cfg) => {
          runs++;
          config = CONFIGS[cfg]!;
          // A deep copy: the fixtures share objects (kinds, chart defaults) between reviews.
          const review = structuredClone(BASES[base]![1]());
          for (const m of mutations) mutate(review, m);
          const body = JSON.stringify(review);
          if (body === undefined) return;
          expectClearAnswer(await validate(target, body), body, 'mutations');
        },
      ),
      { numRuns: 400, seed: SEED },
    );
    await expectHealthy();
    figure('fuzz mutations', { runs, seed: SEED, slowestMs: Math.round(slowest.mutations ?? 0) });
  });
});

// ------------------------------------------------------------------ objects of any content

/** Keys that have bitten JavaScript before. */
const nastyKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
);
const anyKey = fc.oneof(fc.string({ maxLength: 12 }), nastyKey);
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyKey, tie('value'), { maxKeys: 5 }),
  ),
})).value;

const objectLike = fc.record(
  {
    apiVersion: fc.constantFrom('v1', 'apps/v1', 'apps/v1beta1', '', 7),
    kind: fc.constantFrom('Secret', 'Namespace', 'Deployment', 'Service', 'ConfigMap', 'List', ''),
    type: fc.constantFrom('helm.sh/release.v1', 'Opaque', 'helm.sh/release.v2', null),
    metadata: fc.oneof(
      anyValue,
      fc.record({
        name: fc.oneof(fc.string(), fc.constant('gloo-mesh-mgmt-server'), fc.constant('prometheus-server')),
        namespace: fc.oneof(fc.string(), fc.constantFrom('gloo-mesh', 'gloo-mesh-addons', 'istio-system')),
        labels: fc.dictionary(anyKey, fc.oneof(fc.string(), anyValue), { maxKeys: 4 }),
        annotations: fc.dictionary(anyKey, fc.oneof(fc.string(), anyValue), { maxKeys: 4 }),
      }),
    ),
    data: fc.oneof(anyValue, fc.record({ release: fc.oneof(fc.base64String(), fc.string(), anyValue) })),
    spec: anyValue,
  },
  { requiredKeys: ['kind'] },
);

const requestLike = fc.record({
  uid: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 140 })),
  kind: fc.record({
    group: fc.constantFrom('', 'apps'),
    version: fc.constant('v1'),
    kind: fc.constantFrom('Secret', 'Namespace', 'Deployment', 'Service', 'Pod'),
  }),
  operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'),
  subResource: fc.option(fc.constantFrom('status', 'scale', ''), { nil: undefined }),
  name: fc.option(fc.string(), { nil: undefined }),
  namespace: fc.option(fc.string(), { nil: undefined }),
  userInfo: fc.option(anyValue, { nil: undefined }),
  object: fc.oneof(objectLike, anyValue),
  oldObject: fc.option(objectLike, { nil: undefined }),
  dryRun: fc.oneof(fc.boolean(), anyValue),
});

describe('fuzz: objects of any content', { timeout: 600_000 }, () => {
  it('when requests carry Kubernetes-shaped objects of any content, then every answer is clear', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(requestLike, fc.constantFrom(...Object.keys(CONFIGS)), async (request, cfg) => {
        runs++;
        config = CONFIGS[cfg]!;
        const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
        expectClearAnswer(await validate(target, body), body, 'objects');
      }),
      { numRuns: 400, seed: SEED },
    );
    await expectHealthy();
    figure('fuzz objects', { runs, seed: SEED, slowestMs: Math.round(slowest.objects ?? 0) });
  });

  it('when keys such as __proto__ and constructor appear at every level, then nothing is polluted and the answer is clear', async () => {
    const proto =
      '{"__proto__":{"allowed":true,"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
    const values = `{"__proto__":{"glooMeshRedis":{"enabled":false}},"glooMeshRedis":{"__proto__":{"enabled":false}},"constructor":{"prototype":{"polluted":"yes"}}}`;
    // The chart declares the Redis default; the user's values try to hide a false behind __proto__.
    const chartValues = `{"__proto__":{"glooMeshRedis":{"enabled":false}},"glooMeshRedis":{"enabled":true,"__proto__":{"enabled":false}},"glooMeshMgmtServer":{"enabled":true}}`;
    const release = `{"name":"p","namespace":"gloo-mesh","version":1,"info":{"status":"pending-install"},"chart":{"metadata":{"name":"gloo-mesh-enterprise","version":"2.0.9"},"values":${chartValues}},"config":${values},"__proto__":{"config":{}}}`;
    const { gzipSync } = await import('node:zlib');
    const secret = rawReleaseSecret(gzipSync(release).toString('base64'), 'proto');
    const body = JSON.stringify(objectReview(secret, { uid: 'proto-1' })).replace(
      '"request":{',
      `"request":{"__proto__":${proto},`,
    );
    config = CONFIGS.enforce!;
    const a = await validate(target, body);
    expectClearAnswer(a, body, 'proto');
    // The bundled Redis stays enabled by the chart default: a key hidden behind __proto__ changes nothing.
    expect(reviewResponse(a).status?.message).toContain('[no-bundled-redis]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectHealthy();
  });
});

// ------------------------------------------------------------------ values of any shape

const FAMILIES: Array<[ChartFamily, string]> = [
  ['gloo-mesh-enterprise', '2.0.9'],
  ['gloo-mesh-agent', '2.1.0'],
  ['gloo-platform', '2.5.2'],
];

/** Every path of a family's defaults (objects and leaves), plus keys the policies read that have no default. */
function valuePaths(family: ChartFamily): string[][] {
  const extra = [
    ['glooMeshUi', 'auth', 'oidc', 'clientSecret'],
    ['glooMeshMgmtServer', 'serviceOverrides'],
    ['glooMeshMgmtServer', 'deploymentOverrides'],
    ['glooMgmtServer', 'serviceOverrides'],
    ['glooMgmtServer', 'deploymentOverrides'],
    ['glooMeshAgent', 'deploymentOverrides'],
    ['glooAgent', 'deploymentOverrides'],
    ['glooUi', 'deploymentOverrides'],
  ];
  return [...pathsOf(CHART_DEFAULTS[family]).map((p) => p.map(String)), ...extra];
}

function setPath(root: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = root;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    cur[k] = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path.at(-1)!] = value;
}

const plausible = fc.oneof(
  fc.boolean(),
  fc.constantFrom(
    'true',
    'false',
    'True',
    '',
    'LoadBalancer',
    'ClusterIP',
    'NodePort',
    'oidc',
    '2.5.2-fips',
    'http://prom:9090',
    'https://idp.example.com',
  ),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.string(),
  anyValue,
);

describe('fuzz: Helm values of any shape at the keys the policies read', { timeout: 600_000 }, () => {
  it('when values are anything at those keys, then no policy fails, and the webhook and the CLI engine agree', async () => {
    let [runs, denied] = [0, 0];
    config = CONFIGS.enforce!;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: FAMILIES.length - 1 }),
        fc.array(fc.tuple(fc.nat(), plausible), { minLength: 1, maxLength: 8 }),
        async (f, edits) => {
          runs++;
          const [family, version] = FAMILIES[f]!;
          const paths = valuePaths(family);
          const values: Record<string, unknown> = {};
          for (const [at, v] of edits) setPath(values, paths[at % paths.length]!, v);
          const body = JSON.stringify(
            // The chart's own values as the catalog knows them: a release is judged on its chart's values.
            releaseReview({
              chart: family,
              chartVersion: version,
              values,
              chartValues: catalogFor(family, version).catalog.defaults,
            }),
          );
          const a = await validate(target, body);
          expectClearAnswer(a, body, 'values');
          const r = reviewResponse(a);
          expect(r.auditAnnotations?.error).toBeUndefined();
          const subject = releaseFromValues({
            chart: family,
            chartVersion: version,
            values: [values],
            source: { location: 'fuzz' },
            namespace: 'gloo-mesh',
          });
          const result = judge(subject!, config);
          expect(result.errors).toEqual([]);
          expect(r.allowed).toBe(!isDenied(result, config));
          if (!r.allowed) denied++;
        },
      ),
      { numRuns: 300, seed: SEED },
    );
    await expectHealthy();
    figure('fuzz values', { runs, denied, seed: SEED, slowestMs: Math.round(slowest.values ?? 0) });
  });
});
