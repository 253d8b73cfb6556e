/** A ClusterView over static data, for judging fixtures that describe a cluster. */
import { clusterView } from '../../src/engine/cluster-view.js';
import type { ClusterView } from '../../src/engine/types.js';

/** The cluster part of a fixture file. */
export interface ClusterFixture {
  namespaces?: Record<string, Record<string, string> | null>;
  deployments?: Array<{ name: string; namespace: string; labels?: Record<string, string> }>;
  secrets?: string[];
}

/** Builds a ClusterView from fixture data, through the one clusterView the audit and the webhook use. */
export function staticClusterView(c: ClusterFixture): ClusterView {
  const deployments = (c.deployments ?? []).map((d) => ({ ...d, labels: d.labels ?? {} }));
  return clusterView({
    namespaceLabels: (name) => {
      if (!c.namespaces || !(name in c.namespaces)) return undefined;
      return c.namespaces[name] ?? {};
    },
    deployments: () => deployments,
    secretKnown: (ns, name) => (c.secrets ?? []).includes(`${ns}/${name}`),
  });
}
