/**
 * One `--set NAME=VALUE` (or `--set-string`) applied to values, as Helm's strvals parser does: dots
 * separate keys (`\.` keeps a dot), `name[0]` indexes a list, `{a,b}` is a list, and without
 * `--set-string` the value is typed (`true`, `false`, `null`, integers without a leading zero).
 * Argo CD passes each `helm.parameters` entry as one such flag, and Flux `valuesFrom.targetPath` too.
 */
import { isObject } from '../values.js';

/** A `--set` name or value that Helm would refuse; the message never quotes the value. */
export class SetValueError extends Error {
  override name = 'SetValueError';
}

type Step = { key: string } | { index: number };

/** Helm refuses list indexes above this (strvals MaxIndex); so do we, before allocating. */
const MAX_INDEX = 65536;

function parseSteps(name: string): Step[] {
  const steps: Step[] = [];
  let key = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '\\' && i + 1 < name.length) {
      key += name[++i];
    } else if (c === '.') {
      if (key !== '') steps.push({ key });
      key = '';
    } else if (c === '[') {
      const end = name.indexOf(']', i);
      const n = end < 0 ? NaN : Number(name.slice(i + 1, end));
      if (!Number.isInteger(n) || n < 0 || n > MAX_INDEX)
        throw new SetValueError(`bad list index in ${name}`);
      if (key !== '') steps.push({ key });
      key = '';
      steps.push({ index: n });
      i = end;
    } else {
      key += c;
    }
  }
  if (key !== '') steps.push({ key });
  if (steps.length === 0 || !('key' in steps[0]!)) throw new SetValueError(`bad parameter name "${name}"`);
  return steps;
}

/** Helm's typedVal: what an unquoted `--set` value becomes. */
function typed(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (raw === '0') return 0;
  if (/^-?[1-9][0-9]*$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  return raw;
}

function parseValue(raw: string, asString: boolean): unknown {
  if (raw.startsWith('{') && raw.endsWith('}')) {
    const inner = raw.slice(1, -1);
    const items = inner === '' ? [] : inner.split(',');
    return items.map((v) => (asString ? v : typed(v)));
  }
  return asString ? raw : typed(raw);
}

function container(next: Step | undefined, current: unknown): unknown {
  if (next === undefined) return current;
  if ('index' in next) return Array.isArray(current) ? [...(current as unknown[])] : [];
  return isObject(current) ? { ...current } : {};
}

/**
 * Sets `name` to `value` in a copy of `values`, as `helm --set name=value` (or `--set-string` when
 * `asString`) would; the input is not changed.
 */
export function setValue(
  values: Record<string, unknown>,
  name: string,
  value: string,
  asString = false,
): Record<string, unknown> {
  const steps = parseSteps(name);
  const parsed = parseValue(value, asString);
  const root: Record<string, unknown> = { ...values };
  let cur: Record<string, unknown> | unknown[] = root;
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    const next = steps[i + 1];
    if ('key' in step) {
      const obj = cur as Record<string, unknown>;
      obj[step.key] = last ? parsed : container(next, obj[step.key]);
      if (!last) cur = obj[step.key] as Record<string, unknown> | unknown[];
    } else {
      const list = cur as unknown[];
      while (list.length <= step.index) list.push(null);
      list[step.index] = last ? parsed : container(next, list[step.index]);
      if (!last) cur = list[step.index] as Record<string, unknown> | unknown[];
    }
  });
  return root;
}
