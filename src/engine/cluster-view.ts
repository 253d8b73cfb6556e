/**
 * The one ClusterView: policies read the cluster through it, whether the facts come from the audit's
 * lists or the webhook's watch caches.
 */
import type { ClusterView, ObjectRef } from './types.js';

/** Lookups over what was read of a cluster. */
export interface ClusterFacts {
  /** Labels of a namespace, or undefined when it does not exist. */
  namespaceLabels(name: string): Record<string, string> | undefined;
  /** Every Deployment's name, namespace and labels. */
  deployments(): readonly ObjectRef[];
  /** The Deployments with this name; without it, deployments() is searched. */
  deploymentsNamed?(name: string): readonly ObjectRef[];
  /** Whether the Secret exists, or undefined where Secrets were not read (its namespace's names are unknown). */
  secretKnown(namespace: string, name: string): boolean | undefined;
}

/**
 * A ClusterView over facts. `current` runs before every answer and throws when the facts cannot be
 * trusted now (a watch cache without a current list), so a policy reports an error instead of judging
 * stale data.
 */
export function clusterView(facts: ClusterFacts, current: () => void = () => undefined): ClusterView {
  return {
    namespaceLabels: (name) => {
      current();
      return facts.namespaceLabels(name);
    },
    deployments: () => {
      current();
      return facts.deployments();
    },
    deploymentsNamed: (name) => {
      current();
      return facts.deploymentsNamed?.(name) ?? facts.deployments().filter((d) => d.name === name);
    },
    // Where Secret names were not read, absence is not known: the Secret is taken to exist (no false refusal).
    secretExists: (namespace, name) => {
      current();
      return facts.secretKnown(namespace, name) ?? true;
    },
  };
}
