/**
 * A fast path for CEL expressions that stay within a small subset (field access, `has`, `in`, `==`,
 * `!=`, `!`, `&&`, `||`, `?:`, `lowerAscii()`, string/bool/int literals, list and map literals): the
 * parsed expression is turned into JavaScript closures that read plain JSON data directly, with no
 * conversion to CEL values and no interpreter. The built-in object checks (builtin.ts) are written in
 * this subset; they run on every Deployment and Namespace of the cluster, where the interpreter and the
 * conversion of the object to CEL maps were most of a review's cost.
 *
 * It answers only when it is sure: anything the subset does not decide exactly as CEL does (an error,
 * a value of an unexpected type, a null field, a number compared with a number) throws `NotDecided`,
 * and the caller runs the real CEL program instead. So a result from here is always CEL's result;
 * test/unit/compiled-cel.test.ts checks that against @bufbuild/cel on generated objects.
 */
import { parse } from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';

/** Plain JSON-like data: what the subset reads and returns. */
export type Plain = null | boolean | number | string | readonly Plain[] | { readonly [k: string]: Plain };

/** The subset cannot decide this evaluation exactly as CEL would: run the CEL program instead. */
export class NotDecided extends Error {
  override name = 'NotDecided';
}

/** A compiled expression: the variables by name in, a plain value out (or NotDecided). */
export type FastProgram = (vars: Readonly<Record<string, unknown>>) => Plain;

type Node = (vars: Readonly<Record<string, unknown>>) => Plain;

const NOT_DECIDED = new NotDecided('not decided by the fast path');

function undecided(): never {
  throw NOT_DECIDED;
}

/**
 * Where the programs run for one object keep what they read from `object` and `request`: the
 * built-in checks of a Deployment walk `object.spec.template.metadata` dozens of times, and those
 * reads give the same value for every check of that object. Set `vars[MEMO]` to a fresh array per
 * object (never share one between objects); without it every read is made afresh.
 */
export const MEMO = Symbol('fast-path memo');

/** Memo slots by the path a select chain reads (`object.spec.template`), shared by every program. */
const SLOTS = new Map<string, number>();

function slotOf(path: string): number {
  let slot = SLOTS.get(path);
  if (slot === undefined) {
    slot = SLOTS.size;
    SLOTS.set(path, slot);
  }
  return slot;
}

/** The path of a chain of field reads from `object` or `request` (the same for every check of an object). */
function chainPath(e: Expr): string | undefined {
  const k = e.exprKind;
  if (k.case === 'identExpr')
    return k.value.name === 'object' || k.value.name === 'request' ? k.value.name : undefined;
  if (k.case !== 'selectExpr' || k.value.testOnly || !k.value.operand) return undefined;
  const parent = chainPath(k.value.operand);
  return parent === undefined ? undefined : `${parent}.${k.value.field}`;
}

/** A read kept in `vars[MEMO]` under `slot`: a value once read is the object's for every later check. */
function remembered(slot: number, read: Node): Node {
  return (v) => {
    const memo = (v as { [MEMO]?: Plain[] })[MEMO];
    if (memo === undefined) return read(v);
    const hit = memo[slot];
    // A read either gives a value (never undefined) or throws, and then nothing is kept.
    return hit !== undefined ? hit : (memo[slot] = read(v));
  };
}

function isMap(v: unknown): v is { readonly [k: string]: unknown } {
  if (typeof v !== 'object' || v === null) return false;
  // Parsed JSON and YAML objects are Object's own; a class instance (a Date, a Map) is not plain data.
  const ctor = (v as { constructor?: unknown }).constructor;
  return ctor === Object || (ctor === undefined && Object.getPrototypeOf(v) === null);
}

/** A value as the subset reads it; anything that is not plain JSON (a Date, a Map, undefined) is not decided. */
function plain(v: unknown): Plain {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : undecided();
    case 'object':
      if (v === null || Array.isArray(v) || isMap(v)) return v as Plain;
      return undecided();
    default:
      return undecided();
  }
}

/** A map's entry; a missing key is a CEL error, and a null value is left to CEL (has() and `in` differ on it). */
function entry(m: Plain, key: Plain): Plain {
  if (!isMap(m) || typeof key !== 'string' || !Object.hasOwn(m, key)) return undecided();
  const v = m[key];
  return v === null || v === undefined ? undecided() : plain(v);
}

function hasKey(m: Plain, key: Plain): boolean {
  if (!isMap(m) || typeof key !== 'string') return undecided();
  if (!Object.hasOwn(m, key) || m[key] === undefined) return false;
  return m[key] === null ? undecided() : true;
}

function bool(v: Plain): boolean {
  return typeof v === 'boolean' ? v : undecided();
}

/** Equality where CEL's is plain: two strings, two bools, two nulls. Numbers, lists, maps and mixed types go to CEL. */
function equals(a: Plain, b: Plain): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b;
  if (a === null && b === null) return true;
  return undecided();
}

function contains(item: Plain, container: Plain): boolean {
  if (Array.isArray(container)) return (container as readonly Plain[]).some((x) => equals(item, x));
  return hasKey(container, item);
}

function lowerAscii(v: Plain): string {
  return typeof v === 'string' ? v.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : undecided();
}

function constant(e: Extract<Expr['exprKind'], { case: 'constExpr' }>['value']): Node | undefined {
  const k = e.constantKind;
  switch (k.case) {
    case 'stringValue':
    case 'boolValue': {
      const v = k.value;
      return () => v;
    }
    case 'nullValue':
      return () => null;
    default:
      // Numbers compare across int, uint and double in CEL; the subset leaves them to it.
      return undefined;
  }
}

type Call = Extract<Expr['exprKind'], { case: 'callExpr' }>['value'];

function logical(fn: string, [a, b]: Node[]): Node | undefined {
  if (!a || !b) return undefined;
  // CEL's && and || are commutative over errors; the subset only short-cuts the left side and
  // otherwise needs two bools, which CEL decides the same way.
  if (fn === '_&&_') return (v) => (bool(a(v)) ? bool(b(v)) : false);
  return (v) => (bool(a(v)) ? true : bool(b(v)));
}

function operator(fn: string, args: Node[]): Node | undefined {
  const [a, b, c] = args;
  if (fn === '_&&_' || fn === '_||_') return logical(fn, args);
  if (fn === '!_' && a && args.length === 1) return (v) => !bool(a(v));
  if (!a || !b) return undefined;
  if (args.length === 3 && c && fn === '_?_:_') return (v) => (bool(a(v)) ? b(v) : c(v));
  if (args.length !== 2) return undefined;
  switch (fn) {
    case '_==_':
      return (v) => equals(a(v), b(v));
    case '_!=_':
      return (v) => !equals(a(v), b(v));
    case '@in':
      return (v) => contains(a(v), b(v));
    case '_[_]':
      return (v) => entry(a(v), b(v));
    default:
      return undefined;
  }
}

function call(c: Call): Node | undefined {
  if (c.target) {
    const target = compileNode(c.target);
    if (!target || c.function !== 'lowerAscii' || c.args.length !== 0) return undefined;
    return (v) => lowerAscii(target(v));
  }
  const args = c.args.map(compileNode);
  if (args.some((a) => a === undefined)) return undefined;
  return operator(c.function, args as Node[]);
}

function list(elements: Expr[]): Node | undefined {
  const nodes = elements.map(compileNode);
  if (nodes.some((n) => n === undefined)) return undefined;
  if (elements.every((e) => e.exprKind.case === 'constExpr')) {
    // A literal list (`x in ['true', 'false']`) is made once.
    const items = (nodes as Node[]).map((n) => n({}));
    return () => items;
  }
  return (v) => (nodes as Node[]).map((n) => n(v));
}

function struct(e: Extract<Expr['exprKind'], { case: 'structExpr' }>['value']): Node | undefined {
  if (e.messageName !== '') return undefined;
  const entries: Array<[string, Node]> = [];
  for (const en of e.entries) {
    const key = en.keyKind.case === 'mapKey' ? en.keyKind.value.exprKind : undefined;
    const value = en.value ? compileNode(en.value) : undefined;
    if (key?.case !== 'constExpr' || key.value.constantKind.case !== 'stringValue' || !value)
      return undefined;
    if (en.optionalEntry) return undefined;
    entries.push([key.value.constantKind.value, value]);
  }
  if (new Set(entries.map(([k]) => k)).size !== entries.length) return undefined;
  return (v) => Object.fromEntries(entries.map(([k, n]) => [k, n(v)]));
}

function compileNode(e: Expr): Node | undefined {
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      return constant(k.value);
    case 'identExpr': {
      const name = k.value.name;
      return (v) => (Object.hasOwn(v, name) ? plain(v[name]) : undecided());
    }
    case 'selectExpr': {
      const operand = k.value.operand ? compileNode(k.value.operand) : undefined;
      if (!operand) return undefined;
      const field = k.value.field;
      // has(a.f) parses as a test-only select.
      if (k.value.testOnly) return (v) => hasKey(operand(v), field);
      const read: Node = (v) => entry(operand(v), field);
      const path = chainPath(e);
      return path === undefined ? read : remembered(slotOf(path), read);
    }
    case 'callExpr':
      return call(k.value);
    case 'listExpr':
      return k.value.optionalIndices.length > 0 ? undefined : list(k.value.elements);
    case 'structExpr':
      return struct(k.value);
    default:
      return undefined;
  }
}

const compiled = new Map<string, FastProgram | null>();

/**
 * The expression as closures, or undefined when it leaves the subset (then only CEL runs it). Parse
 * errors are CEL's to report, so they also give undefined. Compiled once per process.
 */
export function compileFast(source: string): FastProgram | undefined {
  let p = compiled.get(source);
  if (p === undefined) {
    let node: Node | undefined;
    try {
      node = compileNode(parse(source).expr);
    } catch {
      node = undefined;
    }
    p = node ?? null;
    compiled.set(source, p);
  }
  return p ?? undefined;
}
