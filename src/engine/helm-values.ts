/**
 * Helm's and Go's readings of a value as a switch, in one place, so that every policy reads a flag
 * the way the chart consumes it (issue 15 items 1-2, issue 12 item 9).
 */
import { isObject } from './values.js';

/** How a chart consumes a switch: a subchart `condition`, a template `{{ if }}`, a binary's flag. */
export type FlagUse = 'condition' | 'template' | 'flag' | 'unknown';

/**
 * Go template truthiness (`{{ if .Values.x }}`, text/template `isTrue`): false, 0, 0.0, "", nil and
 * empty lists and maps are false; everything else, the string "false" included, is true.
 */
export function templateTruthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e21, two exponent digits. */
function goFloat(n: number): string {
  if (Object.is(n, -0)) return '-0';
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const [mantissa = '', exp = '0'] = n.toExponential().split('e');
  const x = Number(exp);
  if (x < -4 || x >= 21) return `${mantissa}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  return String(n);
}

/**
 * The text Go's `fmt` prints for a value Helm holds (`--flag={{ .Values.x }}`): numbers from values are
 * float64 and print without a trailing `.0`; nil prints `<nil>`; lists and maps print brackets.
 */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? `[${v.map(goString).join(' ')}]` : 'map[...]';
}

/**
 * Go's `strconv.ParseBool` of the value as a flag receives it: 1 t T TRUE true True and their false
 * forms; anything else is an error (undefined). Real booleans are themselves.
 */
export function parseGoBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = goString(v);
  if (GO_TRUE.has(s)) return true;
  if (GO_FALSE.has(s)) return false;
  return undefined;
}

/**
 * Helm's subchart `condition`: only a real boolean false disables the subchart. A string, a number or
 * null leaves it enabled (Helm logs "returned non-bool value"), and so does a missing key.
 */
export function conditionEnabled(v: unknown): boolean {
  return v !== false;
}

/** How Helm reads one switch. */
export interface FlagReading {
  /** What the chart does with it: true means the switch is on. */
  on: boolean;
  /** The value is not a YAML boolean and Helm's readings of it disagree (or the chart's use is unknown). */
  ambiguous: boolean;
  /** Why, in words, for messages; empty for a real boolean or an absent key. */
  reading: string;
}

function shown(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : goString(v);
}

/**
 * Reads a switch as the chart consumes it. A real boolean (or an absent or null key, which is off, as a
 * template sees nil either way) is plain. Any other value follows the known use, and is ambiguous when
 * the use is unknown and a template and a flag parser would read it differently (`"false"`, `"yes"`,
 * `[true]`, `0.5`). For a subchart `condition`, `subchart` says whether the chart has that subchart at
 * all (its key is in the chart's values): then only a real boolean false leaves it out, and a missing
 * or null condition keeps it, as in Helm's `processDependencyEnabled`.
 */
export function readFlag(v: unknown, use: FlagUse, subchart = v !== undefined): FlagReading {
  if (use === 'condition') {
    // A subchart the chart does not have is not deployed, whatever the values say about it (enterprise
    // 2.0 has no registerMgmtPlane); a value given for it still counts, so a typo never hides one.
    const on = typeof v === 'boolean' ? v : subchart || v !== undefined;
    const reading =
      typeof v === 'boolean' || v === undefined
        ? ''
        : `${shown(v)} is not a boolean, so Helm ignores the condition and keeps the subchart`;
    return { on, ambiguous: false, reading };
  }
  if (typeof v === 'boolean' || v === undefined || v === null)
    return { on: v === true, ambiguous: false, reading: '' };
  const t = templateTruthy(v);
  const p = parseGoBool(v);
  if (use === 'template')
    return { on: t, ambiguous: false, reading: `${shown(v)} reads as ${t} in a Helm template` };
  if (use === 'flag') {
    return p === undefined
      ? { on: t, ambiguous: true, reading: `${shown(v)} is no boolean for Go's flag parser` }
      : { on: p, ambiguous: false, reading: `${shown(v)} reads as ${p}` };
  }
  if (p === t) return { on: t, ambiguous: false, reading: `${shown(v)} reads as ${t}` };
  const asFlag = p === undefined ? 'is an error for a flag parser' : `is ${p} for a flag parser`;
  return { on: t, ambiguous: true, reading: `${shown(v)} is ${t} in a Helm template but ${asFlag}` };
}

/** Helm's `Values.PathValue`: the value at a dotted path, or `missing` when a step is no map or the value is one. */
export function helmPathValue(
  values: Record<string, unknown>,
  path: string,
): { missing: true } | { value: unknown } {
  // Helm splits on every dot and trims nothing: `a..b` and ` a.b` name keys that real charts never have.
  const keys = path.split('.');
  let table: Record<string, unknown> = values;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(table, key) ? table[key] : undefined;
    if (!isObject(next)) return { missing: true };
    table = next;
  }
  const last = keys[keys.length - 1] ?? '';
  if (!Object.hasOwn(table, last) || isObject(table[last])) return { missing: true };
  return { value: table[last] };
}

/** A dependency as Helm's `ProcessDependencies` reads it from Chart.yaml. */
export interface DependencySwitches {
  condition?: string;
  tags?: readonly unknown[];
}

/** Whether a dependency is deployed, and what decided it (for notes). */
export interface DependencyDecision {
  enabled: boolean;
  /** `condition <path>`, `tags`, or empty when nothing decided and the dependency stays in. */
  by: string;
}

/** Helm's tags: a true tag keeps the subchart, else a false one drops it; other values are ignored. */
function byTags(tags: readonly unknown[] | undefined, values: Record<string, unknown>): boolean | undefined {
  const table = values.tags;
  if (!isObject(table) || tags === undefined) return undefined;
  const found = tags.map((t) => (typeof t === 'string' && Object.hasOwn(table, t) ? table[t] : undefined));
  if (found.includes(true)) return true;
  return found.includes(false) ? false : undefined;
}

/**
 * Helm's chartutil `processDependencyEnabled` for one dependency, on the parent's coalesced values
 * (chart defaults, subchart defaults under their keys, user values): tags first, then the first
 * condition path (comma-separated, under `prefix` for a subchart's own dependencies) that holds a
 * real boolean. A string, a number, null, a map or a missing path decides nothing.
 */
export function dependencyEnabled(
  dep: DependencySwitches,
  values: Record<string, unknown>,
  prefix = '',
): DependencyDecision {
  const tagged = byTags(dep.tags, values);
  for (const path of (dep.condition ?? '').trim().split(',')) {
    if (path === '') continue;
    const found = helmPathValue(values, prefix + path);
    if ('value' in found && typeof found.value === 'boolean')
      return { enabled: found.value, by: `condition ${path}` };
  }
  return tagged === undefined ? { enabled: true, by: '' } : { enabled: tagged, by: 'tags' };
}
