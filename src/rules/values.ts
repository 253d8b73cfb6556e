/** Conversions between JSON-like data and CEL values, as Kubernetes hands objects to CEL. */
import { celList, celMap, isCelList, isCelMap, isCelUint, type CelInput, type CelValue } from '@bufbuild/cel';

/**
 * JSON data as CEL reads it in Kubernetes: whole numbers are `int` (so `replicas >= 2` holds), other
 * numbers `double`; undefined fields are left out, as a missing key.
 */
export function toCel(v: unknown): CelInput {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (v instanceof Date) return v.toISOString();
  // CEL lists and maps, not plain arrays and objects: the evaluator wraps a plain object anew (a Map
  // of all its entries) at every field access, on every rule; a CEL map is used as it is.
  if (Array.isArray(v)) return celList(v.map(toCel));
  if (typeof v === 'object') {
    const out = new Map<string, CelInput>();
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out.set(k, toCel(x));
    return celMap(out);
  }
  return typeof v === 'symbol' ? v.toString() : null;
}

function rank(v: CelValue): number {
  if (typeof v === 'bigint' || typeof v === 'number' || isCelUint(v)) return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  return 3;
}

/** Orders two CEL scalars (numbers across int/uint/double, strings, bools); lists and maps do not order. */
export function compareValues(a: CelValue, b: CelValue): number {
  const ra = rank(a);
  if (ra !== rank(b) || ra === 3) {
    if (isCelList(a) || isCelMap(a) || ra !== rank(b))
      throw new Error('cannot compare values of different types');
  }
  const x = isCelUint(a) ? a.value : a;
  const y = isCelUint(b) ? b.value : b;
  if (typeof x === 'boolean' && typeof y === 'boolean') return Number(x) - Number(y);
  if ((typeof x === 'bigint' || typeof x === 'number') && (typeof y === 'bigint' || typeof y === 'number'))
    return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : x > y ? 1 : 0;
  throw new Error('cannot compare these values');
}

/** A CEL result as plain JSON-like data (for messages and tests). */
export function fromCel(v: CelValue): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (isCelUint(v)) return Number(v.value);
  if (isCelList(v)) {
    const out: unknown[] = [];
    for (const x of v) out.push(fromCel(x));
    return out;
  }
  if (isCelMap(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) out[typeof k === 'object' ? String(k.value) : String(k)] = fromCel(x);
    return out;
  }
  return v;
}
