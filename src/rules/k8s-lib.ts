/**
 * The Kubernetes CEL libraries rule authors rely on most, written over @bufbuild/cel because it has
 * none of them: lists (isSorted, sum, min, max, indexOf, lastIndexOf), quantity and semver. Each
 * follows the behaviour documented at kubernetes.io/docs/reference/using-api/cel/.
 */
import {
  celFunc,
  celMethod,
  CelScalar,
  isCelMap,
  listType,
  mapType,
  type CelFunc,
  type CelList,
  type CelMap,
  type CelValue,
} from '@bufbuild/cel';
import { compareValues } from './values.js';

const { STRING, BOOL, INT, DOUBLE, DYN } = CelScalar;
const LIST = listType(DYN);
const MAP = mapType(STRING, DYN);

/** A CEL error raised from a library function: the evaluator turns a thrown error into a CEL error. */
function fail(msg: string): never {
  throw new Error(msg);
}

function items(list: CelList): CelValue[] {
  const out: CelValue[] = [];
  for (const v of list) out.push(v);
  return out;
}

function isSorted(this: CelList): boolean {
  const xs = items(this);
  return xs.every((x, i) => i === 0 || compareValues(xs[i - 1] as CelValue, x) <= 0);
}

function extreme(list: CelList, sign: 1 | -1, name: string): CelValue {
  const xs = items(list);
  if (xs.length === 0) fail(`${name}() called on an empty list`);
  return xs.reduce((best, x) => (compareValues(x, best) * sign > 0 ? x : best));
}

function sum(this: CelList): CelValue {
  const xs = items(this);
  if (xs.every((x) => typeof x === 'bigint')) return xs.reduce((a, b) => a + b, 0n);
  if (xs.every((x) => typeof x === 'number')) return xs.reduce((a, b) => a + b, 0);
  return fail('sum() needs a list of all ints or all doubles');
}

function indexIn(list: CelList, x: CelValue, last: boolean): bigint {
  const xs = items(list);
  const idx = xs.map((v, i) => (compareValues(v, x) === 0 ? i : -1)).filter((i) => i >= 0);
  const found = last ? idx[idx.length - 1] : idx[0];
  return BigInt(found ?? -1);
}

const LISTS: CelFunc[] = [
  celMethod('isSorted', LIST, [], BOOL, isSorted),
  celMethod('sum', LIST, [], DYN, sum),
  celMethod('min', LIST, [], DYN, function (this: CelList) {
    return extreme(this, -1, 'min');
  }),
  celMethod('max', LIST, [], DYN, function (this: CelList) {
    return extreme(this, 1, 'max');
  }),
  celMethod('indexOf', LIST, [DYN], INT, function (this: CelList, x: CelValue) {
    return indexIn(this, x, false);
  }),
  celMethod('lastIndexOf', LIST, [DYN], INT, function (this: CelList, x: CelValue) {
    return indexIn(this, x, true);
  }),
];

// --- quantity: exact, in nano-units, as resource.Quantity keeps it (it rounds up below 1n) ---

const DECIMAL_SUFFIX: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const NANO = 1_000_000_000n;
const QUANTITY_KEY = '@quantity';
const SEMVER_KEY = '@semver';

/** Divides rounding away from zero, as Quantity rounds up values finer than its precision. */
function divCeil(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a ? q : q + 1n;
}

/** A quantity string in nano-units, or undefined when Kubernetes would not parse it. */
export function parseQuantity(s: string): bigint | undefined {
  const m = QUANTITY_RE.exec(s);
  if (!m) return undefined;
  const [, sign = '', num = '', suffix = ''] = m;
  const [whole = '', frac = ''] = num.split('.');
  const digits = BigInt(`${whole}${frac}` || '0');
  // value = digits * 10^-frac.length * multiplier, kept in nanos (10^9).
  let nanos: bigint;
  if (suffix in BINARY_SUFFIX) {
    nanos = divCeil(digits * (BINARY_SUFFIX[suffix] as bigint) * NANO, 10n ** BigInt(frac.length));
  } else {
    const exp = suffix in DECIMAL_SUFFIX ? (DECIMAL_SUFFIX[suffix] as number) : Number(suffix.slice(1));
    if (Math.abs(exp) > 100) return undefined;
    const shift = exp + 9 - frac.length;
    nanos = shift >= 0 ? digits * 10n ** BigInt(shift) : divCeil(digits, 10n ** BigInt(-shift));
  }
  return sign === '-' ? -nanos : nanos;
}

function quantityValue(nanos: bigint): Map<string, CelValue> {
  return new Map<string, CelValue>([[QUANTITY_KEY, nanos]]);
}

function nanosOf(q: CelValue, what: string): bigint {
  const v = isCelMap(q) ? q.get(QUANTITY_KEY) : undefined;
  return typeof v === 'bigint' ? v : fail(`${what} needs a quantity`);
}

function toQuantity(s: string): Map<string, CelValue> {
  const nanos = parseQuantity(s);
  return nanos === undefined
    ? fail(`quantity("${s}"): not a valid Kubernetes quantity`)
    : quantityValue(nanos);
}

const INT64_MAX = (1n << 63n) - 1n;

function asInteger(this: CelMap): bigint {
  const n = nanosOf(this, 'asInteger()');
  if (n % NANO !== 0n) fail('asInteger(): the quantity is not a whole number');
  const v = n / NANO;
  return v > INT64_MAX || v < -INT64_MAX - 1n ? fail('asInteger(): the quantity overflows int') : v;
}

function plus(sign: 1n | -1n) {
  return function (this: CelMap, other: CelValue): Map<string, CelValue> {
    const delta = typeof other === 'bigint' ? other * NANO : nanosOf(other, 'add()/sub()');
    return quantityValue(nanosOf(this, 'add()/sub()') + sign * delta);
  };
}

const QUANTITY: CelFunc[] = [
  celFunc('quantity', [STRING], MAP, toQuantity),
  celFunc('isQuantity', [STRING], BOOL, (s: string) => parseQuantity(s) !== undefined),
  celMethod('isInteger', MAP, [], BOOL, function (this: CelMap) {
    return nanosOf(this, 'isInteger()') % NANO === 0n;
  }),
  celMethod('asInteger', MAP, [], INT, asInteger),
  celMethod('asApproximateFloat', MAP, [], DOUBLE, function (this: CelMap) {
    return Number(nanosOf(this, 'asApproximateFloat()')) / 1e9;
  }),
  celMethod('sign', MAP, [], INT, function (this: CelMap) {
    const n = nanosOf(this, 'sign()');
    return n === 0n ? 0n : n > 0n ? 1n : -1n;
  }),
  celMethod('add', MAP, [DYN], MAP, plus(1n)),
  celMethod('sub', MAP, [DYN], MAP, plus(-1n)),
];

// --- semver: strict Semantic Versioning 2.0.0, as Kubernetes' semver library reads it ---

const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** Makes `v1.2` or `1.02` strict (the normalize flag of Kubernetes' semver()). */
function normalizeSemver(s: string): string {
  const core = s.replace(/^v/, '');
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$/.exec(core);
  if (!m) return s;
  const [, a = '0', b = '0', c = '0', rest = ''] = m;
  return `${BigInt(a)}.${BigInt(b)}.${BigInt(c)}${rest}`;
}

/** A semver as a map with major/minor/patch and the pre-release identifiers, or undefined. */
export function parseSemver(s: string): Map<string, CelValue> | undefined {
  const m = SEMVER_RE.exec(s);
  if (!m) return undefined;
  return new Map<string, CelValue>([
    [SEMVER_KEY, s],
    ['major', BigInt(m[1] ?? '0')],
    ['minor', BigInt(m[2] ?? '0')],
    ['patch', BigInt(m[3] ?? '0')],
    ['pre', m[4] ?? ''],
  ]);
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && BigInt(x) !== BigInt(y)) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** What a semver is read through: a CelMap in CEL, a Map when parsed here. */
type Fields = { get(key: string): CelValue | undefined };

function semverField(v: Fields, key: string): CelValue {
  const out = v.get(key);
  return out === undefined ? fail('needs a semver') : out;
}

/** Orders two semvers by precedence (build metadata ignored), as semver.Compare does. */
export function compareSemver(a: Fields, b: Fields): number {
  for (const k of ['major', 'minor', 'patch']) {
    const x = semverField(a, k) as bigint;
    const y = semverField(b, k) as bigint;
    if (x !== y) return x < y ? -1 : 1;
  }
  return comparePre(semverField(a, 'pre') as string, semverField(b, 'pre') as string);
}

function toSemver(s: string, normalize = false): Map<string, CelValue> {
  const v = parseSemver(normalize ? normalizeSemver(s) : s);
  return v ?? fail(`semver("${s}"): not a valid semantic version`);
}

/** Compares two quantities or two semvers (the methods share names in Kubernetes). */
function compareAny(a: CelMap, b: CelValue): number {
  if (!isCelMap(b)) return fail('compareTo() needs a quantity or semver argument');
  if (a.has(SEMVER_KEY) && b.has(SEMVER_KEY)) return compareSemver(a, b);
  const x = nanosOf(a, 'compareTo()');
  const y = nanosOf(b, 'compareTo()');
  return x === y ? 0 : x < y ? -1 : 1;
}

const SEMVER: CelFunc[] = [
  celFunc('semver', [STRING], MAP, (s: string) => toSemver(s)),
  celFunc('semver', [STRING, BOOL], MAP, (s: string, n: boolean) => toSemver(s, n)),
  celFunc('isSemver', [STRING], BOOL, (s: string) => parseSemver(s) !== undefined),
  celFunc(
    'isSemver',
    [STRING, BOOL],
    BOOL,
    (s: string, n: boolean) => parseSemver(n ? normalizeSemver(s) : s) !== undefined,
  ),
  celMethod('major', MAP, [], INT, function (this: CelMap) {
    return semverField(this, 'major') as bigint;
  }),
  celMethod('minor', MAP, [], INT, function (this: CelMap) {
    return semverField(this, 'minor') as bigint;
  }),
  celMethod('patch', MAP, [], INT, function (this: CelMap) {
    return semverField(this, 'patch') as bigint;
  }),
  celMethod('compareTo', MAP, [MAP], INT, function (this: CelMap, o: CelMap) {
    return BigInt(compareAny(this, o));
  }),
  celMethod('isGreaterThan', MAP, [MAP], BOOL, function (this: CelMap, o: CelMap) {
    return compareAny(this, o) > 0;
  }),
  celMethod('isLessThan', MAP, [MAP], BOOL, function (this: CelMap, o: CelMap) {
    return compareAny(this, o) < 0;
  }),
];

/** Every Kubernetes library function we add to the CEL environment. */
export const KUBERNETES_LIBRARIES: readonly CelFunc[] = [...LISTS, ...QUANTITY, ...SEMVER];
