/** The audit's ClusterSource over the real API: metadata-only lists (or the watch caches), single reads. */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ClusterSource, ObjectRef } from '../audit/source.js';
import type { LiveCluster } from './live-cluster.js';
import { KubeApiError, type KubeRest } from './rest.js';

interface Meta {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

/** Where Helm release Secrets may be read: everywhere, or only in these namespaces (none: `[]`). */
export type ReleaseScope = 'all' | readonly string[];

/** Options of an API source. */
export interface ApiSourceOptions {
  /** Default `all`, for a user's kubeconfig; the chart's audit names its namespaces (item 11 of issue 15). */
  releases?: ReleaseScope;
  /** The webhook's watch caches: namespaces and Deployment refs come from them, not from a list. */
  view?: LiveCluster;
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

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const i of items) yield await Promise.resolve(i);
}

const RELEASE_SELECTOR = { labelSelector: 'owner=helm', fieldSelector: 'type=helm.sh/release.v1' };

function releaseRefs(rest: KubeRest, scope: ReleaseScope): AsyncIterable<ObjectRef> {
  const list = (path: string): AsyncIterable<ObjectRef> =>
    refs(rest.list<Meta>(path, RELEASE_SELECTOR, { as: 'metadata', limit: 500 }));
  if (scope === 'all') return list('/api/v1/secrets');
  return (async function* () {
    for (const ns of scope) yield* list(`/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`);
  })();
}

async function getOrUndefined(rest: KubeRest, path: string): Promise<unknown> {
  const r = await rest.call('GET', path);
  return r.status === 404 ? undefined : r.body;
}

/** Lists an optional API; forbidden means not ours to read, which the audit skips rather than fails on. */
async function* optionalList(rest: KubeRest, path: string): AsyncGenerator<unknown> {
  try {
    yield* rest.list(path, {}, { limit: 200 });
  } catch (err: unknown) {
    if (!(err instanceof KubeApiError && err.status === 403)) throw err;
  }
}

/** A ClusterSource reading one cluster through `rest`. */
export function apiClusterSource(name: string, rest: KubeRest, opts: ApiSourceOptions = {}): ClusterSource {
  const { view } = opts;
  const nsPath = (ns: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}`;
  return {
    name,
    namespaces: () =>
      view?.synced
        ? each(view.namespaceRefs())
        : refs(rest.list<Meta>('/api/v1/namespaces', {}, { as: 'metadata', limit: 500 })),
    deploymentRefs: () =>
      view?.synced
        ? each(view.deploymentRefs())
        : refs(rest.list<Meta>('/apis/apps/v1/deployments', {}, { as: 'metadata', limit: 500 })),
    deployment: async (ns, n) => {
      const r = await rest.call(
        'GET',
        `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments/${encodeURIComponent(n)}`,
      );
      return r.status === 404 ? undefined : (r.body as V1Deployment);
    },
    services: (ns) => rest.list<V1Service>(`${nsPath(ns)}/services`),
    releaseSecretRefs: () => releaseRefs(rest, opts.releases ?? 'all'),
    secret: async (ns, n) => (await rest.call('GET', `${nsPath(ns)}/secrets/${encodeURIComponent(n)}`)).body,
    releaseConfigMapRefs: () =>
      refs(
        rest.list<Meta>(
          '/api/v1/configmaps',
          { labelSelector: 'owner=helm' },
          { as: 'metadata', limit: 500 },
        ),
      ),
    configMap: (ns, n) => getOrUndefined(rest, `${nsPath(ns)}/configmaps/${encodeURIComponent(n)}`),
    // A list of an API that is not served (the CRD is not installed) gives nothing; so does one the
    // audit may not list (the API arrived after the chart rendered its RBAC): the rest is still audited.
    applications: () => optionalList(rest, '/apis/argoproj.io/v1alpha1/applications'),
    helmReleases: () => optionalList(rest, '/apis/helm.toolkit.fluxcd.io/v2/helmreleases'),
    secretNames: async (ns) => {
      const names: string[] = [];
      for await (const o of rest.list<Meta>(`${nsPath(ns)}/secrets`, {}, { as: 'metadata', limit: 500 }))
        names.push(o.metadata?.name ?? '');
      return names;
    },
  };
}
