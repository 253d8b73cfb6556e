/** Helm-values helpers: path lookup and Helm's coalescing merge. */
import { setOwn } from '../helm/release-json.js';

/** A plain object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A map as parsed JSON and YAML give it: an object whose prototype is Object's own (or none), so not
 * an array and not a class instance (a Date, a Map). The prototype, not `v.constructor`: that read
 * walks to Object.prototype through every shape of object a review holds, and a map with a key
 * "constructor" is still a map.
 */
export function isPlainMap(v: unknown): v is { readonly [k: string]: unknown } {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Reads a dotted path (`glooMeshMgmtServer.relay.disableCa`); undefined when any step is missing. */
export function getPath(values: unknown, path: string): unknown {
  let cur: unknown = values;
  for (const key of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** What an explicit null in the values merged on top does: `keep` it, or `delete` the key it names beneath. */
type OnNull = 'delete' | 'keep';

/**
 * Merges `over` onto a copy of `base`, map into map, without recursion: Helm accepts values nested
 * 10,000 levels deep, past what the call stack holds. With `delete`, a null deletes the key of
 * `base` it names, and a null naming no key of `base` stays (`has` says which top-level keys
 * `base` had). The tables of `keepIn` (top-level keys) keep their nulls either way.
 */
function mergeMaps(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
  onNull: OnNull,
  keepIn: ReadonlySet<string> = new Set(),
  has: (key: string) => boolean = (key) => Object.hasOwn(base, key),
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  const stack: Array<[Record<string, unknown>, Record<string, unknown>, OnNull]> = [[out, over, onNull]];
  for (let job = stack.pop(); job !== undefined; job = stack.pop()) {
    const [target, source, nulls] = job;
    const top = target === out;
    for (const key of Object.keys(source)) {
      const value = source[key];
      const current = Object.hasOwn(target, key) ? target[key] : undefined;
      if (value === null && nulls === 'delete' && (top ? has(key) : Object.hasOwn(target, key))) {
        delete target[key];
      } else if (isObject(value) && isObject(current)) {
        const copy = { ...current };
        setOwn(target, key, copy);
        stack.push([copy, value, top && keepIn.has(key) ? 'keep' : nulls]);
      } else {
        setOwn(target, key, value);
      }
    }
  }
  return out;
}

/**
 * A copy of `values` without the nulls of its maps at any depth, as Helm 4 cleans chart defaults
 * before coalescing (cleanNilValues; lists are left whole), except under the `keep` keys.
 */
function withoutNulls(values: Record<string, unknown>, keep: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const stack: Array<[Record<string, unknown>, Record<string, unknown>]> = [[out, values]];
  for (let job = stack.pop(); job !== undefined; job = stack.pop()) {
    const [target, source] = job;
    for (const key of Object.keys(source)) {
      const value = source[key];
      if (value === null) continue;
      if (isObject(value) && !(source === values && keep.has(key))) {
        const copy: Record<string, unknown> = {};
        setOwn(target, key, copy);
        stack.push([copy, value]);
      } else {
        setOwn(target, key, value);
      }
    }
  }
  return out;
}

/** The Helm major whose coalesce to follow: 3 and 4 differ in nulls only (see coalesce). */
export type HelmMajor = 3 | 4;

/**
 * Deep-merges `over` onto `base` as Helm coalesces user values onto chart defaults (chartutil
 * CoalesceValues): maps merge recursively, anything else replaces, and an explicit null deletes the
 * default it names; a null with no default beneath stays (`.Values.x` is nil either way). Within the
 * tables of `subcharts` (the keys of the chart's dependencies, alias or name) Helm merges instead of
 * coalescing, so nulls stay there. Helm 4 also drops the chart's own nulls first, so below the top
 * level a user's null over a chart's null stays; Helm 3 (the default) keeps the chart's nulls.
 */
export function coalesce(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
  subcharts: readonly string[] = [],
  major: HelmMajor = 3,
): Record<string, unknown> {
  const keep = new Set(subcharts);
  if (major === 3) return mergeMaps(base, over, 'delete', keep);
  return mergeMaps(withoutNulls(base, keep), over, 'delete', keep, (key) => Object.hasOwn(base, key));
}

/**
 * Merges values files given in order (`helm -f a.yaml -f b.yaml`) as Helm does before it coalesces
 * them onto the chart defaults: maps merge recursively, anything else replaces, and an explicit null
 * is kept, so it still deletes the chart default afterwards.
 */
export function mergeValues(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  return mergeMaps(base, over, 'keep');
}

/** True only for a real boolean true or the string "true" (as `--set x=true` may give). */
export function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}

/** A non-empty string after trimming. */
export function isSet(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/** Text that toJsonText emits as it is (a bracket, a comma, a key and its colon). */
class Raw {
  constructor(readonly text: string) {}
}

/** The JSON text of one value that is not a container (undefined and non-finite numbers: null, as in JSON.stringify). */
function leafText(v: unknown): string {
  // JSON.stringify's type says string, but it gives undefined for undefined.
  const text: string | undefined = JSON.stringify(v);
  return text ?? 'null';
}

/** Pushes the members of a container in reverse, so that popping emits them in order. */
function pushMembers(work: unknown[], v: object): void {
  if (Array.isArray(v)) {
    work.push(new Raw(']'));
    for (let i = v.length - 1; i >= 0; i--)
      work.push(v[i] === undefined ? null : v[i], new Raw(i > 0 ? ',' : '['));
    if (v.length === 0) work.push(new Raw('['));
    return;
  }
  const entries = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
  work.push(new Raw('}'));
  for (let i = entries.length - 1; i >= 0; i--) {
    const [key, x] = entries[i] as [string, unknown];
    work.push(x, new Raw(`${i > 0 ? ',' : '{'}${JSON.stringify(key)}:`));
  }
  if (entries.length === 0) work.push(new Raw('{'));
}

/** JSON.stringify for plain data at any depth: an explicit stack instead of recursion. */
export function toJsonText(root: unknown): string {
  const out: string[] = [];
  const work: unknown[] = [root];
  for (let i = work.length; i > 0; i = work.length) {
    const v = work.pop();
    if (v instanceof Raw) out.push(v.text);
    else if (typeof v === 'object' && v !== null) pushMembers(work, v);
    else out.push(leafText(v));
  }
  return out.join('');
}
