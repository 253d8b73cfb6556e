/** What the audit reads from one cluster: apiClusterSource implements it against the API; tests use static data. */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ObjectRef } from '../engine/types.js';

/**
 * A list the source could not read: an API that is not served, or one it may not list. Thrown by
 * `applications()` and `helmReleases()` so the audit says what it did not read, never skips silently.
 */
export class NotReadable extends Error {
  override name = 'NotReadable';
  constructor(
    /** What was not read, as a person names it (`Argo CD Applications (argoproj.io/v1alpha1)`). */
    readonly what: string,
    message: string,
    /** True when the objects may exist but the audit may not list them (403). */
    readonly forbidden: boolean,
    /** The CRD that serves them (`applications.argoproj.io`). */
    readonly crd: string,
  ) {
    super(message);
  }
}

/** The metadata of an object as a list or watch returns it. */
export interface Meta {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
}

/** What the audit and the watch caches keep of an object: name, namespace ('' when cluster-scoped) and labels. */
export function objectRef(o: Meta): ObjectRef {
  const md = o.metadata ?? {};
  return { name: md.name ?? '', namespace: md.namespace ?? '', labels: md.labels ?? {} };
}

/**
 * A read-only source of cluster objects. Lists are metadata only (from a watch cache where there is
 * one); whole objects are read one by one, and only those some policy judges.
 */
export interface ClusterSource {
  /** The kubeconfig context (or another name) of the cluster. */
  name: string;
  /** Namespaces: names and labels. */
  namespaces(): AsyncIterable<ObjectRef>;
  /** Deployments without their specs (metadata only), for the cluster view. */
  deploymentRefs(): AsyncIterable<ObjectRef>;
  /** One whole Deployment, or undefined when it is gone. */
  deployment(namespace: string, name: string): Promise<V1Deployment | undefined>;
  /** Services in one namespace. */
  services(namespace: string): AsyncIterable<V1Service>;
  /** Helm release Secrets without their data (labels name, version, status), where the source may read them. */
  releaseSecretRefs(): AsyncIterable<ObjectRef>;
  /** One Secret with its data. */
  secret(namespace: string, name: string): Promise<unknown>;
  /** Names of the Secrets in a namespace (metadata only). */
  secretNames(namespace: string): Promise<string[]>;
  /** Helm release ConfigMaps (HELM_DRIVER=configmap) without their data. Absent: none are read. */
  releaseConfigMapRefs?(): AsyncIterable<ObjectRef>;
  /** One ConfigMap with its data, or undefined when it does not exist. */
  configMap?(namespace: string, name: string): Promise<unknown>;
  /** Argo CD Applications; throws NotReadable where the API is not served or may not be listed. */
  applications?(): AsyncIterable<unknown>;
  /** Flux HelmReleases at the newest served version; throws NotReadable as applications() does. */
  helmReleases?(): AsyncIterable<unknown>;
}
