/** A ClusterSource over arrays of objects, for audit tests that need no API server. */
import type { ClusterSource } from '../../src/k8s/source.js';

interface Obj {
  apiVersion?: string;
  kind?: string;
  type?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

async function* each<T>(items: T[]): AsyncGenerator<T> {
  for (const i of items) yield await Promise.resolve(i);
}

/** Builds a source named `name` holding `objects` (Namespaces, Deployments, Services, Secrets, ConfigMaps, Applications, HelmReleases). */
export function staticSource(name: string, input: object[]): ClusterSource {
  const objects = input as Obj[];
  const ofKind = (k: string) => objects.filter((o) => o.kind === k);
  const ref = (o: Obj) => ({
    name: o.metadata?.name ?? '',
    namespace: o.metadata?.namespace ?? '',
    labels: o.metadata?.labels ?? {},
  });
  return {
    name,
    namespaces: () => each(ofKind('Namespace').map(ref)),
    deploymentRefs: () => each(ofKind('Deployment').map(ref)),
    deployment: (ns, n) =>
      Promise.resolve(
        ofKind('Deployment').find((d) => d.metadata?.namespace === ns && d.metadata?.name === n) as never,
      ),
    services: (ns) => each(ofKind('Service').filter((s) => s.metadata?.namespace === ns) as never[]),
    releaseSecretRefs: () =>
      each(
        ofKind('Secret')
          .filter((s) => s.type === 'helm.sh/release.v1' && s.metadata?.labels?.owner === 'helm')
          .map(ref),
      ),
    secret: (ns, n) =>
      Promise.resolve(ofKind('Secret').find((s) => s.metadata?.namespace === ns && s.metadata?.name === n)),
    releaseConfigMapRefs: () =>
      each(
        ofKind('ConfigMap')
          .filter((c) => c.metadata?.labels?.owner === 'helm')
          .map(ref),
      ),
    configMap: (ns, n) =>
      Promise.resolve(
        ofKind('ConfigMap').find((c) => c.metadata?.namespace === ns && c.metadata?.name === n),
      ),
    applications: () => each(ofKind('Application')),
    helmReleases: () => each(ofKind('HelmRelease')),
    secretNames: (ns) =>
      Promise.resolve(
        ofKind('Secret')
          .filter((s) => s.metadata?.namespace === ns)
          .map((s) => s.metadata?.name ?? ''),
      ),
  };
}
