/** The audit's ClusterSource over the real API: paged lists, metadata-only where data is not needed. */
import type { V1Deployment, V1Namespace, V1Service } from '@kubernetes/client-node';
import type { ClusterSource, ObjectRef } from '../audit/source.js';
import type { KubeRest } from './rest.js';

interface Meta {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

function ref(o: Meta): ObjectRef {
  return {
    name: o.metadata?.name ?? '',
    namespace: o.metadata?.namespace ?? '',
    labels: o.metadata?.labels ?? {},
  };
}

async function* refs(it: AsyncIterable<Meta>): AsyncGenerator<ObjectRef> {
  for await (const o of it) yield ref(o);
}

async function getOrUndefined(rest: KubeRest, path: string): Promise<unknown> {
  const r = await rest.call('GET', path);
  return r.status === 404 ? undefined : r.body;
}

/** A ClusterSource reading one cluster through `rest`. */
export function apiClusterSource(name: string, rest: KubeRest): ClusterSource {
  return {
    name,
    namespaces: () => rest.list<V1Namespace>('/api/v1/namespaces'),
    deploymentRefs: () =>
      refs(rest.list<Meta>('/apis/apps/v1/deployments', {}, { as: 'metadata', limit: 500 })),
    deployments: () => rest.list<V1Deployment>('/apis/apps/v1/deployments', {}, { limit: 200 }),
    services: (ns) => rest.list<V1Service>(`/api/v1/namespaces/${encodeURIComponent(ns)}/services`),
    releaseSecretRefs: () =>
      refs(
        rest.list<Meta>(
          '/api/v1/secrets',
          { labelSelector: 'owner=helm', fieldSelector: 'type=helm.sh/release.v1' },
          { as: 'metadata', limit: 500 },
        ),
      ),
    secret: async (ns, n) =>
      (
        await rest.call(
          'GET',
          `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(n)}`,
        )
      ).body,
    releaseConfigMapRefs: () =>
      refs(
        rest.list<Meta>(
          '/api/v1/configmaps',
          { labelSelector: 'owner=helm' },
          { as: 'metadata', limit: 500 },
        ),
      ),
    configMap: (ns, n) =>
      getOrUndefined(
        rest,
        `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(n)}`,
      ),
    // A list of an API that is not served (the CRD is not installed) gives nothing.
    applications: () => rest.list('/apis/argoproj.io/v1alpha1/applications', {}, { limit: 200 }),
    helmReleases: () => rest.list('/apis/helm.toolkit.fluxcd.io/v2/helmreleases', {}, { limit: 200 }),
    secretNames: async (ns) => {
      const names: string[] = [];
      for await (const o of rest.list<Meta>(
        `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`,
        {},
        { as: 'metadata', limit: 500 },
      )) {
        names.push(o.metadata?.name ?? '');
      }
      return names;
    },
  };
}
