/** Small pure helpers shared by policies: Istio injection rules and object metadata. */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { DeploymentSubject, Flag, PolicyViolation, Setting } from '../engine/types.js';
import { getPath, isObject } from '../engine/values.js';

/** Injection as Istio decides it: on, explicitly off, or not asked for. */
export type Injection = 'enabled' | 'disabled' | 'unset';

/** The label that enrols a namespace or pod in Istio's ambient mode (mesh enrolment without a sidecar). */
export const AMBIENT_LABEL = 'istio.io/dataplane-mode';

/**
 * A namespace's mesh enrolment: `istio-injection` wins over `istio.io/rev` for sidecars, and
 * `istio.io/dataplane-mode=ambient` enrols it in ambient mode.
 */
export function namespaceInjection(labels: Record<string, string> | undefined): Injection {
  if (labels?.[AMBIENT_LABEL] === 'ambient') return 'enabled';
  const inj = labels?.['istio-injection'];
  if (inj === 'disabled') return 'disabled';
  if (inj === 'enabled') return 'enabled';
  const rev = labels?.['istio.io/rev'];
  return rev !== undefined && rev !== '' ? 'enabled' : 'unset';
}

/** The label that enrols a namespace: `istio-injection`, `istio.io/rev` or the ambient label. */
export function enrolmentLabel(labels: Record<string, string>): string {
  if (labels[AMBIENT_LABEL] === 'ambient') return AMBIENT_LABEL;
  return labels['istio-injection'] === 'enabled' ? 'istio-injection' : 'istio.io/rev';
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
  const mode = labels[AMBIENT_LABEL];
  if (mode === 'ambient') return { injection: 'enabled', path: `labels["${AMBIENT_LABEL}"]` };
  if (mode === 'none') return { injection: 'disabled', path: `labels["${AMBIENT_LABEL}"]` };
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

/** Why a switch reads as it does, for a message: empty for a YAML boolean. */
export function readingOf(f: Flag): string {
  return f.reading === '' ? '' : ` (${f.reading})`;
}

/**
 * The finding for a switch whose value is not a YAML boolean and that Helm reads two ways: gloo-guard
 * does not guess which the chart uses. The value of a switch is safe to print.
 */
export function ambiguousFlag(f: Flag): PolicyViolation {
  return violation(
    `${f.path} is not a YAML boolean: ${f.reading}`,
    f.path,
    `use a YAML boolean: ${f.path}: true or ${f.path}: false`,
  );
}

/** Re-exported for policies: the engine reads relay switches from the same env lists. */
export { envEntries, type EnvEntry } from '../engine/charts/env.js';
