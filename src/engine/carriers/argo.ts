/**
 * Argo CD `Application` (argoproj.io/v1alpha1): Argo CD renders the chart itself with `helm template`
 * and applies plain objects, so the Application is the only place the release's values can be judged.
 * Values in Argo CD's order of precedence (docs/user-guide/helm.md, "parameters > valuesObject >
 * values > valueFiles > helm repository values.yaml"; `valuesObject` replaces `values` entirely, as
 * ApplicationSourceHelm.ValuesYAML does).
 */
import { parse } from 'yaml';
import { isObject, mergeValues } from '../values.js';
import type { CarrierRef } from '../types.js';
import { describeCarrier, type CarrierContext } from './context.js';
import { SetValueError, setValue } from './set-values.js';
import { judgedDependencies } from './umbrella.js';

/** A chart reference and its values, ready for releaseFromValues. */
export interface CarriedValues {
  chart: string;
  chartVersion: string;
  releaseName: string;
  namespace?: string;
  /** Values in increasing precedence, as `helm -f a -f b`. */
  values: Record<string, unknown>[];
  /** Values of the umbrella chart the judged chart is a dependency of, already applied: key to read under. */
  subchartKey?: string;
  /** Top-level keys under subchartKey that the umbrella chart reads as the dependency's condition. */
  conditionKeys?: string[];
  /** Chart defaults from a chart read from git (its values.yaml), lowest precedence. */
  chartDefaults?: Record<string, unknown>;
  notes: string[];
}

/** A carrier that cannot be read: the message names the object and the field. */
export class CarrierError extends Error {
  override name = 'CarrierError';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function sourcesOf(spec: Record<string, unknown>, where: string): Record<string, unknown>[] {
  if (Array.isArray(spec.sources) && spec.sources.length > 0) {
    return spec.sources.map((s, i) => {
      if (!isObject(s)) throw new CarrierError(`${where}: spec.sources[${i}] is not an object`);
      return s;
    });
  }
  if (isObject(spec.source)) return [spec.source];
  throw new CarrierError(`${where}: has neither spec.source nor spec.sources`);
}

function inlineValues(helm: Record<string, unknown>, where: string): Record<string, unknown> | undefined {
  if (isObject(helm.valuesObject)) return helm.valuesObject;
  if (helm.valuesObject !== undefined && helm.valuesObject !== null)
    throw new CarrierError(`${where}.valuesObject must be a mapping`);
  const text = str(helm.values);
  if (text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = parse(text, { maxAliasCount: 1000 }) as unknown;
  } catch {
    throw new CarrierError(`${where}.values is not valid YAML`);
  }
  if (v === null || v === undefined) return undefined;
  if (!isObject(v)) throw new CarrierError(`${where}.values must be a YAML mapping`);
  return v;
}

function applyParameters(helm: Record<string, unknown>, where: string): Record<string, unknown> | undefined {
  if (!Array.isArray(helm.parameters) || helm.parameters.length === 0) return undefined;
  let out: Record<string, unknown> = {};
  helm.parameters.forEach((p, i) => {
    if (!isObject(p) || str(p.name) === '') throw new CarrierError(`${where}.parameters[${i}] has no name`);
    const raw =
      typeof p.value === 'string'
        ? p.value
        : typeof p.value === 'number' || typeof p.value === 'boolean'
          ? String(p.value)
          : '';
    try {
      out = setValue(out, str(p.name), raw, p.forceString === true);
    } catch (err: unknown) {
      if (err instanceof SetValueError) throw new CarrierError(`${where}.parameters[${i}]: ${err.message}`);
      throw err;
    }
  });
  return out;
}

interface SourceScope {
  refs: Map<string, string>;
  ctx: CarrierContext;
}

function readValueFiles(
  source: Record<string, unknown>,
  helm: Record<string, unknown>,
  scope: SourceScope,
  notes: string[],
): Record<string, unknown>[] {
  const files = Array.isArray(helm.valueFiles) ? helm.valueFiles.filter((f) => typeof f === 'string') : [];
  const out: Record<string, unknown>[] = [];
  const unread: string[] = [];
  const repos = new Set<string>();
  for (const written of files) {
    const m = /^\$([^/]+)\/(.*)$/.exec(written);
    const repoURL = m ? (scope.refs.get(m[1] ?? '') ?? '') : str(source.repoURL);
    const path = m ? (m[2] ?? '') : joinPath(str(source.path), written);
    const values = repoURL === '' ? undefined : scope.ctx.valueFiles?.({ written, path, repoURL });
    if (values) out.push(values);
    else {
      unread.push(written);
      if (repoURL !== '') repos.add(repoURL);
    }
  }
  if (unread.length > 0)
    notes.push(
      `value files ${unread.join(', ')} could not be read here and were not judged; in CI, check them ` +
        `from a checkout of ${[...repos].join(', ') || 'their repository'}: gloo-guard check APPLICATION.yaml --values-dir CHECKOUT`,
    );
  return out;
}

function joinPath(dir: string, file: string): string {
  if (file.startsWith('/') || /^[a-z]+:\/\//.test(file)) return file.replace(/^\//, '');
  const parts = `${dir}/${file}`.split('/').filter((p) => p !== '' && p !== '.');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out.join('/');
}

/** The chart of a source: from a Helm repository (`chart`), or from git (`path`), read when the caller can. */
function chartOf(
  source: Record<string, unknown>,
  scope: SourceScope,
  notes: string[],
): Pick<CarriedValues, 'chart' | 'chartVersion' | 'subchartKey' | 'conditionKeys' | 'chartDefaults'>[] {
  const chart = str(source.chart);
  if (chart !== '') return [{ chart, chartVersion: str(source.targetRevision) }];
  const path = str(source.path);
  if (path === '' || isObject(source.kustomize) || isObject(source.directory)) return [];
  const read = scope.ctx.gitChart?.(str(source.repoURL), path);
  if (!read) {
    if (isObject(source.helm))
      notes.push(
        `the chart in ${str(source.repoURL)} path ${path} could not be read here; it was not judged`,
      );
    return [];
  }
  const name = str(read.metadata.name);
  const version = str(read.metadata.version);
  if (name !== '' && judgedDependencies([{ name, version }], {}).length > 0)
    return [{ chart: name, chartVersion: version, chartDefaults: read.values }];
  return judgedDependencies(read.metadata.dependencies, read.values).flatMap((d) => {
    if (!d.enabled) return [];
    const { chart, version: chartVersion, key: subchartKey, conditionKeys } = d;
    return [{ chart, chartVersion, subchartKey, conditionKeys, chartDefaults: read.values }];
  });
}

/** What an Application installs: judged charts with their values, and sources that could not be read. */
export interface ApplicationCharts {
  releases: CarriedValues[];
  /** Why a source could not be judged (a chart in git that this caller cannot read). */
  unread: string[];
}

/**
 * Reads the judged charts an Application installs and their values; an Application that installs no
 * judged chart gives an empty list.
 */
export function applicationValues(
  obj: Record<string, unknown>,
  ref: CarrierRef,
  ctx: CarrierContext,
): ApplicationCharts {
  const where = describeCarrier(ref);
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  if (!spec) throw new CarrierError(`${where}: has no spec`);
  const sources = sourcesOf(spec, where);
  const refs = new Map(
    sources.filter((s) => str(s.ref) !== '').map((s) => [str(s.ref), str(s.repoURL)] as const),
  );
  const destination = isObject(spec.destination) ? spec.destination : {};
  const namespace = str(destination.namespace);
  const out: CarriedValues[] = [];
  const unread: string[] = [];
  sources.forEach((source, i) => {
    const at = spec.sources !== undefined ? `spec.sources[${i}].helm` : 'spec.source.helm';
    const notes: string[] = [];
    const charts = chartOf(source, { refs, ctx }, notes);
    const helm = isObject(source.helm) ? source.helm : {};
    const files = charts.length > 0 ? readValueFiles(source, helm, { refs, ctx }, notes) : [];
    const inline = inlineValues(helm, `${where}: ${at}`);
    const params = applyParameters(helm, `${where}: ${at}`);
    const values = [...files, ...(inline ? [inline] : []), ...(params ? [params] : [])];
    for (const c of charts) {
      out.push({
        ...c,
        releaseName: str(helm.releaseName) || ref.name,
        ...(namespace !== '' ? { namespace } : {}),
        values,
        notes: [...notes],
      });
    }
    if (charts.length === 0) unread.push(...notes);
  });
  return { releases: out, unread };
}

/** Merges values in precedence order (lowest first). */
export function mergeAll(values: Record<string, unknown>[]): Record<string, unknown> {
  return values.reduce((acc, v) => mergeValues(acc, v), {});
}
