// The audit reads what GitOps tools and Helm's ConfigMap driver hold, and its PolicyReports name them.
import { describe, expect, it } from 'vitest';
import { auditCluster } from '../../src/audit/audit.js';
import { buildPolicyReports } from '../../src/audit/policy-report.js';
import { defaultConfig } from '../../src/config/types.js';
import { encodeReleasePayload } from '../../src/helm/release.js';
import { NotReadable } from '../../src/k8s/source.js';
import { apiClusterSource } from '../../src/k8s/cluster-source.js';
import { KubeApiError, type KubeRest } from '../../src/k8s/rest.js';
import { staticSource } from '../helpers/static-source.js';

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const INSECURE = { glooMgmtServer: { enabled: true }, common: { insecure: true } };

const application = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'gloo', namespace: 'argocd', uid: 'uid-app' },
  spec: {
    destination: { namespace: 'gloo-mesh' },
    source: { chart: 'gloo-platform', targetRevision: '2.5.0', helm: { valuesObject: INSECURE } },
  },
};
const helmRelease = {
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  metadata: { name: 'agent', namespace: 'flux-apps' },
  spec: {
    chart: { spec: { chart: 'gloo-platform', version: '2.5.0' } },
    valuesFrom: [{ kind: 'Secret', name: 'agent-values' }],
  },
};
const valuesSecret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'agent-values', namespace: 'flux-apps' },
  data: {
    'values.yaml': Buffer.from('common:\n  insecure: true\nglooAgent:\n  enabled: true\n').toString('base64'),
  },
};
const releaseConfigMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'sh.helm.release.v1.gp.v1',
    namespace: 'gloo-mesh',
    labels: { owner: 'helm', name: 'gp', version: '1', status: 'deployed' },
  },
  data: {
    release: encodeReleasePayload({
      name: 'gp',
      namespace: 'gloo-mesh',
      version: 1,
      info: { status: 'deployed' },
      chart: { metadata: { name: 'gloo-platform', version: '2.5.0' }, values: {} },
      config: INSECURE,
    }),
  },
};

describe('audit of GitOps carriers and release ConfigMaps', () => {
  it('when a cluster holds an Application, a HelmRelease with valuesFrom and a release ConfigMap, then each is judged and reported by its own name', async () => {
    const src = staticSource('c1', [
      ns('gloo-mesh'),
      ns('argocd'),
      ns('flux-apps'),
      application,
      helmRelease,
      valuesSecret,
      releaseConfigMap,
    ]);
    const a = await auditCluster(src, defaultConfig());
    const insecure = a.objects.filter((o) => o.result.findings.some((f) => f.policy === 'no-insecure-relay'));
    expect(
      insecure.map((o) => `${o.resource.kind}/${o.resource.namespace}/${o.resource.name}`).sort(),
    ).toEqual([
      'Application/argocd/gloo',
      'ConfigMap/gloo-mesh/sh.helm.release.v1.gp.v1',
      'HelmRelease/flux-apps/agent',
    ]);
    expect(a.releases.map((r) => `${r.namespace}/${r.name}`).sort()).toEqual([
      'flux-apps/agent',
      'gloo-mesh/gloo',
      'gloo-mesh/gp',
    ]);
    const reports = buildPolicyReports(a, new Date('2026-11-29T00:00:00Z'));
    const argo = reports.find((r) => r.metadata.namespace === 'argocd');
    expect(JSON.stringify(argo)).toContain('"kind":"Application"');
    expect(JSON.stringify(argo)).toContain('"name":"gloo"');
  });
});

describe('audit of lists it cannot read', () => {
  it('when the source may not list Applications, then the audit says so, and the PolicyReport of the management namespace carries it as an error', async () => {
    const src = staticSource('c1', [ns('gloo-mesh')]);
    src.applications = async function* () {
      await Promise.resolve();
      yield* [];
      throw new NotReadable(
        'Argo CD Applications',
        'not read: 403 Forbidden',
        true,
        'applications.argoproj.io',
      );
    };
    const audit = await auditCluster(src, defaultConfig());
    expect(audit.unread).toEqual([
      {
        source: 'c1: Argo CD Applications',
        message: 'not read: 403 Forbidden',
        forbidden: true,
        crd: 'applications.argoproj.io',
        namespace: 'gloo-mesh',
      },
    ]);
    const [report] = buildPolicyReports(audit, new Date(0));
    expect(report?.metadata.namespace).toBe('gloo-mesh');
    expect(report?.summary.error).toBe(1);
    expect(report?.results[0]?.resources[0]).toMatchObject({ name: 'applications.argoproj.io' });
  });
});

/** A KubeRest stand-in that answers discovery and lists from tables, and 403 where told. */
function fakeRest(groups: Record<string, string[]>, forbidden: string[] = []): KubeRest {
  const listed: string[] = [];
  const fake = {
    listed,
    call: (_m: string, path: string) => {
      const group = path.replace(/^\/apis\//, '');
      const versions = groups[group];
      return Promise.resolve(
        versions
          ? { status: 200, body: { versions: versions.map((version) => ({ version })) } }
          : { status: 404, body: {} },
      );
    },
    list: async function* (path: string) {
      await Promise.resolve();
      listed.push(path);
      if (forbidden.some((f) => path.includes(f))) throw new KubeApiError(`GET ${path}: forbidden`, 403);
      yield { apiVersion: 'x', kind: 'HelmRelease', metadata: { name: 'hr' } };
    },
  };
  return fake as unknown as KubeRest;
}

async function drain(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('the API source lists GitOps carriers at the versions the cluster serves', () => {
  it('when Flux serves v2 and v2beta2, then HelmReleases are listed once, at v2', async () => {
    const rest = fakeRest({ 'helm.toolkit.fluxcd.io': ['v2', 'v2beta2'] });
    expect(await drain(apiClusterSource('c', rest).helmReleases!())).toHaveLength(1);
    expect((rest as unknown as { listed: string[] }).listed).toEqual([
      '/apis/helm.toolkit.fluxcd.io/v2/helmreleases',
    ]);
  });

  it('when an older Flux serves only v2beta1, then HelmReleases are listed at v2beta1', async () => {
    const rest = fakeRest({ 'helm.toolkit.fluxcd.io': ['v2beta1'] });
    await drain(apiClusterSource('c', rest).helmReleases!());
    expect((rest as unknown as { listed: string[] }).listed).toEqual([
      '/apis/helm.toolkit.fluxcd.io/v2beta1/helmreleases',
    ]);
  });

  it('when the API is absent or forbidden, then the list throws NotReadable saying which and why', async () => {
    const absent = drain(apiClusterSource('c', fakeRest({})).applications!());
    await expect(absent).rejects.toMatchObject({ forbidden: false, crd: 'applications.argoproj.io' });
    await expect(absent).rejects.toThrow(/does not serve argoproj.io/);
    const rest = fakeRest({ 'argoproj.io': ['v1alpha1'] }, ['applications']);
    const denied = drain(apiClusterSource('c', rest).applications!());
    await expect(denied).rejects.toBeInstanceOf(NotReadable);
    await expect(denied).rejects.toThrow(/may not list applications.argoproj.io \(403 Forbidden\)/);
  });
});
