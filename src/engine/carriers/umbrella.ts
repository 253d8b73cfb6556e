/**
 * Umbrella charts: a company chart that lists a judged chart (gloo-platform, ...) as a dependency in
 * its Chart.yaml. Helm gives the subchart the values under its alias (or name) and the parent's
 * `global`, and leaves it out when its `condition` (or, without one, its `tags`) says false: only
 * a real boolean decides, as in Helm's chartutil.ProcessDependencies.
 */
import type { HelmRelease } from '../../helm/release.js';
import { chartFamily } from '../charts/adapters.js';
import { dependencyEnabled } from '../helm-values.js';
import { coalesce, isObject, mergeValues } from '../values.js';

/** One dependency of an umbrella chart that gloo-guard judges. */
export interface JudgedDependency {
  /** The chart's own name (`gloo-platform`). */
  chart: string;
  /** The version to judge with: the dependency's version, or the lowest of its range. */
  version: string;
  /** Where its values sit in the parent's values: the alias, or the name. */
  key: string;
  /** False when the condition or tags leave the subchart out. */
  enabled: boolean;
  /** Why it is left out, for notes. */
  disabledBy?: string;
  /** Top-level keys of the subchart's values that the parent reads as this dependency's condition. */
  conditionKeys: string[];
}

function field(o: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : o[key];
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * The version a dependency's constraint (`2.5.0`, `~2.5.0`, `>=2.4.0 <2.6.0`, `2.5.x`) is judged
 * with: its first version, since every policy differs by minor release at most.
 */
export function versionOfConstraint(constraint: string): string {
  const m = /(\d+)\.(\d+|x|\*)(?:\.(\d+|x|\*))?([-+][0-9A-Za-z.+-]*)?/.exec(constraint);
  if (!m) return '';
  const minor = /\d+/.test(m[2] ?? '') ? m[2] : '0';
  const patch = /\d+/.test(m[3] ?? '') ? m[3] : '0';
  return `${m[1]}.${minor}.${patch}${m[4] ?? ''}`;
}

/**
 * The subchart's top-level keys a condition names (`mesh.enabled` under key `mesh` names `enabled`):
 * Helm reads them on the parent and still passes them down, where the subchart never reads them.
 */
function conditionKeysOf(dep: Record<string, unknown>, key: string): string[] {
  const paths = text(field(dep, 'condition'))
    .split(',')
    .map((p) => p.trim());
  const keys = paths.flatMap((p) =>
    p.startsWith(`${key}.`) ? [p.slice(key.length + 1).split('.')[0] ?? ''] : [],
  );
  return [...new Set(keys.filter((k) => k !== ''))];
}

function enabledBy(
  dep: Record<string, unknown>,
  values: Record<string, unknown>,
): Pick<JudgedDependency, 'enabled' | 'disabledBy'> {
  const tags = field(dep, 'tags');
  const { enabled, by } = dependencyEnabled(
    { condition: text(field(dep, 'condition')), ...(Array.isArray(tags) ? { tags } : {}) },
    values,
  );
  if (enabled) return { enabled };
  return { enabled, disabledBy: by === 'tags' ? 'its tags are false' : `${by} is false` };
}

/**
 * The chart family whose values sit under `key`. Helm stores an aliased dependency with its name
 * replaced by the alias (chartutil getAliasDependency), so in a release record the chart's own name
 * is gone; the parent's stored values hold the subchart's defaults under the alias, whose top-level
 * keys tell the chart.
 */
function chartByValues(values: unknown): string {
  if (!isObject(values)) return '';
  if ('glooMeshMgmtServer' in values) return 'gloo-mesh-enterprise';
  if ('glooMeshAgent' in values) return 'gloo-mesh-agent';
  if ('glooMgmtServer' in values || 'glooAgent' in values) return 'gloo-platform';
  return '';
}

/** A dependency's own chart name: as written, or, when Helm replaced it by the alias, from its values. */
function chartName(dep: Record<string, unknown>, values: Record<string, unknown>): string {
  const name = text(field(dep, 'name'));
  const alias = text(field(dep, 'alias'));
  if (chartFamily(name, '') || alias === '' || alias !== name) return name;
  return chartByValues(values[alias]) || name;
}

/**
 * The judged charts among `dependencies` of a Chart.yaml (or of a stored release), with whether each
 * is enabled by the parent's effective `values` (chart defaults coalesced with the user's).
 */
export function judgedDependencies(
  dependencies: unknown,
  values: Record<string, unknown>,
): JudgedDependency[] {
  if (!Array.isArray(dependencies)) return [];
  const out: JudgedDependency[] = [];
  for (const dep of dependencies) {
    if (!isObject(dep)) continue;
    const chart = chartName(dep, values);
    const version = versionOfConstraint(text(field(dep, 'version')));
    if (!chartFamily(chart, '')) continue;
    const alias = text(field(dep, 'alias'));
    const key = alias === '' ? chart : alias;
    out.push({ chart, version, key, conditionKeys: conditionKeysOf(dep, key), ...enabledBy(dep, values) });
  }
  return out;
}

/** The values a subchart sees: those under its key, with the parent's `global` beneath its own. */
export function subchartValues(values: Record<string, unknown>, key: string): Record<string, unknown> {
  const own = isObject(values[key]) ? values[key] : {};
  if (!isObject(values.global)) return own;
  const global = isObject(own.global) ? mergeValues(values.global, own.global) : values.global;
  return { ...own, global };
}

/**
 * A release of an umbrella chart seen as a release of one of its judged dependencies: the chart is
 * the dependency, its defaults and user values are those under its key.
 */
export function subchartRelease(rel: HelmRelease, dep: JudgedDependency): HelmRelease {
  return {
    ...rel,
    chart: {
      metadata: { name: dep.chart, version: dep.version },
      values: subchartValues(rel.chart.values, dep.key),
    },
    config: subchartValues(rel.config, dep.key),
  };
}

/** The keys of a chart's dependencies in its values (alias, or name): Helm merges user values there. */
export function subchartKeys(rel: HelmRelease): string[] {
  return (rel.chart.metadata.dependencies ?? []).map((d) => (d.alias === '' ? d.name : d.alias));
}

/** The parent's effective values, against which conditions and tags are read. */
export function parentValues(rel: HelmRelease): Record<string, unknown> {
  return coalesce(rel.chart.values, rel.config, subchartKeys(rel));
}

/** Judged chart names, for messages and for spotting umbrella values checked as the subchart. */
export const JUDGED_CHARTS = ['gloo-mesh-enterprise', 'gloo-mesh-agent', 'gloo-platform'] as const;
