// Every way Gloo Mesh gets installed, on the real API server: Argo CD Applications and Flux
// HelmReleases (with the projects' published CRDs), umbrella charts and HELM_DRIVER=configmap through real Helm.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { Kubeconfig } from '../../src/k8s/kubeconfig.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { KubeRest } from '../../src/k8s/rest.js';
import {
  attempt,
  CHARTS,
  type ClusterInfo,
  ensure,
  GLOO_GUARD,
  helm,
  kube,
  MAJORS,
  namespace,
  type RegisteredWebhook,
  ROOT,
  serveRegistered,
  serviceAccountKubeconfig,
  tempFile,
} from './support.js';
import { installCrd, publishedCrd, type CrdSource } from './crds.js';

const info: ClusterInfo = inject('cluster');
const PROD = parse(
  readFileSync(join(ROOT, 'test/fixtures/values/platform-mgmt-production.yaml'), 'utf8'),
) as Record<string, unknown>;
const INSECURE = { ...PROD, redis: { deployment: { enabled: true } } };

/**
 * The projects' published CRD manifests, from their Go modules (module cache, or the Go module proxy):
 * argo-cd v2.13.3 manifests/crds/application-crd.yaml and helm-controller v1.4.0
 * config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml.
 */
const CRDS: CrdSource[] = [
  {
    module: 'github.com/argoproj/argo-cd/v2',
    version: 'v2.13.3',
    file: 'manifests/crds/application-crd.yaml',
  },
  {
    module: 'github.com/fluxcd/helm-controller',
    version: 'v1.4.0',
    file: 'config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml',
  },
];

/** A kubeconfig with the token of a ServiceAccount that may read what the audit reads, but no GitOps API. */
async function limitedKubeconfig(sa: string): Promise<string> {
  const read = (groups: string[], resources: string[]) => ({
    apiGroups: groups,
    resources,
    verbs: ['get', 'list'],
  });
  await ensure(rest, '/api/v1/namespaces/argocd/serviceaccounts', {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: sa, namespace: 'argocd' },
  });
  await ensure(rest, '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: sa },
    rules: [read([''], ['namespaces', 'services', 'secrets', 'configmaps']), read(['apps'], ['deployments'])],
  });
  await ensure(rest, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: sa },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: 'argocd' }],
  });
  return serviceAccountKubeconfig(rest, info, 'argocd', sa);
}

/** POSTs an object as kubectl does and returns the status and the Warning headers the API server relayed. */
async function postWithWarnings(path: string, body: unknown): Promise<{ status: number; warnings: string }> {
  const access = Kubeconfig.load(info.kubeconfigPath).access();
  const url = new URL(access.server + path);
  const options: RequestOptions = {
    method: 'POST',
    hostname: url.hostname,
    port: url.port,
    path: url.pathname,
    headers: { 'content-type': 'application/json' },
  };
  await access.apply(options);
  return new Promise((res, rej) => {
    const req = httpsRequest(options, (r) => {
      r.resume();
      const w = r.headers.warning;
      r.on('end', () => res({ status: r.statusCode ?? 0, warnings: [w ?? []].flat().join('\n') }));
    });
    req.on('error', rej);
    req.end(JSON.stringify(body));
  });
}

/** Runs a node script (the built CLI) as a user would, with its exit code and output. */
function run(script: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let rest: KubeRest;
let webhook: RegisteredWebhook | undefined;

function application(name: string, values: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'gloo-mesh' },
      source: {
        repoURL: 'https://storage.googleapis.com/gloo-platform/helm-charts',
        chart: 'gloo-platform',
        targetRevision: '2.5.0',
        helm: { valuesObject: values },
      },
    },
  };
}

function helmRelease(name: string, values: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name, namespace: 'flux-apps' },
    spec: {
      interval: '10m',
      targetNamespace: 'gloo-mesh',
      chart: {
        spec: {
          chart: 'gloo-platform',
          version: '2.5.0',
          sourceRef: { kind: 'HelmRepository', name: 'gloo-platform' },
        },
      },
      values,
    },
  };
}

/** An umbrella chart `acme-platform` with the e2e gloo-platform chart as dependency `mesh`. */
function umbrellaChart(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gg-umbrella-'));
  const version = (parse(readFileSync(`${CHARTS}/gloo-platform/Chart.yaml`, 'utf8')) as { version: string })
    .version;
  writeFileSync(
    join(dir, 'Chart.yaml'),
    stringify({
      apiVersion: 'v2',
      name: 'acme-platform',
      version: '1.0.0',
      dependencies: [{ name: 'gloo-platform', version, alias: 'mesh', condition: 'mesh.enabled' }],
    }),
  );
  writeFileSync(join(dir, 'values.yaml'), stringify({ mesh: { enabled: true } }));
  mkdirSync(join(dir, 'charts'));
  cpSync(`${CHARTS}/gloo-platform`, join(dir, 'charts/gloo-platform'), { recursive: true });
  return dir;
}

beforeAll(async () => {
  rest = kube(info);
  for (const c of CRDS) await installCrd(rest, publishedCrd(c));
  for (const n of ['argocd', 'flux-apps', 'gloo-mesh'])
    await ensure(rest, '/api/v1/namespaces', namespace(n));
  // With the cluster view, the webhook reads the ConfigMaps and Secrets a HelmRelease takes values from.
  webhook = await serveRegistered(rest, info, {
    config: { mode: 'enforce' },
    extraArgs: ['--cluster-view'],
    env: { KUBECONFIG: info.kubeconfigPath },
    values: { fullnameOverride: 'gloo-guard-carriers' },
    apiVersions: ['argoproj.io/v1alpha1/Application', 'helm.toolkit.fluxcd.io/v2/HelmRelease'],
  });
});

afterAll(async () => {
  await webhook?.close();
});

describe('Argo CD Applications at kubectl apply', () => {
  const path = '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications';

  it("when the vendor's Argo CD example (bundled Redis and Prometheus, self-signed relay CA) is applied, then it is refused with [policy-id] ... -> fix", async () => {
    const solo = parse(
      readFileSync(join(ROOT, 'test/fixtures/carriers/public/solo-cop-gloo-platform-helm.yaml'), 'utf8'),
    );
    const r = await attempt(rest, 'POST', path, solo);
    expect(r.status).toBe(403);
    expect(r.message).toContain('admission webhook "applications.gloo-guard.io" denied the request');
    expect(r.message).toContain(
      'Application argocd/gloo-platform-helm: release gloo-mesh/gloo-platform-helm (chart gloo-platform 2.5.0)',
    );
    expect(r.message).toContain(
      '[no-bundled-redis] the bundled Redis serves the stores snapshot, insights (redis.deployment.enabled) -> set redis.deployment.enabled: false',
    );
    expect((await attempt(rest, 'GET', `${path}/gloo-platform-helm`, undefined)).status).toBe(404);
  });

  it('when a production Application is applied, then it is admitted; an update that turns Redis on is refused', async () => {
    const prod = application('gloo-platform-prod', PROD);
    expect((await attempt(rest, 'POST', path, prod)).status).toBe(201);
    const current = (await rest.call('GET', `${path}/gloo-platform-prod`)).body as Record<string, unknown>;
    const changed = { ...current, spec: application('gloo-platform-prod', INSECURE).spec };
    const r = await attempt(rest, 'PUT', `${path}/gloo-platform-prod`, changed);
    expect(r.status).toBe(403);
    expect(r.message).toContain('[no-bundled-redis]');
  });

  it('when an Application installs another chart, then it never reaches the webhook', async () => {
    const other = application('cert-manager', INSECURE);
    ((other.spec as Record<string, unknown>).source as Record<string, unknown>).chart = 'cert-manager';
    expect((await attempt(rest, 'POST', path, other)).status).toBe(201);
  });
});

describe('Flux HelmReleases at kubectl apply', () => {
  const path = '/apis/helm.toolkit.fluxcd.io/v2/namespaces/flux-apps/helmreleases';

  it('when an insecure HelmRelease is applied, then it is refused; a production one is admitted', async () => {
    const r = await attempt(
      rest,
      'POST',
      path,
      helmRelease('gloo-platform', { ...PROD, common: { insecure: true } }),
    );
    expect(r.status).toBe(403);
    expect(r.message).toContain('admission webhook "helmreleases.gloo-guard.io" denied the request');
    expect(r.message).toContain(
      'HelmRelease flux-apps/gloo-platform: release gloo-mesh/gloo-mesh-gloo-platform',
    );
    expect(r.message).toContain(
      '[no-insecure-relay] relay runs without mTLS because insecure is true (common.insecure)',
    );
    expect((await attempt(rest, 'POST', path, helmRelease('gloo-platform', PROD))).status).toBe(201);
  });

  it('when the insecure setting comes from a ConfigMap in valuesFrom, then the HelmRelease is refused; a missing one is named', async () => {
    await ensure(rest, '/api/v1/namespaces/flux-apps/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'relay-settings', namespace: 'flux-apps' },
      // spec.values sets common.insecure: false and wins over valuesFrom, as in Flux: another switch.
      data: { 'values.yaml': 'glooMgmtServer:\n  insecure: true\n' },
    });
    const fromConfigMap = (name: string, cm: string, optional = false) => {
      const hr = helmRelease(name, PROD);
      (hr.spec as Record<string, unknown>).valuesFrom = [{ kind: 'ConfigMap', name: cm, optional }];
      return hr;
    };
    const refused = await attempt(rest, 'POST', path, fromConfigMap('from-cm', 'relay-settings'));
    expect(refused.status).toBe(403);
    expect(refused.message).toContain(
      '[no-insecure-relay] relay runs without mTLS because insecure is true (glooMgmtServer.insecure)',
    );
    const missing = await postWithWarnings(path, fromConfigMap('from-missing', 'not-there'));
    expect(missing.status).toBe(201);
    expect(missing.warnings).toContain(
      'valuesFrom ConfigMap flux-apps/not-there was not found: judged without it (Flux itself fails this release until it is there)',
    );
  });
});

describe('the audit of HelmReleases and of what it may not read', () => {
  it('when a HelmRelease is created at v2beta2, then the audit (listing the newest served version) judges it once', async () => {
    // Its one note (a valuesFrom ConfigMap that does not exist) tells how often it was judged.
    const hr: Record<string, unknown> = {
      ...helmRelease('beta-release', PROD),
      apiVersion: 'helm.toolkit.fluxcd.io/v2beta2',
    };
    (hr.spec as Record<string, unknown>).valuesFrom = [{ kind: 'ConfigMap', name: 'beta-only' }];
    await ensure(rest, '/apis/helm.toolkit.fluxcd.io/v2beta2/namespaces/flux-apps/helmreleases', hr);
    const r = run(GLOO_GUARD, ['audit', '--kubeconfig', info.kubeconfigPath, '-o', 'json']);
    const out = JSON.parse(r.stdout) as { notes: string[]; notJudged: Array<{ source: string }> };
    expect(out.notes.filter((n) => n.includes('ConfigMap flux-apps/beta-only was not found'))).toHaveLength(
      1,
    );
    expect(out.notJudged.map((n) => n.source).join()).not.toContain('HelmReleases');
  });

  it('when the audit may not list Applications and HelmReleases, then it says so and exits 2, never a silent pass', async () => {
    const kubeconfig = await limitedKubeconfig('auditor-no-gitops');
    const r = run(GLOO_GUARD, ['audit', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      'not read: the audit may not list applications.argoproj.io (403 Forbidden); Gloo Mesh installed through them is not audited',
    );
    expect(r.stdout).toContain('may not list helmreleases.helm.toolkit.fluxcd.io (403 Forbidden)');
  });
});

describe.each(MAJORS)('through real helm %s', (major) => {
  it('when an umbrella chart with gloo-platform as dependency `mesh` is installed with bundled Redis, then the release is refused', () => {
    const chart = umbrellaChart();
    const target = `umbrella-${major}`;
    const values = tempFile('umbrella.yaml', { mesh: INSECURE });
    const r = helm(major, info, ['install', 'acme', chart, '-n', target, '--create-namespace', '-f', values]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('admission webhook "releases.gloo-guard.io" denied the request');
    expect(r.stderr).toContain('(chart gloo-platform');
    expect(r.stderr).toContain('in acme-platform 1.0.0');
    expect(r.stderr).toContain('[no-bundled-redis] the bundled Redis is enabled (redis.deployment.enabled)');
    // With the dependency switched off by its condition, nothing of Gloo Mesh is installed: admitted.
    const off = helm(major, info, [
      'install',
      'acme',
      chart,
      '-n',
      target,
      '-f',
      values,
      '--set',
      'mesh.enabled=false',
    ]);
    expect(off.out).toContain('STATUS: deployed');
  });

  it('when a release is stored with HELM_DRIVER=configmap, then the release ConfigMap is refused', () => {
    const target = `cm-driver-${major}`;
    const values = tempFile('insecure.yaml', INSECURE);
    const env = { HELM_DRIVER: 'configmap' };
    const r = helm(
      major,
      info,
      ['install', 'gp', `${CHARTS}/gloo-platform`, '-n', target, '--create-namespace', '-f', values],
      env,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('admission webhook "release-configmaps.gloo-guard.io" denied the request');
    expect(r.stderr).toContain('[no-bundled-redis]');
    const prod = tempFile('prod.yaml', PROD);
    const ok = helm(major, info, ['install', 'gp', `${CHARTS}/gloo-platform`, '-n', target, '-f', prod], env);
    expect(ok.out).toContain('STATUS: deployed');
  });
});
