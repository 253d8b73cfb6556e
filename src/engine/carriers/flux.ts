/**
 * Flux `HelmRelease` (helm.toolkit.fluxcd.io v2, v2beta2, v2beta1): the helm-controller installs the
 * chart with Helm, so the release Secret is judged too, but in the controller, where whoever committed
 * the values never sees it. Judging the HelmRelease refuses it at `kubectl apply` / in CI instead.
 * Values as helm-controller merges them (ChartValuesFromReferences): each `valuesFrom` in order (a
 * `targetPath` sets one value with `--set` semantics, quoted values as strings), then `spec.values`.
 */
import { parse } from 'yaml';
import { chartFamily } from '../charts/adapters.js';
import type { CarrierRef } from '../types.js';
import { isObject, mergeValues } from '../values.js';
import { CarrierError, type CarriedValues } from './argo.js';
import { describeCarrier, type CarrierContext, type Unreadable } from './context.js';
import { SetValueError, setValue } from './set-values.js';
import { versionOfConstraint } from './umbrella.js';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The chart (name, version) of a HelmRelease, or why it cannot be told. */
function chartOf(
  spec: Record<string, unknown>,
  where: string,
): { chart: string; version: string; notes: string[] } {
  const chartSpec = isObject(spec.chart) && isObject(spec.chart.spec) ? spec.chart.spec : undefined;
  if (chartSpec) {
    const chart = str(chartSpec.chart);
    // A chart in a GitRepository or Bucket is a path; its last element is the chart directory's name.
    const name = chart.replace(/\/+$/, '').split('/').pop() ?? '';
    const constraint = str(chartSpec.version);
    const version = constraint === '' || constraint === '*' ? '' : versionOfConstraint(constraint);
    const notes =
      version === '' && chartFamily(name, '')
        ? [`chart version ${constraint || '*'} is not pinned: judged with the newest ${name} policies`]
        : [];
    return { chart: name, version, notes };
  }
  if (isObject(spec.chartRef)) {
    const name = str(spec.chartRef.name);
    return {
      chart: name,
      version: '',
      notes: [
        `spec.chartRef ${str(spec.chartRef.kind)} ${name} does not say the chart version: judged with the newest ${name} policies`,
      ],
    };
  }
  throw new CarrierError(`${where}: has neither spec.chart.spec nor spec.chartRef`);
}

/** Flux's default release name: `[targetNamespace-]name`. */
function releaseName(spec: Record<string, unknown>, ref: CarrierRef): string {
  const explicit = str(spec.releaseName);
  if (explicit !== '') return explicit;
  const target = str(spec.targetNamespace);
  return target !== '' ? `${target}-${ref.name}` : ref.name;
}

interface ValuesReference {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  valuesKey: string;
  targetPath: string;
  optional: boolean;
}

function references(spec: Record<string, unknown>, where: string): ValuesReference[] {
  if (spec.valuesFrom === undefined || spec.valuesFrom === null) return [];
  if (!Array.isArray(spec.valuesFrom)) throw new CarrierError(`${where}: spec.valuesFrom must be a list`);
  return spec.valuesFrom.map((r, i) => {
    if (!isObject(r) || (r.kind !== 'ConfigMap' && r.kind !== 'Secret') || str(r.name) === '')
      throw new CarrierError(`${where}: spec.valuesFrom[${i}] needs kind ConfigMap or Secret and a name`);
    return {
      kind: r.kind,
      name: str(r.name),
      valuesKey: str(r.valuesKey) || 'values.yaml',
      targetPath: str(r.targetPath),
      optional: r.optional === true,
    };
  });
}

/** The ConfigMaps and Secrets a HelmRelease reads its values from (namespace, kind, name), for prefetching. */
export function valuesFromRefs(
  obj: Record<string, unknown>,
  ref: CarrierRef,
): Array<{ kind: 'ConfigMap' | 'Secret'; namespace: string; name: string }> {
  const spec = isObject(obj.spec) ? obj.spec : {};
  try {
    return references(spec, '').map((r) => ({
      kind: r.kind,
      namespace: ref.namespace ?? 'default',
      name: r.name,
    }));
  } catch {
    return [];
  }
}

function applyReference(
  result: Record<string, unknown>,
  r: ValuesReference,
  data: string,
  where: string,
): Record<string, unknown> {
  const what = `${where}: valuesFrom ${r.kind} ${r.name} key ${r.valuesKey}`;
  if (r.targetPath !== '') {
    const quoted = /^(['"]).*\1$/s.test(data);
    try {
      return setValue(result, r.targetPath, quoted ? data.slice(1, -1) : data, quoted);
    } catch (err: unknown) {
      if (err instanceof SetValueError) throw new CarrierError(`${what}: targetPath ${err.message}`);
      throw err;
    }
  }
  let parsed: unknown;
  try {
    parsed = parse(data, { maxAliasCount: 1000 }) as unknown;
  } catch {
    throw new CarrierError(`${what} is not valid YAML`);
  }
  if (parsed === null || parsed === undefined) return result;
  if (!isObject(parsed)) throw new CarrierError(`${what} must hold a YAML mapping`);
  return mergeValues(result, parsed);
}

/** Why a reference gave no value, for a note; undefined when an optional one is simply absent. */
function missing(
  r: ValuesReference,
  namespace: string,
  data: Record<string, string> | null | Unreadable,
): string | undefined {
  const what = `valuesFrom ${r.kind} ${namespace}/${r.name}`;
  if (data !== null && 'unreadable' in data)
    return `${what} could not be read (${data.unreadable}): judged without it`;
  if (r.optional) return undefined;
  const why = data ? `has no key ${r.valuesKey}` : 'was not found';
  return `${what} ${why}: judged without it (Flux itself fails this release until it is there)`;
}

function resolveValuesFrom(
  refs: ValuesReference[],
  namespace: string,
  ctx: CarrierContext,
  where: string,
  notes: string[],
): Record<string, unknown> {
  let result: Record<string, unknown> = {};
  const unread: string[] = [];
  for (const r of refs) {
    if (!ctx.lookup) {
      unread.push(`${r.kind} ${r.name}`);
      continue;
    }
    const data = ctx.lookup(r.kind, namespace, r.name);
    const value = data !== null && !('unreadable' in data) ? data[r.valuesKey] : undefined;
    if (value === undefined) {
      const note = missing(r, namespace, data);
      if (note !== undefined) notes.push(note);
      continue;
    }
    result = applyReference(result, r, value, where);
  }
  if (unread.length > 0)
    notes.push(
      `valuesFrom ${unread.join(', ')} could not be read here${ctx.noLookup ? ` (${ctx.noLookup})` : ''} and were not judged (give them to gloo-guard check as files)`,
    );
  return result;
}

/** Reads a HelmRelease's chart and values; throws CarrierError naming the object and field when unreadable. */
export function helmReleaseValues(
  obj: Record<string, unknown>,
  ref: CarrierRef,
  ctx: CarrierContext,
): CarriedValues {
  const where = describeCarrier(ref);
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  if (!spec) throw new CarrierError(`${where}: has no spec`);
  const { chart, version, notes } = chartOf(spec, where);
  const inline = spec.values === undefined || spec.values === null ? {} : spec.values;
  if (!isObject(inline)) throw new CarrierError(`${where}: spec.values must be a mapping`);
  const namespace = ref.namespace ?? 'default';
  const fromRefs = resolveValuesFrom(references(spec, where), namespace, ctx, where, notes);
  const target = str(spec.targetNamespace);
  return {
    chart,
    chartVersion: version,
    releaseName: releaseName(spec, ref),
    namespace: target !== '' ? target : namespace,
    values: [fromRefs, inline],
    notes,
  };
}
