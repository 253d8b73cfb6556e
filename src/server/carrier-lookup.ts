/**
 * Flux `valuesFrom` at admission: the ConfigMaps and Secrets a HelmRelease takes values from are read
 * from the cluster before it is judged (judging is synchronous), so an insecure setting kept in a
 * ConfigMap is refused like one in `spec.values`. What cannot be read is named in a warning.
 */
import { carrierRef, prefetch, type CarrierContext, type DataReader } from '../engine/carriers/context.js';
import { valuesFromRefs } from '../engine/carriers/flux.js';
import { isObject } from '../engine/values.js';

const FLUX_GROUP = 'helm.toolkit.fluxcd.io/';

/**
 * The object when it is a Flux HelmRelease with valuesFrom, read from the review already parsed.
 * Most reviews are Deployments, Namespaces and release Secrets: they skip the wait for a lookup that
 * has nothing to read, and no byte of their body is searched again.
 */
export function valuesFromCarrier(obj: unknown): Record<string, unknown> | undefined {
  if (!isObject(obj) || obj.kind !== 'HelmRelease') return undefined;
  if (typeof obj.apiVersion !== 'string' || !obj.apiVersion.startsWith(FLUX_GROUP)) return undefined;
  return isObject(obj.spec) && obj.spec.valuesFrom !== undefined && obj.spec.valuesFrom !== null
    ? obj
    : undefined;
}

/** Why a read failed, in words that say what to change; never the object's content. */
function whyUnreadable(err: unknown): string {
  const status = isObject(err) && typeof err.status === 'number' ? err.status : undefined;
  if (status === 403)
    return 'forbidden: gloo-guard may not get it; list its namespace in the chart value webhooks.helmReleases.valuesFromNamespaces';
  return err instanceof Error ? err.message : 'unknown error';
}

/**
 * What the carriers may read for a HelmRelease with valuesFrom (valuesFromCarrier): its sources
 * through `read`, or, with no cluster access, the reason they are not read.
 */
export async function admissionCarrierContext(
  hr: Record<string, unknown>,
  read: DataReader | undefined,
): Promise<CarrierContext> {
  if (!read) return { noLookup: 'the webhook runs without --cluster-view' };
  return { lookup: await prefetch(valuesFromRefs(hr, carrierRef(hr)), read, whyUnreadable) };
}
