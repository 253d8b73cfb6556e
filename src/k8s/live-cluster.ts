/** The webhook's read-only view of its own cluster, kept by metadata-only watches. */
import { clusterView } from '../engine/cluster-view.js';
import { ExplainedError } from '../engine/errors.js';
import type { ClusterView, ObjectRef } from '../engine/types.js';
import { Reflector, type ReflectorHooks, type ReflectorLog, type ReflectorOptions } from './reflector.js';
import type { KubeRest } from './rest.js';

/** The cluster cannot be read now: a policy that needs it reports an error, handled by onError. */
export class ClusterUnavailableError extends ExplainedError {
  override name = 'ClusterUnavailableError';
}

/** Caches of namespaces, Deployments and the Secret names of the Gloo Mesh namespaces. */
export class LiveCluster {
  private readonly namespaces: Reflector;
  private readonly deployments: Reflector;
  private readonly secrets: Map<string, Reflector>;

  constructor(
    rest: KubeRest,
    secretNamespaces: string[],
    log: ReflectorLog,
    hooks: ReflectorHooks = {},
    opts: ReflectorOptions = {},
  ) {
    const cache = (path: string): Reflector => new Reflector(rest, path, log, hooks, opts);
    this.namespaces = cache('/api/v1/namespaces');
    this.deployments = cache('/apis/apps/v1/deployments');
    this.secrets = new Map(
      secretNamespaces.map((ns) => [ns, cache(`/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`)]),
    );
  }

  /** Every namespace, from the cache (the audit reads these instead of listing). */
  namespaceRefs(): readonly ObjectRef[] {
    return this.namespaces.list();
  }

  /** Every Deployment's name, namespace and labels, from the cache. */
  deploymentRefs(): readonly ObjectRef[] {
    return this.deployments.list();
  }

  private get all(): Reflector[] {
    return [this.namespaces, this.deployments, ...this.secrets.values()];
  }

  /** True when every cache holds a current list. */
  get synced(): boolean {
    return this.all.every((r) => r.synced);
  }

  /** The caches that are not synced, for /readyz and error messages. */
  unsynced(): string[] {
    return this.all.filter((r) => !r.synced).map((r) => r.path);
  }

  /** Starts every watch; resolves when all synced or the timeout passed (the caller checks `synced`). */
  async start(timeoutMs = 15_000): Promise<boolean> {
    const results = await Promise.all(this.all.map((r) => r.start(timeoutMs)));
    return results.every(Boolean);
  }

  /** Stops every watch. */
  stop(): void {
    for (const r of this.all) r.stop();
  }

  private check(): void {
    const missing = this.unsynced();
    if (missing.length > 0)
      throw new ClusterUnavailableError(
        `the cluster cannot be read (no current list of ${missing.join(', ')})`,
      );
  }

  /** The ClusterView policies read; every call throws ClusterUnavailableError while a cache is not current. */
  view(): ClusterView {
    return clusterView(
      {
        namespaceLabels: (name) => this.namespaces.get('', name)?.labels,
        deployments: () => this.deployments.list(),
        deploymentsNamed: (name) => this.deployments.named(name),
        // Secrets are watched only in the Gloo Mesh namespaces; elsewhere, absence is not known.
        secretKnown: (namespace, name) => {
          const cache = this.secrets.get(namespace);
          return cache === undefined ? undefined : cache.get(namespace, name) !== undefined;
        },
      },
      () => this.check(),
    );
  }
}
