/**
 * A secret planted in every input must come out of no output. One unique string goes into OIDC client
 * secrets, a Prometheus URL's password, arbitrary values, chart defaults, the rendered manifest, corrupt
 * and oversized releases, annotations, labels, env and args of manifests, ordinary Secrets, user info,
 * HTTP headers, the query string, config files and a kubeconfig. Then every output is searched for it,
 * plain, base64 (each alignment, once and twice encoded) and hex: the serve process's logs (stdout and
 * stderr), /metrics, every HTTP answer (status message, warnings, audit annotations, headers), and the
 * CLI's text, json, sarif and junit reports and its errors.
 *
 * Extends test/integration/server-logs.test.ts (one OIDC secret, one malformed review, one corrupt release).
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { runCheck } from '../../src/cli/check.js';
import { CHART_DEFAULTS } from '../../src/engine/charts/defaults.js';
import {
  deploymentObject,
  helmRelease,
  namespaceObject,
  objectReview,
  PRODUCTION_VALUES,
  rawReleaseSecret,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import { releaseSecret } from '../../src/helm/release.js';
import {
  figure,
  logLine,
  send,
  spawnCli,
  startServe,
  stopAllProcesses,
  stopServe,
  until,
  type Answer,
  type ServeProcess,
  type Target,
} from './support.js';

/** The planted secret: unique, and plain alphanumerics so no encoding step can disguise it. */
const S = 'PlantedSecret7f3a9c21e5d84b06XyZ';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** Every form the secret could leak in: plain, hex, and base64 (once and twice, at each byte alignment). */
function leakForms(secret: string): string[] {
  const core = (encoded: string, shifted: boolean): string =>
    encoded.slice(shifted ? 4 : 0, encoded.length - 4);
  const once = [0, 1, 2].map((k) => core(b64('x'.repeat(k) + secret), k > 0));
  const twice = once.flatMap((inner) => [0, 1, 2].map((j) => core(b64('y'.repeat(j) + inner), j > 0)));
  return [secret, Buffer.from(secret).toString('hex'), ...once, ...twice];
}
const FORMS = leakForms(S);

/** Which leak forms appear in `text` (none, for the test to pass). */
function leaks(text: string): string[] {
  return FORMS.filter((f) => text.includes(f));
}

// ------------------------------------------------------------------ planted inputs

const leakyValues: Record<string, unknown> = {
  ...PRODUCTION_VALUES,
  prometheusUrl: `https://admin:${S}@prometheus.example.com/`,
  licenseKey: S,
  extra: { token: S, list: [S, { nested: S }] },
  glooMeshUi: {
    auth: {
      enabled: true,
      backend: 'oidc',
      oidc: {
        issuerUrl: 'https://idp.example.com',
        clientId: 'ui',
        appUrl: 'https://ui.example.com',
        clientSecret: S,
      },
    },
  },
};

function leakyRelease(): Record<string, unknown> {
  // The chart's own values (as the chart ships them) are the truth for a release, plus a planted one.
  const chartValues = { ...CHART_DEFAULTS['gloo-mesh-enterprise'], defaultToken: S };
  const rel = helmRelease({ values: leakyValues, chartValues });
  return {
    ...rel,
    manifest: `kind: Secret\nstringData:\n  token: ${S}\n`,
    info: { ...(rel.info as object), notes: S },
    hooks: [{ manifest: S }],
  };
}

const leakySecret = (): Record<string, unknown> => {
  const s = releaseSecret(leakyRelease() as never);
  return { ...s, metadata: { ...(s.metadata as object), annotations: { note: S } } };
};

const releaseJson = JSON.stringify(leakyRelease());
const CORRUPT: Array<[string, string]> = [
  ['gzip of not-JSON', b64(gzipSync(`not json ${S} not json`))],
  ['truncated gzip', b64(gzipSync(releaseJson).subarray(0, 200))],
  ['truncated plain JSON', b64(releaseJson.slice(0, releaseJson.indexOf(S) + S.length + 5))],
  ['JSON of the wrong shape', b64(gzipSync(JSON.stringify({ chart: S, config: { token: S } })))],
  ['wrong base64', `${S}!!`],
  [
    'a gzip bomb',
    b64(gzipSync(`{"config":{"token":"${S}","pad":"${'A'.repeat(70 * 1024 * 1024)}"}}`, { level: 9 })),
  ],
  [
    'values nested too deep',
    b64(
      gzipSync(
        releaseJson.replace('"config":{', `"config":{"deep":${'{"a":'.repeat(300)}"${S}"${'}'.repeat(300)},`),
      ),
    ),
  ],
];

const deployment = (): Record<string, unknown> => {
  const d = deploymentObject('gloo-mesh-mgmt-server', 'gloo-mesh', ['--insecure', `--token=${S}`]) as {
    metadata: Record<string, unknown>;
    spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
  };
  d.metadata.annotations = { token: S };
  d.metadata.labels = { app: 'x', token: S };
  d.spec.template.spec.containers[0]!.env = [{ name: 'TOKEN', value: S }];
  return d;
};

const OBJECTS: Array<[string, () => Record<string, unknown>]> = [
  ['release Secret', leakySecret],
  ...CORRUPT.map(([what, payload]): [string, () => Record<string, unknown>] => [
    `corrupt release: ${what}`,
    () => rawReleaseSecret(payload, 'corrupt'),
  ]),
  ['Deployment', deployment],
  [
    'Namespace',
    () => ({ ...namespaceObject('gloo-mesh', { 'istio-injection': 'enabled', token: S }), data: S }),
  ],
  [
    'Service',
    () => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'gloo-mesh-mgmt-server', namespace: 'gloo-mesh', annotations: { token: S } },
      spec: { type: 'LoadBalancer' },
    }),
  ],
  [
    'Opaque Secret',
    () => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'oidc', namespace: 'gloo-mesh' },
      data: { clientSecret: b64(S) },
      stringData: { clientSecret: S },
    }),
  ],
];

/** Reviews carrying the secret in the request around the object too. */
function reviews(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [what, make] of OBJECTS) {
    for (const operation of ['CREATE', 'UPDATE'] as const) {
      const review = objectReview(make(), { operation, uid: `${what}-${operation}` });
      const req = review.request as Record<string, unknown>;
      req.userInfo = { username: 'alice', groups: [S], extra: { token: [S] } };
      req.options = { token: S };
      out.push([`${what} ${operation}`, JSON.stringify(review)]);
    }
  }
  const malformed = releaseReview({ values: leakyValues });
  out.push(['apiVersion holds it', JSON.stringify({ ...malformed, apiVersion: S })]);
  out.push(['not JSON', `{"apiVersion":"admission.k8s.io/v1","request":{"token":"${S}"`]);
  out.push(['deep JSON', `${'['.repeat(50_000)}"${S}"${']'.repeat(50_000)}`]);
  out.push(['over 6 MiB', JSON.stringify({ ...malformed, pad: `${S}${'x'.repeat(6 * 1024 * 1024)}` })]);
  return out;
}

// ------------------------------------------------------------------ the webhook

describe('secrets: the webhook', { timeout: 600_000 }, () => {
  let s: ServeProcess;
  let target: Target;
  const answers: Answer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gloo-guard-secrets-'));
  const configFile = join(dir, 'config.yaml');
  const replaceConfig = (text: string): void => {
    writeFileSync(join(dir, '.next'), text);
    renameSync(join(dir, '.next'), configFile);
  };

  beforeAll(async () => {
    replaceConfig(`# ${S}\nmode: enforce\n`);
    s = await startServe(['--config', configFile]);
    target = { port: s.port, ca: s.ca, agent: new Agent({ keepAlive: true, maxSockets: 4 }) };
  });

  afterAll(async () => {
    target.agent?.destroy();
    if (s) await stopServe(s);
    await stopAllProcesses();
    rmSync(dir, { recursive: true, force: true });
  });

  const sendAll = async (): Promise<void> => {
    for (const [, body] of reviews()) {
      answers.push(
        await send(target, 'POST', `/validate?timeout=10s&token=${S}`, body, {
          Authorization: `Bearer ${S}`,
          'X-Token': S,
        }),
      );
    }
    answers.push(await send(target, 'POST', '/validate', `token=${S}`, { 'Content-Type': 'text/plain' }));
    answers.push(await send(target, 'GET', `/${S}`));
  };

  it('when every input carries the secret, under enforce and then audit with onError: allow, then no answer, log line or metric holds it', async () => {
    await sendAll();
    // Denials quote violations; audit mode and onError: allow turn them and input errors into warnings.
    replaceConfig(`mode: audit\nonError: allow\n# ${S}\n`);
    await until('the reload', () => logLine(s, 'config reloaded'));
    await sendAll();
    // An invalid config carrying the secret is reported without it.
    replaceConfig(
      `mode: enforce\nunknownKey: ${S}\npolicies: {no-inline-oidc-secret: {action: deny, extra: ${S}}}\n# ${S}\n`,
    );
    await until('the ignored change', () => logLine(s, 'config change ignored'));
    const metrics = await send(target, 'GET', '/metrics');
    answers.push(metrics);

    const denials = answers.filter((a) => a.text.includes('"allowed":false'));
    const warned = answers.filter((a) => a.text.includes('"warnings":['));
    expect(denials.some((a) => a.text.includes('[no-inline-oidc-secret]'))).toBe(true);
    expect(denials.some((a) => a.text.includes('https://***@prometheus.example.com/'))).toBe(true);
    expect(warned.some((a) => a.text.includes('could not read'))).toBe(true);
    const everything = [
      ...answers.map((a) => `${JSON.stringify(a.headers)}\n${a.text}`),
      `stdout:\n${s.stdout()}`,
      `stderr:\n${s.stderr()}`,
    ].join('\n');
    expect(leaks(everything)).toEqual([]);
    figure('secrets: webhook', {
      forms: FORMS.length,
      requests: answers.length,
      denials: denials.length,
      withWarnings: warned.length,
      logLines: s.logs.length,
      searchedBytes: everything.length,
    });
  });
});

// ------------------------------------------------------------------ the CLI

describe('secrets: the CLI', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gloo-guard-secrets-cli-'));
  afterAll(async () => {
    await stopAllProcesses();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  async function check(args: string[]): Promise<string> {
    let out = '';
    const capture = (chunk: string | Uint8Array): boolean => {
      out += chunk.toString();
      return true;
    };
    const o = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const e = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      const code = await runCheck(args);
      return `exit ${code}\n${out}`;
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  const FILES = (): Array<[string, string[]]> => {
    const values = file('values.yaml', stringify(leakyValues));
    const manifests = file('manifests.yaml', OBJECTS.map(([, make]) => stringify(make())).join('---\n'));
    const list = file(
      'list.json',
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: OBJECTS.map(([, make]) => make()) }),
    );
    const brokenYaml = [
      file('unterminated.yaml', `kind: Secret\nstringData:\n  token: "${S}\n`),
      file('alias.yaml', `kind: Secret\nstringData:\n  token: *${S}\n`),
      file('tag.yaml', `kind: Secret\nstringData:\n  token: !${S} x\n`),
      file('token.yaml', `kind: Secret\ndata: |x ${S}\n  t\n`),
      file('escape.yaml', `kind: Secret\ndata: "\\q${S}"\n`),
      file('tab.yaml', `kind: Secret\n\t${S}: x\n`),
    ];
    const badConfig = file('config.yaml', `# ${S}\nmode: enforce\nunknownKey: ${S}\n`);
    return [
      ['values', ['--chart', 'gloo-mesh-enterprise', values]],
      ['values, two files', ['--chart', 'gloo-mesh-enterprise', values, values]],
      ['manifests', [manifests]],
      ['a List', [list]],
      ...brokenYaml.map((f): [string, string[]] => [`broken YAML ${f}`, [f]]),
      ['values as manifests', [values]],
      ['an invalid config', ['--config', badConfig, manifests]],
    ];
  };

  it('when every input file carries the secret, then no format of the report and no error holds it', async () => {
    const outputs: string[] = [];
    for (const [, args] of FILES()) {
      for (const format of ['text', 'json', 'sarif', 'junit'])
        outputs.push(await check([...args, '--output', format]));
    }
    const all = outputs.join('\n');
    expect(all).toContain('[no-inline-oidc-secret]');
    expect(all).toContain('https://***@prometheus.example.com/');
    expect(leaks(all)).toEqual([]);
    figure('secrets: check in-process', {
      runs: outputs.length,
      forms: FORMS.length,
      searchedBytes: all.length,
    });
  });

  it('when the real CLI reads them, and audit reads a kubeconfig holding the secret, then no output holds it', async () => {
    const [values, manifests] = [
      file('v2.yaml', stringify(leakyValues)),
      file('m2.yaml', OBJECTS.map(([, make]) => stringify(make())).join('---\n')),
    ];
    const kubeconfig = (server: string, broken: boolean): string =>
      file(
        `kubeconfig-${broken ? 'broken' : 'ok'}`,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: c\n  cluster:\n    server: ${server}`,
          'users:',
          `- name: u\n  user:\n    token: ${S}\n    password: ${S}`,
          broken ? `   bad: ${S}` : '',
          'contexts:',
          '- name: ctx\n  context:\n    cluster: c\n    user: u',
          'current-context: ctx',
        ].join('\n'),
      );
    const runs = [
      spawnCli(['check', '--chart', 'gloo-mesh-enterprise', values, '--output', 'json']),
      spawnCli(['check', manifests, `${S}-no-such-file.yaml`]),
      spawnCli(['check', manifests, '--output', 'sarif']),
      spawnCli(['audit', '--kubeconfig', kubeconfig('https://127.0.0.1:1', true)]),
      spawnCli(['audit', '--kubeconfig', kubeconfig('https://127.0.0.1:1', false), '--output', 'json']),
    ];
    const texts: string[] = [];
    for (const p of runs) {
      await p.exited;
      texts.push(`${p.stdout()}\n${p.stderr()}`);
    }
    const all = texts.join('\n');
    // The file name given on the command line is the user's own text, echoed as such: strip it.
    const withoutArgs = all.replaceAll(`${S}-no-such-file.yaml`, '<file>');
    expect(withoutArgs).toContain('cannot load kubeconfig');
    expect(leaks(withoutArgs)).toEqual([]);
    figure('secrets: real CLI', { runs: runs.length, searchedBytes: all.length });
  });
});
