/** Turns inputs (Kubernetes objects, Helm releases, values files) into subjects the engine judges. */
import { decodeReleaseSecretData, RELEASE_SECRET_TYPE, type HelmRelease } from '../helm/release.js';
import { buildModel, chartFamily } from './charts/adapters.js';
import { catalogFor } from './charts/catalog.js';
import type { ReleaseSubject, SourceRef, Subject } from './types.js';
import { coalesce, isObject, mergeValues } from './values.js';

/** An input that cannot be read: corrupt release, bad object. Never a policy violation. */
export class InputError extends Error {
  override name = 'InputError';
}

/** What the caller knows about a release judged from values files. */
export interface ValuesInput {
  chart: string;
  chartVersion?: string;
  namespace?: string;
  releaseName?: string;
  /** The user's values files, merged in order like `helm -f a.yaml -f b.yaml`. */
  values: Record<string, unknown>[];
  source: SourceRef;
}

/** Builds a release subject from a chart name and user values; undefined for charts not judged. */
export function releaseFromValues(input: ValuesInput): ReleaseSubject | undefined {
  const version = input.chartVersion ?? '';
  const family = chartFamily(input.chart, version);
  if (!family) return undefined;
  const userValues = input.values.reduce((acc, v) => mergeValues(acc, v), {});
  // No chart at hand: the catalog's defaults for this version stand in for the chart's values.yaml.
  const { catalog, note } = catalogFor(family, version);
  const values = coalesce(catalog.defaults, userValues);
  const notes = note ? [note] : [];
  return {
    kind: 'release',
    family,
    chart: { name: input.chart, version },
    release: {
      name: input.releaseName ?? input.chart,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
    },
    values,
    userValues,
    model: buildModel(family, values, version, userValues),
    source: input.source,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Builds a release subject from a decoded Helm release; undefined for charts not judged. */
export function releaseFromHelm(rel: HelmRelease, source: SourceRef): ReleaseSubject | undefined {
  const { name, version } = rel.chart.metadata;
  const family = chartFamily(name, version);
  if (!family) return undefined;
  // The stored chart's own values are the truth: a key it does not declare is unset when Helm renders.
  const values = coalesce(isObject(rel.chart.values) ? rel.chart.values : {}, rel.config);
  const { note } = catalogFor(family, version);
  return {
    kind: 'release',
    family,
    chart: { name, version },
    release: { name: rel.name, namespace: rel.namespace, revision: rel.version, status: rel.info.status },
    values,
    userValues: rel.config,
    model: buildModel(family, values, version, rel.config),
    source,
    ...(note ? { notes: [note] } : {}),
  };
}

function metaName(obj: Record<string, unknown>): { name: string; namespace?: string } {
  const md = isObject(obj.metadata) ? obj.metadata : {};
  const name = typeof md.name === 'string' ? md.name : '';
  return typeof md.namespace === 'string' && md.namespace !== ''
    ? { name, namespace: md.namespace }
    : { name };
}

/** True for a Secret that holds a Helm release. */
export function isReleaseSecret(obj: Record<string, unknown>): boolean {
  return obj.kind === 'Secret' && obj.type === RELEASE_SECRET_TYPE;
}

function releaseFromSecret(
  obj: Record<string, unknown>,
  source: SourceRef,
  maxBytes: number,
): Subject | undefined {
  const data = isObject(obj.data) ? obj.data.release : undefined;
  const { name } = metaName(obj);
  if (typeof data !== 'string') throw new InputError(`Secret ${name}: release Secret has no data.release`);
  try {
    return releaseFromHelm(decodeReleaseSecretData(data, maxBytes), source);
  } catch (err: unknown) {
    if (err instanceof Error && err.name === 'ReleaseDecodeError') {
      throw new InputError(`Secret ${name}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * Turns one Kubernetes object into a subject; undefined for kinds gloo-guard does not judge
 * (ConfigMaps, ordinary Secrets, other charts' releases).
 */
export function subjectFromObject(
  obj: unknown,
  source: SourceRef,
  maxReleaseBytes: number,
): Subject | undefined {
  if (!isObject(obj)) throw new InputError(`${source.location}: not a Kubernetes object`);
  const apiVersion = obj.apiVersion;
  const { name, namespace } = metaName(obj);
  const ns = namespace !== undefined ? { namespace } : {};
  switch (obj.kind) {
    case 'Secret':
      return isReleaseSecret(obj) ? releaseFromSecret(obj, source, maxReleaseBytes) : undefined;
    case 'Namespace':
      return apiVersion === 'v1' ? { kind: 'namespace', object: obj, name, source } : undefined;
    case 'Deployment':
      return apiVersion === 'apps/v1' ? { kind: 'deployment', object: obj, name, ...ns, source } : undefined;
    case 'Service':
      return apiVersion === 'v1' ? { kind: 'service', object: obj, name, ...ns, source } : undefined;
    default:
      return undefined;
  }
}
