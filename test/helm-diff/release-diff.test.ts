/**
 * gloo-guard's reading of release Secrets against Helm's own: the same Secrets go through Helm 3's
 * and Helm 4's storage drivers (test/helm-diff) and through gloo-guard's decoder, and every field a
 * policy uses must agree. Where Helm cannot read a release, or its two majors read it differently,
 * gloo-guard must refuse it as unreadable (onError), never judge it.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { defaultConfig } from '../../src/config/types.js';
import { GO_FOLDS_TO_ASCII, GO_MAX_DEPTH, type ReleaseFields } from '../../src/helm/release-json.js';
import {
  readReleaseConfigMapFields,
  readReleaseSecretFields,
  RELEASE_SECRET_TYPE,
} from '../../src/helm/release.js';
import { createApp } from '../../src/server/app.js';
import { objectReview } from '../fixtures/admission/reviews.js';
import {
  foldTable,
  helmVersion,
  MAJORS,
  readReleases,
  renderValues,
  type HelmResult,
  type HelmReleaseView,
} from './helm.js';

const MAX_BYTES = 64 * 1024 * 1024;

/** Helm's base64 of the JSON, gzipped (as Helm writes it) or not (as Helm 2-era records are). */
function helmText(json: Buffer, gzip: boolean): string {
  return (gzip ? gzipSync(json) : json).toString('base64');
}

/** A release Secret as the API server hands it to a webhook. */
function secretOf(helmBase64: string, name = 'sh.helm.release.v1.r.v1'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: RELEASE_SECRET_TYPE,
    metadata: { name, namespace: 'gloo-mesh', labels: { owner: 'helm', name: 'r', version: '1' } },
    data: { release: Buffer.from(helmBase64).toString('base64') },
  };
}

/** The same release as Helm's ConfigMaps driver stores it: Helm's base64 text, not encoded again. */
function configMapOf(helmBase64: string, name = 'sh.helm.release.v1.r.v1'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'gloo-mesh', labels: { owner: 'helm', name: 'r', version: '1' } },
    data: { release: helmBase64 },
  };
}

/** gloo-guard's reading of a release Secret or ConfigMap, in Helm's shape, or its error. */
function ours(object: Record<string, unknown>): { ok?: ReleaseFields; error?: string } {
  try {
    const data = (object.data as { release: string }).release;
    const read = object.kind === 'ConfigMap' ? readReleaseConfigMapFields : readReleaseSecretFields;
    return { ok: read(data, MAX_BYTES) };
  } catch (err: unknown) {
    return { error: (err as Error).message };
  }
}

/** Helm's reading by both majors. */
function helms(secrets: unknown[]): Array<Record<(typeof MAJORS)[number], HelmResult<HelmReleaseView>>> {
  const [v3, v4] = MAJORS.map((m) => readReleases(m, secrets));
  return secrets.map((_, i) => ({ v3: v3?.[i] ?? {}, v4: v4?.[i] ?? {} }));
}

/** Deep equality without recursion (values may nest 10,000 levels); -0 and 0 differ, as in Go's output. */
function deepSame(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  for (let pair = stack.pop(); pair !== undefined; pair = stack.pop()) {
    const [x, y] = pair;
    if (typeof x !== 'object' || x === null || typeof y !== 'object' || y === null) {
      if (!Object.is(x, y)) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x).sort();
    const ky = Object.keys(y).sort();
    if (kx.length !== ky.length || kx.some((k, i) => k !== ky[i])) return false;
    for (const k of kx) stack.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]]);
  }
  return true;
}

/**
 * The rule: when Helm 3 and 4 both read a release and agree, gloo-guard reads the same fields;
 * otherwise gloo-guard refuses it.
 */
function judge(secret: Record<string, unknown>, helm: Record<string, HelmResult<HelmReleaseView>>): void {
  const mine = ours(secret);
  const { v3, v4 } = helm as { v3: HelmResult<HelmReleaseView>; v4: HelmResult<HelmReleaseView> };
  const helmReads = v3.ok !== undefined && v4.ok !== undefined && deepSame(v3.ok, v4.ok);
  if (helmReads) {
    expect(mine.error, 'Helm reads this release; gloo-guard must too').toBeUndefined();
    if (!deepSame(mine.ok, v3.ok)) expect(mine.ok).toEqual(v3.ok);
  } else {
    expect(
      mine.ok,
      `Helm 3: ${v3.error ?? 'read'}; Helm 4: ${v4.error ?? 'read'}; gloo-guard must refuse`,
    ).toBeUndefined();
  }
}

const json = (v: unknown): string => JSON.stringify(v);

/** Sends a Secret CREATE to the webhook app, as the API server would. */
async function webhook(
  secret: Record<string, unknown>,
): Promise<{ allowed: boolean; status?: { message: string } }> {
  const config = defaultConfig();
  const res = await request(createApp({ config: () => config }))
    .post('/validate')
    .send(objectReview(secret));
  expect(res.status).toBe(200);
  return res.body.response as { allowed: boolean; status?: { message: string } };
}

describe('the helm-diff harness', () => {
  it('when asked, then it runs the Helm versions the issue measured with', () => {
    expect(helmVersion('v3')).toBe('v3.17.3');
    expect(helmVersion('v4')).toBe('v4.3.2');
  });

  it("when every rune is tried as a key, then Go folds exactly gloo-guard's table onto ASCII names", () => {
    const table = foldTable('v4');
    expect(table.map((t) => [t.rune, t.matches.toUpperCase()])).toEqual([...GO_FOLDS_TO_ASCII.entries()]);
  });
});

describe('item 6: field names as Go matches them', () => {
  const base = {
    name: 'r',
    namespace: 'gloo-mesh',
    version: 1,
    info: { status: 'pending-install' },
    chart: { metadata: { name: 'gloo-platform', version: '2.5.4' }, values: { common: { insecure: false } } },
    config: {},
  };
  const cases: Array<[string, string]> = [
    [
      '"valueſ" (long s) after values',
      json(base)
        .replace('"config"', '"x"')
        .replace('}},"x"', '},"valueſ":{"common":{"insecure":true}}},"config"'),
    ],
    ['metadata.Name', json(base).replace('"name":"gloo-platform"', '"Name":"gloo-platform"')],
    [
      'info.Status after status',
      json(base).replace('"status":"pending-install"', '"status":"deployed","Status":"pending-install"'),
    ],
    [
      'info.status after Status',
      json(base).replace('"status":"pending-install"', '"Status":"deployed","status":"pending-install"'),
    ],
    [
      '"nameſpace" after namespace',
      json(base).replace('"namespace":"gloo-mesh"', '"namespace":"gloo-mesh","nameſpace":"other"'),
    ],
    [
      '"confiG" and "CONFIG" repeated',
      json(base).replace('"config":{}', '"confiG":{"a":1},"CONFIG":{"b":2}'),
    ],
    [
      'a null status after a status',
      json(base).replace('"status":"pending-install"', '"status":"deployed","status":null'),
    ],
    [
      'a second info without status',
      json(base).replace(
        '"info":{"status":"pending-install"}',
        '"info":{"status":"deployed"},"info":{"notes":"n"}',
      ),
    ],
    ['a null name after a name', json(base).replace('"name":"r"', '"name":"r","name":null')],
    ['version 1.0', json(base).replace('"version":1', '"version":1.0')],
    ['version as a string', json(base).replace('"version":1', '"version":"1"')],
    ['config as an array', json(base).replace('"config":{}', '"config":[]')],
    ['a number past float64', json(base).replace('"config":{}', '"config":{"a":1e400}')],
    ['a tiny number', json(base).replace('"config":{}', '"config":{"a":1e-400,"b":-0}')],
    [
      'a lone surrogate and invalid UTF-8',
      json(base).replace('"config":{}', '"config":{"\\ud800":"\\udc00x"}'),
    ],
    [
      'dependencies repeated shorter then longer',
      json(base).replace(
        '"version":"2.5.4"',
        '"version":"2.5.4","dependencies":[{"name":"a","condition":"a.on"},{"name":"b","alias":"bb"}],"dependencies":[{"name":"c"}],"dependencies":[{"tags":["t"]},{"name":"d"}]',
      ),
    ],
    [
      '__proto__ in config',
      json(base).replace('"config":{}', '"config":{"__proto__":{"x":1},"constructor":1}'),
    ],
  ];

  it('when the same releases are stored by the ConfigMaps driver, then gloo-guard reads what Helm 3 and 4 read, or refuses', () => {
    const objects = cases.flatMap(([, text]) => [
      configMapOf(helmText(Buffer.from(text), true)),
      configMapOf(helmText(Buffer.from(text), false)),
      // Go's base64 skips newlines in a ConfigMap's text too; any other byte breaks it.
      configMapOf(helmText(Buffer.from(text), true).replace(/.{60}/g, '$&\n')),
      configMapOf(` ${helmText(Buffer.from(text), true)}`),
    ]);
    const results = helms(objects);
    objects.forEach((o, i) => {
      judge(o, results[i] as Record<string, HelmResult<HelmReleaseView>>);
    });
    expect(results.filter((r) => r.v3.ok !== undefined).length).toBeGreaterThan(cases.length);
    expect(results[3]?.v3.error).toBeDefined();
  });

  it('when keys are folded, repeated, null or mistyped, then gloo-guard reads what Helm 3 and 4 read, or refuses', () => {
    const secrets = cases.map(([, text]) => secretOf(helmText(Buffer.from(text), true)));
    const results = helms(secrets);
    secrets.forEach((s, i) => {
      judge(s, results[i] as Record<string, HelmResult<HelmReleaseView>>);
    });
    // The issue's three known cases, as Helm reads them.
    expect(results[0]?.v3.ok?.chart?.values).toEqual({ common: { insecure: true } });
    expect(results[1]?.v3.ok?.chart?.metadata?.name).toBe('gloo-platform');
    expect(results[2]?.v3.ok?.info?.status).toBe('pending-install');
    expect(results[2]?.v4.ok?.info?.status).toBe('deployed');
    expect(ours(secrets[2] as Record<string, unknown>).error).toMatch(/Helm 3 and Helm 4/);
  });

  it('when "valueſ" hides insecure: true, or info.Status differs between the majors, then the webhook refuses', async () => {
    const [valueS, , statusCase] = [0, 1, 2].map((i) =>
      secretOf(helmText(Buffer.from(cases[i]?.[1] ?? ''), true)),
    );
    const insecure = await webhook(valueS as Record<string, unknown>);
    expect(insecure.allowed).toBe(false);
    expect(insecure.status?.message).toContain('[no-insecure-relay]');
    const ambiguous = await webhook(statusCase as Record<string, unknown>);
    expect(ambiguous.allowed).toBe(false);
    expect(ambiguous.status?.message).toMatch(/info\.status reads differently in Helm 3 and Helm 4/);
  });
});

/** A JSON object text from members, so keys may repeat and be spelled any way. */
function objectText(members: Array<[string, string]>): string {
  return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** Spellings of a field name: exact, other cases, and Go's non-ASCII folds (and near misses). */
function spelling(name: string): fc.Arbitrary<string> {
  const variants = (c: string): string[] => {
    const lower = c.toLowerCase();
    const out = [lower, c.toUpperCase()];
    if (lower === 's') out.push('ſ');
    if (lower === 'k') out.push('\u212a');
    if (lower === 'i') out.push('İ', 'ı');
    return out;
  };
  return fc
    .tuple(...[...name].map((c) => fc.constantFrom(...variants(c))))
    .map((cs) => cs.join(''))
    .chain((folded) => fc.constantFrom(name, name, folded));
}

/** JSON texts a hostile writer may put where a field of some type is expected. */
const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('null', '1.0', '1e400', '-0', '"\\ud800"', '12345678901234567890', '"yes"', '[]', '{}'),
);
const stringText = fc.oneof({ weight: 5, arbitrary: fc.string().map((s) => JSON.stringify(s)) }, anyText);
const mapText = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })).map(json),
  },
  anyText,
);

function structText(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const member = fc.oneof(
    ...Object.entries(fields).map(([name, value]) => fc.tuple(spelling(name), value)),
    fc.tuple(fc.constantFrom('notes', 'description', 'x'), stringText),
  );
  return fc.array(member, { maxLength: 5 }).map((m) => objectText(m as Array<[string, string]>));
}

const dependencyText = fc.oneof(
  structText({
    name: stringText,
    alias: stringText,
    condition: stringText,
    enabled: fc.constantFrom('true', 'false', 'null', '"true"'),
    tags: fc.oneof(
      fc.array(stringText, { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
      anyText,
    ),
  }),
  fc.constant('null'),
);
const metadataText = structText({
  name: stringText,
  version: stringText,
  appVersion: stringText,
  dependencies: fc.oneof(
    fc.array(dependencyText, { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
    anyText,
  ),
});
const chartText = fc.oneof(
  {
    weight: 5,
    arbitrary: structText({
      metadata: metadataText,
      values: mapText,
      templates: fc.constant('[{"name":"t","data":"eyJ9"}]'),
    }),
  },
  anyText,
);
const infoText = fc.oneof({ weight: 5, arbitrary: structText({ status: stringText }) }, anyText);
const releaseText = structText({
  name: stringText,
  namespace: stringText,
  version: fc.oneof(fc.integer().map(String), anyText),
  info: infoText,
  chart: chartText,
  config: mapText,
  manifest: stringText,
});

describe('property: any release, as Helm reads it', () => {
  it('when releases are generated with hostile keys, types, repeats and encodings, then gloo-guard agrees with Helm 3 and 4 or refuses', () => {
    const gen = fc.tuple(releaseText, fc.boolean(), fc.boolean());
    const samples = fc.sample(gen, { seed: 20261129, numRuns: 400 });
    // Every fourth release is stored by Helm's ConfigMaps driver (HELM_DRIVER=configmap) instead.
    const secrets = samples.map(([text, gzip, wrapLines], i) => {
      const b64 = helmText(Buffer.from(text), gzip);
      const stored = wrapLines ? b64.replace(/.{60}/g, '$&\n') : b64;
      return i % 4 === 3 ? configMapOf(stored) : secretOf(stored);
    });
    const results = helms(secrets);
    let agreedReads = 0;
    secrets.forEach((s, i) => {
      const r = results[i] as Record<string, HelmResult<HelmReleaseView>>;
      try {
        judge(s, r);
      } catch (err) {
        throw new Error(`case ${i}: ${samples[i]?.[0] ?? ''}\n${(err as Error).message}`);
      }
      if (r.v3?.ok !== undefined) agreedReads++;
    });
    // The generator must reach both sides of the rule, or the property proves little.
    expect(agreedReads).toBeGreaterThan(40);
    expect(agreedReads).toBeLessThan(360);
  });
});

describe('item 5 and 7: depth as Go counts it', () => {
  const nested = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  /** A release whose config holds a value so that the whole document nests `total` levels. */
  const releaseAtDepth = (total: number, where: 'config' | 'manifest'): string => {
    const inner = nested(total - 2);
    const chart = '"chart":{"metadata":{"name":"gloo-platform","version":"2.5.4"}}';
    return where === 'config'
      ? `{"name":"r",${chart},"config":{"a":${inner}}}`
      : `{"name":"r",${chart},"x":${nested(total - 1)}}`;
  };

  it.each([
    [GO_MAX_DEPTH, 'manifest'],
    [GO_MAX_DEPTH + 1, 'manifest'],
    [GO_MAX_DEPTH, 'config'],
    [GO_MAX_DEPTH + 1, 'config'],
  ] as const)(
    'when the release nests %i levels (in %s), then gloo-guard reads it exactly when Helm does',
    (depth, where) => {
      const secret = secretOf(helmText(Buffer.from(releaseAtDepth(depth, where)), true));
      const [r] = helms([secret]);
      judge(secret, r as Record<string, HelmResult<HelmReleaseView>>);
      expect(r?.v3.ok !== undefined).toBe(depth <= GO_MAX_DEPTH);
    },
  );
});

describe('item 5: values nested as deep as Helm takes them are judged', () => {
  const deepJson = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  it('when --set-json nests 300 levels, then Helm 3 and 4 render it and the webhook judges the release', async () => {
    for (const major of MAJORS) {
      const [r] = renderValues(major, [
        {
          files: { 'Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n' },
          setJSON: [`deep=${deepJson(300)}`],
        },
      ]);
      expect(r?.error).toBeUndefined();
      expect(JSON.stringify(r?.ok?.values.deep).length).toBe(deepJson(300).length);
    }
    const release = {
      name: 'r',
      namespace: 'gloo-mesh',
      version: 1,
      info: { status: 'pending-install' },
      chart: { metadata: { name: 'gloo-platform', version: '2.5.4' }, values: {} },
      config: { common: { insecure: true }, deep: JSON.parse(deepJson(300)) as unknown },
    };
    const answer = await webhook(secretOf(helmText(Buffer.from(JSON.stringify(release)), true)));
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toContain('[no-insecure-relay]');
  });
});

describe('item 5 (point 5): type errors in fields no policy reads', () => {
  /** The release real Helm 3.17 stored (test/fixtures/carriers/README.md), as JSON. */
  const realRelease = (): Record<string, unknown> => {
    const secret = JSON.parse(
      readFileSync(new URL('../fixtures/carriers/umbrella-release-helm3.json', import.meta.url), 'utf8'),
    ) as { data: { release: string } };
    const helmB64 = Buffer.from(secret.data.release, 'base64').toString();
    return JSON.parse(gunzipSync(Buffer.from(helmB64, 'base64')).toString()) as Record<string, unknown>;
  };
  /** Fields of Helm's release, chart, metadata, info, dependency, hook, file and lock structs. */
  const paths = [
    'version',
    'name',
    'manifest',
    'hooks',
    'hooks[]',
    'hooks[].events',
    'hooks[].weight',
    'hooks[].last_run',
    'labels',
    'info',
    'info.first_deployed',
    'info.last_deployed',
    'info.deleted',
    'info.description',
    'info.notes',
    'info.resources',
    'chart.templates',
    'chart.templates[]',
    'chart.templates[].name',
    'chart.templates[].data',
    'chart.files',
    'chart.files[].data',
    'chart.lock',
    'chart.lock.generated',
    'chart.lock.digest',
    'chart.lock.dependencies',
    'chart.schema',
    'chart.values',
    'chart.metadata.keywords',
    'chart.metadata.keywords[]',
    'chart.metadata.maintainers',
    'chart.metadata.maintainers[]',
    'chart.metadata.maintainers[].email',
    'chart.metadata.annotations',
    'chart.metadata.annotations.a',
    'chart.metadata.home',
    'chart.metadata.sources',
    'chart.metadata.icon',
    'chart.metadata.apiVersion',
    'chart.metadata.condition',
    'chart.metadata.tags',
    'chart.metadata.deprecated',
    'chart.metadata.kubeVersion',
    'chart.metadata.type',
    'chart.metadata.dependencies[].import-values',
    'chart.metadata.dependencies[].enabled',
    'chart.metadata.dependencies[].tags',
  ];
  // Types, and strings that are or are not Go times and base64 (Helm decodes both kinds of field).
  const values = [
    '5',
    '-1',
    '256',
    '1.5',
    '"x"',
    '""',
    '"eyJ9"',
    '"eyJ\\n9"',
    '"eyJ"',
    '"2026-11-29T18:54:35.5+01:00"',
    '"2026-02-30T00:00:00Z"',
    '"2026-11-29t18:54:35z"',
    '"2026-11-29T24:00:00Z"',
    'true',
    'null',
    '[]',
    '[5]',
    '[256]',
    '["x"]',
    '[null]',
    '{}',
    '{"a":1}',
    '{"a":null}',
  ];

  /** Sets `path` (dotted; `[]` is the first element, created when absent) to `value` in a clone. */
  const mutate = (
    release: Record<string, unknown>,
    path: string,
    value: unknown,
  ): Record<string, unknown> => {
    const root = structuredClone(release);
    let node: Record<string, unknown> = root;
    const steps = path.split('.');
    steps.forEach((step, k) => {
      const last = k === steps.length - 1;
      const isList = step.endsWith('[]');
      const key = isList ? step.slice(0, -2) : step;
      if (!isList) {
        if (last) node[key] = value;
        else
          node = (node[key] = typeof node[key] === 'object' && node[key] !== null ? node[key] : {}) as never;
        return;
      }
      const list = (node[key] = Array.isArray(node[key]) ? node[key] : []) as unknown[];
      if (last) list[0] = value;
      else node = (list[0] = typeof list[0] === 'object' && list[0] !== null ? list[0] : {}) as never;
    });
    return root;
  };

  it('when one field of a real release gets another type, then gloo-guard reads it exactly when Helm 3 and 4 do', () => {
    const base = realRelease();
    const gen = fc.tuple(
      fc.constantFrom(...paths),
      fc.constantFrom(...values),
      fc.constantFrom(...paths),
      fc.constantFrom(...values),
      fc.boolean(),
    );
    const samples = fc.sample(gen, { seed: 20261129, numRuns: 300 });
    // Every path with every type once, then pairs of mutations from the property's samples.
    const cases: Array<[string, Record<string, unknown>]> = [
      ...paths.flatMap((p) =>
        values.map((v): [string, Record<string, unknown>] => [`${p}=${v}`, mutate(base, p, JSON.parse(v))]),
      ),
      ...samples.map(([p1, v1, p2, v2, both]): [string, Record<string, unknown>] => {
        const one = mutate(base, p1, JSON.parse(v1));
        return both ? [`${p1}=${v1}, ${p2}=${v2}`, mutate(one, p2, JSON.parse(v2))] : [`${p1}=${v1}`, one];
      }),
    ];
    const secrets = cases.map(([, c]) => secretOf(helmText(Buffer.from(JSON.stringify(c)), true)));
    const results = helms(secrets);
    const failures: string[] = [];
    let refused = 0;
    secrets.forEach((s, i) => {
      const r = results[i] as Record<string, HelmResult<HelmReleaseView>>;
      if (r.v3?.ok === undefined) refused++;
      // A single mutation Helm refuses: gloo-guard's message names the field (`annotations.a`: the map).
      const [label] = cases[i] ?? [''];
      const error = ours(s).error;
      if (
        !label.includes(', ') &&
        error !== undefined &&
        !error.includes(label.split('=')[0]!.replace(/\.a$/, ''))
      )
        failures.push(`${label}: the message does not name the field: ${error}`);
      try {
        judge(s, r);
      } catch (err) {
        failures.push(`${cases[i]?.[0] ?? ''}: ${(err as Error).message.split('\n')[0] ?? ''}`);
      }
    });
    expect(failures).toEqual([]);
    expect(refused).toBeGreaterThan(50);
    expect(refused).toBeLessThan(cases.length - 50);
  });
});
