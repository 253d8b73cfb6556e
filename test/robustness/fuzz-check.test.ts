/**
 * Generated bad input for `gloo-guard check`: values files and manifests of any content, byte-level
 * mutations of real files, and hand-made hostile YAML (deep nesting, alias bombs, binary). Judged
 * in-process through runCheck() (fast), plus a handful through the real CLI process for the failures
 * that only a process shows (a V8 abort, an "internal error" line). Every case must end with exit 0,
 * 1 or 2 and output that parses, or one line on stderr naming the file; never a throw or a stack.
 *
 * Extends test/integration/cli-check.test.ts (one malformed-YAML case, one corrupt release).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { runCheck } from '../../src/cli/check.js';
import { MAX_YAML_DEPTH } from '../../src/cli/inputs.js';
import { deploymentObject, namespaceObject, rawReleaseSecret } from '../fixtures/admission/reviews.js';
import { releaseSecret } from '../../src/helm/release.js';
import { helmRelease } from '../fixtures/admission/reviews.js';
import { figure, internalsIn, SEED, spawnCli, stopAllProcesses } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'gloo-guard-fuzz-check-'));
afterAll(async () => {
  await stopAllProcesses();
  rmSync(dir, { recursive: true, force: true });
});

let fileNo = 0;
function file(text: string | Buffer, ext = 'yaml'): string {
  const f = join(dir, `input-${++fileNo}.${ext}`);
  writeFileSync(f, text);
  return f;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gloo-guard check ARGS` in-process; a throw (what main.ts would print as "internal error") fails. */
async function check(args: string[]): Promise<Run> {
  let [stdout, stderr] = ['', ''];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await runCheck(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const FORMATS = ['text', 'json', 'sarif', 'junit'] as const;

/** Exit 0/1/2; a usage or file error is one stderr line naming the file; a report parses in its format. */
function expectClearRun(r: Run, format: (typeof FORMATS)[number], inputs: string[]): void {
  expect([0, 1, 2]).toContain(r.code);
  expect(internalsIn(r.stdout)).toBeUndefined();
  expect(internalsIn(r.stderr)).toBeUndefined();
  if (r.stderr !== '') {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^gloo-guard: [^\n]+\n$/);
    expect(inputs.some((f) => r.stderr.includes(f))).toBe(true);
    return;
  }
  if (format === 'json') {
    const report = JSON.parse(r.stdout) as { summary: { errors: number; denied: number } };
    expect(r.code).toBe(report.summary.errors > 0 ? 2 : report.summary.denied > 0 ? 1 : 0);
  } else if (format === 'sarif') {
    expect((JSON.parse(r.stdout) as { version: string }).version).toBe('2.1.0');
  } else if (format === 'junit') {
    expect(r.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="gloo-guard">/);
  } else {
    expect(r.stdout).toMatch(/\d+ judged, \d+ denied, \d+ warnings, .* errors, \d+ not judged\n$/);
  }
}

// ------------------------------------------------------------------ generators

const scalar = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    'true',
    'false',
    'yes',
    'no',
    '~',
    'LoadBalancer',
    'https://x',
    '2.5.2-fips',
    '*ref',
    '!tag',
    '&anchor',
  ),
);
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Keys the policies read, so generated values reach them. */
const KEYS = [
  'insecure',
  'prometheusUrl',
  'prometheus.enabled',
  'glooMeshRedis.enabled',
  'glooMeshMgmtServer.serviceType',
  'glooMeshMgmtServer.relay.disableCa',
  'glooMeshMgmtServer.relay.tlsSecret.name',
  'glooMeshMgmtServer.image.tag',
  'glooMeshMgmtServer.deploymentOverrides',
  'glooMeshMgmtServer.serviceOverrides.metadata.annotations',
  'glooMeshUi.enabled',
  'glooMeshUi.auth',
  'glooMeshUi.auth.oidc.clientSecret',
  'relay.serverAddress',
  'relay.clientTlsSecret.name',
  'glooMeshAgent.enabled',
  'common.insecure',
  'common.prometheusUrl',
  'glooMgmtServer.enabled',
  'glooMgmtServer.relay',
  'glooAgent.enabled',
  'glooUi.auth.enabled',
  'redis.deployment.enabled',
];

const values = fc.array(fc.tuple(fc.constantFrom(...KEYS), anyValue), { maxLength: 8 }).map((edits) => {
  const root: Record<string, unknown> = {};
  for (const [key, v] of edits) {
    const path = key.split('.');
    let cur = root;
    for (const k of path.slice(0, -1)) {
      if (typeof cur[k] !== 'object' || cur[k] === null || Array.isArray(cur[k])) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    cur[path.at(-1)!] = v;
  }
  return root;
});

const CHARTS: Array<[string, string | undefined]> = [
  ['gloo-mesh-enterprise', undefined],
  ['gloo-mesh-enterprise', '2.4.0'],
  ['gloo-mesh-agent', '2.1.0'],
  ['gloo-platform', '2.5.2'],
  ['gloo-platform', '2.2.0'],
  ['gloo-mesh-enterprise', 'not-a-version'],
];

/** Real inputs, mutated byte-wise below. */
const SEEDS: string[] = [
  readFileSync(new URL('../fixtures/values/enterprise-production.yaml', import.meta.url), 'utf8'),
  readFileSync(new URL('../fixtures/values/platform-mgmt-production.yaml', import.meta.url), 'utf8'),
  [
    stringify(releaseSecret(helmRelease({ values: { insecure: true } }))),
    stringify(deploymentObject('gloo-mesh-mgmt-server', 'gloo-mesh', ['--insecure'])),
    stringify(namespaceObject('gloo-mesh', { 'istio-injection': 'enabled' })),
  ].join('---\n'),
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [namespaceObject('gloo-mesh'), releaseSecret(helmRelease())],
  }),
];

const YAML_CHARS = [
  ':',
  '-',
  '?',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&',
  '*',
  '!',
  '|',
  '>',
  "'",
  '"',
  '%',
  '@',
  '`',
  '#',
  '\t',
  '\n',
  ' ',
  '\u0000',
  '\uFEFF',
  '\r\n',
  '---\n',
  '...\n',
  'é',
];

const textMutation = fc.oneof(
  fc.tuple(fc.nat(), fc.nat({ max: 200 })).map(
    ([at, len]) =>
      (s: string) =>
        s.slice(0, at % (s.length + 1)) + s.slice((at % (s.length + 1)) + len),
  ),
  fc.tuple(fc.nat(), fc.constantFrom(...YAML_CHARS)).map(
    ([at, ch]) =>
      (s: string) =>
        s.slice(0, at % (s.length + 1)) + ch + s.slice(at % (s.length + 1)),
  ),
  fc.nat().map((at) => (s: string) => s.slice(0, at % (s.length + 1))),
  fc.tuple(fc.nat(), fc.nat({ max: 300 }), fc.nat()).map(([from, len, to]) => (s: string) => {
    const a = from % (s.length + 1);
    const chunk = s.slice(a, a + len);
    const b = to % (s.length + 1);
    return s.slice(0, b) + chunk + s.slice(b);
  }),
);

const manifestObject = fc.oneof(
  fc.record(
    {
      apiVersion: fc.constantFrom('v1', 'apps/v1', 'x'),
      kind: fc.constantFrom(
        'Secret',
        'Namespace',
        'Deployment',
        'Service',
        'ConfigMap',
        'List',
        'SecretList',
      ),
      type: fc.constantFrom('helm.sh/release.v1', 'Opaque'),
      metadata: fc.oneof(
        anyValue,
        fc.record({ name: fc.string(), namespace: fc.constantFrom('gloo-mesh', 'x') }),
      ),
      data: fc.oneof(anyValue, fc.record({ release: fc.oneof(fc.base64String(), fc.string(), anyValue) })),
      spec: anyValue,
      items: fc.array(anyValue, { maxLength: 3 }),
    },
    { requiredKeys: ['kind'] },
  ),
  anyValue,
);

// ------------------------------------------------------------------ properties

describe('fuzz: gloo-guard check, in-process', { timeout: 600_000 }, () => {
  it('when values files hold anything at the keys the policies read, then every run ends clearly', async () => {
    let runs = 0;
    const codes = [0, 0, 0];
    await fc.assert(
      fc.asyncProperty(
        values,
        fc.nat({ max: CHARTS.length - 1 }),
        fc.constantFrom(...FORMATS),
        async (v, c, format) => {
          runs++;
          const [chart, version] = CHARTS[c]!;
          const f = file(stringify(v));
          const args = [
            '--chart',
            chart,
            ...(version ? ['--chart-version', version] : []),
            f,
            '--output',
            format,
          ];
          const r = await check(args);
          if (version === '2.2.0' || version === 'not-a-version') {
            expect(r.code).toBe(2);
            expect(r.stderr).toContain('is not a chart gloo-guard judges');
            return;
          }
          expectClearRun(r, format, [f]);
          // Values are never unreadable: a mapping always yields a judgement, never an error.
          expect(r.code).not.toBe(2);
          codes[r.code]!++;
        },
      ),
      { numRuns: 250, seed: SEED },
    );
    figure('fuzz check values', { runs, exit0: codes[0], exit1: codes[1], seed: SEED });
  });

  it('when real values files and manifests are mutated byte-wise, then every run ends clearly', async () => {
    let runs = 0;
    const codes = [0, 0, 0];
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(textMutation, { minLength: 1, maxLength: 5 }),
        fc.constantFrom(...FORMATS),
        async (s, mutations, format) => {
          runs++;
          const text = mutations.reduce((t, m) => m(t), SEEDS[s]!);
          const f = file(text);
          const args = s < 2 ? ['--chart', s === 0 ? 'gloo-mesh-enterprise' : 'gloo-platform', f] : [f];
          const r = await check([...args, '--output', format]);
          expectClearRun(r, format, [f]);
          codes[r.code]!++;
        },
      ),
      { numRuns: 300, seed: SEED },
    );
    figure('fuzz check mutations', { runs, exit0: codes[0], exit1: codes[1], exit2: codes[2], seed: SEED });
  });

  it('when manifests hold objects of any shape, then every run ends clearly', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(manifestObject, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...FORMATS),
        fc.boolean(),
        async (objects, format, asJson) => {
          runs++;
          const f = asJson
            ? file(JSON.stringify({ kind: 'List', items: objects }), 'json')
            : file(objects.map((o) => stringify(o)).join('---\n'));
          expectClearRun(await check([f, '--output', format]), format, [f]);
        },
      ),
      { numRuns: 250, seed: SEED },
    );
    figure('fuzz check manifests', { runs, seed: SEED });
  });
});

// ------------------------------------------------------------------ hostile files

const deepFlow = (n: number): string => '['.repeat(n) + ']'.repeat(n);
const deepBlock = (n: number): string =>
  Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
const laughs = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');
const deepReleaseJson = `{"name":"d","namespace":"gloo-mesh","version":1,"info":{"status":"pending-install"},"chart":{"metadata":{"name":"gloo-mesh-enterprise","version":"2.0.9"},"values":{"a":${'{"a":'.repeat(50_000)}{}${'}'.repeat(50_000)}}},"config":{"a":${'{"a":'.repeat(50_000)}{}${'}'.repeat(50_000)}}}`;

const HOSTILE: Array<[string, () => string | Buffer, RegExp | number]> = [
  [
    'flow collections nested 100 000 deep, twice',
    () => `${deepFlow(100_000)}\n---\n${deepFlow(100_000)}\n`,
    /nested more than 256 levels deep/,
  ],
  // The map and its `data:` count as two levels, the brackets as the rest.
  [
    `nested ${MAX_YAML_DEPTH} levels deep (the limit)`,
    () => `kind: ConfigMap\ndata: ${deepFlow(MAX_YAML_DEPTH - 2)}\n`,
    /nothing judged: 1 object/,
  ],
  [
    `nested ${MAX_YAML_DEPTH + 1} levels deep`,
    () => `kind: ConfigMap\ndata: ${deepFlow(MAX_YAML_DEPTH - 1)}\n`,
    /nested more than 256 levels deep/,
  ],
  ['block mappings nested 2 000 deep', () => deepBlock(2000), /nested more than 256 levels deep/],
  [
    'compact sequences nested 5 000 deep',
    () => `${'- '.repeat(5000)}x\n`,
    /nested more than 256 levels deep/,
  ],
  ['an alias bomb (billion laughs)', () => laughs, /not usable YAML: too many aliases/],
  [
    'an alias without its anchor',
    () => 'kind: Secret\nclientSecret: *s3cr3tValueNotAnAnchor\n',
    /not usable YAML: an alias \(\*name\) without its anchor/,
  ],
  ['binary garbage', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), 2],
  ['a UTF-16 file', () => Buffer.from('\uFEFFkind: Namespace\n', 'utf16le'), 2],
  // Read whole, then refused for judging nothing (a ConfigMap is not judged; empty documents hold nothing).
  [
    'a 3 MiB single-line string',
    () => `kind: ConfigMap\ndata: {x: "${'x'.repeat(3 * 1024 * 1024)}"}\n`,
    /nothing judged: 1 object/,
  ],
  ['10 000 empty documents', () => '---\n'.repeat(10_000), /nothing judged: no Kubernetes object/],
  [
    'a release Secret whose values nest 50 000 deep',
    () => stringify(rawReleaseSecret(gzipSync(deepReleaseJson).toString('base64'))),
    /release values are nested more than 256 levels deep/,
  ],
];

describe('hostile files', { timeout: 600_000 }, () => {
  it.each(HOSTILE)('when a manifest file is %s, then the run ends clearly', async (_what, make, want) => {
    const f = file(make());
    const r = await check([f, '--output', 'json']);
    if (typeof want === 'number') expect(r.code).toBe(want);
    else expect(`${r.stderr}${r.stdout}`).toMatch(want);
    if (r.code === 2 && r.stdout === '') expect(r.stderr).toMatch(/^gloo-guard: [^\n]+\n$/);
    else expectClearRun(r, 'json', [f]);
  });

  // The failures only a process shows: V8 aborting ("FATAL ERROR", exit 134) or main.ts's last-resort
  // "internal error" line. Each was real before the fixes listed in docs/reliability.md.
  it.each([
    [
      'two documents nested 3 000 deep (V8 aborted on the second)',
      `${deepFlow(3000)}\n---\n${deepFlow(3000)}\n`,
      /nested more than 256 levels deep/,
    ],
    ['an alias bomb', laughs, /too many aliases/],
    [
      'an alias whose name is a secret',
      'kind: Secret\ntoken: *s3cr3tValueNotAnAnchor\n',
      /without its anchor/,
    ],
    [
      'a release whose values nest 50 000 deep',
      stringify(rawReleaseSecret(gzipSync(deepReleaseJson).toString('base64'))),
      /nested more than 256 levels deep/,
    ],
  ])('when the real CLI reads %s, then it exits cleanly with a clear line', async (_what, text, want) => {
    const f = file(text);
    const p = spawnCli(['check', f]);
    const code = await p.exited;
    const all = `${p.stdout()}${p.stderr()}`;
    expect(code).toBe(2);
    expect(all).toMatch(want);
    expect(all).not.toMatch(/FATAL ERROR|internal error|s3cr3tValue/);
    expect(internalsIn(all)).toBeUndefined();
  });
});
