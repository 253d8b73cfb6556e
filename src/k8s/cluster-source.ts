/** The audit's ClusterSource over the real API: metadata-only lists (or the watch caches), single reads. */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ObjectRef } from '../engine/types.js';
import { NotReadable, objectRef, type ClusterSource, type Meta } from './source.js';
import { objectData, type DataReader } from '../engine/carriers/context.js';
import { isObject } from '../engine/values.js';
import type { LiveCluster } from './live-cluster.js';
import { KubeApiError, type KubeRest } from './rest.js';

/** Where Helm release Secrets may be read: everywhere, or only in these namespaces (none: `[]`). */
export type ReleaseScope = 'all' | readonly string[];

/** Options of an API source. */
export interface ApiSourceOptions {
  /** Default `all`, for a user's kubeconfig; the chart's audit names its namespaces (item 11 of issue 15). */
  releases?: ReleaseScope;
  /** The webhook's watch caches: namespaces and Deployment refs come from them, not from a list. */
  view?: LiveCluster;
}

async function* refs(it: AsyncIterable<Meta>): AsyncGenerator<ObjectRef> {
  for await (const o of it) yield objectRef(o);
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

/** A GitOps API the audit lists, and the versions it reads, newest first. */
interface OptionalApi {
  what: string;
  group: string;
  versions: readonly string[];
  resource: string;
}

const APPLICATIONS: OptionalApi = {
  what: 'Argo CD Applications',
  group: 'argoproj.io',
  versions: ['v1alpha1'],
  resource: 'applications',
};

// Flux 2.3+ serves v2 (and still v2beta2, v2beta1 for a while); Flux 2.0-2.2 only the betas. Every
// served version lists the same stored objects, so the newest served one is listed, once.
const HELM_RELEASES: OptionalApi = {
  what: 'Flux HelmReleases',
  group: 'helm.toolkit.fluxcd.io',
  versions: ['v2', 'v2beta2', 'v2beta1'],
  resource: 'helmreleases',
};

/** The newest version of `api` this API server serves (discovery, readable by every user), or why none. */
async function servedVersion(rest: KubeRest, api: OptionalApi): Promise<string> {
  const r = await rest.call('GET', `/apis/${api.group}`);
  const served = new Set(
    r.status === 404
      ? []
      : ((r.body as { versions?: Array<{ version?: string }> }).versions ?? []).map((v) => v.version),
  );
  const version = api.versions.find((v) => served.has(v));
  if (version === undefined)
    throw new NotReadable(
      api.what,
      `not read: this cluster does not serve ${api.group} ${api.versions.join(', ')} (the CRD is not installed)`,
      false,
      `${api.resource}.${api.group}`,
    );
  return version;
}

/** Lists an optional API at its newest served version; what cannot be read is a NotReadable, never a silent nothing. */
async function* optionalList(rest: KubeRest, api: OptionalApi): AsyncGenerator<unknown> {
  const version = await servedVersion(rest, api);
  const path = `/apis/${api.group}/${version}/${api.resource}`;
  try {
    yield* rest.list(path, {}, { limit: 200 });
  } catch (err: unknown) {
    if (!(err instanceof KubeApiError && err.status === 403)) throw err;
    throw new NotReadable(
      `${api.what} (${api.group}/${version})`,
      `not read: the audit may not list ${api.resource}.${api.group} (403 Forbidden); Gloo Mesh installed through them is not audited: grant list on ${api.resource}.${api.group} (the chart does when the API exists at install)`,
      true,
      `${api.resource}.${api.group}`,
    );
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
    // An API that is not served, or one the audit may not list (the API arrived after the chart
    // rendered its RBAC), is named in the audit's result; the rest is still audited.
    applications: () => optionalList(rest, APPLICATIONS),
    helmReleases: () => optionalList(rest, HELM_RELEASES),
    secretNames: async (ns) => {
      const names: string[] = [];
      for await (const o of rest.list<Meta>(`${nsPath(ns)}/secrets`, {}, { as: 'metadata', limit: 500 }))
        names.push(o.metadata?.name ?? '');
      return names;
    },
  };
}

/** Reads one ConfigMap or Secret's data by a direct GET (Flux valuesFrom at admission); a 403 throws KubeApiError. */
export function apiDataReader(rest: KubeRest): DataReader {
  return async (kind, namespace, name) => {
    const plural = kind === 'Secret' ? 'secrets' : 'configmaps';
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`;
    const r = await rest.call('GET', path);
    return r.status === 404 || !isObject(r.body) ? null : objectData(r.body, kind);
  };
}
