/** A ClusterView built from what the audit (or the webhook's caches) read of a cluster. */
import type { ClusterView } from '../engine/types.js';
import type { ObjectRef } from './source.js';

/** The facts a ClusterView answers from. */
export interface ClusterFacts {
  namespaces: Map<string, Record<string, string>>;
  deployments: ObjectRef[];
  /** `namespace/name` of Secrets known to exist... */
  secrets: Set<string>;
  /** ...in these namespaces; elsewhere whether a Secret exists is not known. */
  secretNamespaces: Set<string>;
}

/** A ClusterView over collected facts. */
export function clusterView(facts: ClusterFacts): ClusterView {
  return {
    namespaceLabels: (name) => facts.namespaces.get(name),
    deployments: () => facts.deployments,
    secretExists: (namespace, name) =>
      !facts.secretNamespaces.has(namespace) || facts.secrets.has(`${namespace}/${name}`),
  };
}
