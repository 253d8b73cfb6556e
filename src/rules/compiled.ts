/**
 * A fast path for CEL expressions that stay within a small subset (field access, `has`, `in`, `==`,
 * `!=`, `!`, `&&`, `||`, `?:`, `lowerAscii()`, string/bool/int literals, list and map literals): the
 * parsed expression is compiled into JavaScript source (one function per group of checks) that reads
 * plain JSON data directly, with no conversion to CEL values and no interpreter. The built-in object
 * checks (builtin.ts) are written in this subset; they run on every Deployment and Namespace of the
 * cluster, where the interpreter and the conversion of the object to CEL maps were most of a
 * review's cost.
 *
 * It answers only when it is sure: anything the subset does not decide exactly as CEL does (an error,
 * a value of an unexpected type, a null field, a number compared with a number) throws `NotDecided`,
 * and the caller runs the real CEL program instead. So a result from here is always CEL's result;
 * test/unit/compiled-cel.test.ts checks that against @bufbuild/cel on generated objects.
 */
import { parse } from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { isPlainMap } from '../engine/values.js';

/** Plain JSON-like data: what the subset reads and returns. */
export type Plain = null | boolean | number | string | readonly Plain[] | { readonly [k: string]: Plain };

/** The subset cannot decide this evaluation exactly as CEL would: run the CEL program instead. */
export class NotDecided extends Error {
  override name = 'NotDecided';
}

/** A compiled expression: the variables by name in, a plain value out (or NotDecided). */
export type FastProgram = (vars: Readonly<Record<string, unknown>>) => Plain;

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

/** A value as the subset reads it; anything that is not plain JSON (a Date, a Map, undefined) is not decided. */
function plain(v: unknown): Plain {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : undecided();
    case 'object':
      if (v === null || Array.isArray(v) || isPlainMap(v)) return v as Plain;
      return undecided();
    default:
      return undecided();
  }
}

/** A map's entry; a missing key is a CEL error, and a null value is left to CEL (has() and `in` differ on it). */
function entry(m: Plain, key: Plain): Plain {
  if (!isPlainMap(m) || typeof key !== 'string' || !Object.hasOwn(m, key)) return undecided();
  const v = m[key];
  return v === null || v === undefined ? undecided() : plain(v);
}

function hasKey(m: Plain, key: Plain): boolean {
  if (!isPlainMap(m) || typeof key !== 'string') return undecided();
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
  if (!Array.isArray(container)) return hasKey(container, item);
  // A loop, not some(): no closure for each `in` of every review.
  for (const x of container as readonly Plain[]) if (equals(item, x)) return true;
  return false;
}

function lowerAscii(v: Plain): string {
  return typeof v === 'string' ? v.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : undecided();
}

/**
 * Each expression is compiled to JavaScript source, once, and that source to one function by
 * `new Function`: V8 then inlines the helpers below into it, where a tree of closures made every call
 * site megamorphic (each `a(v)` saw dozens of different closures). The source is built only from the
 * parsed expression; every name and string in it is written with JSON.stringify, so no text of an
 * expression is ever run as code. The helpers are the same functions the closures called, so the
 * values (and NotDecided) are exactly what they were.
 */
const HELPERS = { plain, entry, hasKey, bool, equals, contains, lowerAscii, undecided, own: Object.hasOwn };

/** Generated source for one expression: the text, and the constant lists it names as `c[i]`. */
interface Gen {
  constants: Plain[][];
  /**
   * In a group (compileGroupFast): the group's variables computed so far, by name, as the locals
   * that hold them; `variables.<name>` reads the local, and `variables` itself is not in the subset.
   */
  locals?: Map<string, string>;
}

function constant(e: Extract<Expr['exprKind'], { case: 'constExpr' }>['value']): string | undefined {
  const k = e.constantKind;
  switch (k.case) {
    case 'stringValue':
      return JSON.stringify(k.value);
    case 'boolValue':
      return k.value ? 'true' : 'false';
    case 'nullValue':
      return 'null';
    default:
      // Numbers compare across int, uint and double in CEL; the subset leaves them to it.
      return undefined;
  }
}

type Call = Extract<Expr['exprKind'], { case: 'callExpr' }>['value'];

/** The logical operators and `?:`, as source around their operands' source. */
function logical(fn: string, args: string[]): string | undefined {
  const [a, b, c] = args;
  if (a === undefined) return undefined;
  if (fn === '!_') return args.length === 1 ? `!h.bool(${a})` : undefined;
  if (fn === '_?_:_') return c !== undefined && b !== undefined ? `(h.bool(${a}) ? ${b} : ${c})` : undefined;
  if (b === undefined || args.length !== 2) return undefined;
  // CEL's && and || are commutative over errors; the subset only short-cuts the left side and
  // otherwise needs two bools, which CEL decides the same way.
  return fn === '_&&_' ? `(h.bool(${a}) ? h.bool(${b}) : false)` : `(h.bool(${a}) ? true : h.bool(${b}))`;
}

const LOGICAL = new Set(['!_', '_?_:_', '_&&_', '_||_']);
const BINARY: Record<string, (a: string, b: string) => string> = {
  '_==_': (a, b) => `h.equals(${a}, ${b})`,
  '_!=_': (a, b) => `!h.equals(${a}, ${b})`,
  '@in': (a, b) => `h.contains(${a}, ${b})`,
  '_[_]': (a, b) => `h.entry(${a}, ${b})`,
};

/** The operators of the subset, as source around their operands' source. */
function operator(fn: string, args: string[]): string | undefined {
  if (LOGICAL.has(fn)) return logical(fn, args);
  const [a, b] = args;
  const op = Object.hasOwn(BINARY, fn) ? BINARY[fn] : undefined;
  return op && a !== undefined && b !== undefined && args.length === 2 ? op(a, b) : undefined;
}

function call(c: Call, g: Gen): string | undefined {
  if (c.target) {
    const target = generate(c.target, g);
    if (target === undefined || c.function !== 'lowerAscii' || c.args.length !== 0) return undefined;
    return `h.lowerAscii(${target})`;
  }
  const args: string[] = [];
  for (const a of c.args) {
    const src = generate(a, g);
    if (src === undefined) return undefined;
    args.push(src);
  }
  return operator(c.function, args);
}

function list(elements: Expr[], g: Gen): string | undefined {
  const items: string[] = [];
  for (const e of elements) {
    const src = generate(e, g);
    if (src === undefined) return undefined;
    items.push(src);
  }
  if (elements.every((e) => e.exprKind.case === 'constExpr')) {
    // A literal list (`x in ['true', 'false']`) is made once.
    g.constants.push(items.map((src) => JSON.parse(src) as Plain));
    return `c[${g.constants.length - 1}]`;
  }
  return `[${items.join(', ')}]`;
}

function struct(e: Extract<Expr['exprKind'], { case: 'structExpr' }>['value'], g: Gen): string | undefined {
  if (e.messageName !== '') return undefined;
  const entries: string[] = [];
  const keys = new Set<string>();
  for (const en of e.entries) {
    const key = en.keyKind.case === 'mapKey' ? en.keyKind.value.exprKind : undefined;
    const value = en.value ? generate(en.value, g) : undefined;
    if (key?.case !== 'constExpr' || key.value.constantKind.case !== 'stringValue' || value === undefined)
      return undefined;
    if (en.optionalEntry || keys.has(key.value.constantKind.value)) return undefined;
    keys.add(key.value.constantKind.value);
    entries.push(`[${JSON.stringify(key.value.constantKind.value)}, ${value}]`);
  }
  // Object.fromEntries, not an object literal: a key "__proto__" must stay a key.
  return `Object.fromEntries([${entries.join(', ')}])`;
}

/**
 * `variables.<name>` in a group: the local that holds a variable computed before, read as a map entry
 * is (null is left to CEL); a name not computed yet is read from `w` (the config's namespaces), where
 * a missing one is not decided, as CEL errors on it. Undefined outside a group.
 */
function groupVariable(
  s: Extract<Expr['exprKind'], { case: 'selectExpr' }>['value'],
  g: Gen,
): string | undefined {
  const op = s.operand?.exprKind;
  if (!g.locals || op?.case !== 'identExpr' || op.value.name !== 'variables') return undefined;
  const field = JSON.stringify(s.field);
  const local = g.locals.get(s.field);
  if (local === undefined) return s.testOnly ? `h.hasKey(w, ${field})` : `h.entry(w, ${field})`;
  return s.testOnly
    ? `(${local} === null ? h.undecided() : true)`
    : `(${local} === null ? h.undecided() : ${local})`;
}

/** A field read; a chain from `object` or `request` is kept in the memo (`m`) for the object's other checks. */
function select(
  e: Expr,
  s: Extract<Expr['exprKind'], { case: 'selectExpr' }>['value'],
  g: Gen,
): string | undefined {
  const local = groupVariable(s, g);
  if (local !== undefined) return local;
  const operand = s.operand ? generate(s.operand, g) : undefined;
  if (operand === undefined) return undefined;
  const field = JSON.stringify(s.field);
  // has(a.f) parses as a test-only select.
  if (s.testOnly) return `h.hasKey(${operand}, ${field})`;
  const read = `h.entry(${operand}, ${field})`;
  const path = chainPath(e);
  if (path === undefined) return read;
  // A read either gives a value (never undefined) or throws, and then nothing is kept. `t` is read
  // right after it is set, before any other read can set it again.
  const slot = slotOf(path);
  return `((t = m[${slot}]) !== undefined ? t : (m[${slot}] = ${read}))`;
}

function generate(e: Expr, g: Gen): string | undefined {
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      return constant(k.value);
    case 'identExpr': {
      // In a group, `variables` is read only through groupVariable.
      if (g.locals && k.value.name === 'variables') return undefined;
      const name = JSON.stringify(k.value.name);
      return `(h.own(v, ${name}) ? h.plain(v[${name}]) : h.undecided())`;
    }
    case 'selectExpr':
      return select(e, k.value, g);
    case 'callExpr':
      return call(k.value, g);
    case 'listExpr':
      return k.value.optionalIndices.length > 0 ? undefined : list(k.value.elements, g);
    case 'structExpr':
      return struct(k.value, g);
    default:
      return undefined;
  }
}

/** How every generated function starts: the object's memo (a fresh one when none is set), and `t` for select(). */
const PRELUDE = 'const m = v[memo] ?? []; let t;';

/**
 * Makes the function from generated source; `h`, `c` and `memo` are what the source may name.
 * Undefined where code cannot be generated (node --disallow-code-generation-from-strings): CEL then
 * runs the checks, slower but the same.
 */
function build<F>(body: string, g: Gen): F | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- built from the parsed expression only; see HELPERS
    const factory = new Function('h', 'c', 'memo', body) as (
      h: typeof HELPERS,
      c: Plain[][],
      memo: symbol,
    ) => F;
    return factory(HELPERS, g.constants, MEMO);
  } catch {
    return undefined;
  }
}

/** The expression's source, or undefined when it leaves the subset or does not parse (CEL reports that). */
function generateSource(source: string, g: Gen): string | undefined {
  try {
    return generate(parse(source).expr, g);
  } catch {
    return undefined;
  }
}

/**
 * A group of checks as one function: `vars` as a program's, and `w` the variables given from outside
 * (the config's namespaces). True when every validation gives true; false as soon as one does not;
 * NotDecided when the subset cannot say.
 */
export type FastGroup = (
  vars: Readonly<Record<string, unknown>>,
  w: Readonly<Record<string, Plain>>,
) => boolean;

/**
 * A group's variables (computed in order, each seeing those before it, as in a ValidatingAdmissionPolicy)
 * and validations compiled into one function, or undefined when one of them leaves the subset. The
 * variables become locals: no object is built for them, and `variables.x` is a read of a local.
 */
export function compileGroupFast(
  variables: ReadonlyArray<readonly [string, string]>,
  validations: readonly string[],
): FastGroup | undefined {
  const locals = new Map<string, string>();
  const g: Gen = { constants: [], locals };
  const lines: string[] = [];
  for (const [name, source] of variables) {
    const src = generateSource(source, g);
    // A variable named like one given from outside would hide it: left to CEL.
    if (src === undefined || name === 'namespaces' || locals.has(name)) return undefined;
    const local = `L${lines.length}`;
    lines.push(`const ${local} = ${src};`);
    locals.set(name, local);
  }
  for (const source of validations) {
    const src = generateSource(source, g);
    if (src === undefined) return undefined;
    lines.push(`if (${src} !== true) return false;`);
  }
  return build<FastGroup>(`return function group(v, w) { ${PRELUDE} ${lines.join(' ')} return true; };`, g);
}

const compiled = new Map<string, FastProgram | null>();

/**
 * The expression as one JavaScript function, or undefined when it leaves the subset (then only CEL
 * runs it). Parse errors are CEL's to report, so they also give undefined. Compiled once per process.
 * The engine runs whole groups (compileGroupFast); this form gives an expression's value, which is
 * what test/unit/compiled-cel.test.ts compares with CEL's, expression by expression.
 */
export function compileFast(source: string): FastProgram | undefined {
  let p = compiled.get(source);
  if (p === undefined) {
    const g: Gen = { constants: [] };
    const src = generateSource(source, g);
    p =
      src === undefined
        ? null
        : (build<FastProgram>(`return function fast(v) { ${PRELUDE} return ${src}; };`, g) ?? null);
    compiled.set(source, p);
  }
  return p ?? undefined;
}
