// `gloo-guard check` on every way Gloo Mesh gets installed: Argo CD, Flux, umbrella charts, the ConfigMap driver.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { encodeReleasePayload, releaseSecret } from '../../src/helm/release.js';
import { helmBin } from '../../scripts/helm-bin.js';
import { cli } from '../helpers/cli.js';

const PUBLIC = 'test/fixtures/carriers/public';
const PROD = parse(readFileSync('test/fixtures/values/platform-mgmt-production.yaml', 'utf8')) as Record<
  string,
  unknown
>;
let dir: string;

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, typeof content === 'string' ? content : stringify(content));
  return p;
}

function application(
  helm: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'gloo-platform', namespace: 'argocd' },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'gloo-mesh' },
      source: {
        repoURL: 'https://storage.googleapis.com/gloo-platform/helm-charts',
        chart: 'gloo-platform',
        targetRevision: '2.5.0',
        helm,
      },
      ...extra,
    },
  };
}

function helmRelease(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: 'gloo-platform', namespace: 'gloo-mesh' },
    spec: {
      interval: '10m',
      chart: {
        spec: {
          chart: 'gloo-platform',
          version: '2.5.0',
          sourceRef: { kind: 'HelmRepository', name: 'gloo' },
        },
      },
      ...spec,
    },
  };
}

/** A release of an umbrella chart `acme-platform` with gloo-platform as a dependency. */
function umbrellaRelease(
  dependency: Record<string, unknown>,
  config: Record<string, unknown>,
  chartValues = {},
) {
  return {
    name: 'acme',
    namespace: 'gloo-mesh',
    version: 1,
    info: { status: 'pending-install' },
    chart: {
      metadata: {
        name: 'acme-platform',
        version: '1.0.0',
        dependencies: [{ name: 'gloo-platform', version: '~2.5.0', repository: 'https://x', ...dependency }],
      },
      values: chartValues,
    },
    config,
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gg-carriers-'));
});

describe('gloo-guard check on Argo CD Applications', () => {
  it("when the vendor's own Argo CD example (solo-cop) is checked, then its demo settings are denied and the Application is named", () => {
    const r = cli(['check', `${PUBLIC}/solo-cop-gloo-platform-helm.yaml`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'Application argocd/gloo-platform-helm: release gloo-mesh/gloo-platform-helm (chart gloo-platform 2.5.0)',
    );
    expect(r.stdout).toContain(
      'DENY [no-bundled-redis] the bundled Redis serves the stores snapshot, insights (redis.deployment.enabled)',
    );
    expect(r.stdout).toContain('DENY [no-default-relay-ca]');
    expect(r.stdout).toContain('1 judged');
  });

  it('when an Application carries production values in valuesObject, then it passes', () => {
    const r = cli(['check', file('prod-app.yaml', application({ valuesObject: PROD }))]);
    expect(r.stdout).toContain('1 judged, 0 denied');
    expect(r.code).toBe(0);
  });

  it('when both values and valuesObject are set, then valuesObject replaces values as Argo CD does', () => {
    const insecure = stringify({ ...PROD, prometheus: { enabled: true } });
    const r = cli(['check', file('both.yaml', application({ values: insecure, valuesObject: PROD }))]);
    expect(r.code).toBe(0);
    const only = cli(['check', file('values-only.yaml', application({ values: insecure }))]);
    expect(only.code).toBe(1);
    expect(only.stdout).toContain('[no-bundled-prometheus]');
  });

  it('when a parameter sets a value with --set semantics, then it wins over valuesObject; forceString keeps "true" a string', () => {
    // Generation on is the self-signed setup (disableCa: false alone is the vendor's custom-CA option).
    const params = [{ name: 'glooMgmtServer.relay.disableCaCertGeneration', value: 'false' }];
    const r = cli(['check', file('params.yaml', application({ valuesObject: PROD, parameters: params }))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[no-default-relay-ca]');
    expect(r.stdout).toContain('(glooMgmtServer.relay.disableCaCertGeneration)');
    // forceString keeps "true" a string; the chart's `if` treats it as on, and so do the policies.
    const forced = [{ name: 'prometheus.enabled', value: 'true', forceString: true }];
    const f = cli([
      'check',
      '-o',
      'json',
      file('forced.yaml', application({ valuesObject: PROD, parameters: forced })),
    ]);
    expect(JSON.parse(f.stdout).violations.map((v: { policy: string }) => v.policy)).toEqual([
      'no-bundled-prometheus',
    ]);
  });

  it('when value files live in git, then a note names them and the rest is judged; --values-dir reads them', () => {
    const withoutRedis = Object.fromEntries(Object.entries(PROD).filter(([k]) => k !== 'redis'));
    const app = application({ valueFiles: ['values/prod.yaml'], valuesObject: withoutRedis });
    const appFile = file('git-app.yaml', app);
    const r = cli(['check', appFile]);
    expect(r.stdout).toContain(
      'value files values/prod.yaml could not be read here and were not judged; in CI, check them from a checkout of ' +
        'https://storage.googleapis.com/gloo-platform/helm-charts: gloo-guard check APPLICATION.yaml --values-dir CHECKOUT',
    );
    // Without the file, Redis keeps the chart default (on).
    expect(r.stdout).toContain('[no-bundled-redis]');
    // valueFiles sit beneath valuesObject: a file that turns Prometheus on is overridden by valuesObject...
    const repo = join(dir, 'repo');
    file('repo/values/prod.yaml', {
      prometheus: { enabled: true },
      redis: { deployment: { enabled: false } },
    });
    expect(cli(['check', appFile, '--values-dir', repo]).code).toBe(0);
    // ...and a file that sets what valuesObject leaves alone is judged.
    file('repo/values/prod.yaml', { redis: { deployment: { enabled: true } } });
    const f = cli(['check', appFile, '--values-dir', repo]);
    expect(f.code).toBe(1);
    expect(f.stdout).toContain('[no-bundled-redis]');
    expect(f.stdout).not.toContain('could not be read');
  });

  it('when sources[] take value files from a $ref source, then they are read from --values-dir', () => {
    const app = application({}, {});
    const spec = app.spec as Record<string, unknown>;
    const src = spec.source as Record<string, unknown>;
    delete spec.source;
    spec.sources = [
      { ...src, helm: { valueFiles: ['$values/gloo/mgmt.yaml'] } },
      { repoURL: 'https://git.example.com/platform.git', targetRevision: 'main', ref: 'values' },
    ];
    const repo = join(dir, 'refrepo');
    file('refrepo/gloo/mgmt.yaml', { ...PROD, redis: { deployment: { enabled: true } } });
    const r = cli(['check', file('multi.yaml', app), '--values-dir', repo]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[no-bundled-redis]');
  });

  it('when an Application installs another chart, then it is not judged; an ApplicationSet is not judged, with the reason', () => {
    const other = application({});
    ((other.spec as Record<string, unknown>).source as Record<string, unknown>).chart = 'cert-manager';
    const set = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ApplicationSet',
      metadata: { name: 'gm', namespace: 'argocd' },
      spec: {},
    };
    const r = cli(['check', file('other.yaml', other), file('set.yaml', set)]);
    expect(r.stdout).toContain('NOT JUDGED');
    expect(r.stdout).toContain('ApplicationSet argocd/gm: an ApplicationSet is a template');
    expect(r.stdout).toContain('0 judged');
    expect(r.stdout).toContain('2 not judged');
  });

  it('when an Application is malformed, then the error names it and the field', () => {
    const bad = application({ values: 'a: [' });
    const r = cli(['check', file('bad.yaml', bad)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Application argocd/gloo-platform: spec.source.helm.values is not valid YAML');
  });
});

describe('gloo-guard check on Flux HelmReleases', () => {
  it('when values come from a ConfigMap and a Secret given as files, then they are merged as Flux does and judged', () => {
    const hr = helmRelease({
      values: { glooAgent: { enabled: false } },
      valuesFrom: [
        { kind: 'ConfigMap', name: 'gloo-values' },
        {
          kind: 'Secret',
          name: 'gloo-relay',
          valuesKey: 'disableCaCertGeneration',
          targetPath: 'glooMgmtServer.relay.disableCaCertGeneration',
        },
        { kind: 'ConfigMap', name: 'absent', optional: true },
      ],
    });
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'gloo-values', namespace: 'gloo-mesh' },
      data: { 'values.yaml': stringify(PROD) },
    };
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gloo-relay', namespace: 'gloo-mesh' },
      data: { disableCaCertGeneration: Buffer.from('false').toString('base64') },
    };
    const r = cli(['check', file('hr.yaml', [hr, cm, secret].map((o) => stringify(o)).join('---\n'))]);
    expect(r.stdout).toContain(
      'HelmRelease gloo-mesh/gloo-platform: release gloo-mesh/gloo-platform (chart gloo-platform 2.5.0)',
    );
    expect(r.stdout).toContain('DENY [no-default-relay-ca]');
    expect(r.stdout).toContain('(glooMgmtServer.relay.disableCaCertGeneration)');
    expect(r.code).toBe(1);
  });

  it('when the production values come from the ConfigMap, then the HelmRelease passes; without it a note names it', () => {
    const hr = helmRelease({
      valuesFrom: [{ kind: 'ConfigMap', name: 'gloo-values' }],
      targetNamespace: 'gloo-mesh',
    });
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'gloo-values', namespace: 'gloo-mesh' },
      data: { 'values.yaml': stringify(PROD) },
    };
    const ok = cli(['check', file('hr-ok.yaml', hr), file('cm.yaml', cm)]);
    expect(ok.stdout).toContain('1 judged, 0 denied');
    expect(ok.code).toBe(0);
    const missing = cli(['check', file('hr-only.yaml', hr)]);
    expect(missing.stdout).toContain(
      'valuesFrom ConfigMap gloo-mesh/gloo-values was not found: judged without it',
    );
  });

  it('when a HelmRelease uses chartRef, then it is judged with the newest policies and says so', () => {
    const hr = helmRelease({ values: PROD });
    const spec = hr.spec as Record<string, unknown>;
    delete spec.chart;
    spec.chartRef = { kind: 'OCIRepository', name: 'gloo-platform' };
    const r = cli(['check', file('chartref.yaml', hr)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'does not say the chart version: judged with the newest gloo-platform policies',
    );
  });
});

describe('gloo-guard check on umbrella charts and the ConfigMap driver', () => {
  it('when an umbrella release holds gloo-platform under an alias, then it is judged as gloo-platform with those values', () => {
    const rel = umbrellaRelease(
      { alias: 'mesh' },
      { mesh: { ...PROD, redis: { deployment: { enabled: true } } } },
    );
    const r = cli(['check', file('umbrella.yaml', releaseSecret(rel))]);
    expect(r.stdout).toContain(
      'release gloo-mesh/acme (chart gloo-platform 2.5.0 in acme-platform 1.0.0 revision 1)',
    );
    expect(r.stdout).toContain('[no-bundled-redis]');
    expect(r.code).toBe(1);
  });

  it('when the release Secret real Helm 3 stored for an aliased umbrella (dependency renamed to its alias) is checked, then it is judged as gloo-platform', () => {
    const r = cli(['check', 'test/fixtures/carriers/umbrella-release-helm3.json']);
    expect(r.stdout).toContain(
      'release umbrella-v3/acme (chart gloo-platform 2.4.3 in acme-platform 1.0.0 revision 1)',
    );
    expect(r.stdout).toMatch(/DENY \[no-bundled-redis\] the bundled Redis .*\(redis\.deployment\.enabled\)/);
    expect(r.code).toBe(1);
  });

  it('when the dependency is disabled by a real boolean false, then it is not judged; the string "false" does not disable it', () => {
    const off = umbrellaRelease({ condition: 'mesh.enabled' }, { mesh: { enabled: false } });
    // Nothing left to judge: check says why and exits 2 (issue 16), never a silent 0.
    const r = cli(['check', file('off.yaml', releaseSecret(off))]);
    expect(r.stderr).toContain('nothing judged');
    expect(r.code).toBe(2);
    const str = umbrellaRelease({ condition: 'mesh.enabled' }, { mesh: { enabled: 'false' } });
    expect(cli(['check', file('str.yaml', releaseSecret(str as never))]).stdout).toContain('1 judged');
  });

  it('when umbrella values are checked with --subchart, then the values under the alias are judged; without it they are flagged', () => {
    const values = file('umbrella-values.yaml', { mesh: { ...PROD, prometheus: { enabled: true } } });
    const r = cli(['check', '--chart', 'acme-platform', '--subchart', 'mesh=gloo-platform', values]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('(chart gloo-platform in acme-platform)');
    expect(r.stdout).toContain('[no-bundled-prometheus]');
    const named = file('named-values.yaml', { 'gloo-platform': PROD });
    const flagged = cli(['check', '--chart', 'gloo-platform', named]);
    expect(flagged.code).toBe(2);
    expect(flagged.stdout).toContain('top-level key gloo-platform holds umbrella chart values');
    const hint = cli(['check', '--chart', 'acme-platform', named]);
    expect(hint.stderr).toContain('for an umbrella chart add --subchart CHART');
  });

  it('when a release stored by HELM_DRIVER=configmap is checked, then it is judged like a release Secret', () => {
    const release = {
      name: 'gloo-platform',
      namespace: 'gloo-mesh',
      version: 1,
      info: { status: 'pending-install' },
      chart: { metadata: { name: 'gloo-platform', version: '2.5.0' }, values: {} },
      config: { ...PROD, common: { insecure: true } },
    };
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'sh.helm.release.v1.gloo-platform.v1',
        namespace: 'gloo-mesh',
        labels: { owner: 'helm', name: 'gloo-platform', version: '1', status: 'pending-install' },
      },
      data: { release: encodeReleasePayload(release) },
    };
    const r = cli(['check', file('cm-release.yaml', cm)]);
    expect(r.stdout).toContain('[no-insecure-relay]');
    expect(r.code).toBe(1);
    const broken = { ...cm, data: { release: 'not base64!' } };
    const b = cli(['check', file('cm-broken.yaml', broken)]);
    expect(b.code).toBe(2);
    expect(b.stdout).toContain(
      'ConfigMap sh.helm.release.v1.gloo-platform.v1: release payload is not valid base64',
    );
  });
});

describe('gloo-guard check on rendered objects (helm template, what Argo CD applies)', () => {
  /** `helm template` of the e2e gloo-platform chart (our own, in the shapes of the vendor's) with `values`. */
  function rendered(values: Record<string, unknown>): string {
    const r = spawnSync(
      helmBin('v3'),
      [
        'template',
        'gloo-platform',
        'test/e2e/charts/gloo-platform',
        '-n',
        'gloo-mesh',
        '-f',
        file('v.yaml', values),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
    return r.stdout;
  }

  it('when a production install is rendered, then its Deployments pass and the policies that need values are named as not judged', () => {
    const r = cli(['check', '-'], rendered(PROD));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'NOT JUDGED <stdin>: rendered objects (gloo-mesh-mgmt-server, gloo-mesh-ui): no-default-relay-ca, ' +
        'relay-custom-certs, ui-oidc-auth, no-inline-oidc-secret, no-inline-credentials, no-demo-settings, ' +
        'chart-values-keys, addons-separate-release could not be judged: their settings are not visible in ' +
        'rendered manifests; check the values with --chart',
    );
    expect(r.stdout).toContain('3 judged, 0 denied');
  });

  it('when the rendered install bundles Redis and runs relay insecure, then check refuses it from the Deployments alone', () => {
    const r = cli(
      ['check', '-', '-o', 'json'],
      rendered({
        ...PROD,
        common: { ...(PROD.common as object), insecure: true },
        redis: { deployment: { enabled: true } },
      }),
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as {
      violations: Array<{ policy: string; path: string }>;
      notJudged: unknown[];
    };
    expect(out.violations.map((v) => `${v.policy} ${v.path}`)).toEqual(
      expect.arrayContaining([
        'no-insecure-relay spec.template.spec.containers[0].args[0]',
        expect.stringMatching(/^no-bundled-redis /),
      ]),
    );
    expect(out.notJudged).toHaveLength(1);
  });

  it('when the values are checked with the rendered objects, then nothing is left unjudged', () => {
    const r = cli(
      ['check', '-', '-o', 'json'],
      rendered(PROD) + `---\n${stringify(application({ valuesObject: PROD }))}`,
    );
    expect((JSON.parse(r.stdout) as { notJudged: unknown[] }).notJudged).toEqual([]);
  });
});
