/** Turns inputs (Kubernetes objects, Helm releases, values files) into subjects the engine judges. */
import {
  decodeReleaseConfigMapData,
  decodeReleaseSecretData,
  RELEASE_SECRET_TYPE,
  ReleaseDecodeError,
  type HelmRelease,
} from '../helm/release.js';
import { applicationValues, CarrierError, type CarriedValues } from './carriers/argo.js';
import { carried, carrierRef, describeCarrier, type CarrierContext } from './carriers/context.js';
import { helmReleaseValues } from './carriers/flux.js';
import {
  judgedDependencies,
  parentValues,
  subchartKeys,
  subchartRelease,
  subchartValues,
} from './carriers/umbrella.js';
import { buildModel, chartFamily } from './charts/adapters.js';
import { catalogFor } from './charts/catalog.js';
import type { ReleaseSubject, SourceRef, Subject } from './types.js';
import { coalesce, isObject, mergeValues } from './values.js';

export type { CarrierContext } from './carriers/context.js';

/** An input that cannot be read: corrupt release, bad object. Never a policy violation. */
export class InputError extends Error {
  override name = 'InputError';
}

/** An object gloo-guard knows but cannot judge here (an ApplicationSet): the reason is shown, never a silent pass. */
export class NotJudged extends Error {
  override name = 'NotJudged';
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
    model: buildModel(family, values, version, userValues, { values: catalog.defaults, deployed: [] }),
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
  const chartValues = isObject(rel.chart.values) ? rel.chart.values : {};
  const keys = subchartKeys(rel);
  const deployed = (rel.chart.metadata.dependencies ?? []).map((d, i) => ({
    key: keys[i] ?? '',
    condition: d.condition,
  }));
  const values = coalesce(chartValues, rel.config, keys);
  const { note } = catalogFor(family, version);
  return {
    kind: 'release',
    family,
    chart: { name, version },
    release: { name: rel.name, namespace: rel.namespace, revision: rel.version, status: rel.info.status },
    values,
    userValues: rel.config,
    model: buildModel(family, values, version, rel.config, { values: chartValues, deployed }),
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

/** True for a ConfigMap that holds a Helm release (HELM_DRIVER=configmap: label owner=helm, data.release). */
export function isReleaseConfigMap(obj: Record<string, unknown>): boolean {
  if (obj.kind !== 'ConfigMap' || obj.apiVersion !== 'v1') return false;
  const md = isObject(obj.metadata) ? obj.metadata : {};
  const labels = isObject(md.labels) ? md.labels : {};
  return labels.owner === 'helm' && isObject(obj.data) && obj.data.release !== undefined;
}

/** The subject of a dependency, with the keys its umbrella chart's condition names. */
export function withCondition(s: ReleaseSubject, conditionKeys: string[] | undefined): ReleaseSubject {
  return conditionKeys && conditionKeys.length > 0 ? { ...s, conditionKeys } : s;
}

/**
 * The judged releases in a decoded Helm release: the release itself, or, for an umbrella chart, each
 * enabled dependency that is a judged chart, with the values under its alias or name.
 */
export function releasesFromHelm(rel: HelmRelease, source: SourceRef): ReleaseSubject[] {
  const direct = releaseFromHelm(rel, source);
  if (direct) return [direct];
  const parent = { name: rel.chart.metadata.name, version: rel.chart.metadata.version };
  return judgedDependencies(rel.chart.metadata.dependencies, parentValues(rel))
    .filter((d) => d.enabled)
    .flatMap((d) => {
      const s = releaseFromHelm(subchartRelease(rel, d), source);
      return s ? [withCondition({ ...s, chart: { ...s.chart, parent } }, d.conditionKeys)] : [];
    });
}

function releasesFromRecord(
  obj: Record<string, unknown>,
  source: SourceRef,
  maxBytes: number,
  kind: 'Secret' | 'ConfigMap',
): ReleaseSubject[] {
  const data = isObject(obj.data) ? obj.data.release : undefined;
  const { name } = metaName(obj);
  if (typeof data !== 'string') throw new InputError(`${kind} ${name}: release ${kind} has no data.release`);
  try {
    const decode = kind === 'Secret' ? decodeReleaseSecretData : decodeReleaseConfigMapData;
    return releasesFromHelm(decode(data, maxBytes), source);
  } catch (err: unknown) {
    if (err instanceof ReleaseDecodeError) {
      throw new InputError(`${kind} ${name}: ${err.message}`);
    }
    throw err;
  }
}

/** A release subject from what a carrier (Application, HelmRelease) says; undefined for charts not judged. */
function releaseFromCarried(c: CarriedValues, source: SourceRef): ReleaseSubject | undefined {
  const merged = c.values.reduce((acc, v) => mergeValues(acc, v), c.chartDefaults ?? {});
  const values = c.subchartKey !== undefined ? subchartValues(merged, c.subchartKey) : merged;
  const s = releaseFromValues({
    chart: c.chart,
    chartVersion: c.chartVersion,
    releaseName: c.releaseName,
    ...(c.namespace !== undefined ? { namespace: c.namespace } : {}),
    values: [values],
    source,
  });
  return s ? withCondition(s, c.conditionKeys) : undefined;
}

function fromCarrier(
  obj: Record<string, unknown>,
  source: SourceRef,
  ctx: CarrierContext,
  read: (ref: ReturnType<typeof carrierRef>) => { releases: CarriedValues[]; unread: string[] },
): Subject[] {
  const ref = carrierRef(obj);
  try {
    const { releases, unread } = read(ref);
    const subjects = releases.flatMap((c) => {
      const s = releaseFromCarried(c, source);
      return s ? [carried(s, ref, c.notes)] : [];
    });
    if (subjects.length === 0 && unread.length > 0)
      throw new NotJudged(`${describeCarrier(ref)}: ${unread.join('; ')}`);
    return subjects;
  } catch (err: unknown) {
    if (err instanceof CarrierError) throw new InputError(err.message);
    throw err;
  }
}

function groupOf(apiVersion: unknown): string {
  return typeof apiVersion === 'string' && apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** Subjects of the GitOps carriers; undefined when the object is none of them. */
function carrierSubjects(
  obj: Record<string, unknown>,
  source: SourceRef,
  ctx: CarrierContext,
): Subject[] | undefined {
  const group = groupOf(obj.apiVersion);
  if (group === 'argoproj.io' && obj.kind === 'Application')
    return fromCarrier(obj, source, ctx, (ref) => applicationValues(obj, ref, ctx));
  if (group === 'argoproj.io' && obj.kind === 'ApplicationSet')
    throw new NotJudged(
      `${describeCarrier(carrierRef(obj))}: an ApplicationSet is a template; gloo-guard judges the Applications it generates`,
    );
  if (group === 'helm.toolkit.fluxcd.io' && obj.kind === 'HelmRelease')
    return fromCarrier(obj, source, ctx, (ref) => {
      const c = helmReleaseValues(obj, ref, ctx);
      return { releases: [c], unread: [] };
    });
  return undefined;
}

/**
 * Turns one Kubernetes object into the subjects it holds: none for kinds and charts gloo-guard does
 * not judge, one for most, several for an umbrella release or an Application with several charts.
 * Throws InputError for an object that cannot be read and NotJudged for one that cannot be judged here.
 */
export function subjectsFromObject(
  obj: unknown,
  source: SourceRef,
  maxReleaseBytes: number,
  ctx: CarrierContext = {},
): Subject[] {
  if (!isObject(obj)) throw new InputError(`${source.location}: not a Kubernetes object`);
  const apiVersion = obj.apiVersion;
  const { name, namespace } = metaName(obj);
  const ns = namespace !== undefined ? { namespace } : {};
  switch (obj.kind) {
    case 'Secret':
      return isReleaseSecret(obj) ? releasesFromRecord(obj, source, maxReleaseBytes, 'Secret') : [];
    case 'ConfigMap':
      return isReleaseConfigMap(obj) ? releasesFromRecord(obj, source, maxReleaseBytes, 'ConfigMap') : [];
    case 'Namespace':
      return apiVersion === 'v1' ? [{ kind: 'namespace', object: obj, name, source }] : [];
    case 'Deployment':
      return apiVersion === 'apps/v1' ? [{ kind: 'deployment', object: obj, name, ...ns, source }] : [];
    case 'Service':
      return apiVersion === 'v1' ? [{ kind: 'service', object: obj, name, ...ns, source }] : [];
    default:
      return carrierSubjects(obj, source, ctx) ?? [];
  }
}

/** What reading one object gave: its subjects, why it is not judged here, or what is wrong with it. */
export type ObjectReading = { subjects: Subject[] } | { notJudged: string } | { problem: string };

/**
 * Reads an object's subjects the one way the webhook, `check` and the audit share: an InputError is
 * the input's problem and NotJudged a known object judged elsewhere, both as values. Any other error
 * is a bug of ours: rethrown, unless `contain` (the webhook, which must answer every request); then
 * only its type is kept, since its message may quote the object.
 */
export function readObject(
  obj: unknown,
  source: SourceRef,
  maxReleaseBytes: number,
  ctx: CarrierContext = {},
  contain = false,
): ObjectReading {
  try {
    return { subjects: subjectsFromObject(obj, source, maxReleaseBytes, ctx) };
  } catch (err: unknown) {
    if (err instanceof NotJudged) return { notJudged: err.message };
    if (err instanceof InputError) return { problem: err.message };
    if (!contain) throw err;
    return { problem: `the object could not be read (${err instanceof Error ? err.name : 'unknown error'})` };
  }
}

/**
 * The one subject of an object, for callers that judge kinds with one subject each (policy fixtures);
 * undefined when there is none. Callers that may meet umbrella releases use subjectsFromObject.
 */
export function subjectFromObject(
  obj: unknown,
  source: SourceRef,
  maxReleaseBytes: number,
): Subject | undefined {
  return subjectsFromObject(obj, source, maxReleaseBytes)[0];
}
