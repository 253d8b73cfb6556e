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
 * Whether a review body may be a HelmRelease with valuesFrom. Most reviews are release Secrets and
 * Deployments: they skip the second parse, and the wait for a lookup that has nothing to read.
 */
export function mayReadCarriers(body: Buffer): boolean {
  return body.includes(VALUES_FROM) && body.includes(FLUX_GROUP_BYTES);
}

// As bytes once: a string needle is converted to a Buffer on every search.
const VALUES_FROM = Buffer.from('valuesFrom');
const FLUX_GROUP_BYTES = Buffer.from(FLUX_GROUP);

/** The HelmRelease in a review body, when it has valuesFrom; anything else is left to the usual path. */
function helmReleaseOf(body: Buffer): Record<string, unknown> | undefined {
  if (!mayReadCarriers(body)) return undefined;
  try {
    const review = JSON.parse(body.toString('utf8')) as unknown;
    const obj = isObject(review) && isObject(review.request) ? review.request.object : undefined;
    if (!isObject(obj) || obj.kind !== 'HelmRelease') return undefined;
    return typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith(FLUX_GROUP) ? obj : undefined;
  } catch {
    // A malformed body is answered by the usual path, with its own message.
    return undefined;
  }
}

/** Why a read failed, in words that say what to change; never the object's content. */
function whyUnreadable(err: unknown): string {
  const status = isObject(err) && typeof err.status === 'number' ? err.status : undefined;
  if (status === 403)
    return 'forbidden: gloo-guard may not get it; list its namespace in the chart value webhooks.helmReleases.valuesFromNamespaces';
  return err instanceof Error ? err.message : 'unknown error';
}

/**
 * What the carriers may read for this review: the HelmRelease's valuesFrom through `read`, or, with
 * no cluster access, the reason they are not read.
 */
export async function admissionCarrierContext(
  body: Buffer,
  read: DataReader | undefined,
): Promise<CarrierContext> {
  const hr = helmReleaseOf(body);
  if (!hr) return {};
  if (!read) return { noLookup: 'the webhook runs without --cluster-view' };
  return { lookup: await prefetch(valuesFromRefs(hr, carrierRef(hr)), read, whyUnreadable) };
}
