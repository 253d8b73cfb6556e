/** A ClusterView over static data, for judging fixtures that describe a cluster. */
import type { ClusterView } from '../../src/engine/types.js';

/** The cluster part of a fixture file. */
export interface ClusterFixture {
  namespaces?: Record<string, Record<string, string> | null>;
  deployments?: Array<{ name: string; namespace: string; labels?: Record<string, string> }>;
  secrets?: string[];
}

/** Builds a ClusterView from fixture data. */
export function staticClusterView(c: ClusterFixture): ClusterView {
  return {
    namespaceLabels: (name) => {
      if (!c.namespaces || !(name in c.namespaces)) return undefined;
      return c.namespaces[name] ?? {};
    },
    deployments: () => (c.deployments ?? []).map((d) => ({ ...d, labels: d.labels ?? {} })),
    secretExists: (ns, name) => (c.secrets ?? []).includes(`${ns}/${name}`),
  };
}
