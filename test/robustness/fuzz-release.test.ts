/**
 * Helm release Secrets that are broken every way a payload can break, against the webhook over real
 * HTTPS: truncated at any layer, wrong base64, not gzip, gzip of not-JSON, JSON of the wrong shape,
 * deep nesting, huge strings, and gzip bombs (one member, many members, nested). Every CREATE gets a
 * clear answer in bounded time and memory; a payload that cannot be read is refused under
 * `onError: deny` and let through with a warning under `onError: allow`, never silently.
 *
 * Extends test/integration/server-limits.test.ts (one 512 MiB single-member bomb) and
 * test/unit/helm-release.test.ts (hand-picked decode errors).
 */
import { Agent } from 'node:https';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/types.js';
import { GO_MAX_DEPTH } from '../../src/helm/release-json.js';
import { createApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/log.js';
import { helmRelease, objectReview, rawReleaseSecret, releaseReview } from '../fixtures/admission/reviews.js';
import {
  expectServing,
  expectUsableAnswer,
  figure,
  mib,
  SEED,
  serveApp,
  validate,
  type AppServer,
  type ReviewResponse,
  type Target,
} from './support.js';

const MiB = 1024 * 1024;
const ENFORCE = defaultConfig();
const ALLOW: Config = { ...defaultConfig(), onError: 'allow' };
let config: Config = ENFORCE;
const logText = { value: '' };
const app = createApp({
  config: () => config,
  logger: createLogger({ write: (s: string) => void (logText.value += s) }, 'warn'),
});
let server: AppServer;
let target: Target;

beforeAll(async () => {
  server = await serveApp(app);
  target = { port: server.port, ca: server.ca, agent: new Agent({ keepAlive: true, maxSockets: 2 }) };
});

afterAll(async () => {
  target.agent?.destroy();
  await server.close();
});

// ------------------------------------------------------------------ building payloads

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
/** data.release as the API server sends it: base64 of Helm's base64 of gzip of JSON. */
const wire = (helmBase64: string): string => b64(helmBase64);
const GOOD_JSON = JSON.stringify(helmRelease({ values: { glooMeshUi: { enabled: false } } }));
const GOOD_GZIP = gzipSync(GOOD_JSON, { level: 9 });
const GOOD_HELM = b64(GOOD_GZIP);
const GOOD_WIRE = wire(GOOD_HELM);

/** A release Secret review whose data.release is exactly `dataRelease` (any JSON value). */
function reviewWith(dataRelease: unknown, uid: string): string {
  const review = objectReview(rawReleaseSecret('x', 'fuzz'), { uid });
  const secret = (review.request as { object: { data: Record<string, unknown> } }).object;
  secret.data = { release: dataRelease };
  return JSON.stringify(review);
}

function insertAt(s: string, at: number, text: string): string {
  const i = at % (s.length + 1);
  return s.slice(0, i) + text + s.slice(i);
}

function flipBytes(b: Buffer, flips: Array<[number, number]>): Buffer {
  const out = Buffer.from(b);
  for (const [at, xor] of flips) out[at % out.length] = (out[at % out.length] ?? 0) ^ (xor || 1);
  return out;
}

/** Nested `depth` levels deep, as text (JSON.stringify would recurse). */
const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);
const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** A release whose JSON has `fragment` (raw JSON text) at one place. */
function releaseJsonWith(
  where: 'config' | 'values' | 'hooks' | 'info' | 'metadata',
  fragment: string,
): string {
  const base = (fill: Partial<Record<typeof where, string>>): string =>
    `{"name":"deep","namespace":"gloo-mesh","version":1,"info":${fill.info ?? '{"status":"pending-install"}'},` +
    `"chart":{"metadata":${fill.metadata ?? '{"name":"gloo-mesh-enterprise","version":"2.0.9"}'},"values":${fill.values ?? '{}'}},` +
    `"config":${fill.config ?? '{}'},"hooks":${fill.hooks ?? '[]'}}`;
  switch (where) {
    case 'config':
      return base({ config: `{"glooMeshMgmtServer":${fragment}}` });
    case 'values':
      // The chart's own values are the truth for a release (issue 15): one switch on, so a judged release says so.
      return base({ values: `{"insecure":true,"glooMeshMgmtServer":${fragment}}` });
    case 'hooks':
      return base({ hooks: `[${fragment}]` });
    case 'info':
      return base({ info: `{"status":"pending-install","notes":${fragment}}` });
    case 'metadata':
      return base({
        metadata: `{"name":"gloo-mesh-enterprise","version":"2.0.9","annotations":${fragment}}`,
      });
  }
}

interface Case {
  kind: string;
  data: unknown;
}

const corrupt: fc.Arbitrary<Case> = fc.oneof(
  fc.nat().map((n) => ({ kind: 'truncated wire', data: GOOD_WIRE.slice(0, n % GOOD_WIRE.length) })),
  fc
    .nat()
    .map((n) => ({ kind: 'truncated helm base64', data: wire(GOOD_HELM.slice(0, n % GOOD_HELM.length)) })),
  fc
    .nat()
    .map((n) => ({ kind: 'truncated gzip', data: wire(b64(GOOD_GZIP.subarray(0, n % GOOD_GZIP.length))) })),
  fc
    .array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 })
    .map((flips) => ({ kind: 'flipped gzip bytes', data: wire(b64(flipBytes(GOOD_GZIP, flips))) })),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom('!', '*', '-', '_', ' ', '\u00e9', '=', '==', '\u0000', '.'),
      fc.boolean(),
    )
    .map(([at, ch, outer]) => ({
      kind: 'wrong base64',
      data: outer ? insertAt(GOOD_WIRE, at, ch) : wire(insertAt(GOOD_HELM, at, ch)),
    })),
  fc.tuple(fc.uint8Array({ maxLength: 2048 }), fc.boolean()).map(([bytes, magic]) => ({
    kind: 'not gzip',
    data: wire(b64(Buffer.concat([magic ? Buffer.from([0x1f, 0x8b, 0x08]) : Buffer.alloc(0), bytes]))),
  })),
  fc
    .string({ unit: 'binary', maxLength: 4096 })
    .map((t) => ({ kind: 'gzip of not-JSON', data: wire(b64(gzipSync(t))) })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({
    kind: 'gzip of JSON, wrong shape',
    data: wire(b64(gzipSync(JSON.stringify(v) ?? 'null'))),
  })),
  fc
    .record({
      name: fc.jsonValue({ maxDepth: 1 }),
      version: fc.jsonValue({ maxDepth: 1 }),
      info: fc.jsonValue({ maxDepth: 2 }),
      chart: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.record({
          metadata: fc.record({
            name: fc.oneof(fc.constant('gloo-mesh-enterprise'), fc.jsonValue({ maxDepth: 1 })),
            version: fc.jsonValue({ maxDepth: 1 }),
          }),
          values: fc.jsonValue({ maxDepth: 3 }),
        }),
      ),
      config: fc.jsonValue({ maxDepth: 3 }),
    })
    .chain((rel) => fc.boolean().map((gzip) => ({ rel, gzip })))
    .map(({ rel, gzip }) => ({
      kind: gzip
        ? 'gzip of a release of the wrong shape'
        : 'plain JSON release of the wrong shape (Helm 2 style)',
      data: wire(b64(gzip ? gzipSync(JSON.stringify(rel)) : JSON.stringify(rel))),
    })),
  fc
    .jsonValue({ maxDepth: 2 })
    .filter((v) => typeof v !== 'string')
    .map((v) => ({ kind: 'data.release not a string', data: v })),
  fc
    .tuple(
      fc.constantFrom('config', 'values', 'hooks', 'info', 'metadata') as fc.Arbitrary<'config'>,
      fc.constantFrom(10, 200, 255, 256, 257, 1000, 20_000),
      fc.boolean(),
    )
    .map(([where, depth, arrays]) => ({
      kind: `nested ${depth} deep in ${where}`,
      data: wire(b64(gzipSync(releaseJsonWith(where, arrays ? nestedArrays(depth) : nestedObjects(depth))))),
    })),
);

// ------------------------------------------------------------------ the properties

function expectJudgedOrRefused(r: ReviewResponse | undefined, cfg: Config): void {
  expect(r).toBeDefined();
  if (r?.auditAnnotations?.error !== 'input') return;
  // An unreadable release is an input error handled by onError: refused, or allowed with a warning.
  expect(r.allowed).toBe(cfg.onError === 'allow');
}

describe('fuzz: corrupt Helm release payloads', { timeout: 600_000 }, () => {
  it('when data.release is broken at any layer, then every CREATE gets a clear answer and onError decides', async () => {
    const kinds: Record<string, number> = {};
    let [runs, inputErrors, slowest] = [0, 0, 0];
    await fc.assert(
      fc.asyncProperty(corrupt, fc.boolean(), async (c, allow) => {
        runs++;
        kinds[c.kind.replace(/\d+ deep in \w+/, 'N deep')] =
          (kinds[c.kind.replace(/\d+ deep in \w+/, 'N deep')] ?? 0) + 1;
        config = allow ? ALLOW : ENFORCE;
        const body = reviewWith(c.data, `fuzz-${runs}`);
        const a = await validate(target, body);
        slowest = Math.max(slowest, a.ms);
        const r = expectUsableAnswer(a, body);
        expectJudgedOrRefused(r, config);
        if (r?.auditAnnotations?.error === 'input') inputErrors++;
      }),
      { numRuns: 600, seed: SEED },
    );
    await expectServing(target, logText.value);
    figure('fuzz release payloads', { runs, inputErrors, seed: SEED, slowestMs: Math.round(slowest), kinds });
  });

  // `values: {glooMeshMgmtServer: <fragment>}`: the levels are the fragment's plus the values map.
  // Past 10,000 levels in all Helm itself cannot read the release (Go's JSON depth limit).
  it.each([
    ['objects', 300, false],
    // chart.values is two levels below the release object: 9,998 levels are Go's 10,000 in all.
    ['objects', GO_MAX_DEPTH - 2, false],
    ['objects', GO_MAX_DEPTH - 1, true],
    ['objects', 100_000, true],
    ['arrays', 100_000, true],
  ] as const)(
    'when release values are %s %i levels deep, then they are judged, or refused saying why',
    async (shape, levels, refused) => {
      config = ENFORCE;
      const inner = levels - 2;
      const fragment = shape === 'arrays' ? nestedArrays(inner) : nestedObjects(inner);
      const body = reviewWith(wire(b64(gzipSync(releaseJsonWith('values', fragment)))), `deep-${levels}`);
      const r = expectUsableAnswer(await validate(target, body), body)!;
      const message = r.status?.message ?? '';
      if (refused) expect(message).toContain('nested more than 10000 levels deep');
      else expect(message).toMatch(/^gloo-guard: \d+ violations? in release gloo-mesh\/deep/);
      await expectServing(target, logText.value);
    },
  );
});

// ------------------------------------------------------------------ bombs and huge strings

const HEADER =
  '{"name":"bomb","namespace":"gloo-mesh","version":1,"info":{"status":"pending-install"},"chart":{"metadata":{"name":"gloo-mesh-enterprise","version":"2.0.9"},"values":{"insecure":true}},"config":{"pad":"';
const TAIL = '"}}';

/** A gzip member that expands to 64 MiB of "A" in about 64 KiB; members concatenate (RFC 1952 allows it). */
const MEMBER_64MIB = gzipSync(Buffer.alloc(64 * MiB, 'A'), { level: 9 });

/** A release payload of gzip members: header, `n` x 64 MiB of padding, tail. */
function multiMemberBomb(n: number): Buffer {
  return Buffer.concat([gzipSync(HEADER), ...Array<Buffer>(n).fill(MEMBER_64MIB), gzipSync(TAIL)]);
}

interface BombCase {
  name: string;
  payload: () => Buffer;
  config: Config;
  expect: RegExp;
}

const BOMBS: BombCase[] = [
  {
    name: 'one member per 64 MiB, 16 members: 1 GiB from 1 MiB',
    payload: () => multiMemberBomb(16),
    config: ENFORCE,
    expect: /release expands past the limit of 67108864 bytes/,
  },
  {
    name: 'a gzip of a gzip bomb (the inner layer is not JSON)',
    payload: () => gzipSync(multiMemberBomb(2)),
    config: ENFORCE,
    expect: /release is not valid JSON after gunzip/,
  },
  {
    name: 'exactly one byte over a 8 MiB limit',
    payload: () => gzipSync(HEADER + 'A'.repeat(8 * MiB - HEADER.length - TAIL.length + 1) + TAIL),
    config: { ...defaultConfig(), limits: { maxReleaseBytes: 8 * MiB } },
    expect: /release expands past the limit of 8388608 bytes/,
  },
  {
    name: 'exactly at a 8 MiB limit, valid JSON (judged)',
    payload: () => gzipSync(HEADER + 'A'.repeat(8 * MiB - HEADER.length - TAIL.length) + TAIL),
    config: { ...defaultConfig(), limits: { maxReleaseBytes: 8 * MiB } },
    // Judged: the chart's own values turn insecure on (the count follows the policies).
    expect: /^gloo-guard: \d+ violations? in release gloo-mesh\/bomb/,
  },
  {
    name: 'a 60 MiB string in values under the default 64 MiB limit (judged)',
    payload: () => gzipSync(HEADER + 'A'.repeat(60 * MiB) + TAIL, { level: 9 }),
    config: ENFORCE,
    // Judged: the chart's own values turn insecure on (the count follows the policies).
    expect: /^gloo-guard: \d+ violations? in release gloo-mesh\/bomb/,
  },
  {
    name: 'plain JSON (no gzip) larger than a 1 MiB limit',
    payload: () => Buffer.from(HEADER + 'A'.repeat(2 * MiB) + TAIL),
    config: { ...defaultConfig(), limits: { maxReleaseBytes: MiB } },
    expect: /release is larger than the limit of 1048576 bytes/,
  },
];

describe('gzip bombs and huge strings', { timeout: 600_000 }, () => {
  it.each(BOMBS.map((b) => [b.name, b] as const))(
    'when %s, then a clear answer in bounded memory',
    async (_name, bomb) => {
      config = bomb.config;
      const body = reviewWith(wire(b64(bomb.payload())), 'bomb');
      const rssBefore = process.memoryUsage().rss;
      const peakBefore = process.resourceUsage().maxRSS * 1024;
      const a = await validate(target, body);
      const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
      const r = expectUsableAnswer(a, body)!;
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toMatch(bomb.expect);
      // Never more than a few times the limit, whatever the bomb would expand to.
      expect(peakGrowth).toBeLessThan(4 * bomb.config.limits.maxReleaseBytes + 64 * MiB);
      figure('bomb', {
        case: bomb.name,
        bodyMiB: mib(body.length),
        ms: Math.round(a.ms),
        peakGrowthMiB: mib(peakGrowth),
        rssGrowthMiB: mib(process.memoryUsage().rss - rssBefore),
      });
      await expectServing(target, logText.value);
    },
  );

  it('when the strings around the release are huge (a 4 MiB name, 100 000 labels), then the answer is clear', async () => {
    config = ENFORCE;
    const review = releaseReview({}, { uid: 'huge-strings' });
    const req = review.request as { name: string; object: { metadata: Record<string, unknown> } };
    req.name = 'n'.repeat(4 * MiB);
    req.object.metadata.labels = Object.fromEntries(
      Array.from({ length: 100_000 }, (_, i) => [`l${i}`, 'v']),
    );
    const body = JSON.stringify(review);
    expect(body.length).toBeLessThan(6 * MiB);
    expectUsableAnswer(await validate(target, body), body);
    await expectServing(target, logText.value);
  });
});
