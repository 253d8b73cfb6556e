// What GitOps carriers keep outside the object, at admission through createApp: Flux valuesFrom (the
// webhook reads the ConfigMaps and Secrets a HelmRelease names, and names what it could not read) and
// Argo CD value files in git (named, with how to check them in CI).
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import type { DataReader } from '../../src/engine/carriers/context.js';
import { KubeApiError } from '../../src/k8s/rest.js';
import { createApp } from '../../src/server/app.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { objectReview } from '../fixtures/admission/reviews.js';

const PRODUCTION_VALUES = parse(
  readFileSync('test/fixtures/values/platform-mgmt-production.yaml', 'utf8'),
) as Record<string, unknown>;

const helmRelease = (valuesFrom: unknown[]) => ({
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  metadata: { name: 'mgmt', namespace: 'flux-apps' },
  spec: {
    chart: { spec: { chart: 'gloo-platform', version: '2.5.0' } },
    targetNamespace: 'gloo-mesh',
    values: PRODUCTION_VALUES,
    valuesFrom,
  },
});

/** A cluster of ConfigMaps and Secrets by `Kind/namespace/name`; names in `forbidden` answer 403. */
function cluster(data: Record<string, Record<string, string>>, forbidden: string[] = []): DataReader {
  return (kind, namespace, name) => {
    const key = `${kind}/${namespace}/${name}`;
    if (forbidden.includes(key)) return Promise.reject(new KubeApiError(`GET ${key}: forbidden`, 403));
    return Promise.resolve(data[key] ?? null);
  };
}

async function validate(obj: Record<string, unknown>, read?: DataReader) {
  const config = defaultConfig();
  const app = createApp({ config: () => config, ...(read ? { readData: () => read } : {}) });
  const res = await request(app).post('/validate').send(objectReview(obj));
  expect(res.status).toBe(200);
  return res.body.response as { allowed: boolean; status?: { message: string }; warnings?: string[] };
}

describe('POST /validate: Flux HelmRelease valuesFrom', () => {
  it('when the insecure setting sits in a ConfigMap (under a valuesKey), then the HelmRelease is refused', async () => {
    // spec.values sets common.insecure: false and wins over valuesFrom, as in Flux: the ConfigMap sets another switch.
    const read = cluster({
      'ConfigMap/flux-apps/relay': { 'prod.yaml': 'glooMgmtServer:\n  insecure: true\n' },
    });
    const r = await validate(
      helmRelease([{ kind: 'ConfigMap', name: 'relay', valuesKey: 'prod.yaml' }]),
      read,
    );
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain(
      '[no-insecure-relay] relay runs without mTLS because insecure is true',
    );
  });

  it('when a Secret sets one value by targetPath, then that value is judged', async () => {
    const read = cluster({ 'Secret/flux-apps/switch': { on: 'true' } });
    const ref = { kind: 'Secret', name: 'switch', valuesKey: 'on', targetPath: 'glooMgmtServer.insecure' };
    const r = await validate(helmRelease([ref]), read);
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('glooMgmtServer.insecure');
  });

  it('when a source may not be read, then the rest is judged and a warning says what and why', async () => {
    const read = cluster({}, ['ConfigMap/flux-apps/locked']);
    const r = await validate(helmRelease([{ kind: 'ConfigMap', name: 'locked' }]), read);
    expect(r.allowed).toBe(true);
    expect(r.warnings?.join('\n')).toContain(
      'valuesFrom ConfigMap flux-apps/locked could not be read (forbidden: gloo-guard may not get it; list its namespace in the chart value webhooks.helmReleases.valuesFromNamespaces): judged without it',
    );
  });

  it('when a non-optional source does not exist, then the warning says Flux itself fails; an optional one is quiet', async () => {
    const r = await validate(helmRelease([{ kind: 'ConfigMap', name: 'gone' }]), cluster({}));
    expect(r.warnings?.join('\n')).toContain(
      'valuesFrom ConfigMap flux-apps/gone was not found: judged without it (Flux itself fails this release until it is there)',
    );
    const quiet = await validate(
      helmRelease([{ kind: 'ConfigMap', name: 'gone', optional: true }]),
      cluster({}),
    );
    expect(quiet.allowed).toBe(true);
    expect(quiet.warnings ?? []).toEqual([]);
  });

  it('when the webhook runs without cluster access, then the warning names the sources and why they were not read', async () => {
    const r = await validate(helmRelease([{ kind: 'Secret', name: 'creds' }]));
    expect(r.allowed).toBe(true);
    expect(r.warnings?.join('\n')).toContain(
      'valuesFrom Secret creds could not be read here (the webhook runs without --cluster-view) and were not judged',
    );
  });
});

describe('POST /validate: Argo CD value files kept in git', () => {
  it('when an Application takes value files from a git source, then it is judged without them and a warning names them and the CI command', async () => {
    const app = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'gloo', namespace: 'argocd' },
      spec: {
        destination: { namespace: 'gloo-mesh' },
        sources: [
          {
            repoURL: 'https://storage.googleapis.com/gloo-platform/helm-charts',
            chart: 'gloo-platform',
            targetRevision: '2.5.0',
            helm: { valueFiles: ['$values/envs/prod.yaml'], valuesObject: PRODUCTION_VALUES },
          },
          { repoURL: 'https://git.example.com/platform/config.git', ref: 'values' },
        ],
      },
    };
    const r = await validate(app);
    expect(r.allowed).toBe(true);
    expect(r.warnings?.join('\n')).toContain(
      'value files $values/envs/prod.yaml could not be read here and were not judged; in CI, check them from a ' +
        'checkout of https://git.example.com/platform/config.git: gloo-guard check APPLICATION.yaml --values-dir CHECKOUT',
    );
  });
});
