// The audit reads what GitOps tools and Helm's ConfigMap driver hold, and its PolicyReports name them.
import { describe, expect, it } from 'vitest';
import { auditCluster } from '../../src/audit/audit.js';
import { buildPolicyReports } from '../../src/audit/policy-report.js';
import { defaultConfig } from '../../src/config/types.js';
import { encodeReleasePayload } from '../../src/helm/release.js';
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
