/** Small pure helpers shared by policies: Istio injection rules and object metadata. */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { DeploymentSubject, PolicyViolation, Setting } from '../engine/types.js';
import { getPath, isObject } from '../engine/values.js';

/** Injection as Istio decides it: on, explicitly off, or not asked for. */
export type Injection = 'enabled' | 'disabled' | 'unset';

/** A namespace's injection: `istio-injection` wins over `istio.io/rev`. */
export function namespaceInjection(labels: Record<string, string> | undefined): Injection {
  const inj = labels?.['istio-injection'];
  if (inj === 'disabled') return 'disabled';
  if (inj === 'enabled') return 'enabled';
  const rev = labels?.['istio.io/rev'];
  return rev !== undefined && rev !== '' ? 'enabled' : 'unset';
}

/** A pod template's own injection: the `sidecar.istio.io/inject` label wins over the annotation. */
export function podInjection(meta: { labels?: unknown; annotations?: unknown } | undefined): {
  injection: Injection;
  path: string;
} {
  const labels = isObject(meta?.labels) ? meta.labels : {};
  const annotations = isObject(meta?.annotations) ? meta.annotations : {};
  for (const [where, map] of [
    ['labels', labels],
    ['annotations', annotations],
  ] as const) {
    const v = map['sidecar.istio.io/inject'];
    if (v === 'true' || v === true)
      return { injection: 'enabled', path: `${where}["sidecar.istio.io/inject"]` };
    if (v === 'false' || v === false)
      return { injection: 'disabled', path: `${where}["sidecar.istio.io/inject"]` };
  }
  const rev = labels['istio.io/rev'];
  if (typeof rev === 'string' && rev !== '') return { injection: 'enabled', path: 'labels["istio.io/rev"]' };
  return { injection: 'unset', path: 'labels' };
}

/** Labels of an object's metadata, as strings. */
export function labelsOf(meta: V1ObjectMeta | undefined): Record<string, string> {
  return meta?.labels ?? {};
}

/** The pod template metadata of a Deployment. */
export function podTemplateMeta(d: DeploymentSubject): V1ObjectMeta | undefined {
  return d.object.spec?.template?.metadata;
}

/** The pod template metadata a `deploymentOverrides` value would set. */
export function overridePodMeta(overrides: Setting<unknown>): {
  meta: Record<string, unknown>;
  path: string;
} {
  const meta = getPath(overrides.value, 'spec.template.metadata');
  return { meta: isObject(meta) ? meta : {}, path: `${overrides.path}.spec.template.metadata` };
}

/** A violation at a path. */
export function violation(message: string, path: string, fix?: string): PolicyViolation {
  return fix === undefined ? { message, path } : { message, path, fix };
}

/** Container images of a Deployment with their paths. */
export function containerImages(d: DeploymentSubject): Array<{ image: string; path: string; name: string }> {
  const containers = d.object.spec?.template?.spec?.containers ?? [];
  return containers.map((c, i) => ({
    image: c.image ?? '',
    path: `spec.template.spec.containers[${i}].image`,
    name: c.name,
  }));
}

/** The tag of an image reference (`repo:tag@digest` gives tag), or '' when it has none. */
export function imageTag(image: string): string {
  const noDigest = image.split('@')[0] ?? '';
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(colon + 1) : '';
}
